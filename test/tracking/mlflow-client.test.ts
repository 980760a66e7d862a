/**
 * The MLflow client against a REAL tracking server (MLFLOW_TEST_URI, or one started here): MLflow's
 * limits and errors as the server applies them. The unit tests against a scripted HTTP server are
 * src/tracking/mlflow-client.test.ts.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MlflowError } from '../../src/tracking/mlflow-client.js';
import { uniq } from '../../src/tracking/synthetic-run.test-fixture.js';
import { useTestServer } from './helpers.js';

const mlflow = useTestServer();

describe('MLflow limits and errors', () => {
  it('log-batch beyond 1000 metrics: 2500 points of one key in one call, three requests', async () => {
    const exp = await mlflow.client.getOrCreateExperiment(uniq('batch'));
    const run = await mlflow.client.createRun({ experimentId: exp, runName: 'batch' });
    const metrics = Array.from({ length: 2500 }, (_, i) => ({ key: 'm', value: Math.sin(i), step: i, timestamp: 1_700_000_000_000 + i }));
    const r = await mlflow.client.logBatch(run.info.run_id, { metrics });
    assert.equal(r.requests, 3);
    assert.equal((await mlflow.client.getMetricHistory(run.info.run_id, 'm')).length, 2500);
  });

  it('params are write-once: the same value again is fine, a changed one is reported, not thrown', async () => {
    const exp = await mlflow.client.getOrCreateExperiment(uniq('params'));
    assert.equal(await mlflow.client.getOrCreateExperiment('Default'), '0', 'existing experiment is found, not created');
    const run = await mlflow.client.createRun({ experimentId: exp, runName: 'p' });
    const params = Array.from({ length: 250 }, (_, i) => ({ key: `p${i}`, value: String(i) }));
    await mlflow.client.logBatch(run.info.run_id, { params });
    const again = await mlflow.client.logBatch(run.info.run_id, { params });
    assert.deepEqual(again.paramConflicts, []);
    const changed = await mlflow.client.logBatch(run.info.run_id, { params: [{ key: 'p1', value: 'other' }, { key: 'new', value: 'x' }] });
    assert.deepEqual(changed.paramConflicts, [{ key: 'p1', old: '1', new: 'other' }]);
    const got = await mlflow.client.getRun(run.info.run_id);
    assert.equal(got.data.params?.length, 251);
  });

  it('a 4xx error quotes MLflow\'s error_code and message, without retries', async () => {
    const exp = await mlflow.client.getOrCreateExperiment(uniq('errors'));
    const run = await mlflow.client.createRun({ experimentId: exp, runName: 'e' });
    const t0 = Date.now();
    await assert.rejects(mlflow.client.logBatch(run.info.run_id, { params: [{ key: 'bad key!', value: '1' }] }), (e: unknown) => {
      assert.ok(e instanceof MlflowError);
      assert.equal(e.status, 400);
      assert.equal(e.errorCode, 'INVALID_PARAMETER_VALUE');
      assert.match(e.message, /INVALID_PARAMETER_VALUE.*bad key!/);
      return true;
    });
    await assert.rejects(mlflow.client.createRun({ experimentId: '987654321' }), (e: unknown) => {
      assert.ok(e instanceof MlflowError);
      assert.equal(e.errorCode, 'RESOURCE_DOES_NOT_EXIST');
      assert.match(e.message, /HTTP 404 RESOURCE_DOES_NOT_EXIST: No Experiment with id=987654321/);
      return true;
    });
    assert.ok(Date.now() - t0 < 3000, 'no backoff on 4xx');
  });

  it('get-or-create survives a concurrent create of the same experiment', async () => {
    const name = uniq('race');
    const ids = await Promise.all(Array.from({ length: 5 }, () => mlflow.client.getOrCreateExperiment(name)));
    assert.equal(new Set(ids).size, 1);
  });
});

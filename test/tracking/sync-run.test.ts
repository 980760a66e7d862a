/**
 * Syncing one run to a REAL MLflow tracking server (MLFLOW_TEST_URI, or one started here); the unit
 * tests against an in-memory server are src/tracking/sync-run.test.ts.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { Run } from '../../src/tracking/mlflow-client.js';
import { syncRun } from '../../src/tracking/sync-run.js';
import { syntheticRun, writeJournal } from '../../src/tracking/synthetic-run.test-fixture.js';
import { useTestServer } from './helpers.js';

const mlflow = useTestServer();

async function runsOf(experimentId: string, runId: string): Promise<Run[]> {
  return mlflow.client.searchRuns({ experimentIds: [experimentId], filter: `tags.\`pipeline.run_id\` = '${runId}'` });
}

describe('sync one run to MLflow', () => {
  it('a run with 2500 metric points (beyond log-batch\'s 1000) lands every point exactly once', async () => {
    const store = mkdtempSync(join(tmpdir(), 'tracking-store-'));
    const syn = syntheticRun({ curvePoints: 1250 }); // loss + value = 2500 metric points on one run
    writeJournal(store, syn.events);
    const res = await syncRun(mlflow.client, store, syn.runId);
    assert.equal(res.status, 'synced', res.error);
    assert.ok(res.metricsPushed >= 2500);
    const pol = (await runsOf(res.experimentId!, syn.runId)).find((r) => r.info.run_name === syn.curve.instance)!;
    assert.equal((await mlflow.client.getMetricHistory(pol.info.run_id, 'loss')).length, 1250);
    assert.equal((await mlflow.client.getMetricHistory(pol.info.run_id, 'value')).length, 1250);
  });
});

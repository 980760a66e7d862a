/**
 * Syncing a store to a REAL MLflow tracking server (MLFLOW_TEST_URI, or one started here); the
 * unit tests against an in-memory server are src/tracking/sync-store.test.ts. Everything is checked
 * through MLflow's own REST API: runs/search, runs/get, metrics/get-history, artifacts/list.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { Run } from '../../src/tracking/mlflow-client.js';
import { syncStatePath } from '../../src/tracking/sync-state.js';
import { syncAll } from '../../src/tracking/sync-store.js';
import { PNG_1x1, syntheticRun, writeJournal } from '../../src/tracking/synthetic-run.test-fixture.js';
import { useTestServer } from './helpers.js';

const mlflow = useTestServer();

const tag = (r: Run, k: string) => r.data.tags?.find((t) => t.key === k)?.value;
const param = (r: Run, k: string) => r.data.params?.find((p) => p.key === k)?.value;

async function runsOf(experimentId: string, runId: string): Promise<Run[]> {
  return mlflow.client.searchRuns({ experimentIds: [experimentId], filter: `tags.\`pipeline.run_id\` = '${runId}'` });
}

async function snapshot(experimentId: string, runId: string) {
  const runs = await runsOf(experimentId, runId);
  const counts: Record<string, number> = {};
  for (const r of runs) {
    for (const key of ['loss', 'value', 'score', 'std', 'edge_fraction', 'transitions', 'stages.computed']) {
      const h = await mlflow.client.getMetricHistory(r.info.run_id, key);
      if (h.length) counts[`${r.info.run_name}/${key}`] = h.length;
    }
    counts[`${r.info.run_name}/artifacts`] = (await mlflow.client.listArtifactsRecursive(r.info.run_id)).length;
    counts[`${r.info.run_name}/params`] = r.data.params?.length ?? 0;
  }
  return { runs: runs.length, counts };
}

describe('sync a synthetic pipeline run to MLflow', () => {
  const store = mkdtempSync(join(tmpdir(), 'tracking-store-'));
  const syn = syntheticRun();
  let experimentId = '';

  it('creates a parent run and nested child runs with params, metrics, tags and artifacts', async () => {
    writeJournal(store, syn.events);
    const [res] = await syncAll({ storeDir: store, client: mlflow.client, runIds: [syn.runId] });
    assert.equal(res.status, 'synced', res.error);
    assert.equal(res.runsCreated, 4);
    experimentId = res.experimentId!;
    assert.equal((await mlflow.client.getExperimentByName(syn.pipeline))?.experiment_id, experimentId, 'experiment named after the pipeline');

    const runs = await runsOf(experimentId, syn.runId);
    assert.equal(runs.length, 4);
    const parent = runs.find((r) => tag(r, 'pipeline.role') === 'pipeline')!;
    assert.ok(parent, 'parent run');
    assert.equal(parent.info.status, 'FINISHED');
    assert.match(parent.info.run_name!, new RegExp(`^${syn.pipeline} \\d{4}-`));
    assert.equal(tag(parent, 'pipeline.file'), syn.file);
    assert.equal(tag(parent, 'pipeline.host'), 'test-host');
    assert.equal(param(parent, 'env'), 'maze2d-umaze');
    const children = runs.filter((r) => tag(r, 'pipeline.role') === 'stage');
    assert.deepEqual(children.map((r) => r.info.run_name).sort(), [...syn.instances].sort());
    for (const c of children) {
      assert.equal(tag(c, 'mlflow.parentRunId'), parent.info.run_id);
      assert.equal(c.info.status, 'FINISHED');
    }

    const hit = children.find((r) => r.info.run_name === 'data')!;
    assert.equal(tag(hit, 'pipeline.cache'), 'hit');
    assert.equal(tag(hit, 'pipeline.computed_by_run'), 'run-earlier');
    assert.equal(tag(hit, 'pipeline.cache_key'), 'key-data');
    assert.equal(tag(hit, 'recorded.versions.tfjs'), '4.22.0');

    const pol = children.find((r) => r.info.run_name === syn.curve.instance)!;
    assert.equal(tag(pol, 'pipeline.cache'), 'miss');
    assert.equal(tag(pol, 'pipeline.computed_by_run'), syn.runId);
    assert.equal(param(pol, 'matrix.method'), 'awr');
    assert.equal(param(pol, 'seed'), '0');
    assert.equal(param(pol, 'stage.kind'), 'extract-policy');
    assert.equal(param(pol, 'net.act'), 'relu');
    assert.equal(param(pol, 'net.hidden'), '[256,256]');
    const loss = await mlflow.client.getMetricHistory(pol.info.run_id, 'loss');
    assert.equal(loss.length, syn.curve.points);
    assert.deepEqual(loss.map((m) => m.step).sort((a, b) => a - b), Array.from({ length: syn.curve.points }, (_, i) => i * 10));
    const latest = new Map(pol.data.metrics!.map((m) => [m.key, Number(m.value)]));
    assert.equal(latest.get('score'), 42.5);
    assert.equal(latest.get('edge_fraction'), 0.25);

    const polFiles = (await mlflow.client.listArtifactsRecursive(pol.info.run_id)).map((f) => f.path);
    assert.deepEqual(polFiles, ['tables/policy.arrow']);
    const repFiles = (await mlflow.client.listArtifactsRecursive(children.find((r) => r.info.run_name === 'report')!.info.run_id)).map((f) => f.path).sort();
    assert.deepEqual(repFiles, ['outputs/plot.png', 'outputs/report.html']);
    const parentFiles = (await mlflow.client.listArtifactsRecursive(parent.info.run_id)).map((f) => f.path).sort();
    assert.deepEqual(parentFiles, ['reports/report/plot.png', 'reports/report/report.html']);
    const png = await mlflow.client.listArtifacts(parent.info.run_id, 'reports/report');
    assert.equal(png.find((f) => f.path.endsWith('plot.png'))?.file_size, PNG_1x1.length);
  });

  it('re-sync adds nothing, also after the sync state file is lost', async () => {
    const before = await snapshot(experimentId, syn.runId);
    const [again] = await syncAll({ storeDir: store, client: mlflow.client, runIds: [syn.runId] });
    assert.equal(again.status, 'up-to-date');
    rmSync(syncStatePath(store, syn.runId));
    const [recovered] = await syncAll({ storeDir: store, client: mlflow.client, runIds: [syn.runId] });
    assert.equal(recovered.status, 'synced', recovered.error);
    assert.equal(recovered.runsCreated, 0, 'runs found again by tag');
    assert.equal(recovered.metricsPushed, 0, 'metrics already on the server are not pushed again');
    assert.deepEqual(await snapshot(experimentId, syn.runId), before);
  });
});

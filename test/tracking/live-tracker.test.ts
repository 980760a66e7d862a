/**
 * The live tracker against a real MLflow server that dies mid-run: the pipeline keeps going (the
 * listener never blocks or throws), finish() reports what is left, and after the server is back
 * `sync` pushes the rest with every metric point present exactly once. The unit tests against an
 * in-memory server are src/tracking/live-tracker.test.ts.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { journalPath, readJournal } from '../../src/tracking/journal.js';
import { MlflowClient } from '../../src/tracking/mlflow-client.js';
import { createTracker } from '../../src/tracking/live-tracker.js';
import { syncAll } from '../../src/tracking/sync-store.js';
import { syntheticRun } from '../../src/tracking/synthetic-run.test-fixture.js';
import { startOwnServer, type OwnServer } from './helpers.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('live tracker', () => {
  let own: OwnServer | undefined;
  after(() => own?.stop());

  it('a server killed mid-run loses nothing: sync afterwards pushes every metric exactly once', async () => {
    own = await startOwnServer();
    const client = new MlflowClient({ trackingUri: own.url });
    const store = mkdtempSync(join(tmpdir(), 'tracking-store-'));
    const points = 1500;
    const syn = syntheticRun({ curvePoints: points });
    const tracker = createTracker({ storeDir: store, trackingUri: own.url, intervalMs: 100, finishTimeoutMs: 20_000 });

    // First part of the run: up to the middle of the training curve.
    const cut = syn.events.findIndex((e) => e.type === 'stage-metric' && e.step === (points / 2) * 10);
    for (const e of syn.events.slice(0, cut)) tracker.listener(e);

    // Wait until the background pushes have put part of the curve on the server.
    let pushed = 0;
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline) {
      const exp = await client.getExperimentByName(syn.pipeline);
      const child = exp && (await client.searchRuns({ experimentIds: [exp.experiment_id], filter: `tags.\`pipeline.instance\` = '${syn.curve.instance}'` }))[0];
      pushed = child ? (await client.getMetricHistory(child.info.run_id, 'loss')).length : 0;
      if (pushed > 0) break;
      await sleep(50);
    }
    assert.ok(pushed > 0, 'the live tracker pushed during the run');

    own.kill9(); // the server crashes, possibly mid-push

    // The pipeline goes on: emitting the rest never blocks or throws.
    const t0 = Date.now();
    for (const e of syn.events.slice(cut)) tracker.listener(e);
    assert.ok(Date.now() - t0 < 2000, `listener did not block (${Date.now() - t0} ms)`);
    await sleep(500);

    const fin = await tracker.finish();
    assert.equal(fin.synced, false);
    assert.match(fin.error ?? '', /pipeline sync/);
    assert.ok(existsSync(journalPath(store, syn.runId)));
    assert.equal(readJournal(journalPath(store, syn.runId)).events.length, syn.events.length, 'everything journaled');

    own.start(); // same port, same backend store
    const [res] = await syncAll({ storeDir: store, trackingUri: own.url });
    assert.equal(res.status, 'synced', res.error);
    assert.equal(res.complete, true);

    const exp = (await client.getExperimentByName(syn.pipeline))!;
    const runs = await client.searchRuns({ experimentIds: [exp.experiment_id], filter: `tags.\`pipeline.run_id\` = '${syn.runId}'` });
    assert.equal(runs.length, 4, 'no duplicate runs');
    const pol = runs.find((r) => r.info.run_name === syn.curve.instance)!;
    for (const key of ['loss', 'value']) {
      const h = await client.getMetricHistory(pol.info.run_id, key);
      assert.equal(h.length, points, `${key}: every point exactly once`);
      assert.equal(new Set(h.map((m) => m.step)).size, points);
    }
    assert.equal((await client.getMetricHistory(pol.info.run_id, 'score')).length, 1);
    const parent = runs.find((r) => r.info.run_id === pol.data.tags?.find((t) => t.key === 'mlflow.parentRunId')?.value)!;
    assert.equal((await client.getRun(parent.info.run_id)).info.status, 'FINISHED');
    assert.equal((await client.listArtifactsRecursive(parent.info.run_id)).length, 2);

    const [again] = await syncAll({ storeDir: store, trackingUri: own.url });
    assert.equal(again.status, 'up-to-date');
  });
});

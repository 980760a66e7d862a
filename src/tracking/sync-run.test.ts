/**
 * Syncing one run, against the in-memory MLflow of fake-mlflow.test-fixture.ts (the same run
 * against a real server: test/tracking/sync-run.test.ts and sync-store.test.ts).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { EngineEvent } from '../engine/events.js';
import { FakeMlflow, type FakeRun } from './fake-mlflow.test-fixture.js';
import { createJournal } from './journal.js';
import { experimentFor, syncRun } from './sync-run.js';
import { loadSyncState, syncStatePath } from './sync-state.js';
import { syntheticRun, writeJournal, type Synthetic } from './synthetic-run.test-fixture.js';

const newStore = () => mkdtempSync(join(tmpdir(), 'sync-run-'));

/** A store holding the journal of a synthetic run, and an empty MLflow to sync it to. */
function journaled(opts: Parameters<typeof syntheticRun>[0] = {}): { store: string; syn: Synthetic; fake: FakeMlflow } {
  const store = newStore();
  const syn = syntheticRun(opts);
  writeJournal(store, syn.events);
  return { store, syn, fake: new FakeMlflow() };
}

const byName = (runs: FakeRun[], name: string) => runs.find((r) => r.info.run_name === name)!;
const parentOf = (runs: FakeRun[]) => runs.find((r) => r.tags.get('pipeline.role') === 'pipeline')!;

/** Every run of the pipeline run holds each of its metric points once, and the curves are whole. */
function assertExactlyOnce(fake: FakeMlflow, syn: Synthetic): void {
  const runs = fake.runsOf(syn.runId);
  assert.equal(runs.length, 1 + syn.instances.length, 'one MLflow run per instance and a parent, no duplicates');
  for (const r of runs) {
    const ids = r.metrics.map((m) => `${m.key}/${m.step}/${m.timestamp}/${m.value}`);
    assert.equal(new Set(ids).size, ids.length, `${r.info.run_name}: no point twice`);
  }
  const pol = byName(runs, syn.curve.instance);
  for (const key of ['loss', 'value']) assert.equal(fake.history(pol, key).length, syn.curve.points, `${key}: every point`);
}

describe('syncRun', () => {
  it('maps a run onto a parent and nested child runs: params, tags, metrics, artifacts, statuses', async () => {
    const { store, syn, fake } = journaled();
    const res = await syncRun(fake, store, syn.runId);
    assert.equal(res.status, 'synced', res.error);
    assert.equal(res.complete, true);
    assert.equal(res.runsCreated, 4);
    assert.equal(res.artifactsUploaded, 5);
    assert.deepEqual(res.warnings, []);
    assert.equal(res.experimentId, fake.experiments.get(syn.pipeline), 'experiment named after the pipeline');

    const runs = fake.runsOf(syn.runId);
    const parent = parentOf(runs);
    assert.equal(res.parentRunId, parent.info.run_id);
    assert.equal(parent.info.status, 'FINISHED');
    assert.equal(parent.params.get('env'), 'maze2d-umaze');
    assert.deepEqual([...parent.artifacts.keys()].sort(), ['reports/report/plot.png', 'reports/report/report.html']);
    for (const name of syn.instances) {
      const c = byName(runs, name);
      assert.equal(c.tags.get('mlflow.parentRunId'), parent.info.run_id);
      assert.equal(c.tags.get('pipeline.instance'), name);
      assert.equal(c.info.status, 'FINISHED');
    }
    const pol = byName(runs, syn.curve.instance);
    assert.equal(pol.params.get('net.hidden'), '[256,256]');
    assert.equal(pol.tags.get('pipeline.cache'), 'miss');
    assert.deepEqual([...pol.artifacts.keys()], ['tables/policy.arrow']);
    assert.equal(fake.history(pol, 'score')[0]?.value, 42.5);
    assert.equal(byName(runs, 'data').artifacts.size, 0, 'a cache hit uploads no artifacts');
    assertExactlyOnce(fake, syn);
  });

  it('re-syncing a synced run sends nothing', async () => {
    const { store, syn, fake } = journaled({ curvePoints: 5 });
    await syncRun(fake, store, syn.runId);
    const sent = fake.requests.length;
    const again = await syncRun(fake, store, syn.runId);
    assert.equal(again.status, 'up-to-date');
    assert.equal(again.complete, true);
    assert.equal(again.parentRunId, parentOf(fake.runsOf(syn.runId)).info.run_id);
    assert.equal(fake.requests.length, sent, 'no request at all');
  });

  it('a lost (or corrupt) state file: the runs are found again by tag and no metric point is sent twice', async () => {
    const { store, syn, fake } = journaled({ curvePoints: 20 });
    await syncRun(fake, store, syn.runId);
    for (const damage of [() => rmSync(syncStatePath(store, syn.runId)), () => writeFileSync(syncStatePath(store, syn.runId), '{"vers')]) {
      damage();
      const res = await syncRun(fake, store, syn.runId);
      assert.equal(res.status, 'synced', res.error);
      assert.equal(res.runsCreated, 0, 'runs found again by tag');
      assert.equal(res.metricsPushed, 0, 'metrics already on the server are not pushed again');
      assert.equal(res.artifactsUploaded, 5, 'artifacts are uploaded again (same path: overwritten)');
      assertExactlyOnce(fake, syn);
      assert.equal((await syncRun(fake, store, syn.runId)).status, 'up-to-date');
    }
  });

  it('a log-batch whose response is lost mid-curve: the sync fails, and the next one pushes the rest, every point once', async () => {
    const { store, syn, fake } = journaled({ curvePoints: 1250 }); // loss + value: 2500 points, three log-batch requests
    fake.failNext('runs/log-batch', { landed: true, skip: 1, match: (r) => r.metrics === 1000 }); // the policy's second chunk
    const res = await syncRun(fake, store, syn.runId);
    assert.equal(res.status, 'failed');
    assert.equal(res.transient, true);
    assert.match(res.error ?? '', /socket hang up/);
    const target = Object.values(loadSyncState(store, syn.runId).targets)[0];
    assert.match(target.lastError ?? '', /socket hang up/);
    const polState = target.runs[syn.curve.instance];
    assert.equal(polState.metricsPushed, 1000, 'the first chunk is recorded as pushed');
    assert.equal(polState.verify, true, 'the chunk in flight is to be checked against the server');

    const again = await syncRun(fake, store, syn.runId);
    assert.equal(again.status, 'synced', again.error);
    assert.equal(again.runsCreated, 1, 'only the report run, which the failed sync had not reached');
    assertExactlyOnce(fake, syn);
    assert.equal(Object.values(loadSyncState(store, syn.runId).targets)[0].lastError, undefined);
  });

  it('a runs/create whose response is lost: the run is found by its identity tags, not created twice', async () => {
    const { store, syn, fake } = journaled({ curvePoints: 5 });
    fake.failNext('runs/create', { landed: true, skip: 2 });
    const res = await syncRun(fake, store, syn.runId);
    assert.equal(res.status, 'synced', res.error);
    assert.equal(res.runsCreated, 3, 'the fourth was found, not created');
    assertExactlyOnce(fake, syn);
  });

  it('an unreachable server: failed (transient), nothing lost, the next sync pushes everything', async () => {
    const { store, syn, fake } = journaled({ curvePoints: 5 });
    fake.down = true;
    const res = await syncRun(fake, store, syn.runId);
    assert.equal(res.status, 'failed');
    assert.equal(res.transient, true);
    assert.equal(res.complete, false);
    fake.down = false;
    assert.equal((await syncRun(fake, store, syn.runId)).status, 'synced');
    assertExactlyOnce(fake, syn);
  });

  it('a journal being written: skipped unless allowLive; pushed as it grows, then closed at run end', async () => {
    const store = newStore();
    const syn = syntheticRun({ curvePoints: 30 });
    const fake = new FakeMlflow();
    const j = createJournal(store);
    const cut = syn.events.findIndex((e) => e.type === 'stage-metric' && e.step === 150);
    for (const e of syn.events.slice(0, cut)) j(e);

    assert.equal((await syncRun(fake, store, syn.runId)).status, 'skipped-live');
    assert.equal(fake.requests.length, 0);
    const part = await syncRun(fake, store, syn.runId, { allowLive: true });
    assert.equal(part.status, 'partial');
    assert.equal(part.complete, false);
    const pol = byName(fake.runsOf(syn.runId), syn.curve.instance);
    assert.equal(pol.info.status, 'RUNNING');
    assert.equal(fake.history(pol, 'loss').length, 15);

    for (const e of syn.events.slice(cut)) j(e);
    j.close();
    const rest = await syncRun(fake, store, syn.runId);
    assert.equal(rest.status, 'synced', rest.error);
    assert.equal(rest.runsCreated, 1, 'only the report, which had not started before');
    assert.equal(pol.info.status, 'FINISHED');
    assertExactlyOnce(fake, syn);
  });

  it('a journal without run-start is skipped; one abandoned by a dead writer closes its runs as KILLED', async () => {
    const store = newStore();
    const fake = new FakeMlflow();
    writeJournal(store, [{ type: 'stage-log', runId: 'orphan', instance: 'a', message: 'x', time: 1 }]);
    assert.equal((await syncRun(fake, store, 'orphan')).status, 'skipped-empty');

    const syn = syntheticRun({ curvePoints: 5 });
    writeJournal(store, syn.events.filter((e) => e.type !== 'run-end')); // closed without run-end: nobody writes it
    const res = await syncRun(fake, store, syn.runId);
    assert.equal(res.status, 'synced', res.error);
    assert.equal(res.complete, true);
    const runs = fake.runsOf(syn.runId);
    assert.equal(parentOf(runs).info.status, 'KILLED');
    assert.equal(parentOf(runs).tags.get('pipeline.status'), 'abandoned');
  });

  it('an artifact file that is gone: a warning, and the run still counts as fully synced', async () => {
    const { store, syn, fake } = journaled({ curvePoints: 5 });
    const policyTable = syn.events.flatMap((e) => (e.type === 'stage-done' ? e.outputs : [])).find((o) => o.name === 'policy')!;
    rmSync(policyTable.path);
    const res = await syncRun(fake, store, syn.runId);
    assert.equal(res.status, 'synced', res.error);
    assert.equal(res.complete, true);
    assert.equal(res.artifactsUploaded, 4);
    assert.deepEqual(res.warnings, [`${syn.curve.instance}: artifact file ${policyTable.path} is gone; tables/policy.arrow not uploaded`]);
    assert.equal((await syncRun(fake, store, syn.runId)).status, 'up-to-date', 'nothing left to retry');
  });

  it('a cache hit links the MLflow run that computed its entry (tag and note)', async () => {
    const store = newStore();
    const fake = new FakeMlflow();
    const first = syntheticRun({ curvePoints: 5 });
    writeJournal(store, first.events);
    await syncRun(fake, store, first.runId);
    const computed = byName(fake.runsOf(first.runId), first.curve.instance);

    // A second run of the same pipeline where the policy is a cache hit of the first run's entry.
    const second = syntheticRun({ curvePoints: 5, pipeline: first.pipeline });
    const P = second.curve.instance;
    const events = second.events.flatMap((e): EngineEvent[] => {
      if (e.type === 'stage-done' && e.instance === P) {
        return [{ type: 'stage-cached', runId: e.runId, instance: P, key: 'key-policy', time: e.time, computedByRun: first.runId,
          summary: e.summary, outputs: e.outputs, recorded: e.recorded }];
      }
      return 'instance' in e && e.instance === P ? [] : [e];
    });
    writeJournal(store, events);
    const res = await syncRun(fake, store, second.runId);
    assert.equal(res.status, 'synced', res.error);
    const hit = byName(fake.runsOf(second.runId), P);
    assert.equal(hit.tags.get('pipeline.cache'), 'hit');
    assert.equal(hit.tags.get('pipeline.computed_by_mlflow_run'), computed.info.run_id);
    assert.match(hit.tags.get('mlflow.note.content') ?? '', new RegExp(`runs/${computed.info.run_id}\\).*pipeline run ${first.runId}`));
    assert.equal(hit.artifacts.size, 0);
    const data = byName(fake.runsOf(second.runId), 'data');
    assert.equal(data.tags.get('pipeline.computed_by_mlflow_run'), undefined, 'no MLflow run computed key-data: no link');
    assert.equal(Object.values(loadSyncState(store, second.runId).targets)[0].runs.data.computedBy, '', 'looked up once');
  });

  it('experiment: explicit, else $MLFLOW_EXPERIMENT_NAME, else the pipeline name, else iql-pipeline', () => {
    const saved = process.env.MLFLOW_EXPERIMENT_NAME;
    try {
      delete process.env.MLFLOW_EXPERIMENT_NAME;
      assert.equal(experimentFor({ pipeline: 'p' }), 'p');
      assert.equal(experimentFor({ pipeline: '' }), 'iql-pipeline');
      process.env.MLFLOW_EXPERIMENT_NAME = 'env';
      assert.equal(experimentFor({ pipeline: 'p' }), 'env');
      assert.equal(experimentFor({ pipeline: 'p' }, 'explicit'), 'explicit');
    } finally {
      if (saved === undefined) delete process.env.MLFLOW_EXPERIMENT_NAME;
      else process.env.MLFLOW_EXPERIMENT_NAME = saved;
    }
  });
});

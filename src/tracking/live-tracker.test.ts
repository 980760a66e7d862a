/**
 * The live tracker of `pipeline run`, against the in-memory MLflow of fake-mlflow.test-fixture.ts
 * (a real server killed mid-run: test/tracking/live-tracker.test.ts).
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, it } from 'node:test';
import type { EngineEvent } from '../engine/events.js';
import { FakeMlflow } from './fake-mlflow.test-fixture.js';
import { journalPath, readJournal, runsDir } from './journal.js';
import { createTracker, gitCommitOf } from './live-tracker.js';
import { syncAll } from './sync-store.js';
import { syntheticRun } from './synthetic-run.test-fixture.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const newStore = () => mkdtempSync(join(tmpdir(), 'live-tracker-'));

async function until(cond: () => boolean, what: string, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

function withoutTrackingUri<T>(f: () => Promise<T>): Promise<T> {
  const saved = process.env.MLFLOW_TRACKING_URI;
  delete process.env.MLFLOW_TRACKING_URI;
  return f().finally(() => {
    if (saved !== undefined) process.env.MLFLOW_TRACKING_URI = saved;
  });
}

describe('live tracker', () => {
  it('journal only when no tracking URI is configured', () => withoutTrackingUri(async () => {
    const store = newStore();
    const syn = syntheticRun({ curvePoints: 5 });
    const tracker = createTracker({ storeDir: store });
    for (const e of syn.events) tracker.listener(e);
    const res = await tracker.finish();
    assert.deepEqual(res, { synced: false, mode: 'journal', runIds: [syn.runId], results: [] });
    assert.equal(readJournal(journalPath(store, syn.runId)).events.length, syn.events.length);
  }));

  it('offline journals only, whatever the tracking URI says', async () => {
    const fake = new FakeMlflow();
    const syn = syntheticRun({ curvePoints: 5 });
    const tracker = createTracker({ storeDir: newStore(), client: fake, trackingUri: fake.trackingUri, offline: true });
    for (const e of syn.events) tracker.listener(e);
    assert.equal((await tracker.finish()).mode, 'journal');
    assert.equal(fake.requests.length, 0);
  });

  it('a tracking URI it cannot use: the run is journaled and finish() says why', () => withoutTrackingUri(async () => {
    const syn = syntheticRun({ curvePoints: 5 });
    const tracker = createTracker({ storeDir: newStore(), trackingUri: 'file:///tmp/mlruns' });
    for (const e of syn.events) tracker.listener(e);
    const res = await tracker.finish();
    assert.equal(res.mode, 'journal');
    assert.match(res.error ?? '', /unsupported tracking URI 'file:\/\/\/tmp\/mlruns'/);
  }));

  it('pushes in the background while the run goes on, and everything by finish()', async () => {
    const fake = new FakeMlflow();
    const syn = syntheticRun({ curvePoints: 40 });
    const tracker = createTracker({ storeDir: newStore(), client: fake, intervalMs: 5 });
    const cut = syn.events.findIndex((e) => e.type === 'stage-metric' && e.step === 200);
    for (const e of syn.events.slice(0, cut)) tracker.listener(e);
    await until(() => fake.runsOf(syn.runId).some((r) => r.metrics.length > 0), 'a background push');
    for (const e of syn.events.slice(cut)) tracker.listener(e);
    const res = await tracker.finish();
    assert.equal(res.synced, true, res.error);
    assert.equal(res.mode, 'mlflow');
    assert.deepEqual(res.runIds, [syn.runId]);
    assert.equal(res.results.at(-1)?.complete, true);
    const pol = fake.runsOf(syn.runId).find((r) => r.info.run_name === syn.curve.instance)!;
    assert.equal(fake.history(pol, 'loss').length, 40, 'every point once');
    assert.equal(pol.info.status, 'FINISHED');
  });

  it('a server that goes down: one warning, the listener never throws, finish() points at pipeline sync, which then pushes the rest', async () => {
    const store = newStore();
    const fake = new FakeMlflow();
    const warnings: string[] = [];
    const syn = syntheticRun({ curvePoints: 40 });
    const tracker = createTracker({ storeDir: store, client: fake, intervalMs: 5, onWarning: (w) => warnings.push(w) });
    const cut = syn.events.findIndex((e) => e.type === 'stage-metric' && e.step === 200);
    for (const e of syn.events.slice(0, cut)) tracker.listener(e);
    await until(() => fake.runsOf(syn.runId).some((r) => r.metrics.length > 0), 'a background push');
    fake.down = true;
    for (const e of syn.events.slice(cut)) {
      tracker.listener(e);
      await sleep(0);
    }
    await until(() => warnings.length > 0, 'the warning');
    await sleep(100); // more failing pushes: still one warning
    const res = await tracker.finish();
    assert.equal(warnings.length, 1);
    assert.match(warnings[0], /^MLflow tracking: .*ECONNREFUSED; the run goes on, journaled locally$/);
    assert.equal(res.synced, false);
    assert.equal(res.mode, 'mlflow');
    assert.match(res.error ?? '', /ECONNREFUSED; the run is journaled under (.*): run 'pipeline sync' to push it$/);
    assert.ok(res.error?.includes(runsDir(store)));
    assert.equal(readJournal(journalPath(store, syn.runId)).events.length, syn.events.length, 'everything journaled');

    fake.down = false;
    const [synced] = await syncAll({ storeDir: store, client: fake });
    assert.equal(synced.status, 'synced', synced.error);
    const pol = fake.runsOf(syn.runId).find((r) => r.info.run_name === syn.curve.instance)!;
    assert.equal(fake.history(pol, 'loss').length, 40, 'every point once');
  });

  it('finish() gives up on a server that does not answer after finishTimeoutMs', async () => {
    const fake = new FakeMlflow();
    const syn = syntheticRun({ curvePoints: 5 });
    const tracker = createTracker({ storeDir: newStore(), client: fake, intervalMs: 60_000, finishTimeoutMs: 200 });
    for (const e of syn.events) tracker.listener(e);
    fake.hangMs = 1500;
    const t0 = Date.now();
    const res = await tracker.finish();
    assert.ok(Date.now() - t0 < 1000, `returned after ${Date.now() - t0} ms`);
    assert.equal(res.synced, false);
    assert.match(res.error ?? '', /^MLflow push did not finish within 200 ms; the run is journaled under .*: run 'pipeline sync' to push it$/);
  });

  it('records the git commit of the pipeline file when the event does not carry one', () => withoutTrackingUri(async () => {
    const store = newStore();
    const syn = syntheticRun({ curvePoints: 1 });
    const inRepo = resolve('package.json');
    const commit = gitCommitOf(inRepo);
    const start = { ...(syn.events[0] as Extract<EngineEvent, { type: 'run-start' }>), file: inRepo };
    const tracker = createTracker({ storeDir: store });
    tracker.listener(start);
    await tracker.finish();
    const journaled = readJournal(journalPath(store, syn.runId)).events[0] as typeof start;
    assert.equal(journaled.gitCommit, commit);
    if (commit !== undefined) assert.match(commit, /^[0-9a-f]{40,64}$/);
    assert.equal(gitCommitOf(syn.file), undefined, 'a file outside any git work tree');
  }));
});

/**
 * Syncing every journal of a store (`pipeline sync`), against the in-memory MLflow of
 * fake-mlflow.test-fixture.ts (against a real server: test/tracking/sync-store.test.ts).
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { EngineEvent } from '../engine/events.js';
import { FakeMlflow } from './fake-mlflow.test-fixture.js';
import type { RunSyncResult } from './sync-run.js';
import { describeResult, syncAll } from './sync-store.js';
import { syntheticRun, writeJournal } from './synthetic-run.test-fixture.js';

function storeWith(runs: EngineEvent[][]): string {
  const store = mkdtempSync(join(tmpdir(), 'sync-store-'));
  for (const events of runs) writeJournal(store, events);
  return store;
}

const counts = { runsCreated: 0, metricsPushed: 0, artifactsUploaded: 0 };

describe('syncAll', () => {
  it('pushes every journal in the store, one line each; a second sync finds them up to date', async () => {
    const a = syntheticRun({ runId: 'run-a', curvePoints: 5 });
    const b = syntheticRun({ runId: 'run-b', curvePoints: 5 });
    const store = storeWith([b.events, a.events]);
    const fake = new FakeMlflow();
    const lines: string[] = [];
    const res = await syncAll({ storeDir: store, client: fake, log: (l) => lines.push(l) });
    assert.deepEqual(res.map((r) => [r.runId, r.status]), [['run-a', 'synced'], ['run-b', 'synced']], 'journal file order');
    assert.equal(fake.runsOf('run-a').length, 4);
    assert.equal(fake.runsOf('run-b').length, 4);
    assert.deepEqual(lines, res.map(describeResult));

    const again = await syncAll({ storeDir: store, client: fake, runIds: ['run-b'] });
    assert.deepEqual(again.map((r) => [r.runId, r.status]), [['run-b', 'up-to-date']], 'only the runs asked for');
  });

  it('stops at an unreachable server: the remaining runs are not attempted and left for the next sync', async () => {
    const runs = ['run-1', 'run-2', 'run-3'].map((runId) => syntheticRun({ runId, curvePoints: 5 }));
    const store = storeWith(runs.map((r) => r.events));
    const fake = new FakeMlflow();
    fake.down = true;
    const lines: string[] = [];
    const res = await syncAll({ storeDir: store, client: fake, log: (l) => lines.push(l) });
    assert.deepEqual(res.map((r) => [r.runId, r.status, r.transient]), [['run-1', 'failed', true], ['run-2', 'failed', true], ['run-3', 'failed', true]]);
    assert.equal(fake.requests.length, 1, 'one request: the first run\'s');
    assert.equal(res[1].error, 'not attempted: http://fake-mlflow.test is unreachable');
    assert.equal(lines.length, 2);
    assert.match(lines[0], /^run-1: FAILED: /);
    assert.equal(lines[1], 'http://fake-mlflow.test is unreachable: 2 more run(s) left for the next sync');

    fake.down = false;
    const next = await syncAll({ storeDir: store, client: fake });
    assert.deepEqual(next.map((r) => r.status), ['synced', 'synced', 'synced']);
  });

  it('a run the server rejects, or one whose push failed while the server stays up, does not stop the others', async () => {
    const runs = ['run-1', 'run-2'].map((runId) => syntheticRun({ runId, curvePoints: 5 }));
    const store = storeWith(runs.map((r) => r.events));
    const fake = new FakeMlflow();
    fake.failNext('runs/create', { rejected: true });
    const res = await syncAll({ storeDir: store, client: fake });
    assert.deepEqual(res.map((r) => [r.status, r.transient]), [['failed', false], ['synced', undefined]]);

    const store2 = storeWith(runs.map((r) => r.events));
    fake.failNext('experiments/get-or-create'); // transient, but /health answers
    const res2 = await syncAll({ storeDir: store2, client: fake });
    assert.deepEqual(res2.map((r) => [r.status, r.transient]), [['failed', true], ['synced', undefined]]);
  });

  it('without a tracking URI it says how to give one', async () => {
    const saved = process.env.MLFLOW_TRACKING_URI;
    delete process.env.MLFLOW_TRACKING_URI;
    try {
      await assert.rejects(syncAll({ storeDir: storeWith([]) }), /^Error: no MLflow tracking URI: pass --tracking-uri or set MLFLOW_TRACKING_URI$/);
    } finally {
      if (saved !== undefined) process.env.MLFLOW_TRACKING_URI = saved;
    }
  });
});

describe('describeResult (the lines `pipeline sync` prints)', () => {
  const r = (over: Partial<RunSyncResult>): RunSyncResult => ({ runId: 'r1', status: 'synced', warnings: [], complete: true, ...counts, ...over });
  it('one line per status, warnings indented below', () => {
    assert.equal(describeResult(r({ runsCreated: 4, metricsPushed: 120, artifactsUploaded: 5 })),
      'r1: synced (4 run(s) created, 120 metric point(s), 5 artifact(s))');
    assert.equal(describeResult(r({ status: 'partial', metricsPushed: 3 })),
      'r1: pushed so far (0 run(s) created, 3 metric point(s), 0 artifact(s)); the run has not ended');
    assert.equal(describeResult(r({ status: 'up-to-date' })), 'r1: up to date');
    assert.equal(describeResult(r({ status: 'skipped-live' })), 'r1: skipped (the run is still in progress; its own tracker pushes it)');
    assert.equal(describeResult(r({ status: 'skipped-empty' })), 'r1: skipped (journal has no run-start)');
    assert.equal(describeResult(r({ status: 'failed', error: 'boom' })), 'r1: FAILED: boom');
    assert.equal(describeResult(r({ warnings: ['w1', 'w2'] })),
      'r1: synced (0 run(s) created, 0 metric point(s), 0 artifact(s))\n  warning: w1\n  warning: w2');
  });
});

import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { journalPath } from './journal.js';
import { loadSyncState, saveSyncState, syncStatePath, targetKey, type SyncStateFile } from './sync-state.js';

const store = () => mkdtempSync(join(tmpdir(), 'sync-state-'));

describe('sync state file', () => {
  it('lives beside the run journal as <runId>.mlflow.json (the same safe file name)', () => {
    const s = store();
    assert.equal(syncStatePath(s, 'run-1'), join(s, 'runs', 'run-1.mlflow.json'));
    assert.equal(syncStatePath(s, 'a/b c'), journalPath(s, 'a/b c').replace(/\.jsonl$/, '.mlflow.json'));
    assert.equal(dirname(syncStatePath(s, 'a/b c')), join(s, 'runs'));
  });

  it('a run never synced has an empty state', () => {
    assert.deepEqual(loadSyncState(store(), 'r'), { version: 1, runId: 'r', targets: {} });
  });

  it('saves and loads what was saved, through a temp file that does not stay behind', () => {
    const s = store();
    const state: SyncStateFile = { version: 1, runId: 'r', targets: {
      [targetKey('http://mlflow:5000', 'study')]: {
        trackingUri: 'http://mlflow:5000', experiment: 'study', experimentId: '3', journalLines: 12, complete: true, searched: true,
        runs: { '': { mlflowRunId: 'abc', metricsPushed: 4, artifacts: { 'outputs/a.png': 'd1' }, status: 'FINISHED', endTime: 9 } },
      },
    } };
    saveSyncState(s, state);
    assert.deepEqual(loadSyncState(s, 'r'), state);
    assert.deepEqual(readdirSync(join(s, 'runs')), ['r.mlflow.json']);
    state.targets[targetKey('http://mlflow:5000', 'study')].journalLines = 20;
    saveSyncState(s, state);
    assert.equal(loadSyncState(s, 'r').targets['http://mlflow:5000#study'].journalLines, 20, 'overwritten in place');
  });

  it('a corrupt file, or one of another format, reads as lost (empty): sync then finds its runs by tag', () => {
    const s = store();
    mkdirSync(join(s, 'runs'));
    writeFileSync(syncStatePath(s, 'r'), '{"version": 1, "runId": "r", "targ');
    assert.deepEqual(loadSyncState(s, 'r'), { version: 1, runId: 'r', targets: {} });
    writeFileSync(syncStatePath(s, 'r'), JSON.stringify({ version: 2, runId: 'r', targets: { x: {} } }));
    assert.deepEqual(loadSyncState(s, 'r'), { version: 1, runId: 'r', targets: {} });
  });

  it('one target per tracking server and experiment', () => {
    const keys = new Set([targetKey('http://a', 'x'), targetKey('http://a', 'y'), targetKey('http://b', 'x')]);
    assert.equal(keys.size, 3);
  });
});

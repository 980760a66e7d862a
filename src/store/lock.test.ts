/** Entry locks on real files: who holds one, waiting on a live holder, taking over a stale one. */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, statSync, unlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it, mock } from 'node:test';
import { HEARTBEAT_MS, STALE_MS, thisHost } from './liveness.js';
import { acquireLock, lockHeld, readHolder, type HeldLock, type LockHolder } from './lock.js';
import { deadPid, liveProcess } from './pids.test-fixture.js';

const lockPath = () => join(mkdtempSync(join(tmpdir(), 'iqlp-lock-')), 'entry.lock');
const never = () => new AbortController().signal;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function holder(path: string, h: Partial<LockHolder>, ageMs = 0): void {
  writeFileSync(path, JSON.stringify({ pid: process.pid, host: thisHost, runId: 'other-run', since: 'then', ...h }));
  const t = new Date(Date.now() - ageMs);
  utimesSync(path, t, t);
}

/** Whether `p` settles within `ms`. */
async function settlesWithin(p: Promise<unknown>, ms: number): Promise<boolean> {
  return Promise.race([p.then(() => true, () => true), sleep(ms).then(() => false)]);
}

describe('entry locks', () => {
  it('a free lock is taken at once: the file names this process and run until released', async () => {
    const path = lockPath();
    let waited = false;
    const lock = await acquireLock(path, 'run-1', never(), () => { waited = true; });
    assert.equal(waited, false);
    const h = readHolder(path)!;
    assert.deepEqual({ pid: h.pid, host: h.host, runId: h.runId }, { pid: process.pid, host: thisHost, runId: 'run-1' });
    assert.ok(!Number.isNaN(Date.parse(h.since)));
    assert.equal(lockHeld(path), true);
    lock.release();
    assert.equal(existsSync(path), false);
    assert.equal(lockHeld(path), false);
    lock.release(); // idempotent
  });

  it('a lock held by a live process blocks (onWait says who, once) until that process is gone, then is taken over', async () => {
    const path = lockPath();
    const other = liveProcess();
    try {
      holder(path, { pid: other.pid });
      const seen: (LockHolder | null)[] = [];
      const acquiring = acquireLock(path, 'run-2', never(), (h) => seen.push(h));
      assert.equal(await settlesWithin(acquiring, 700), false, 'still waiting');
      assert.equal(seen.length, 1);
      assert.equal(seen[0]?.pid, other.pid);
      assert.equal(seen[0]?.runId, 'other-run');
      await other.stop();
      const lock = await acquiring;
      assert.equal(readHolder(path)?.runId, 'run-2');
      assert.equal(seen.length, 1, 'told once');
      lock.release();
    } finally {
      await other.stop();
    }
  });

  it('a stale lock is taken over at once: a dead pid on this host, or another host\'s lock without a heartbeat for STALE_MS', async () => {
    for (const stale of [{ pid: deadPid() }, { host: `not-${thisHost}`, ageMs: STALE_MS + 5000 }]) {
      const path = lockPath();
      holder(path, stale, stale.ageMs);
      let waited = false;
      const lock = await acquireLock(path, 'run-3', never(), () => { waited = true; });
      assert.equal(waited, false);
      assert.equal(readHolder(path)?.runId, 'run-3');
      lock.release();
    }
  });

  it('another host\'s lock with a recent heartbeat, or a holder not written yet, blocks', async () => {
    for (const write of [(p: string) => holder(p, { host: `not-${thisHost}` }, 1000), (p: string) => writeFileSync(p, '')]) {
      const path = lockPath();
      write(path);
      const ac = new AbortController();
      const acquiring = acquireLock(path, 'run-4', ac.signal);
      assert.equal(await settlesWithin(acquiring, 500), false, 'waiting');
      ac.abort(new Error('stopped'));
      await assert.rejects(acquiring, /stopped/);
    }
  });

  it('aborting a wait rejects with the reason and leaves the holder\'s lock alone', async () => {
    const path = lockPath();
    holder(path, { runId: 'holder-run' }); // this process: alive
    const ac = new AbortController();
    const acquiring = acquireLock(path, 'run-5', ac.signal);
    await sleep(250);
    ac.abort(new Error('Ctrl-C'));
    await assert.rejects(acquiring, /Ctrl-C/);
    assert.equal(readHolder(path)?.runId, 'holder-run');
  });

  it('two acquirers: the second gets the lock when the first releases it', async () => {
    const path = lockPath();
    const first = await acquireLock(path, 'a', never());
    let second: HeldLock | undefined;
    const acquiring = acquireLock(path, 'b', never()).then((l) => { second = l; });
    await sleep(300);
    assert.equal(second, undefined);
    first.release();
    await acquiring;
    assert.equal(readHolder(path)?.runId, 'b');
    second!.release();
  });

  it('the holder refreshes the lock file\'s mtime every HEARTBEAT_MS until released; a lock removed under it is not recreated', async () => {
    mock.timers.enable({ apis: ['setInterval'] });
    try {
      const path = lockPath();
      const lock = await acquireLock(path, 'run-6', never());
      const old = new Date(Date.now() - 30_000);
      utimesSync(path, old, old);
      mock.timers.tick(HEARTBEAT_MS);
      assert.ok(Date.now() - statSync(path).mtimeMs < 5_000, 'heartbeat');
      unlinkSync(path);
      mock.timers.tick(HEARTBEAT_MS); // must not throw or recreate it
      assert.equal(existsSync(path), false);
      lock.release();
    } finally {
      mock.timers.reset();
    }
  });
});

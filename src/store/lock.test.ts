/** Entry locks on real files: who holds one, waiting on a live holder, taking over a stale one. */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
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

/** A lock directory (this version's format) whose one holder file says `h`, written `ageMs` ago. */
function lockDir(path: string, h: Partial<LockHolder>, ageMs = 0): void {
  mkdirSync(path);
  const f = join(path, 'holder@somewhere-1-0123abcd.json');
  holder(f, h, ageMs);
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
      rmSync(path, { recursive: true });
      mock.timers.tick(HEARTBEAT_MS); // must not throw or recreate it
      assert.equal(existsSync(path), false);
      lock.release();
    } finally {
      mock.timers.reset();
    }
  });

  for (const [format, makeStale] of [
    ['a lock file of an earlier version', (path: string, pid: number) => holder(path, { pid, runId: 'dead-run' })],
    ['a lock directory', (path: string, pid: number) => lockDir(path, { pid, runId: 'dead-run' })],
  ] as const) {
    it(`two takeovers of one stale lock (${format}) at once: the one that judged it stale first waits for the other, whose lock it must not remove`, async () => {
      const dead = deadPid();
      const path = lockPath();
      makeStale(path, dead);
      // The first acquirer asks whether the dead holder is alive; while it does (a slow file system),
      // a second acquirer takes the lock over, all of it. Then the first acts on what it judged.
      const realKill = process.kill;
      let second: Promise<HeldLock> | undefined;
      let started = false;
      process.kill = ((pid: number, signal?: string | number) => {
        if (pid === dead && !started) {
          started = true; // before the call: the second acquirer probes the same pid
          second = acquireLock(path, 'second', never());
        }
        return realKill.call(process, pid, signal);
      }) as typeof process.kill;
      let first: Promise<HeldLock>;
      try {
        first = acquireLock(path, 'first', never());
      } finally {
        process.kill = realKill;
      }
      assert.ok(second, 'the second acquirer ran while the first judged the holder');
      const held = await settlesWithin(second, 100);
      assert.equal(held, true, 'the second took the stale lock over');
      assert.equal(readHolder(path)?.runId, 'second', 'the lock names the second');
      assert.equal(await settlesWithin(first, 500), false, 'the first waits while the second holds it');
      assert.equal(readHolder(path)?.runId, 'second');
      (await second).release();
      const lock = await first;
      assert.equal(readHolder(path)?.runId, 'first');
      lock.release();
      assert.equal(existsSync(path), false);
    });
  }

  it('a lock directory whose holder is gone, or that is empty (a takeover cut short), is taken over at once', async () => {
    for (const make of [(p: string) => lockDir(p, { pid: deadPid() }), (p: string) => lockDir(p, { host: `not-${thisHost}` }, STALE_MS + 5000), (p: string) => mkdirSync(p)]) {
      const path = lockPath();
      make(path);
      let waited = false;
      const lock = await acquireLock(path, 'run-7', never(), () => { waited = true; });
      assert.equal(waited, false);
      assert.equal(readHolder(path)?.runId, 'run-7');
      assert.deepEqual(readdirSync(path).length, 1, 'one holder file');
      lock.release();
      assert.equal(existsSync(path), false);
    }
  });

  it('a holder whose lock was taken over meanwhile releases nothing but its own: the new holder keeps the lock', async () => {
    const path = lockPath();
    const first = await acquireLock(path, 'first', never());
    for (const f of readdirSync(path)) rmSync(join(path, f)); // as a takeover does when the first's heartbeat stopped
    const second = await acquireLock(path, 'second', never());
    first.release();
    assert.equal(readHolder(path)?.runId, 'second');
    assert.equal(lockHeld(path), true);
    second.release();
    assert.equal(existsSync(path), false);
  });

  it('many processes taking over one stale lock at once: exactly one holds it at a time, each gets it once', { timeout: 120_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'iqlp-lock-race-'));
    const path = join(dir, 'entry.lock');
    const inside = join(dir, 'inside'); // created with O_EXCL by whoever holds the lock: a second holder fails to
    const log = join(dir, 'log');
    writeFileSync(log, '');
    holder(path, { pid: deadPid(), runId: 'dead-run' });
    const go = join(dir, 'go');
    const N = 6;
    // Each contender says it is ready and waits for the go file, which names the instant at which
    // all of them acquire. Its liveness probe of a holder (process.kill with signal 0) is slowed by
    // 30 ms, as on a slow shared file system, which widens the window between judging a lock stale
    // and acting on it. Holding, it marks `inside` for 50 ms, then exits without releasing: its lock
    // is stale again (a dead pid) and the rest race to take it over.
    const script = `
      import { appendFileSync, openSync, closeSync, readFileSync, unlinkSync } from 'node:fs';
      const { acquireLock } = await import(${JSON.stringify(new URL('./lock.js', import.meta.url).href)});
      const [path, inside, log, go] = process.argv.slice(1);
      const realKill = process.kill;
      process.kill = (pid, signal) => {
        try {
          return realKill.call(process, pid, signal); // throws for a dead pid
        } finally {
          if (signal === 0) { const t = Date.now() + 30; while (Date.now() < t); }
        }
      };
      appendFileSync(log, 'ready ' + process.pid + '\\n');
      let startAt;
      while (startAt === undefined) {
        try { startAt = Number(readFileSync(go, 'utf8')); } catch { await new Promise((r) => setTimeout(r, 10)); }
      }
      while (Date.now() < startAt);
      await acquireLock(path, 'run-' + process.pid, new AbortController().signal);
      try { closeSync(openSync(inside, 'wx')); } catch { appendFileSync(log, 'overlap ' + process.pid + '\\n'); }
      appendFileSync(log, 'enter ' + process.pid + '\\n');
      await new Promise((r) => setTimeout(r, 50));
      try { unlinkSync(inside); } catch {}
      process.exit(0);
    `;
    const children = Array.from({ length: N }, () => {
      const child = spawn(process.execPath, ['--input-type=module', '-e', script, path, inside, log, go], { stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      child.stderr!.on('data', (c: Buffer) => { stderr += c.toString(); });
      return new Promise<{ code: number | null; stderr: string }>((r) => child.once('exit', (code) => r({ code, stderr })));
    });
    const lines = () => readFileSync(log, 'utf8').trim().split('\n');
    const deadline = Date.now() + 60_000; // a contender that never gets ready fails below, not here
    while (lines().filter((l) => l.startsWith('ready')).length < N && Date.now() < deadline) await sleep(20);
    writeFileSync(`${go}.tmp`, String(Date.now() + 100));
    renameSync(`${go}.tmp`, go);
    const results = await Promise.all(children);
    for (const r of results) assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(lines().filter((l) => l.startsWith('overlap')), [], 'no contender found another inside');
    assert.equal(lines().filter((l) => l.startsWith('enter')).length, N, 'each contender got the lock once');
  });
});

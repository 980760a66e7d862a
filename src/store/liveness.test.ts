import assert from 'node:assert/strict';
import { mkdtempSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { holderAlive, pidAlive, STALE_MS, thisHost } from './liveness.js';
import { deadPid } from './pids.test-fixture.js';

function lockFile(ageMs: number): string {
  const p = join(mkdtempSync(join(tmpdir(), 'iqlp-liveness-')), 'x.lock');
  writeFileSync(p, '');
  const t = new Date(Date.now() - ageMs);
  utimesSync(p, t, t);
  return p;
}

describe('lock-holder liveness', () => {
  it('pidAlive: this process is, an exited one is not', () => {
    assert.equal(pidAlive(process.pid), true);
    assert.equal(pidAlive(deadPid()), false);
  });

  it('on this host the pid decides, whatever the heartbeat says', () => {
    assert.equal(holderAlive(lockFile(10 * STALE_MS), { pid: process.pid, host: thisHost }), true, 'old mtime, live pid');
    assert.equal(holderAlive(lockFile(0), { pid: deadPid(), host: thisHost }), false, 'fresh mtime, dead pid');
  });

  it('on another host (or an unreadable holder) the heartbeat decides: alive until STALE_MS without one', () => {
    const other = { pid: process.pid, host: `not-${thisHost}` };
    assert.equal(holderAlive(lockFile(1000), other), true);
    assert.equal(holderAlive(lockFile(STALE_MS + 5000), other), false);
    assert.equal(holderAlive(lockFile(1000), null), true);
    assert.equal(holderAlive(lockFile(STALE_MS + 5000), null), false);
  });

  it('a lock file that is gone is not held', () => {
    assert.equal(holderAlive(join(tmpdir(), 'iqlp-no-such-lock'), null), false);
    assert.equal(holderAlive(join(tmpdir(), 'iqlp-no-such-lock'), { pid: 1, host: 'elsewhere' }), false);
  });
});

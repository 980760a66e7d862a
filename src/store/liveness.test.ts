import assert from 'node:assert/strict';
import { mkdtempSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { holderAlive, hostTag, ownerSuffix, pidAlive, STALE_MS, tempOwner, thisHost } from './liveness.js';
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

  it('temp names carry the host and pid of their maker: ownerSuffix writes them, tempOwner reads them back (older names: the pid only)', () => {
    assert.match(hostTag, /^[A-Za-z0-9._-]{1,64}$/);
    const a = ownerSuffix();
    assert.match(a, new RegExp(`^@${hostTag.replace(/\./g, '\\.')}-${process.pid}-[0-9a-f]{8}$`));
    assert.notEqual(ownerSuffix(), a, 'unique');
    assert.deepEqual(tempOwner(`label${a}`), { host: hostTag, pid: process.pid });
    assert.deepEqual(tempOwner('train-seed-1@node-7.cluster-local-4242-0123abcd'), { host: 'node-7.cluster-local', pid: 4242 });
    assert.deepEqual(tempOwner('train-seed-1-4242-0123abcd'), { pid: 4242 });
    assert.equal(tempOwner('no-pid-here'), null);
  });
});

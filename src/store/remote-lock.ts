/**
 * Entry locks on the remote store, so that two controllers (or cluster nodes) sharing a remote
 * never compute the same entry at once. A lock is the object locks/<key>.json created with a
 * conditional put (If-None-Match: *): only one creator succeeds. Its holder rewrites it every
 * HEARTBEAT_MS; a lock not rewritten for STALE_MS belongs to a dead holder and is taken over.
 * (Taking over a stale lock is delete-then-create: two waiters that both saw it stale at the same
 * instant can both get it, and then the conditional put of the manifest still keeps one result.
 * Likewise the heartbeat is an unconditional put and release an unconditional delete, so a holder
 * that was taken over (its heartbeat stalled for STALE_MS) overwrites or removes its successor's
 * lock. The atomic form needs conditional writes on the lock's ETag (take over, beat and release
 * with If-Match), which not every S3-API server implements. The local locks (lock.ts) are atomic.)
 */
import { STALE_MS, thisHost } from './liveness.js';
import { heartbeatLock, type HeldLock, type LockHolder } from './lock.js';
import type { RemoteStore } from './remote.js';

const POLL_MS = 1000;

const lockPath = (key: string) => `locks/${key}.json`;

export async function readRemoteHolder(remote: RemoteStore, key: string): Promise<(LockHolder & { fresh: boolean }) | null> {
  const h = await remote.head(remote.path(lockPath(key)));
  if (!h) return null;
  const holder = await remote.readJson<LockHolder>(lockPath(key)).catch(() => null);
  return { ...(holder ?? { pid: 0, host: '?', runId: '?', since: '' }), fresh: Date.now() - h.modified.getTime() <= STALE_MS };
}

export async function acquireRemoteLock(remote: RemoteStore, key: string, runId: string, signal: AbortSignal, onWait?: (h: LockHolder | null) => void): Promise<HeldLock> {
  const holder: LockHolder = { pid: process.pid, host: thisHost, runId, since: new Date().toISOString() };
  let told = false;
  for (;;) {
    if (signal.aborted) throw signal.reason ?? new Error('aborted');
    if (await remote.writeJson(lockPath(key), holder, { ifAbsent: true })) break;
    const other = await readRemoteHolder(remote, key);
    if (other && !other.fresh) {
      await remote.delete(remote.path(lockPath(key)));
      continue;
    }
    if (!told) { onWait?.(other); told = true; }
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
  return heartbeatLock(
    () => { void remote.writeJson(lockPath(key), holder).catch(() => { /* the next beat tries again */ }); },
    () => { void remote.delete(remote.path(lockPath(key))).catch(() => { /* goes stale by itself */ }); },
  );
}

/**
 * Removes the lock of `key` if run `runId` holds it: a cluster executor does this when the job
 * that held it died with its node, so the next attempt need not wait STALE_MS for it to go stale.
 */
export async function breakRemoteLock(remote: RemoteStore, key: string, runId: string): Promise<boolean> {
  const holder = await readRemoteHolder(remote, key);
  if (!holder || holder.runId !== runId) return false;
  await remote.delete(remote.path(lockPath(key)));
  return true;
}

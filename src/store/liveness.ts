/**
 * The one rule for "is the holder of this lock file alive", shared by the store's entry locks,
 * `status` (is an entry being computed?) and the run journal (is a run still being written?).
 * On this host the holder's pid decides. On another host (a store on a shared file system) a pid
 * means nothing here, so the holder's heartbeat decides: it refreshes the lock file's mtime every
 * HEARTBEAT_MS, and a lock not refreshed for STALE_MS belongs to a dead process.
 */
import { statSync } from 'node:fs';
import { hostname } from 'node:os';

export const HEARTBEAT_MS = 5_000;
export const STALE_MS = 60_000;

export const thisHost = hostname();

export interface LockOwner {
  pid: number;
  host: string;
}

export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Whether the lock file at `path` is held by a live process. `owner` is what the file says (null
 * when unreadable, e.g. being written: then only the heartbeat can tell). A file that is gone is
 * not held.
 */
export function holderAlive(path: string, owner: LockOwner | null): boolean {
  if (owner && owner.host === thisHost) return pidAlive(owner.pid);
  try {
    return Date.now() - statSync(path).mtimeMs <= STALE_MS;
  } catch {
    return false;
  }
}

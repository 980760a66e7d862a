/**
 * The one rule for "is the holder of this lock file alive", shared by the store's entry locks,
 * `status` (is an entry being computed?) and the run journal (is a run still being written?).
 * On this host the holder's pid decides. On another host (a store on a shared file system) a pid
 * means nothing here, so the holder's heartbeat decides: it refreshes the lock file's mtime every
 * HEARTBEAT_MS, and a lock not refreshed for STALE_MS belongs to a dead process.
 *
 * Temp files and dirs in the store follow the same rule: their names end in `@<host>-<pid>-<8 hex>`
 * (ownerSuffix), their maker refreshes a temp dir's mtime while it writes it, and tempAlive judges
 * a name by this rule, so a run on one host never removes what a live process on another is writing.
 */
import { createHash, randomBytes } from 'node:crypto';
import { statSync } from 'node:fs';
import { hostname } from 'node:os';
import { basename } from 'node:path';

export const HEARTBEAT_MS = 5_000;
export const STALE_MS = 60_000;

export const thisHost = hostname();

/**
 * This host as it appears in file names: the host name if it is made of [A-Za-z0-9.-] and short
 * enough, else a readable part of it and a digest of the whole (two hosts never share a tag).
 */
export const hostTag = /^[A-Za-z0-9.-]{1,64}$/.test(thisHost)
  ? thisHost
  : `${thisHost.replace(/[^A-Za-z0-9.-]+/g, '_').slice(0, 40)}_${createHash('sha256').update(thisHost).digest('hex').slice(0, 8)}`;

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

/** The end of the name of a temp file or dir of this process: `@<host>-<pid>-<8 hex>`, unique. */
export function ownerSuffix(): string {
  return `@${hostTag}-${process.pid}-${randomBytes(4).toString('hex')}`;
}

/**
 * The maker named by a temp name: the host tag and pid of an ownerSuffix, or for names of older
 * versions (`…-<pid>-<8 hex>`, no host) the pid alone; null when the name says neither.
 */
export function tempOwner(name: string): { host?: string; pid: number } | null {
  const m = /@([A-Za-z0-9._-]+)-(\d+)-[0-9a-f]{8}$/.exec(name);
  if (m) return { host: m[1]!, pid: Number(m[2]) };
  const old = /-(\d+)-[0-9a-f]{8}$/.exec(name);
  return old ? { pid: Number(old[1]) } : null;
}

/**
 * Whether the process that made the temp file or dir at `path` may still be writing it (a temp of a
 * dead process is litter to remove). Named for this host: its pid decides. Named for another host:
 * its heartbeat, the mtime, as for locks. A name without a host (older versions) might be either:
 * kept while its pid lives here or it was written in the last STALE_MS; a name without a pid, by age.
 */
export function tempAlive(path: string): boolean {
  const owner = tempOwner(basename(path));
  if (owner?.host !== undefined) return holderAlive(path, { pid: owner.pid, host: owner.host === hostTag ? thisHost : owner.host });
  return (owner !== null && pidAlive(owner.pid)) || holderAlive(path, null);
}

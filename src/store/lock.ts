/**
 * Per-entry locks so two concurrent runs never compute the same entry twice. A lock is a directory,
 * <key>.lock, holding one holder file, `holder@<host>-<pid>-<8 hex>.json`, that names its holder;
 * its holder refreshes the holder file's mtime (heartbeat). A lock whose holder process is gone
 * (same host) or whose heartbeat stopped is stale and taken over.
 *
 * Every step is atomic on local and NFS-like file systems, so of many processes that find one
 * stale lock at once exactly one takes it over:
 * - a lock is built under a temp name and renamed into place; the rename fails while a lock is
 *   there (a directory that is not empty cannot be replaced), so a lock appears whole, at one place;
 * - a takeover removes the stale holder's file by its own name, which only one process can do, and
 *   the now empty directory (an empty one is no lock: any process may remove it or rename over it);
 * - a process that judged a lock stale and lost the race finds its holder file gone and looks
 *   again: it never removes anything but the holder file it judged, so never the lock that
 *   replaced it. For the same reason a holder whose lock was taken over releases nothing but its own.
 * A lock of an earlier version (a plain file made with O_EXCL) is still read and taken over; the
 * unlink that removes it cannot remove a lock directory.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmdirSync, rmSync, unlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { HEARTBEAT_MS, holderAlive, ownerSuffix, thisHost, type LockOwner } from './liveness.js';

export interface LockHolder extends LockOwner {
  runId: string;
  since: string;
}

export interface HeldLock {
  release(): void;
}

const code = (e: unknown) => (e as NodeJS.ErrnoException).code;

/** Puts a lock naming this process at `path` if there is none; the holder file's path, or null. */
function tryCreate(path: string, runId: string): string | null {
  const name = `holder${ownerSuffix()}.json`;
  const tmp = `${path}${ownerSuffix()}`;
  mkdirSync(tmp);
  try {
    const holder: LockHolder = { pid: process.pid, host: thisHost, runId, since: new Date().toISOString() };
    writeFileSync(join(tmp, name), JSON.stringify(holder));
    renameSync(tmp, path); // replaces nothing but an empty directory
    return join(path, name);
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    const c = code(e);
    // A lock (or an old version's lock file) is there. Some systems refuse to rename over any directory.
    if (c === 'EEXIST' || c === 'ENOTEMPTY' || c === 'ENOTDIR' || c === 'EISDIR' || (c === 'EPERM' && existsSync(path))) return null;
    throw e;
  }
}

function readJson(path: string): LockHolder | null {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as LockHolder;
  } catch {
    return null;
  }
}

/** The holder files of the lock at `path`: [] when there is no lock, null when it is an old version's lock file. */
function holderFiles(path: string): string[] | null {
  try {
    return readdirSync(path).map((n) => join(path, n));
  } catch (e) {
    if (code(e) === 'ENOTDIR') return null;
    if (code(e) === 'ENOENT') return [];
    throw e;
  }
}

export function readHolder(path: string): LockHolder | null {
  const files = holderFiles(path);
  if (files === null) return readJson(path);
  return files.length ? readJson(files[0]!) : null;
}

/** Whether the lock at `path` is held by a live process (the rule in liveness.ts). */
export function lockHeld(path: string): boolean {
  const files = holderFiles(path);
  if (files === null) return holderAlive(path, readJson(path));
  return files.some((f) => holderAlive(f, readJson(f)));
}

/**
 * Removes the lock at `path` if it is stale; false while it is held. True when it was stale or is
 * gone, whoever removed it: then it may be free, and the caller tries again at once.
 */
function clearStale(path: string): boolean {
  const files = holderFiles(path);
  if (files === null) {
    if (holderAlive(path, readJson(path))) return false;
    try { unlinkSync(path); } catch { /* removed (and maybe replaced by a lock directory, which unlink cannot remove) */ }
    return true;
  }
  if (files.some((f) => holderAlive(f, readJson(f)))) return false;
  let cleared = true;
  for (const f of files) {
    try { unlinkSync(f); } catch (e) { if (code(e) !== 'ENOENT') cleared = false; } // ENOENT: another process took it over
  }
  // Only an empty directory goes: if a new lock is already in place this fails, as it should.
  if (cleared) try { rmdirSync(path); } catch { /* gone, or a lock again */ }
  return cleared;
}

/**
 * Acquires the lock, waiting while another live process holds it. `onWait` is called once when
 * waiting starts (so the UI can say who holds it). Rejects if `signal` aborts.
 */
export async function acquireLock(path: string, runId: string, signal: AbortSignal, onWait?: (h: LockHolder | null) => void): Promise<HeldLock> {
  let told = false;
  let mine: string | null;
  for (;;) {
    if (signal.aborted) throw signal.reason ?? new Error('aborted');
    if ((mine = tryCreate(path, runId))) break;
    if (clearStale(path)) continue;
    if (!told) { onWait?.(readHolder(path)); told = true; }
    await new Promise((r) => setTimeout(r, 200));
  }
  const file = mine;
  return heartbeatLock(
    () => {
      const now = new Date();
      try {
        utimesSync(file, now, now);
        utimesSync(path, now, now); // what an earlier version's waiter judges
      } catch { /* lock removed or taken over: release() copes */ }
    },
    () => {
      try { unlinkSync(file); } catch { /* already gone (taken over): the lock there now is not ours */ }
      try { rmdirSync(path); } catch { /* gone, or another's lock already */ }
    },
  );
}

/** A held lock that `beat`s every HEARTBEAT_MS until released once, when `remove` ends it. */
export function heartbeatLock(beat: () => void, remove: () => void): HeldLock {
  const timer = setInterval(beat, HEARTBEAT_MS);
  timer.unref();
  let released = false;
  return {
    release() {
      if (released) return;
      released = true;
      clearInterval(timer);
      remove();
    },
  };
}

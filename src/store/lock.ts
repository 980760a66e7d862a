/**
 * Per-entry locks so two concurrent runs never compute the same entry twice. A lock is a file
 * created with O_EXCL; its holder refreshes the mtime (heartbeat). A lock whose holder process is
 * gone (same host) or whose heartbeat stopped is stale and taken over.
 */
import { openSync, closeSync, readFileSync, unlinkSync, utimesSync, writeSync } from 'node:fs';
import { HEARTBEAT_MS, holderAlive, thisHost, type LockOwner } from './liveness.js';

export interface LockHolder extends LockOwner {
  runId: string;
  since: string;
}

export interface HeldLock {
  release(): void;
}

function tryCreate(path: string, runId: string): boolean {
  try {
    const fd = openSync(path, 'wx');
    const holder: LockHolder = { pid: process.pid, host: thisHost, runId, since: new Date().toISOString() };
    writeSync(fd, JSON.stringify(holder));
    closeSync(fd);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw e;
  }
}

export function readHolder(path: string): LockHolder | null {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as LockHolder;
  } catch {
    return null;
  }
}

/** Whether the lock at `path` is held by a live process (the rule in liveness.ts). */
export function lockHeld(path: string): boolean {
  return holderAlive(path, readHolder(path));
}

/**
 * Acquires the lock, waiting while another live process holds it. `onWait` is called once when
 * waiting starts (so the UI can say who holds it). Rejects if `signal` aborts.
 */
export async function acquireLock(path: string, runId: string, signal: AbortSignal, onWait?: (h: LockHolder | null) => void): Promise<HeldLock> {
  let told = false;
  for (;;) {
    if (signal.aborted) throw signal.reason ?? new Error('aborted');
    if (tryCreate(path, runId)) break;
    if (!lockHeld(path)) {
      try { unlinkSync(path); } catch { /* someone else removed it */ }
      continue;
    }
    if (!told) { onWait?.(readHolder(path)); told = true; }
    await new Promise((r) => setTimeout(r, 200));
  }
  return heartbeatLock(
    () => {
      const now = new Date();
      try { utimesSync(path, now, now); } catch { /* lock removed under us; release() copes */ }
    },
    () => { try { unlinkSync(path); } catch { /* already gone */ } },
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

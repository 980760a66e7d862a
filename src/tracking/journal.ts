/**
 * The local run journal: one append-only JSONL file of EngineEvents per pipeline run, at
 * `<store>/runs/<runId>.jsonl`. Always written (the embedded default); MLflow sync replays it.
 *
 * Each event is written with a synchronous write on an O_APPEND descriptor as it arrives, so a
 * crash loses at most the line being written; the file is fsynced at run end and on close().
 * While a run is being journaled a lock file `<runId>.lock` names the writer (pid and host) and its
 * mtime is refreshed as a heartbeat, so `sync` can tell a live run from an abandoned one by the
 * store's one liveness rule (src/store/liveness.ts). Readers tolerate a truncated last line.
 */
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, utimesSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { HEARTBEAT_MS, holderAlive, thisHost, type LockOwner } from '../store/liveness.js';
import type { EngineEvent, EventListener } from '../engine/events.js';

export function runsDir(storeDir: string): string {
  return join(storeDir, 'runs');
}
export function journalPath(storeDir: string, runId: string): string {
  return join(runsDir(storeDir), `${safeRunId(runId)}.jsonl`);
}
export function lockPath(storeDir: string, runId: string): string {
  return join(runsDir(storeDir), `${safeRunId(runId)}.lock`);
}

function safeRunId(runId: string): string {
  return runId.replace(/[^A-Za-z0-9._-]/g, '_');
}

export interface Journal {
  /** EventListener-compatible: never throws. */
  (event: EngineEvent): void;
  listener: EventListener;
  /** Flushes (fsync) and closes every open journal file and removes the lock files. Idempotent. */
  close(): void;
  /** Paths of the journals written so far, by runId. */
  readonly paths: ReadonlyMap<string, string>;
}

/** JSON with non-finite numbers kept (as the strings "NaN", "Infinity", "-Infinity"). */
export function encodeEvent(e: EngineEvent): string {
  return JSON.stringify(e, (_k, v: unknown) =>
    typeof v === 'number' && !Number.isFinite(v) ? (Number.isNaN(v) ? 'NaN' : v > 0 ? 'Infinity' : '-Infinity') : v);
}

export function createJournal(storeDir: string, opts: { onError?: (err: unknown) => void } = {}): Journal {
  const fds = new Map<string, number>();
  const paths = new Map<string, string>();
  const heartbeats = new Map<string, NodeJS.Timeout>();
  let warned = false;
  const onError = opts.onError ?? ((err: unknown) => {
    if (!warned) {
      warned = true;
      process.emitWarning(`run journal: ${err instanceof Error ? err.message : String(err)}`);
    }
  });

  const open = (runId: string): number => {
    let fd = fds.get(runId);
    if (fd !== undefined) return fd;
    mkdirSync(runsDir(storeDir), { recursive: true });
    const path = journalPath(storeDir, runId);
    fd = openSync(path, 'a');
    fds.set(runId, fd);
    paths.set(runId, path);
    const lock = lockPath(storeDir, runId);
    const owner: LockOwner = { pid: process.pid, host: thisHost };
    try { writeFileSync(lock, JSON.stringify(owner)); } catch { /* lock is advisory */ }
    const beat = setInterval(() => {
      const now = new Date();
      try { utimesSync(lock, now, now); } catch { /* removed under us */ }
    }, HEARTBEAT_MS);
    beat.unref();
    heartbeats.set(runId, beat);
    return fd;
  };

  const closeRun = (runId: string) => {
    const fd = fds.get(runId);
    if (fd === undefined) return;
    fds.delete(runId);
    clearInterval(heartbeats.get(runId));
    heartbeats.delete(runId);
    try { fsyncSync(fd); } catch { /* ignore */ }
    try { closeSync(fd); } catch { /* ignore */ }
    try { rmSync(lockPath(storeDir, runId), { force: true }); } catch { /* ignore */ }
  };

  const listener = (e: EngineEvent): void => {
    try {
      const fd = open(e.runId);
      writeSync(fd, encodeEvent(e) + '\n');
      if (e.type === 'run-end') closeRun(e.runId);
    } catch (err) {
      onError(err);
    }
  };

  const journal = listener as Journal;
  Object.defineProperty(journal, 'listener', { value: listener });
  Object.defineProperty(journal, 'paths', { value: paths });
  journal.close = () => {
    for (const runId of [...fds.keys()]) closeRun(runId);
  };
  return journal;
}

export interface JournalContents {
  runId: string;
  path: string;
  events: EngineEvent[];
  /** Complete lines read (the sync cursor counts these). */
  lines: number;
  /** A last line without its newline that did not parse (a write cut off by a crash, or in progress). */
  truncatedTail: boolean;
  /** Lines in the middle of the file that did not parse (skipped). */
  badLines: number;
}

/** Reads a journal, tolerating a truncated or unparseable last line. */
export function readJournal(path: string): JournalContents {
  const text = existsSync(path) ? readFileSync(path, 'utf8') : '';
  const parts = text.split('\n');
  const tail = parts.pop() ?? '';
  const events: EngineEvent[] = [];
  let badLines = 0;
  for (const line of parts) {
    if (line.trim() === '') continue;
    const e = parseLine(line);
    if (e) events.push(e);
    else badLines++;
  }
  let truncatedTail = false;
  if (tail.trim() !== '') {
    // A final line without '\n' is complete only if it parses (someone wrote without newline).
    const e = parseLine(tail);
    if (e) events.push(e);
    else truncatedTail = true;
  }
  const runId = events.find((e) => e.type === 'run-start')?.runId ?? events[0]?.runId ??
    (path.split('/').pop() ?? '').replace(/\.jsonl$/, '');
  return { runId, path, events, lines: parts.length, truncatedTail, badLines };
}

function parseLine(line: string): EngineEvent | undefined {
  try {
    const v = JSON.parse(line) as unknown;
    if (v && typeof v === 'object' && typeof (v as { type?: unknown }).type === 'string' &&
      typeof (v as { runId?: unknown }).runId === 'string') return v as EngineEvent;
  } catch { /* fallthrough */ }
  return undefined;
}

/** Run ids that have a journal in the store, oldest file name first. */
export function listJournals(storeDir: string): string[] {
  const dir = runsDir(storeDir);
  if (!existsSync(dir)) return [];
  return readdirSync(dir).filter((f) => f.endsWith('.jsonl')).map((f) => f.slice(0, -'.jsonl'.length)).sort();
}

/** The pid of the process writing a run's journal if it is alive (liveness.ts's rule), else undefined. */
export function liveWriter(storeDir: string, runId: string): number | undefined {
  const p = lockPath(storeDir, runId);
  if (!existsSync(p)) return undefined;
  const owner = readOwner(p);
  if (!owner) return undefined;
  return holderAlive(p, owner) ? owner.pid : undefined;
}

/** The writer named by a journal lock: JSON {pid, host}, or a bare pid (journals of older versions: this host). */
function readOwner(path: string): LockOwner | null {
  let text: string;
  try { text = readFileSync(path, 'utf8').trim(); } catch { return null; }
  if (/^\d+$/.test(text)) return { pid: Number(text), host: thisHost };
  try {
    const v = JSON.parse(text) as Partial<LockOwner>;
    return Number.isInteger(v.pid) && (v.pid ?? 0) > 0 && typeof v.host === 'string' ? { pid: v.pid!, host: v.host } : null;
  } catch {
    return null;
  }
}

/** Numbers that went through encodeEvent come back as numbers (NaN/Infinity strings included). */
export function num(v: unknown): number {
  if (typeof v === 'number') return v;
  if (v === null || v === undefined) return NaN;
  return Number(v);
}

/**
 * The live tracker of `pipeline run`: journals every engine event and, with a tracking URI, pushes
 * the run to MLflow in the background (sync-run.ts, allowing the live journal) and once more at
 * the end. What it cannot push is left in the journal for `pipeline sync`.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { EngineEvent, EventListener } from '../engine/events.js';
import { createJournal, runsDir, type Journal } from './journal.js';
import { MlflowClient, resolveTrackingUri } from './mlflow-client.js';
import { syncRun, type RunSyncResult } from './sync-run.js';

export interface TrackerOptions {
  storeDir: string;
  /** Tracking server; default MLFLOW_TRACKING_URI; none: journal only. */
  trackingUri?: string;
  /** Journal only, whatever the URI / environment says (`pipeline run --no-tracking`). */
  offline?: boolean;
  experiment?: string;
  client?: MlflowClient;
  /** Minimum ms between background pushes. Default 1000. */
  intervalMs?: number;
  /** How long finish() may spend on the final push. Default 60 s. */
  finishTimeoutMs?: number;
  /** Called with one line when a background push fails (once per failure streak). */
  onWarning?: (message: string) => void;
}

export interface TrackerFinish {
  synced: boolean;
  error?: string;
  /** 'journal' when no tracking URI was configured. */
  mode: 'journal' | 'mlflow';
  runIds: string[];
  results: RunSyncResult[];
}

export interface Tracker {
  listener: EventListener;
  journal: Journal;
  finish(): Promise<TrackerFinish>;
}

/** `git log -1 --format=%H -- file` in the file's directory, if that is a git work tree. */
export function gitCommitOf(file: string): string | undefined {
  try {
    const abs = resolve(file);
    const cwd = existsSync(abs) && statSync(abs).isDirectory() ? abs : dirname(abs);
    const out = execFileSync('git', ['log', '-1', '--format=%H', '--', abs], {
      cwd, stdio: ['ignore', 'pipe', 'ignore'], timeout: 5000, encoding: 'utf8',
    }).trim();
    return /^[0-9a-f]{40,64}$/.test(out) ? out : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Journals every event and, with a tracking URI, pushes to MLflow in the background. Never throws
 * into the engine and never waits on the server; if the server is down the run goes on and
 * finish() reports what is left for `pipeline sync`.
 */
export function createTracker(opts: TrackerOptions): Tracker {
  const journal = createJournal(opts.storeDir);
  const uri = opts.offline ? undefined : opts.client?.trackingUri ?? resolveTrackingUri(opts.trackingUri);
  let client: MlflowClient | undefined;
  let configError: string | undefined;
  try {
    client = opts.offline ? undefined : opts.client ?? (uri ? MlflowClient.fromEnv(uri, { retries: 1, timeoutMs: 10_000, maxDelayMs: 2000 }) : undefined);
  } catch (e) {
    configError = e instanceof Error ? e.message : String(e);
  }
  const interval = opts.intervalMs ?? 1000;
  const runIds = new Set<string>();
  const dirty = new Set<string>();
  let timer: NodeJS.Timeout | undefined;
  let inflight: Promise<void> | undefined;
  let failures = 0;
  let lastPumpMs = 0;
  let lastError: string | undefined;
  let finished = false;
  const warn = opts.onWarning ?? (() => {});

  const pump = async () => {
    timer = undefined;
    if (!client) return;
    const ids = [...dirty];
    dirty.clear();
    const t0 = Date.now();
    for (const id of ids) {
      const r = await syncRun(client, opts.storeDir, id, { experiment: opts.experiment, allowLive: true });
      if (r.status === 'failed') {
        dirty.add(id);
        if (failures === 0) warn(`MLflow tracking: ${r.error}; the run goes on, journaled locally`);
        failures++;
        lastError = r.error;
        break;
      }
      failures = 0;
      lastError = undefined;
    }
    lastPumpMs = Date.now() - t0;
  };

  const schedule = () => {
    if (!client || finished || timer || inflight) return;
    // Each push re-reads the journal: keep its share of the event loop small on long runs.
    const base = Math.max(interval, 10 * lastPumpMs);
    const delay = failures === 0 ? base : Math.min(30_000, base * 2 ** Math.min(failures, 5));
    timer = setTimeout(() => {
      inflight = pump().catch((e) => { lastError = String(e); }).finally(() => {
        inflight = undefined;
        if (dirty.size > 0) schedule();
      });
    }, delay);
    timer.unref();
  };

  const listener: EventListener = (e: EngineEvent) => {
    try {
      let ev = e;
      if (e.type === 'run-start' && !e.gitCommit) {
        const c = gitCommitOf(e.file);
        if (c) ev = { ...e, gitCommit: c };
      }
      journal(ev);
      runIds.add(e.runId);
      if (client) {
        dirty.add(e.runId);
        schedule();
      }
    } catch { /* tracking never fails the pipeline */ }
  };

  const finish = async (): Promise<TrackerFinish> => {
    finished = true;
    if (timer) { clearTimeout(timer); timer = undefined; }
    journal.close();
    const ids = [...runIds];
    if (!client) {
      return { synced: false, mode: 'journal', runIds: ids, results: [], ...(configError ? { error: configError } : {}) };
    }
    if (inflight) await inflight.catch(() => {});
    const results: RunSyncResult[] = [];
    const final = (async () => {
      for (const id of ids) results.push(await syncRun(client!, opts.storeDir, id, { experiment: opts.experiment, allowLive: true }));
    })();
    const limit = opts.finishTimeoutMs ?? 60_000;
    let t: NodeJS.Timeout | undefined;
    const timedOut = await Promise.race([
      final.then(() => false),
      new Promise<boolean>((r) => { t = setTimeout(() => r(true), limit); t.unref(); }),
    ]);
    if (t) clearTimeout(t);
    const failed = results.filter((r) => r.status === 'failed');
    if (timedOut || failed.length > 0 || results.length < ids.length) {
      const why = timedOut ? `MLflow push did not finish within ${limit} ms` : failed[0]?.error ?? lastError ?? 'unknown error';
      return { synced: false, mode: 'mlflow', runIds: ids, results,
        error: `${why}; the run is journaled under ${runsDir(opts.storeDir)}: run 'pipeline sync' to push it` };
    }
    return { synced: true, mode: 'mlflow', runIds: ids, results };
  };

  return { listener, journal, finish };
}

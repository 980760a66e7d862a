/**
 * The sync state file: what of a run's journal is on which MLflow target (tracking URI +
 * experiment), in `<store>/runs/<runId>.mlflow.json` beside the journal.
 *
 * Per target it holds the MLflow run ids, how many of each run's metric points are pushed, digests
 * of the params/tags pushed, artifacts uploaded, statuses set and journal lines seen. Writes are
 * atomic (temp file + rename); a missing or corrupt file reads as empty, and the sync then finds
 * its MLflow runs again by tag (sync-run.ts).
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { journalPath } from './journal.js';

export interface RunSyncState {
  mlflowRunId: string;
  artifactUri?: string;
  /** Metric points of the planned run (journal order) known to be on the server. */
  metricsPushed: number;
  paramsDigest?: string;
  tagsDigest?: string;
  status?: string;
  endTime?: number;
  /** artifact path -> digest uploaded. */
  artifacts: Record<string, string>;
  /** The outcome of an earlier push is unknown: compare with the server's histories before pushing. */
  verify?: boolean;
  /** A cache hit: the MLflow run that computed its entry ('' when the server has none), looked up once. */
  computedBy?: string;
}

export interface TargetSyncState {
  trackingUri: string;
  experiment: string;
  experimentId?: string;
  /** Journal lines covered by the last complete sync. */
  journalLines: number;
  complete: boolean;
  runs: Record<string, RunSyncState>;
  lastSync?: number;
  lastError?: string;
  /** The server was searched for this run's MLflow runs (done once per target, for a lost state file). */
  searched?: boolean;
}

export interface SyncStateFile {
  version: 1;
  runId: string;
  targets: Record<string, TargetSyncState>;
}

export function syncStatePath(storeDir: string, runId: string): string {
  return journalPath(storeDir, runId).replace(/\.jsonl$/, '.mlflow.json');
}

export function loadSyncState(storeDir: string, runId: string): SyncStateFile {
  const p = syncStatePath(storeDir, runId);
  if (existsSync(p)) {
    try {
      const s = JSON.parse(readFileSync(p, 'utf8')) as SyncStateFile;
      if (s && s.version === 1 && s.targets) return s;
    } catch { /* a corrupt state file is treated as lost: recovery finds the runs by tag */ }
  }
  return { version: 1, runId, targets: {} };
}

export function saveSyncState(storeDir: string, state: SyncStateFile): void {
  const p = syncStatePath(storeDir, state.runId);
  mkdirSync(dirname(p), { recursive: true });
  const tmp = `${p}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(state, null, 1));
  renameSync(tmp, p);
}

/** The key of a target (tracking server + experiment) in a state file's `targets`. */
export function targetKey(trackingUri: string, experiment: string): string {
  return `${trackingUri}#${experiment}`;
}

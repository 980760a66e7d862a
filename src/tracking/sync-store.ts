/**
 * Syncing a store: `pipeline sync` (and `pipeline ui`) push every journal in the store that is not
 * fully on the target yet, one run at a time (sync-run.ts), and stop early when the server is down.
 */
import { listJournals } from './journal.js';
import { MlflowClient, resolveTrackingUri } from './mlflow-client.js';
import { syncRun, type RunSyncResult, type SyncRunOptions } from './sync-run.js';

export interface SyncAllOptions extends SyncRunOptions {
  storeDir: string;
  trackingUri?: string;
  client?: MlflowClient;
  /** Only these runs (default: every journal in the store). */
  runIds?: string[];
  log?: (line: string) => void;
}

/** Pushes every journal in the store that is not fully synced to the target yet. */
export async function syncAll(opts: SyncAllOptions): Promise<RunSyncResult[]> {
  const uri = resolveTrackingUri(opts.trackingUri);
  const client = opts.client ?? (uri ? MlflowClient.fromEnv(uri) : undefined);
  if (!client) throw new Error('no MLflow tracking URI: pass --tracking-uri or set MLFLOW_TRACKING_URI');
  const out: RunSyncResult[] = [];
  const ids = opts.runIds ?? listJournals(opts.storeDir);
  for (const [i, id] of ids.entries()) {
    const r = await syncRun(client, opts.storeDir, id, opts);
    opts.log?.(describeResult(r));
    out.push(r);
    if (r.status === 'failed' && r.transient && !(await client.health())) {
      // The server is down: don't spend the retries on every remaining journal.
      const rest = ids.slice(i + 1);
      for (const runId of rest) {
        out.push({ runId, status: 'failed', transient: true, error: `not attempted: ${client.trackingUri} is unreachable`, warnings: [],
          runsCreated: 0, metricsPushed: 0, artifactsUploaded: 0, complete: false });
      }
      if (rest.length > 0) opts.log?.(`${client.trackingUri} is unreachable: ${rest.length} more run(s) left for the next sync`);
      break;
    }
  }
  return out;
}

export function describeResult(r: RunSyncResult): string {
  const what = `${r.runsCreated} run(s) created, ${r.metricsPushed} metric point(s), ${r.artifactsUploaded} artifact(s)`;
  const line = (() => {
    switch (r.status) {
      case 'synced': return `${r.runId}: synced (${what})`;
      case 'partial': return `${r.runId}: pushed so far (${what}); the run has not ended`;
      case 'up-to-date': return `${r.runId}: up to date`;
      case 'skipped-live': return `${r.runId}: skipped (the run is still in progress; its own tracker pushes it)`;
      case 'skipped-empty': return `${r.runId}: skipped (journal has no run-start)`;
      case 'failed': return `${r.runId}: FAILED: ${r.error}`;
    }
  })();
  return [line, ...r.warnings.map((w) => `  warning: ${w}`)].join('\n');
}

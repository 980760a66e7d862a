/**
 * Syncing one run: replays its journal to an MLflow tracking server, idempotently.
 *
 * Every step persists the sync state (sync-state.ts) as soon as it lands, so an interrupted sync
 * resumes where it stopped; re-syncing a fully synced run sends nothing. If the state file is lost,
 * existing runs are found again through runs/search on their tags (pipeline.run_id,
 * pipeline.instance) and the metric histories already on the server are subtracted before pushing.
 * When a push fails in a way that leaves its outcome unknown (connection lost, 5xx) the run is
 * marked for that same check.
 */
import { existsSync } from 'node:fs';
import { sha256 } from '../store/digest.js';
import { journalPath, liveWriter, readJournal } from './journal.js';
import { MlflowClient, MlflowError, isTransient, type Metric, type Run } from './mlflow-client.js';
import { buildPlan, PARENT_KEY, type PlannedRun } from './model.js';
import { loadSyncState, saveSyncState, targetKey, type RunSyncState, type TargetSyncState } from './sync-state.js';

function digest(v: unknown): string {
  return sha256(JSON.stringify(v)).slice(0, 32);
}

export interface RunSyncResult {
  runId: string;
  status: 'synced' | 'up-to-date' | 'partial' | 'skipped-live' | 'skipped-empty' | 'failed';
  error?: string;
  /** The failure was the server being unreachable / erroring (5xx), not a rejected request. */
  transient?: boolean;
  warnings: string[];
  experimentId?: string;
  parentRunId?: string;
  runsCreated: number;
  metricsPushed: number;
  artifactsUploaded: number;
  /** Whether the journal is fully on the server now (run ended and everything pushed). */
  complete: boolean;
}

export interface SyncRunOptions {
  /** Experiment name; default $MLFLOW_EXPERIMENT_NAME, else the pipeline name. */
  experiment?: string;
  /** Push a journal that a live process is still writing (the live tracker does; `sync` does not). */
  allowLive?: boolean;
  smallTableBytes?: number;
}

export function experimentFor(plan: { pipeline: string }, explicit?: string): string {
  return explicit || process.env.MLFLOW_EXPERIMENT_NAME || plan.pipeline || 'iql-pipeline';
}

export async function syncRun(client: MlflowClient, storeDir: string, runId: string, opts: SyncRunOptions = {}): Promise<RunSyncResult> {
  const result: RunSyncResult = { runId, status: 'synced', warnings: [], runsCreated: 0, metricsPushed: 0, artifactsUploaded: 0, complete: false };
  const contents = readJournal(journalPath(storeDir, runId));
  if (!contents.events.some((e) => e.type === 'run-start')) return { ...result, status: 'skipped-empty' };
  runId = contents.runId;
  result.runId = runId;
  const live = liveWriter(storeDir, runId) !== undefined;
  const ended = contents.events.some((e) => e.type === 'run-end');
  if (live && !ended && !opts.allowLive) return { ...result, status: 'skipped-live' };
  if (contents.badLines > 0) result.warnings.push(`${contents.badLines} unreadable journal line(s) skipped`);

  const plan = buildPlan(contents.events, { abandoned: !live && !ended, smallTableBytes: opts.smallTableBytes });
  const experiment = experimentFor(plan, opts.experiment);
  const state = loadSyncState(storeDir, runId);
  const tk = targetKey(client.trackingUri, experiment);
  const target: TargetSyncState = state.targets[tk] ??= {
    trackingUri: client.trackingUri, experiment, journalLines: 0, complete: false, runs: {},
  };
  if (target.complete && target.journalLines === contents.lines && plan.complete) {
    return { ...result, status: 'up-to-date', complete: true, experimentId: target.experimentId, parentRunId: target.runs[PARENT_KEY]?.mlflowRunId };
  }
  const save = () => saveSyncState(storeDir, state);

  try {
    target.experimentId ??= await client.getOrCreateExperiment(experiment);
    result.experimentId = target.experimentId;
    save();

    // Recovery: planned runs without a known MLflow run may exist on the server already.
    const runs = [plan.parent, ...plan.children];
    if (!target.searched && runs.some((r) => !target.runs[r.key])) {
      const found = await client.searchRuns({
        experimentIds: [target.experimentId],
        filter: `tags.\`pipeline.run_id\` = '${runId.replace(/'/g, "\\'")}'`,
      });
      for (const r of found) {
        const tags = new Map((r.data.tags ?? []).map((t) => [t.key, t.value]));
        const key = tags.get('pipeline.role') === 'pipeline' ? PARENT_KEY : tags.get('pipeline.instance');
        if (key === undefined || target.runs[key]) continue;
        target.runs[key] = { mlflowRunId: r.info.run_id, artifactUri: r.info.artifact_uri, metricsPushed: 0, artifacts: {}, verify: true };
      }
      target.searched = true;
      save();
    }

    const parentState = await ensureRun(client, target, plan.parent, undefined, result, save);
    result.parentRunId = parentState.mlflowRunId;
    for (const run of runs) {
      const rs = run.key === PARENT_KEY ? parentState : await ensureRun(client, target, run, parentState.mlflowRunId, result, save);
      await linkComputingRun(client, target.experimentId, rs, run, save);
      await pushRun(client, rs, run, result, save);
      await uploadArtifacts(client, rs, run, result, save);
      if (rs.status !== run.status || rs.endTime !== run.endTime) {
        await client.updateRun(rs.mlflowRunId, { status: run.status, endTime: run.endTime });
        rs.status = run.status;
        rs.endTime = run.endTime;
        save();
      }
    }
    target.journalLines = contents.lines;
    target.complete = plan.complete;
    target.lastSync = Date.now();
    delete target.lastError;
    save();
    result.complete = target.complete;
    if (!target.complete) result.status = 'partial';
    return result;
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    target.lastError = msg;
    try { save(); } catch { /* ignore */ }
    return { ...result, status: 'failed', error: msg, transient: isTransient(e) };
  }
}

async function ensureRun(client: MlflowClient, target: TargetSyncState, run: PlannedRun, parentRunId: string | undefined,
  result: RunSyncResult, save: () => void): Promise<RunSyncState> {
  const known = target.runs[run.key];
  if (known) {
    if (!known.artifactUri) {
      known.artifactUri = (await client.getRun(known.mlflowRunId)).info.artifact_uri;
      save();
    }
    return known;
  }
  const tags = [...run.identityTags];
  if (parentRunId) tags.push({ key: 'mlflow.parentRunId', value: parentRunId });
  let created: Run | undefined;
  for (let attempt = 0; !created; attempt++) {
    try {
      created = await client.createRun({ experimentId: target.experimentId!, runName: run.runName, startTime: run.startTime, tags }, { retries: 0 });
    } catch (e) {
      if (!isTransient(e) || attempt >= 3) throw e;
      // The create may have landed before the connection dropped: look for it before creating again.
      await new Promise((r) => setTimeout(r, 300 * 2 ** attempt));
      const found = await findRunByIdentity(client, target.experimentId!, run);
      if (found) {
        const rs: RunSyncState = { mlflowRunId: found.info.run_id, artifactUri: found.info.artifact_uri, metricsPushed: 0, artifacts: {}, verify: true };
        target.runs[run.key] = rs;
        save();
        return rs;
      }
    }
  }
  const rs: RunSyncState = { mlflowRunId: created.info.run_id, artifactUri: created.info.artifact_uri, metricsPushed: 0, artifacts: {}, status: 'RUNNING' };
  target.runs[run.key] = rs;
  result.runsCreated++;
  save();
  return rs;
}

/** A string literal in an MLflow search filter. */
const q = (v: string) => `'${v.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;

async function findRunByIdentity(client: MlflowClient, experimentId: string, run: PlannedRun): Promise<Run | undefined> {
  const filter = run.identityTags.map((t) => `tags.\`${t.key}\` = ${q(t.value)}`).join(' and ');
  const found = await client.searchRuns({ experimentIds: [experimentId], filter, limit: 10 });
  const instanceOf = (r: Run) => r.data.tags?.find((t) => t.key === 'pipeline.instance')?.value;
  return found.find((r) => (run.key === PARENT_KEY ? instanceOf(r) === undefined : instanceOf(r) === run.key));
}

/**
 * A cache hit's run points at the MLflow run that computed its entry (same cache key, cache miss),
 * found once by tag search, wherever that run was computed: a tag and a note with the link.
 */
async function linkComputingRun(client: MlflowClient, experimentId: string, rs: RunSyncState, run: PlannedRun, save: () => void): Promise<void> {
  const tag = (k: string) => run.tags.find((t) => t.key === k)?.value;
  if (tag('pipeline.cache') !== 'hit') return;
  const key = tag('pipeline.cache_key');
  if (rs.computedBy === undefined && key) {
    const found = await client.searchRuns({ experimentIds: [experimentId], filter: `tags.\`pipeline.cache_key\` = ${q(key)} and tags.\`pipeline.cache\` = 'miss'`, limit: 5 });
    rs.computedBy = found.find((r) => r.info.run_id !== rs.mlflowRunId)?.info.run_id ?? '';
    save();
  }
  if (!rs.computedBy) return;
  run.tags.push({ key: 'pipeline.computed_by_mlflow_run', value: rs.computedBy });
  run.tags.push({ key: 'mlflow.note.content', value: `Cache hit: its results and artifacts are those of [the run that computed it](#/experiments/${experimentId}/runs/${rs.computedBy}) (pipeline run ${tag('pipeline.computed_by_run') ?? '?'}).` });
}

const metricId = (m: Metric) => `${m.key}\u0000${m.step}\u0000${Math.round(m.timestamp)}\u0000${Number.isNaN(m.value) ? 'NaN' : m.value}`;

async function pushRun(client: MlflowClient, rs: RunSyncState, run: PlannedRun, result: RunSyncResult, save: () => void) {
  const pDigest = digest(run.params);
  const tDigest = digest(run.tags);
  if (rs.paramsDigest !== pDigest || rs.tagsDigest !== tDigest) {
    const r = await client.logBatch(rs.mlflowRunId, { params: rs.paramsDigest === pDigest ? [] : run.params, tags: run.tags });
    for (const c of r.paramConflicts) {
      result.warnings.push(`${run.runName}: param ${c.key} already logged as '${c.old}', not changed to '${c.new}' (MLflow params are write-once)`);
    }
    rs.paramsDigest = pDigest;
    rs.tagsDigest = tDigest;
    save();
  }
  if (rs.metricsPushed > run.metrics.length) rs.metricsPushed = 0; // journal replaced: start over (server dedups)
  let pending = run.metrics.slice(rs.metricsPushed);
  if (pending.length === 0) return;
  if (rs.verify) {
    const onServer = new Set<string>();
    for (const key of new Set(pending.map((m) => m.key))) {
      for (const m of await client.getMetricHistory(rs.mlflowRunId, key)) onServer.add(metricId(m));
    }
    pending = pending.filter((m) => !onServer.has(metricId(m)));
    await client.logBatch(rs.mlflowRunId, { metrics: pending }); // on failure, verify stays set
    result.metricsPushed += pending.length;
    rs.metricsPushed = run.metrics.length;
    rs.verify = false;
    save();
    return;
  }
  try {
    await client.logBatch(rs.mlflowRunId, { metrics: pending }, {
      onChunk: (c) => {
        rs.metricsPushed += c.metrics;
        result.metricsPushed += c.metrics;
        save();
      },
    });
  } catch (e) {
    if (isTransient(e)) {
      rs.verify = true; // the chunk in flight may or may not have landed
      save();
    }
    throw e;
  }
}

async function uploadArtifacts(client: MlflowClient, rs: RunSyncState, run: PlannedRun, result: RunSyncResult, save: () => void): Promise<void> {
  for (const a of run.artifacts) {
    if (rs.artifacts[a.artifactPath] === a.digest) continue;
    if (!existsSync(a.file)) {
      result.warnings.push(`${run.runName}: artifact file ${a.file} is gone; ${a.artifactPath} not uploaded`);
      continue; // nothing to retry later either
    }
    if (!rs.artifactUri) throw new MlflowError(`run ${rs.mlflowRunId} has no artifact_uri`, 'runs/get');
    await client.uploadArtifact(rs.artifactUri, a.artifactPath, { file: a.file });
    rs.artifacts[a.artifactPath] = a.digest;
    result.artifactsUploaded++;
    save();
  }
}

/**
 * Replays run journals to an MLflow tracking server, idempotently, and the live tracker.
 *
 * Sync state per run and target (tracking URI + experiment) lives in
 * `<store>/runs/<runId>.mlflow.json`: the MLflow run ids, how many of each run's metric points are
 * pushed, digests of the params/tags pushed, artifacts uploaded, statuses set, journal lines seen.
 * Every step persists the state as soon as it lands, so an interrupted sync resumes where it
 * stopped; re-syncing a fully synced run sends nothing. If the state file is lost, existing runs
 * are found again through runs/search on their tags (pipeline.run_id, pipeline.instance) and the
 * metric histories already on the server are subtracted before pushing. When a push fails in a way
 * that leaves its outcome unknown (connection lost, 5xx) the run is marked for that same check.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { sha256 } from '../store/digest.js';
import { dirname, resolve } from 'node:path';
import type { EngineEvent, EventListener } from '../engine/events.js';
import { createJournal, journalPath, listJournals, liveWriter, readJournal, runsDir, type Journal } from './journal.js';
import { MlflowClient, MlflowError, isTransient, resolveTrackingUri, type Metric, type Run } from './mlflow-client.js';
import { buildPlan, PARENT_KEY, type PlannedRun, type TrackingPlan } from './model.js';

// ---------------------------------------------------------------- state file

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

function saveSyncState(storeDir: string, state: SyncStateFile): void {
  const p = syncStatePath(storeDir, state.runId);
  mkdirSync(dirname(p), { recursive: true });
  const tmp = `${p}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(state, null, 1));
  renameSync(tmp, p);
}

function targetKey(trackingUri: string, experiment: string): string {
  return `${trackingUri}#${experiment}`;
}

function digest(v: unknown): string {
  return sha256(JSON.stringify(v)).slice(0, 32);
}

// ---------------------------------------------------------------- syncing one run

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
    const all = [plan.parent, ...plan.children];
    if (!target.searched && all.some((r) => !target.runs[r.key])) {
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
    let allArtifacts = true;
    for (const run of all) {
      const rs = run.key === PARENT_KEY ? parentState : await ensureRun(client, target, run, parentState.mlflowRunId, result, save);
      await linkComputingRun(client, target.experimentId, rs, run, save);
      await pushRun(client, rs, run, result, save);
      allArtifacts = (await uploadArtifacts(client, rs, run, result, save)) && allArtifacts;
      if (rs.status !== run.status || rs.endTime !== run.endTime) {
        await client.updateRun(rs.mlflowRunId, { status: run.status, endTime: run.endTime });
        rs.status = run.status;
        rs.endTime = run.endTime;
        save();
      }
    }
    target.journalLines = contents.lines;
    target.complete = plan.complete && allArtifacts;
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

async function uploadArtifacts(client: MlflowClient, rs: RunSyncState, run: PlannedRun, result: RunSyncResult, save: () => void): Promise<boolean> {
  let all = true;
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
  return all;
}

// ---------------------------------------------------------------- syncing a store

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

// ---------------------------------------------------------------- live tracker

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


/**
 * The steps one stage instance goes through in the executor, each a function with one job:
 *
 *   lookup   its key (upstream artifact digests + its code as it is now) and a verified cache entry
 *   lock     the entry's lock, so two runs never compute the same entry; then a second lookup
 *   run      the instance handed to the executor (executor.ts): a local worker writes its outputs
 *            to a temp dir; a cluster executor commits them to the remote store where it ran
 *   commit   the manifest written and the temp dir renamed into the store
 *
 * Each step returns the instance's Outcome when it ends the instance's way (cached, failed,
 * skipped); the scheduler (execute.ts) sequences them and reports failures and skips.
 */
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { DirCheckpointer } from '../store/checkpoint.js';
import { removeQuietly } from '../store/fs-atomic.js';
import { acquireLock, type HeldLock } from '../store/lock.js';
import type { RemoteStore } from '../store/remote.js';
import type { Manifest, Store } from '../store/store.js';
import { codeChanges, codeIdentity, type CodeIdentity } from './code-identity.js';
import type { EngineEvent, FailureCause, OutputInfo, SkipCause } from './events.js';
import { fingerprint, keyedParams, type Fingerprint } from './fingerprint.js';
import { InputUnavailable, type Executor, type Finished, type InstanceTask, type ManifestDraft } from './executor.js';
import type { JobMessage, StageJob, StageJobResult } from './job.js';
import type { PlannedInstance } from './plan.js';
import { WorkerCrash } from './run-stage.js';
import { projectRoot } from './stage-schema.js';

export type Outcome =
  | { status: 'computed' | 'cached'; key: string; manifest: Manifest }
  | { status: 'failed'; key?: string; error: string; cause: FailureCause }
  | { status: 'skipped'; reason: string; cause: SkipCause };

/** What every step of one run shares. */
export interface RunContext {
  runId: string;
  /** The pipeline's name (recorded in manifests). */
  pipeline: string;
  store: Store;
  /** Where instances run (executor.ts). */
  executor: Executor;
  /** The shared remote store, when there is one: a hit there is a hit here; results are pushed there. */
  remote?: RemoteStore;
  signal: AbortSignal;
  /** Instances recomputed even when cached. */
  force: Set<string>;
  /** Never throws (a listener must not break the run). */
  emit(e: EngineEvent): void;
}

/** A cache miss, ready to be computed. */
export interface Miss {
  fingerprint: Fingerprint;
  /** The code identity the key was computed with (recorded in the manifest). */
  code: CodeIdentity;
  /** Upstream instance name → the key of the entry its outputs come from. */
  upstreamKeys: Record<string, string>;
}

export const interrupted = (detail?: string): Outcome => ({ status: 'skipped', reason: detail ? `interrupted (${detail})` : 'interrupted', cause: { kind: 'interrupted' } });

const failed = (cause: FailureCause, error: string, key?: string): Outcome => ({ status: 'failed', key, error, cause });

/**
 * Step 1. `manifests` holds the committed upstream instances' manifests; `code` is the kind's code
 * identity (the plan's, or the current one when the instance is about to run: see currentCode).
 */
export async function lookup(cx: RunContext, inst: PlannedInstance, manifests: Map<string, Manifest>, code: CodeIdentity = inst.code): Promise<Outcome | Miss> {
  const fp = fingerprint(inst, (n) => manifests.get(n), code);
  if (!fp) {
    const missing = Object.values(inst.inputs).flatMap((b) => b.refs).filter((r) => !manifests.get(r.instance)?.outputs[r.output]).map((r) => `${r.instance}.${r.output}`);
    return failed({ kind: 'upstream-output-missing', outputs: missing }, `upstream did not produce ${missing.join(', ')} (an optional output)`);
  }
  for (const list of Object.values(fp.items)) {
    for (const item of list) {
      const m = manifests.get(item.instance)!;
      item.path = join(cx.store.entryDir(m.key), m.outputs[item.output]!.file);
    }
  }
  const upstreamKeys = Object.fromEntries(inst.needs.map((n) => [n, manifests.get(n)!.key]));
  return (!cx.force.has(inst.name) && (await cachedEntry(cx, inst, fp.key))) || { fingerprint: fp, code, upstreamKeys };
}

/**
 * Before a miss is computed: the code as it is now, not as it was when the run was planned (a
 * rebuild may have happened while upstream stages ran), so the key describes the code the worker
 * is about to load. Null when unchanged; then the miss stands.
 */
export function currentCode(cx: RunContext, inst: PlannedInstance, miss: Miss): CodeIdentity | null {
  const code = codeIdentity(inst.resolved.moduleUrl);
  if (code.digest === miss.code.digest) return null;
  log(cx, inst, `the stage's code changed since the run was planned (${codeChanges(miss.code, code).join('; ')}); keyed by the code as it is now`);
  return code;
}

/**
 * The verified local entry under `key`, else the remote's, as a cache hit; or null. A damaged
 * local entry is set aside. A remote hit is not downloaded here: its blobs are fetched (and
 * verified) when an instance on this machine reads them.
 */
export async function cachedEntry(cx: RunContext, inst: PlannedInstance, key: string): Promise<Outcome | null> {
  const v = cx.store.verify(key);
  if (v.ok) return hit(cx, inst, key, v.manifest);
  if (v.exists) {
    log(cx, inst, `cache entry ${key.slice(0, 12)} is damaged (${v.reason}); recomputing`);
    cx.store.quarantine(key);
  }
  const remote = cx.remote ? await cx.remote.readManifest(key) : null;
  return remote ? hit(cx, inst, key, remote) : null;
}

function hit(cx: RunContext, inst: PlannedInstance, key: string, m: Manifest): Outcome {
  cx.emit({ type: 'stage-cached', runId: cx.runId, instance: inst.name, key, time: Date.now(), computedByRun: m.runId, summary: m.summary, outputs: outputsInfo(cx.store, key, m), recorded: m.recorded });
  return { status: 'cached', key, manifest: m };
}

/** Step 2: waits while another live process (here, or anywhere sharing the remote store) computes the same entry. */
export async function lock(cx: RunContext, inst: PlannedInstance, key: string): Promise<HeldLock> {
  const local = await acquireLock(cx.store.lockPath(key), cx.runId, cx.signal, (holder) =>
    log(cx, inst, `waiting: run ${holder?.runId ?? '?'} (pid ${holder?.pid ?? '?'}) is computing this entry`));
  // A cluster executor's node takes the remote lock itself (instance-runner.ts); here it would deadlock it.
  if (!cx.remote || cx.executor.remote) return local;
  try {
    const { acquireRemoteLock } = await import('../store/remote-lock.js');
    const remote = await acquireRemoteLock(cx.remote, key, cx.runId, cx.signal, (holder) =>
      log(cx, inst, `waiting: run ${holder?.runId ?? '?'} on ${holder?.host ?? '?'} is computing this entry (remote lock)`));
    return { release: () => { remote.release(); local.release(); } };
  } catch (e) {
    local.release();
    throw e;
  }
}

/**
 * Before a local run: the upstream entries this instance reads, fetched from the remote store when
 * they are only there. A blob that fails its digest check sets the remote entry aside and throws
 * InputUnavailable naming the upstream instances, which the scheduler recomputes.
 */
async function fetchInputs(cx: RunContext, miss: Miss): Promise<void> {
  if (!cx.remote) return;
  const { fetchEntry } = await import('../store/remote-sync.js');
  const { CorruptBlob } = await import('../store/remote.js');
  const bad: string[] = [];
  for (const [instance, key] of Object.entries(miss.upstreamKeys)) {
    try {
      await fetchEntry(cx.store, cx.remote, key);
    } catch (e) {
      if (!(e instanceof CorruptBlob)) throw e;
      bad.push(instance);
    }
  }
  if (bad.length) throw new InputUnavailable(bad, `input entries of ${bad.join(', ')} were corrupt or missing in ${cx.remote.describe()}`);
}

/** What the run step hands to the commit step. */
export interface Ran {
  tmpDir: string;
  finished: Finished;
  started: number;
}

/** Step 3: hands the instance to the executor; a local result is in the returned temp dir. */
export async function run(cx: RunContext, inst: PlannedInstance, miss: Miss): Promise<Ran | Outcome> {
  const key = miss.fingerprint.key;
  const checkpointDir = cx.store.checkpointDir(key);
  // Inputs that live only on the remote come here first (a remote executor's node fetches its own).
  if (!cx.executor.remote) await fetchInputs(cx, miss);
  const started = Date.now();
  cx.emit({ type: 'stage-start', runId: cx.runId, instance: inst.name, key, time: started, resumedFromStep: await resumeStep(cx, key, checkpointDir) });
  const tmpDir = cx.store.newTempDir(inst.name);
  const job: StageJob = {
    moduleUrl: inst.resolved.moduleUrl, version: inst.resolved.kind.version, instance: inst.name, cacheKey: key, params: inst.params, seed: inst.seed,
    inputs: Object.fromEntries(Object.entries(inst.inputs).map(([n, b]) => [n, { many: b.many, items: miss.fingerprint.items[n]! }])),
    tmpDir, checkpointDir, ...(cx.remote ? { remote: cx.remote.spec } : {}),
  };
  const task: InstanceTask = { job, resources: inst.resources, runId: cx.runId, manifest: manifestDraft(cx, inst, miss), upstreamKeys: miss.upstreamKeys };
  try {
    return { tmpDir, started, finished: await cx.executor.submit(task, (m) => relay(cx, inst, m), cx.signal) };
  } catch (e) {
    removeQuietly(tmpDir);
    if (e instanceof InputUnavailable) throw e; // a remote node found them corrupt: the scheduler recomputes them
    const error = e instanceof Error ? e.message : String(e);
    if (cx.signal.aborted) return interrupted(error);
    return failed(e instanceof WorkerCrash ? { kind: 'worker-crashed', message: error } : { kind: 'stage-error', message: error }, error, key);
  }
}

/** The checkpoint step the instance will resume from: this store's, or for a cluster executor the remote's. */
async function resumeStep(cx: RunContext, key: string, checkpointDir: string): Promise<number | undefined> {
  if (!cx.remote || !cx.executor.remote) return new DirCheckpointer(checkpointDir).latestStep();
  const { remoteCheckpointSteps } = await import('../store/remote-checkpoint.js');
  return (await remoteCheckpointSteps(cx.remote, key).catch(() => []))[0];
}

/** The manifest fields known before the instance runs (a remote executor completes them where it runs). */
function manifestDraft(cx: RunContext, inst: PlannedInstance, miss: Miss): ManifestDraft {
  const { key, items, files } = miss.fingerprint;
  return {
    format: 1, key, kind: inst.resolved.kind.kind, version: inst.resolved.kind.version, stage: inst.stage, instance: inst.name,
    // The keyed parameters: a hit served to an instance that differs only in ignored ones shows what the result depends on.
    pipeline: cx.pipeline, matrix: inst.matrix, params: keyedParams(inst), seed: inst.seed,
    inputs: Object.fromEntries(Object.entries(items).map(([n, list]) => [n, list.map((i) => ({ instance: i.instance, output: i.output, digest: i.digest }))])),
    versions: versions(), code: { files: miss.code.files, packages: miss.code.packages }, ...(files ? { fileParams: files } : {}),
  };
}

/** The finished manifest of a result computed by this process. */
export function completeManifest(draft: ManifestDraft, result: StageJobResult, runId: string, started: number, finished: number): Manifest {
  return {
    ...draft, outputs: result.outputs, summary: result.summary, recorded: result.recorded, runId,
    startedAt: new Date(started).toISOString(), finishedAt: new Date(finished).toISOString(), durationMs: finished - started,
    resumedFromStep: result.resumedFromStep, host: hostname(),
  };
}

/**
 * Step 4: files the result under its key and pushes it to the remote store (blobs, then the
 * manifest: first writer wins); the checkpoints of the finished entry go. A push that fails loses
 * nothing: the entry is stored here and `pipeline push` sends it later.
 */
export async function commit(cx: RunContext, inst: PlannedInstance, miss: Miss, ran: Ran): Promise<Outcome> {
  const key = miss.fingerprint.key;
  if (ran.finished.kind === 'committed') {
    // A cluster executor committed the result to the remote store where it ran.
    removeQuietly(ran.tmpDir);
    const m = ran.finished.manifest;
    cx.emit({ type: 'stage-done', runId: cx.runId, instance: inst.name, key, time: Date.now(), durationMs: m.durationMs, summary: m.summary, outputs: outputsInfo(cx.store, key, m), recorded: m.recorded });
    return { status: 'computed', key, manifest: m };
  }
  const result = ran.finished.result;
  removeQuietly(join(ran.tmpDir, '.scratch'));
  const finished = Date.now();
  const manifest = completeManifest(manifestDraft(cx, inst, miss), result, cx.runId, ran.started, finished);
  try {
    cx.store.commit(ran.tmpDir, manifest);
  } catch (e) {
    removeQuietly(ran.tmpDir);
    const error = `cannot store the result: ${e instanceof Error ? e.message : String(e)}`;
    return failed({ kind: 'store-error', message: error }, error, key);
  }
  removeQuietly(cx.store.checkpointDir(key));
  if (cx.remote) await push(cx, inst, key);
  cx.emit({ type: 'stage-done', runId: cx.runId, instance: inst.name, key, time: finished, durationMs: finished - ran.started, summary: result.summary, outputs: outputsInfo(cx.store, key, manifest), recorded: result.recorded });
  return { status: 'computed', key, manifest };
}

async function push(cx: RunContext, inst: PlannedInstance, key: string): Promise<void> {
  const remote = cx.remote!;
  try {
    const { pushEntry } = await import('../store/remote-sync.js');
    const { removeRemoteCheckpoints } = await import('../store/remote-checkpoint.js');
    if ((await pushEntry(cx.store, remote, key)) === 'exists') log(cx, inst, `the remote store already had entry ${key.slice(0, 12)} (another run committed it first); keeping its copy there`);
    await removeRemoteCheckpoints(remote, key);
  } catch (e) {
    log(cx, inst, `not pushed to the remote store (${e instanceof Error ? e.message : String(e)}); the entry is kept here: run 'pipeline push' later`);
  }
}

function relay(cx: RunContext, inst: PlannedInstance, m: JobMessage): void {
  const base = { runId: cx.runId, instance: inst.name, time: Date.now() };
  if (m.type === 'progress') cx.emit({ type: 'stage-progress', ...base, step: m.step, total: m.total, note: m.note });
  else if (m.type === 'metric') cx.emit({ type: 'stage-metric', ...base, name: m.name, value: m.value, step: m.step });
  else if (m.type === 'log') cx.emit({ type: 'stage-log', ...base, message: m.message });
  else cx.emit({ type: 'stage-log', ...base, message: `resuming from checkpoint at step ${m.step}` });
}

function log(cx: RunContext, inst: PlannedInstance, message: string): void {
  cx.emit({ type: 'stage-log', runId: cx.runId, instance: inst.name, time: Date.now(), message });
}

function outputsInfo(store: Store, key: string, m: Manifest): OutputInfo[] {
  return Object.entries(m.outputs).map(([name, o]) => ({ name, kind: o.kind, path: join(store.entryDir(key), o.file), digest: o.digest, bytes: o.bytes, ext: o.ext, rows: o.rows }));
}

let packageVersion: string | undefined;
/** Recorded in the manifest, not keyed (see fingerprint.ts for why). */
function versions(): Record<string, string> {
  packageVersion ??= (JSON.parse(readFileSync(join(projectRoot(), 'package.json'), 'utf8')) as { version: string }).version;
  return { 'iql-pipeline': packageVersion, node: process.versions.node };
}

/**
 * The steps one stage instance goes through in the executor, each a function with one job:
 *
 *   lookup   its key (upstream artifact digests + its code as it is now) and a verified cache entry
 *   lock     the entry's lock, so two runs never compute the same entry; then a second lookup
 *   run      the stage in a worker, its outputs written to a temp dir
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
import type { Manifest, Store } from '../store/store.js';
import { codeChanges, codeIdentity, type CodeIdentity } from './code-identity.js';
import type { EngineEvent, FailureCause, OutputInfo, SkipCause } from './events.js';
import { fingerprint, type Fingerprint } from './fingerprint.js';
import type { JobMessage, StageJob, StageJobResult } from './job.js';
import type { PlannedInstance } from './plan.js';
import { runStage, WorkerCrash, type Isolation } from './run-stage.js';
import { projectRoot } from './stage-schema.js';

export type Outcome =
  | { status: 'computed' | 'cached'; key: string; manifest: Manifest }
  | { status: 'failed'; key?: string; error: string; cause: FailureCause }
  | { status: 'skipped'; reason: string; cause: SkipCause };

/** What every step of one run shares. */
export interface RunContext {
  runId: string;
  store: Store;
  signal: AbortSignal;
  isolation: Isolation;
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
}

export const interrupted = (detail?: string): Outcome => ({ status: 'skipped', reason: detail ? `interrupted (${detail})` : 'interrupted', cause: { kind: 'interrupted' } });

const failed = (cause: FailureCause, error: string, key?: string): Outcome => ({ status: 'failed', key, error, cause });

/** Step 1. `manifests` holds the committed upstream instances' manifests. */
export function lookup(cx: RunContext, inst: PlannedInstance, manifests: Map<string, Manifest>): Outcome | Miss {
  // The code as it is now, not as it was when the run was planned (a rebuild may have happened
  // while upstream stages ran): the key must describe the code the worker is about to load.
  const code = codeIdentity(inst.resolved.moduleUrl);
  if (code.digest !== inst.code.digest) {
    log(cx, inst, `the stage's code changed since the run was planned (${codeChanges(inst.code, code).join('; ')}); keyed by the code as it is now`);
  }
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
  return (!cx.force.has(inst.name) && cachedEntry(cx, inst, fp.key)) || { fingerprint: fp, code };
}

/** The verified entry under `key` as a cache hit, or null; a damaged entry is set aside. */
export function cachedEntry(cx: RunContext, inst: PlannedInstance, key: string): Outcome | null {
  const v = cx.store.verify(key);
  if (v.ok) {
    cx.emit({ type: 'stage-cached', runId: cx.runId, instance: inst.name, key, time: Date.now(), computedByRun: v.manifest.runId, summary: v.manifest.summary, outputs: outputsInfo(cx.store, key, v.manifest), recorded: v.manifest.recorded });
    return { status: 'cached', key, manifest: v.manifest };
  }
  if (v.exists) {
    log(cx, inst, `cache entry ${key.slice(0, 12)} is damaged (${v.reason}); recomputing`);
    cx.store.quarantine(key);
  }
  return null;
}

/** Step 2: waits while another live process computes the same entry. */
export function lock(cx: RunContext, inst: PlannedInstance, key: string): Promise<HeldLock> {
  return acquireLock(cx.store.lockPath(key), cx.runId, cx.signal, (holder) =>
    log(cx, inst, `waiting: run ${holder?.runId ?? '?'} (pid ${holder?.pid ?? '?'}) is computing this entry`));
}

/** What the run step hands to the commit step. */
export interface Ran {
  tmpDir: string;
  result: StageJobResult;
  started: number;
}

/** Step 3: runs the stage; its outputs are in the returned temp dir. */
export async function run(cx: RunContext, inst: PlannedInstance, miss: Miss): Promise<Ran | Outcome> {
  const key = miss.fingerprint.key;
  const checkpointDir = cx.store.checkpointDir(key);
  const started = Date.now();
  cx.emit({ type: 'stage-start', runId: cx.runId, instance: inst.name, key, time: started, resumedFromStep: new DirCheckpointer(checkpointDir).latestStep() });
  const tmpDir = cx.store.newTempDir(inst.name);
  const job: StageJob = {
    moduleUrl: inst.resolved.moduleUrl, version: inst.resolved.kind.version, instance: inst.name, cacheKey: key, params: inst.params, seed: inst.seed,
    inputs: Object.fromEntries(Object.entries(inst.inputs).map(([n, b]) => [n, { many: b.many, items: miss.fingerprint.items[n]! }])),
    tmpDir, checkpointDir,
  };
  try {
    return { tmpDir, started, result: await runStage(job, cx.isolation, (m) => relay(cx, inst, m), cx.signal) };
  } catch (e) {
    removeQuietly(tmpDir);
    const error = e instanceof Error ? e.message : String(e);
    if (cx.signal.aborted) return interrupted(error);
    return failed(e instanceof WorkerCrash ? { kind: 'worker-crashed', message: error } : { kind: 'stage-error', message: error }, error, key);
  }
}

/** Step 4: files the result under its key; the checkpoints of the finished entry go. */
export function commit(cx: RunContext, inst: PlannedInstance, pipeline: string, miss: Miss, ran: Ran): Outcome {
  const { key, items, files } = miss.fingerprint;
  removeQuietly(join(ran.tmpDir, '.scratch'));
  const finished = Date.now();
  const manifest: Manifest = {
    format: 1, key, kind: inst.resolved.kind.kind, version: inst.resolved.kind.version, stage: inst.stage, instance: inst.name,
    pipeline, matrix: inst.matrix, params: inst.params, seed: inst.seed,
    inputs: Object.fromEntries(Object.entries(items).map(([n, list]) => [n, list.map((i) => ({ instance: i.instance, output: i.output, digest: i.digest }))])),
    outputs: ran.result.outputs, summary: ran.result.summary, recorded: ran.result.recorded, runId: cx.runId,
    startedAt: new Date(ran.started).toISOString(), finishedAt: new Date(finished).toISOString(), durationMs: finished - ran.started,
    resumedFromStep: ran.result.resumedFromStep, host: hostname(), versions: versions(),
    code: { files: miss.code.files, packages: miss.code.packages }, ...(files ? { fileParams: files } : {}),
  };
  try {
    cx.store.commit(ran.tmpDir, manifest);
  } catch (e) {
    removeQuietly(ran.tmpDir);
    const error = `cannot store the result: ${e instanceof Error ? e.message : String(e)}`;
    return failed({ kind: 'store-error', message: error }, error, key);
  }
  removeQuietly(cx.store.checkpointDir(key));
  cx.emit({ type: 'stage-done', runId: cx.runId, instance: inst.name, key, time: finished, durationMs: finished - ran.started, summary: ran.result.summary, outputs: outputsInfo(cx.store, key, manifest), recorded: ran.result.recorded });
  return { status: 'computed', key, manifest };
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

/**
 * Executes a plan: instances in dependency order, cache hits served from the store, misses computed
 * under a per-entry lock by at most `jobs` concurrent workers. A failure fails its dependents only;
 * an abort (SIGINT) starts nothing new, lets running stages stop, and keeps every committed entry.
 */
import { hostname } from 'node:os';
import { Worker } from 'node:worker_threads';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { acquireLock } from '../store/lock.js';
import { Store, type Manifest } from '../store/store.js';
import { removeQuietly } from '../store/fs-atomic.js';
import type { EngineEvent, EventListener, OutputInfo } from './events.js';
import { codeChanges, codeIdentity } from './code-identity.js';
import { fingerprint } from './fingerprint.js';
import { runStageJob, type InputItem, type JobMessage, type StageJob, type StageJobResult } from './job.js';
import type { Plan, PlannedInstance } from './plan.js';
import { projectRoot } from './stage-schema.js';

export type Isolation = 'worker' | 'inline';

export interface ExecuteOptions {
  runId: string;
  store: Store;
  emit: EventListener;
  signal?: AbortSignal;
  /** Stages computed at once (default 2). */
  jobs?: number;
  isolation?: Isolation;
  /** Instances recomputed even when cached. */
  force?: Set<string>;
  /** When set, only these instances may be computed; others must come from the cache. */
  only?: Set<string>;
  gitCommit?: string;
}

export type Outcome =
  | { status: 'computed' | 'cached'; key: string; manifest: Manifest }
  | { status: 'failed'; key?: string; error: string }
  | { status: 'skipped'; reason: string };

export interface RunResult {
  runId: string;
  status: 'FINISHED' | 'FAILED' | 'KILLED';
  outcomes: Map<string, Outcome>;
  counts: { computed: number; cached: number; failed: number; skipped: number };
}

export function newRunId(): string {
  const t = new Date().toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  return `${t}-${Math.random().toString(16).slice(2, 8)}`;
}

let packageVersion: string | undefined;
function versions(): Record<string, string> {
  packageVersion ??= (JSON.parse(readFileSync(join(projectRoot(), 'package.json'), 'utf8')) as { version: string }).version;
  return { 'iql-pipeline': packageVersion, node: process.versions.node };
}

class Semaphore {
  private waiting: (() => void)[] = [];
  constructor(private free: number) {}
  async acquire(): Promise<() => void> {
    if (this.free > 0) this.free--;
    else await new Promise<void>((r) => this.waiting.push(r));
    return () => {
      const next = this.waiting.shift();
      if (next) next();
      else this.free++;
    };
  }
}

export async function execute(plan: Plan, opts: ExecuteOptions): Promise<RunResult> {
  const { store, runId } = opts;
  const signal = opts.signal ?? new AbortController().signal;
  const emit = (e: EngineEvent) => {
    try { opts.emit(e); } catch { /* a listener must never break the run */ }
  };
  const now = () => Date.now();
  const slots = new Semaphore(Math.max(1, opts.jobs ?? 2));
  const outcomes = new Map<string, Outcome>();
  const promises = new Map<string, Promise<Outcome>>();

  emit({
    type: 'run-start', runId, pipeline: plan.name, file: plan.file, time: now(), host: hostname(), gitCommit: opts.gitCommit,
    pipelineParams: plan.params,
    instances: plan.instances.map((i) => ({ instance: i.name, stage: i.stage, kind: i.resolved.kind.kind, matrix: i.matrix, params: i.params, seed: i.seed, needs: i.needs })),
  });
  for (const t of store.staleTempDirs()) removeQuietly(t); // left by a killed run

  const outputsInfo = (key: string, m: Manifest): OutputInfo[] =>
    Object.entries(m.outputs).map(([name, o]) => ({ name, kind: o.kind, path: join(store.entryDir(key), o.file), digest: o.digest, bytes: o.bytes, ext: o.ext, rows: o.rows }));

  const runOne = async (inst: PlannedInstance): Promise<Outcome> => {
    const ups = await Promise.all(inst.needs.map(async (n) => [n, await promises.get(n)!] as const));
    const bad = ups.find(([, o]) => o.status === 'failed' || o.status === 'skipped');
    if (bad) return { status: 'skipped', reason: `upstream ${bad[0]} ${bad[1].status}` };
    const manifests = new Map(ups.map(([n, o]) => [n, (o as { manifest: Manifest }).manifest]));
    // The code as it is now, not as it was when the run was planned (a rebuild may have happened
    // while upstream stages ran): the key must describe the code the worker is about to load.
    const code = codeIdentity(inst.resolved.moduleUrl);
    if (code.digest !== inst.code.digest) {
      emit({ type: 'stage-log', runId, instance: inst.name, time: now(), message: `the stage's code changed since the run was planned (${codeChanges(inst.code, code).join('; ')}); keyed by the code as it is now` });
    }
    const k = fingerprint(inst, (n) => manifests.get(n), code);
    if (!k) {
      const missing = Object.values(inst.inputs).flatMap((b) => b.refs).filter((r) => !manifests.get(r.instance)?.outputs[r.output]);
      const error = `upstream did not produce ${missing.map((r) => `${r.instance}.${r.output}`).join(', ')} (an optional output)`;
      emit({ type: 'stage-failed', runId, instance: inst.name, key: '', time: now(), error });
      return { status: 'failed', error };
    }
    const key = k.key;
    for (const list of Object.values(k.items)) {
      for (const item of list) item.path = join(store.entryDir(manifests.get(item.instance)!.key), manifests.get(item.instance)!.outputs[item.output]!.file);
    }
    const forced = opts.force?.has(inst.name) ?? false;
    const hit = (): Outcome | null => {
      const v = store.verify(key);
      if (v.ok) {
        emit({ type: 'stage-cached', runId, instance: inst.name, key, time: now(), computedByRun: v.manifest.runId, summary: v.manifest.summary, outputs: outputsInfo(key, v.manifest), recorded: v.manifest.recorded });
        return { status: 'cached', key, manifest: v.manifest };
      }
      if (v.exists) {
        emit({ type: 'stage-log', runId, instance: inst.name, time: now(), message: `cache entry ${key.slice(0, 12)} is damaged (${v.reason}); recomputing` });
        store.quarantine(key);
      }
      return null;
    };
    if (!forced) {
      const h = hit();
      if (h) return h;
    }
    if (opts.only && !opts.only.has(inst.name)) return { status: 'skipped', reason: 'not cached, and not selected by --only' };
    if (signal.aborted) return { status: 'skipped', reason: 'interrupted' };
    const release = await slots.acquire();
    let lock: { release(): void } | undefined;
    try {
      if (signal.aborted) return { status: 'skipped', reason: 'interrupted' };
      lock = await acquireLock(store.lockPath(key), runId, signal, (holder) =>
        emit({ type: 'stage-log', runId, instance: inst.name, time: now(), message: `waiting: run ${holder?.runId ?? '?'} (pid ${holder?.pid ?? '?'}) is computing this entry` }),
      );
      if (!forced) {
        const h = hit(); // the other run may have finished it while we waited
        if (h) return h;
      }
      const started = now();
      emit({ type: 'stage-start', runId, instance: inst.name, key, time: started });
      const tmpDir = store.newTempDir(inst.name);
      const job: StageJob = {
        moduleUrl: inst.resolved.moduleUrl, version: inst.resolved.kind.version, instance: inst.name, cacheKey: key, params: inst.params, seed: inst.seed,
        inputs: Object.fromEntries(Object.entries(inst.inputs).map(([n, b]) => [n, { many: b.many, items: k.items[n]! }])),
        tmpDir, checkpointDir: store.checkpointDir(key),
      };
      const onMessage = (m: JobMessage) => {
        const base = { runId, instance: inst.name, time: now() };
        if (m.type === 'progress') emit({ type: 'stage-progress', ...base, step: m.step, total: m.total, note: m.note });
        else if (m.type === 'metric') emit({ type: 'stage-metric', ...base, name: m.name, value: m.value, step: m.step });
        else if (m.type === 'log') emit({ type: 'stage-log', ...base, message: m.message });
        else emit({ type: 'stage-log', ...base, message: `resuming from checkpoint at step ${m.step}` });
      };
      let result: StageJobResult;
      try {
        result = opts.isolation === 'inline' ? await runStageJob(job, onMessage, signal) : await runInWorker(job, onMessage, signal);
      } catch (e) {
        removeQuietly(tmpDir);
        const error = e instanceof Error ? e.message : String(e);
        if (signal.aborted) return { status: 'skipped', reason: `interrupted (${error})` };
        emit({ type: 'stage-failed', runId, instance: inst.name, key, time: now(), error });
        return { status: 'failed', key, error };
      }
      removeQuietly(join(tmpDir, '.scratch'));
      const finished = now();
      const manifest: Manifest = {
        format: 1, key, kind: inst.resolved.kind.kind, version: inst.resolved.kind.version, stage: inst.stage, instance: inst.name,
        pipeline: plan.name, matrix: inst.matrix, params: inst.params, seed: inst.seed,
        inputs: Object.fromEntries(Object.entries(k.items).map(([n, list]) => [n, list.map((i) => ({ instance: i.instance, output: i.output, digest: i.digest }))])),
        outputs: result.outputs, summary: result.summary, recorded: result.recorded, runId,
        startedAt: new Date(started).toISOString(), finishedAt: new Date(finished).toISOString(), durationMs: finished - started,
        resumedFromStep: result.resumedFromStep, host: hostname(), versions: versions(),
        code: { files: code.files, packages: code.packages }, ...(k.files ? { fileParams: k.files } : {}),
      };
      store.commit(tmpDir, manifest);
      removeQuietly(store.checkpointDir(key));
      emit({ type: 'stage-done', runId, instance: inst.name, key, time: finished, durationMs: finished - started, summary: result.summary, outputs: outputsInfo(key, manifest), recorded: result.recorded });
      return { status: 'computed', key, manifest };
    } catch (e) {
      if (signal.aborted) return { status: 'skipped', reason: 'interrupted' };
      const error = e instanceof Error ? e.message : String(e);
      emit({ type: 'stage-failed', runId, instance: inst.name, key, time: now(), error });
      return { status: 'failed', key, error };
    } finally {
      lock?.release();
      release();
    }
  };

  for (const inst of plan.instances) {
    const p = runOne(inst).then((o) => {
      outcomes.set(inst.name, o);
      if (o.status === 'skipped') emit({ type: 'stage-skipped', runId, instance: inst.name, time: now(), reason: o.reason });
      return o;
    });
    promises.set(inst.name, p);
  }
  await Promise.all(promises.values());
  const counts = { computed: 0, cached: 0, failed: 0, skipped: 0 };
  for (const o of outcomes.values()) counts[o.status]++;
  const status = signal.aborted ? 'KILLED' : counts.failed > 0 || counts.skipped > 0 ? 'FAILED' : 'FINISHED';
  emit({ type: 'run-end', runId, time: now(), status, counts });
  return { runId, status, outcomes, counts };
}

const workerUrl = new URL(import.meta.url.endsWith('.ts') ? './worker.ts' : './worker.js', import.meta.url);
const ABORT_GRACE_MS = 15_000;

function runInWorker(job: StageJob, onMessage: (m: JobMessage) => void, signal: AbortSignal): Promise<StageJobResult> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(workerUrl);
    let settled = false;
    let killTimer: NodeJS.Timeout | undefined;
    const finish = (fn: () => void) => {
      if (settled) return;
      settled = true;
      signal.removeEventListener('abort', onAbort);
      if (killTimer) clearTimeout(killTimer);
      void worker.terminate();
      fn();
    };
    const onAbort = () => {
      worker.postMessage({ type: 'abort' });
      // A stage that ignores the signal is stopped hard; its checkpoints and the store stay consistent.
      killTimer = setTimeout(() => finish(() => reject(new Error('interrupted (stage did not stop in time)'))), ABORT_GRACE_MS);
    };
    signal.addEventListener('abort', onAbort, { once: true });
    worker.on('message', (msg: { type: 'event'; event: JobMessage } | { type: 'done'; result: StageJobResult } | { type: 'error'; message: string }) => {
      if (msg.type === 'event') onMessage(msg.event);
      else if (msg.type === 'done') finish(() => resolve(msg.result));
      else finish(() => reject(new Error(msg.message)));
    });
    worker.on('error', (e) => finish(() => reject(e)));
    worker.on('exit', (code) => finish(() => reject(new Error(`stage worker exited with code ${code}`))));
    if (signal.aborted) onAbort();
    worker.postMessage({ type: 'run', job });
  });
}

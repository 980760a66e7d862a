/**
 * Executes a plan: each instance once its upstream instances are done, through the steps of
 * steps.ts (lookup → a slot → the code as it is now → lock → run → commit), at most `jobs` stages
 * computing at once. A failure
 * fails its dependents only; an abort (SIGINT) starts nothing new, lets running stages stop, and
 * keeps every committed entry.
 */
import { hostname } from 'node:os';
import { removeQuietly } from '../store/fs-atomic.js';
import type { Manifest, Store } from '../store/store.js';
import type { EngineEvent, EventListener } from './events.js';
import type { Plan, PlannedInstance } from './plan.js';
import { InputUnavailable, localExecutor, type Executor } from './executor.js';
import type { FailureCause } from './events.js';
import { RemoteUnavailable } from '../store/remote-errors.js';
import type { RemoteStore } from '../store/remote.js';
import type { Isolation } from './run-stage.js';
import { cachedEntry, commit, currentCode, interrupted, lock, lookup, run, type Outcome, type RunContext } from './steps.js';

export type { Isolation, Outcome };

export interface ExecuteOptions {
  runId: string;
  store: Store;
  emit: EventListener;
  signal?: AbortSignal;
  /** Stages computed at once (default 2). */
  jobs?: number;
  /** Where instances run (default: the local executor with `isolation`). */
  executor?: Executor;
  /** The local executor's isolation, when no executor is given (default 'worker'). */
  isolation?: Isolation;
  /** Instances recomputed even when cached. */
  force?: Set<string>;
  /** A shared remote store (remote.ts): its entries are cache hits, results are pushed to it. */
  remote?: RemoteStore;
}

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
  const { runId, store } = opts;
  const cx: RunContext = {
    runId, store, pipeline: plan.name,
    executor: opts.executor ?? localExecutor(opts.isolation ?? 'worker'),
    remote: opts.remote,
    signal: opts.signal ?? new AbortController().signal,
    force: opts.force ?? new Set(),
    emit: (e: EngineEvent) => {
      try { opts.emit(e); } catch { /* a listener must never break the run */ }
    },
  };
  const slots = new Semaphore(Math.max(1, opts.jobs ?? 2));
  const promises = new Map<string, Promise<Outcome>>();

  cx.emit({
    type: 'run-start', runId, pipeline: plan.name, file: plan.file, time: Date.now(), host: hostname(), pipelineParams: plan.params,
    instances: plan.instances.map((i) => ({ instance: i.name, stage: i.stage, kind: i.resolved.kind.kind, matrix: i.matrix, params: i.params, seed: i.seed, needs: i.needs })),
  });
  for (const t of store.staleTempDirs()) removeQuietly(t); // left by a killed run

  // Upstream instances recomputed because their entries turned out corrupt when read (InputUnavailable).
  const recomputed = new Map<string, Promise<Outcome>>();
  const outcomeOf = (name: string) => recomputed.get(name) ?? promises.get(name)!;

  /**
   * A recomputed input that turned out to be a hit here (this store had a good copy) goes back to
   * the remote store, where the entry was set aside: a cluster node reads it from there.
   */
  const republish = async (o: Outcome): Promise<Outcome> => {
    if (o.status === 'cached' && cx.remote && store.verify(o.key).ok) {
      const { pushEntry } = await import('../store/remote-sync.js');
      await pushEntry(store, cx.remote, o.key);
    }
    return o;
  };

  const instanceSteps = async (inst: PlannedInstance, retry = false): Promise<Outcome> => {
    try {
      return await stepsOnce(inst);
    } catch (e) {
      if (!(e instanceof InputUnavailable) || retry || cx.signal.aborted) throw e;
      for (const name of e.instances) {
        cx.emit({ type: 'stage-log', runId, instance: inst.name, time: Date.now(), message: `input ${name} was corrupt or missing in the store (${e.message}); recomputing it` });
        if (!recomputed.has(name)) recomputed.set(name, reported(plan.byName.get(name)!, instanceSteps(plan.byName.get(name)!, true).then((o) => republish(o))));
      }
      return instanceSteps(inst, true);
    }
  };

  const stepsOnce = async (inst: PlannedInstance): Promise<Outcome> => {
    const upstream = await Promise.all(inst.needs.map(async (n) => [n, await outcomeOf(n)] as const));
    const blocked = upstream.find(([, o]) => o.status === 'failed' || o.status === 'skipped');
    if (blocked) {
      const [name, o] = blocked;
      return { status: 'skipped', reason: `upstream ${name} ${o.status}`, cause: { kind: o.status === 'failed' ? 'upstream-failed' : 'upstream-skipped', upstream: name } };
    }
    const manifests = new Map(upstream.map(([n, o]) => [n, (o as { manifest: Manifest }).manifest]));
    let found = await lookup(cx, inst, manifests);
    if ('status' in found) return found;
    if (cx.signal.aborted) return interrupted();
    const release = await slots.acquire();
    try {
      if (cx.signal.aborted) return interrupted();
      const code = currentCode(cx, inst, found);
      if (code) {
        found = await lookup(cx, inst, manifests, code);
        if ('status' in found) return found;
      }
      let held;
      try {
        held = await lock(cx, inst, found.fingerprint.key);
      } catch (e) {
        if (cx.signal.aborted) return interrupted();
        const error = `cannot lock the cache entry: ${e instanceof Error ? e.message : String(e)}`;
        return { status: 'failed', key: found.fingerprint.key, error, cause: { kind: 'store-error', message: error } };
      }
      try {
        // Another run may have computed the entry while this one waited for the lock.
        const hit = cx.force.has(inst.name) ? null : await cachedEntry(cx, inst, found.fingerprint.key);
        if (hit) return hit;
        const ran = await run(cx, inst, found);
        return 'status' in ran ? ran : await commit(cx, inst, found, ran);
      } finally {
        held.release();
      }
    } finally {
      release();
    }
  };

  /** The instance's outcome, its failure or skip reported. */
  const reported = (inst: PlannedInstance, steps: Promise<Outcome>): Promise<Outcome> => steps.catch((e: unknown): Outcome => {
    const error = e instanceof Error ? e.message : String(e);
    if (cx.signal.aborted) return interrupted(error);
    const cause: FailureCause = e instanceof RemoteUnavailable ? { kind: 'store-error', message: error } : { kind: 'engine-error', message: error };
    return { status: 'failed', error, cause };
  }).then((o) => {
    const base = { runId, instance: inst.name, time: Date.now() };
    if (o.status === 'failed') cx.emit({ type: 'stage-failed', ...base, key: o.key ?? '', error: o.error, cause: o.cause });
    if (o.status === 'skipped') cx.emit({ type: 'stage-skipped', ...base, reason: o.reason, cause: o.cause });
    return o;
  });

  for (const inst of plan.instances) promises.set(inst.name, reported(inst, instanceSteps(inst)));
  const outcomes = new Map<string, Outcome>();
  for (const [name, p] of promises) outcomes.set(name, await p);
  for (const [name, p] of recomputed) outcomes.set(name, await p);
  const counts = { computed: 0, cached: 0, failed: 0, skipped: 0 };
  for (const o of outcomes.values()) counts[o.status]++;
  const status = cx.signal.aborted ? 'KILLED' : counts.failed > 0 || counts.skipped > 0 ? 'FAILED' : 'FINISHED';
  cx.emit({ type: 'run-end', runId, time: Date.now(), status, counts });
  return { runId, status, outcomes, counts };
}

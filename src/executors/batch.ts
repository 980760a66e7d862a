/**
 * A batch scheduler (Ray's Jobs API; Slurm's sbatch/sacct/scancel would be the next) as an
 * Executor. The scheduler only has to submit a named job, report its state and log, and cancel
 * it; this adapter does the rest:
 *
 *   - the task goes to the remote store (tasks/<key>.json) and the job runs `pipeline
 *     exec-instance` for it on some node, which fetches the inputs, runs the stage, pushes
 *     checkpoints and commits the result to the remote store (instance-runner.ts);
 *   - job ids derive from the cache key and an attempt number, so a duplicated or retried
 *     submission of the same entry attaches to the job that exists instead of computing twice;
 *   - the job's log is tailed for the line protocol (protocol.ts): progress, metrics and logs go to
 *     `watch` like a local instance's;
 *   - a job that ends without the runner saying so (its node died) is submitted again as the next
 *     attempt, which resumes from the remote checkpoint; a stage error is not retried;
 *   - an abort (Ctrl-C) cancels the job.
 */
import { setMaxListeners } from 'node:events';
import type { Executor, InstanceTask } from '../engine/executor.js';
import { InputUnavailable } from '../engine/executor.js';
import type { JobMessage } from '../engine/job.js';
import { WorkerCrash } from '../engine/run-stage.js';
import { sha256 } from '../store/digest.js';
import type { RemoteStore } from '../store/remote.js';
import { breakRemoteLock } from '../store/remote-lock.js';
import { LogTail, parseLine, type Failure } from './protocol.js';

export type JobState = 'pending' | 'running' | 'succeeded' | 'failed' | 'stopped';

export interface BatchScheduler {
  readonly name: string;
  /** Submits a job under `id`; 'exists' when the scheduler already knows a job of that id. */
  submit(id: string, task: InstanceTask): Promise<'submitted' | 'exists'>;
  state(id: string): Promise<{ state: JobState; message?: string }>;
  /** The job's whole log so far. */
  logs(id: string): Promise<string>;
  cancel(id: string): Promise<void>;
}

export interface BatchOptions {
  remote: RemoteStore;
  /** Submissions of one instance before giving up on a node that keeps dying (default 3). */
  maxAttempts?: number;
  /** Poll period (default 500 ms). */
  pollMs?: number;
}

/**
 * `iqlp-<32 hex>-<attempt>`, the hex from the remote store's URL and the cache key: the same entry
 * of the same shared store always gets the same ids (whoever submits it), and the same key
 * computed for another store does not attach to a job that commits elsewhere.
 */
export const jobId = (remoteUrl: string, key: string, attempt: number) => `iqlp-${sha256(`${remoteUrl}\n${key}`).slice(0, 32)}-${attempt}`;

const sleep = (ms: number, signal: AbortSignal) => new Promise<void>((r) => {
  const t = setTimeout(done, ms);
  function done() { clearTimeout(t); signal.removeEventListener('abort', done); r(); }
  signal.addEventListener('abort', done, { once: true });
});

export function batchExecutor(scheduler: BatchScheduler, opts: BatchOptions): Executor {
  const { remote } = opts;
  const maxAttempts = opts.maxAttempts ?? 3;
  const pollMs = opts.pollMs ?? 500;
  return {
    name: scheduler.name,
    remote: true,
    async submit(task, watch, signal) {
      // Every instance of a sweep polls while it waits on the run's one abort signal.
      setMaxListeners(0, signal);
      const key = task.job.cacheKey;
      await remote.writeJson(`tasks/${key}.json`, task);
      for (let attempt = 1; attempt <= maxAttempts; attempt++) {
        const id = jobId(remote.url, key, attempt);
        if ((await scheduler.submit(id, task)) === 'exists') {
          const s = await scheduler.state(id);
          if (s.state === 'failed' || s.state === 'stopped') {
            // A stage error would fail again: report it. An earlier attempt that died with its node,
            // or found an input corrupt (recomputed since), gives way to the next id.
            const failure = findFailure(await scheduler.logs(id));
            if (failure && failure.kind !== 'input-unavailable') throw asError(failure);
            continue;
          }
          watch({ type: 'log', message: `attaching to ${scheduler.name} job ${id} (already submitted for this entry)` });
        } else watch({ type: 'log', message: `submitted as ${scheduler.name} job ${id}` });
        const end = await follow(scheduler, id, watch, signal, pollMs);
        if (end.state === 'succeeded') {
          const manifest = await remote.readManifest(key);
          if (!manifest) throw new Error(`${scheduler.name} job ${id} succeeded but entry ${key.slice(0, 12)} is not in ${remote.describe()}`);
          return { kind: 'committed', manifest };
        }
        if (signal.aborted) throw new Error(`interrupted (${scheduler.name} job ${id} stopped)`);
        if (end.failure) throw asError(end.failure);
        watch({ type: 'log', message: `${scheduler.name} job ${id} ended ${end.state}${end.message ? ` (${end.message})` : ''} before the instance finished; ${attempt < maxAttempts ? 'submitting it again (it resumes from its last checkpoint)' : 'giving up'}` });
        // The entry may have been committed just before the job was lost.
        const manifest = await remote.readManifest(key);
        if (manifest) return { kind: 'committed', manifest };
        // The lost job's entry lock would make the next attempt wait until it goes stale.
        await breakRemoteLock(remote, key, task.runId);
      }
      throw new WorkerCrash(`${scheduler.name}: instance lost ${maxAttempts} times (its nodes died or its jobs were stopped)`);
    },
  };
}

function asError(f: Failure): Error {
  return f.kind === 'input-unavailable' ? new InputUnavailable(f.instances, f.message) : new Error(f.message);
}

function findFailure(log: string): Failure | undefined {
  for (const line of log.split('\n')) {
    const p = parseLine(line);
    if (p.type === 'failed') return p.failure;
  }
  return undefined;
}

/** Tails the job until it ends (or is cancelled after an abort). */
async function follow(scheduler: BatchScheduler, id: string, watch: (m: JobMessage) => void, signal: AbortSignal, pollMs: number): Promise<{ state: JobState; message?: string; failure?: Failure }> {
  const tail = new LogTail();
  let failure: Failure | undefined;
  let cancelled = false;
  const drain = async () => {
    for (const line of tail.next(await scheduler.logs(id))) {
      const p = parseLine(line);
      if (p.type === 'event') watch(p.event);
      else if (p.type === 'failed') failure = p.failure;
      else if (p.type === 'text' && p.text.trim()) watch({ type: 'log', message: p.text });
    }
  };
  for (;;) {
    if (signal.aborted && !cancelled) {
      cancelled = true;
      await scheduler.cancel(id).catch(() => { /* it may have ended meanwhile */ });
    }
    const s = await scheduler.state(id);
    await drain().catch(() => { /* logs are best effort; the state decides */ });
    if (s.state !== 'pending' && s.state !== 'running') return { ...s, failure };
    await sleep(pollMs, cancelled ? new AbortController().signal : signal);
  }
}

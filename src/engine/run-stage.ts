/**
 * Runs one stage job in a worker thread (so CPU-bound stages use more than one core) or inline in
 * this thread (debugging). A worker that dies is told apart from a stage that threw.
 */
import { Worker } from 'node:worker_threads';
import { runStageJob, type JobMessage, type StageJob, type StageJobResult } from './job.js';

export type Isolation = 'worker' | 'inline';

/** The worker thread running a stage died or had to be stopped; not the stage's own error. */
export class WorkerCrash extends Error {
  override name = 'WorkerCrash';
}

const workerUrl = new URL(import.meta.url.endsWith('.ts') ? './worker.ts' : './worker.js', import.meta.url);
const ABORT_GRACE_MS = 15_000;

export function runStage(job: StageJob, isolation: Isolation, onMessage: (m: JobMessage) => void, signal: AbortSignal): Promise<StageJobResult> {
  return isolation === 'inline' ? runStageJob(job, onMessage, signal) : runInWorker(job, onMessage, signal);
}

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
      killTimer = setTimeout(() => finish(() => reject(new WorkerCrash('interrupted (stage did not stop in time)'))), ABORT_GRACE_MS);
    };
    signal.addEventListener('abort', onAbort, { once: true });
    worker.on('message', (msg: { type: 'event'; event: JobMessage } | { type: 'done'; result: StageJobResult } | { type: 'error'; message: string }) => {
      if (msg.type === 'event') onMessage(msg.event);
      else if (msg.type === 'done') finish(() => resolve(msg.result));
      else finish(() => reject(new Error(msg.message)));
    });
    worker.on('error', (e) => finish(() => reject(new WorkerCrash(e.message))));
    worker.on('exit', (code) => finish(() => reject(new WorkerCrash(`stage worker exited with code ${code}`))));
    if (signal.aborted) onAbort();
    worker.postMessage({ type: 'run', job });
  });
}

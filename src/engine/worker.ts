/** Worker-thread entry: runs one stage job so CPU-bound stages use more than one core. */
import { parentPort } from 'node:worker_threads';
import { runStageJob, type JobMessage, type StageJob } from './job.js';

const controller = new AbortController();
parentPort!.on('message', (msg: { type: 'run'; job: StageJob } | { type: 'abort' }) => {
  if (msg.type === 'abort') {
    controller.abort(new Error('interrupted'));
    return;
  }
  const emit = (m: JobMessage) => parentPort!.postMessage({ type: 'event', event: m });
  runStageJob(msg.job, emit, controller.signal).then(
    (result) => parentPort!.postMessage({ type: 'done', result }),
    (e: unknown) => parentPort!.postMessage({ type: 'error', message: e instanceof Error ? e.message : String(e), stack: e instanceof Error ? e.stack : undefined }),
  );
});

/**
 * The executor boundary: where one stage instance runs. The engine stays the DAG scheduler (what
 * runs when, the cache, the locks); an executor only runs the instances it is handed. Its whole
 * contract is one call:
 *
 *   submit(task, watch, signal)   run this instance with these resources;
 *                                 report its progress, metrics and logs to `watch` as they happen;
 *                                 stop it when `signal` aborts (Ctrl-C);
 *                                 resolve when it has finished, reject when it failed.
 *
 * A task is self-contained and serialisable (module URL, parameters, seed, inputs by content
 * digest, cache key, resources, the manifest fields known before the run), so a remote executor
 * can ship it to another machine. An executor finishes in one of two ways:
 *
 *   - `outputs`: the result is in the task's temp dir on this machine, and the engine commits it
 *     (the local executor);
 *   - `committed`: the executor committed the result to the shared remote store itself, blobs
 *     first and the manifest last (cluster executors, src/executors/), and hands back the manifest.
 *
 * Cluster schedulers with submit/poll/logs/cancel verbs (Ray's Jobs API, Slurm's sbatch/sacct/
 * scancel) plug in through src/executors/batch.ts, which turns such a scheduler into an Executor.
 */
import type { Manifest } from '../store/store.js';
import type { JobMessage, StageJob, StageJobResult } from './job.js';
import type { Resources } from './resources.js';
import { runStage, type Isolation } from './run-stage.js';

/** Everything about a manifest that is known before the instance runs. */
export type ManifestDraft = Omit<Manifest, 'outputs' | 'summary' | 'recorded' | 'runId' | 'startedAt' | 'finishedAt' | 'durationMs' | 'resumedFromStep' | 'host'>;

export interface InstanceTask {
  /** What runs: module, parameters, seed, inputs (paths on this machine, digests everywhere), key. */
  job: StageJob;
  resources: Resources;
  /** The run that submits it (recorded in the manifest). */
  runId: string;
  manifest: ManifestDraft;
  /** Upstream instance name → its cache key (where a remote node finds the inputs' manifests). */
  upstreamKeys: Record<string, string>;
}

export type Finished =
  | { kind: 'outputs'; result: StageJobResult }
  | { kind: 'committed'; manifest: Manifest };

export interface Executor {
  /** For logs and the journal: 'local', 'ray'. */
  readonly name: string;
  /** Whether instances run on other machines (and so exchange artifacts through the remote store). */
  readonly remote: boolean;
  submit(task: InstanceTask, watch: (m: JobMessage) => void, signal: AbortSignal): Promise<Finished>;
  /** Releases what the executor holds (connections, pollers). */
  close?(): Promise<void>;
}

/**
 * An instance could not read some of its inputs: their entries turned out corrupt or missing
 * where they were fetched (and were set aside). The scheduler recomputes those upstream instances
 * and runs this one again.
 */
export class InputUnavailable extends Error {
  override name = 'InputUnavailable';
  constructor(readonly instances: string[], message: string) {
    super(message);
  }
}

/** Today's executor, the default: worker threads (or this thread) on this machine; resources are not enforced. */
export function localExecutor(isolation: Isolation = 'worker'): Executor {
  return {
    name: 'local',
    remote: false,
    async submit(task, watch, signal) {
      return { kind: 'outputs', result: await runStage(task.job, isolation, watch, signal) };
    },
  };
}

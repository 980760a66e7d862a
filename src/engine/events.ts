/**
 * Everything the engine reports while it runs, as plain serialisable values, one interface per
 * kind. The CLI renders them (listr2 / plain lines) and the tracker journals them; the engine
 * knows about neither.
 */
export interface InstanceInfo {
  instance: string;
  stage: string;
  kind: string;
  matrix: Record<string, unknown>;
  params: Record<string, unknown>;
  seed: number;
  /** Upstream instance names. */
  needs: string[];
}

export interface OutputInfo {
  name: string;
  kind: 'table' | 'file';
  /** Absolute path of the committed artifact. */
  path: string;
  digest: string;
  bytes: number;
  ext: string;
  rows?: number;
}

/** Why a stage instance failed, for code that reacts to it (the text is in `error`). */
export type FailureCause =
  /** The stage's run() threw, or returned outputs that break its declaration. */
  | { kind: 'stage-error'; message: string }
  /** The worker thread running the stage died (out of memory, a native crash) or did not stop in time. */
  | { kind: 'worker-crashed'; message: string }
  /** An input is bound to an optional upstream output that the upstream instance did not produce. */
  | { kind: 'upstream-output-missing'; outputs: string[] }
  /** Locking or committing the cache entry failed (disk full, permissions). */
  | { kind: 'store-error'; message: string }
  /** Any other error in the engine's own steps (a bug, or the file system failing elsewhere). */
  | { kind: 'engine-error'; message: string };

/** Why a stage instance was not run. */
export type SkipCause =
  | { kind: 'upstream-failed' | 'upstream-skipped'; upstream: string }
  | { kind: 'interrupted' };

interface Base {
  runId: string;
  time: number;
}

export interface RunStartEvent extends Base {
  type: 'run-start';
  pipeline: string;
  file: string;
  instances: InstanceInfo[];
  pipelineParams: Record<string, unknown>;
  host: string;
  /** Not set by the engine (it knows nothing of git): the tracker adds it when it syncs the journal. */
  gitCommit?: string;
}

export interface StageStartEvent extends Base {
  type: 'stage-start';
  instance: string;
  key: string;
  /** The step of the checkpoint the stage resumes from (a killed or interrupted earlier run), if any. */
  resumedFromStep?: number;
}

export interface StageCachedEvent extends Base {
  type: 'stage-cached';
  instance: string;
  key: string;
  /** The run that computed the entry. */
  computedByRun: string;
  summary: Record<string, number>;
  outputs: OutputInfo[];
  recorded: Record<string, unknown>;
}

export interface StageProgressEvent extends Base {
  type: 'stage-progress';
  instance: string;
  step: number;
  total?: number;
  note?: string;
}

export interface StageMetricEvent extends Base {
  type: 'stage-metric';
  instance: string;
  name: string;
  value: number;
  step: number;
}

export interface StageLogEvent extends Base {
  type: 'stage-log';
  instance: string;
  message: string;
}

export interface StageDoneEvent extends Base {
  type: 'stage-done';
  instance: string;
  key: string;
  durationMs: number;
  summary: Record<string, number>;
  outputs: OutputInfo[];
  recorded: Record<string, unknown>;
}

export interface StageFailedEvent extends Base {
  type: 'stage-failed';
  instance: string;
  /** '' when the failure came before the key was known. */
  key: string;
  /** For people: the message. */
  error: string;
  cause: FailureCause;
}

export interface StageSkippedEvent extends Base {
  type: 'stage-skipped';
  instance: string;
  /** For people: why, in words. */
  reason: string;
  cause: SkipCause;
}

export interface RunEndEvent extends Base {
  type: 'run-end';
  status: 'FINISHED' | 'FAILED' | 'KILLED';
  counts: { computed: number; cached: number; failed: number; skipped: number };
}

export type EngineEvent =
  | RunStartEvent | StageStartEvent | StageCachedEvent | StageProgressEvent | StageMetricEvent
  | StageLogEvent | StageDoneEvent | StageFailedEvent | StageSkippedEvent | RunEndEvent;

export type EngineEventOf<T extends EngineEvent['type']> = Extract<EngineEvent, { type: T }>;

export type EventListener = (event: EngineEvent) => void;

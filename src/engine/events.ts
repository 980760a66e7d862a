/**
 * Everything the engine reports while it runs, as plain serialisable values. The CLI renders
 * them (listr2 / plain lines) and the tracker journals them; the engine knows about neither.
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

export type EngineEvent =
  | { type: 'run-start'; runId: string; pipeline: string; file: string; time: number;
      instances: InstanceInfo[]; pipelineParams: Record<string, unknown>; host: string; gitCommit?: string }
  | { type: 'stage-start'; runId: string; instance: string; key: string; time: number; resumedFromStep?: number }
  | { type: 'stage-cached'; runId: string; instance: string; key: string; time: number;
      /** The run that computed the entry. */
      computedByRun: string; summary: Record<string, number>; outputs: OutputInfo[]; recorded: Record<string, unknown> }
  | { type: 'stage-progress'; runId: string; instance: string; step: number; total?: number; note?: string; time: number }
  | { type: 'stage-metric'; runId: string; instance: string; name: string; value: number; step: number; time: number }
  | { type: 'stage-log'; runId: string; instance: string; message: string; time: number }
  | { type: 'stage-done'; runId: string; instance: string; key: string; time: number; durationMs: number;
      summary: Record<string, number>; outputs: OutputInfo[]; recorded: Record<string, unknown> }
  | { type: 'stage-failed'; runId: string; instance: string; key: string; time: number; error: string }
  | { type: 'stage-skipped'; runId: string; instance: string; time: number; reason: string }
  | { type: 'run-end'; runId: string; time: number; status: 'FINISHED' | 'FAILED' | 'KILLED';
      counts: { computed: number; cached: number; failed: number; skipped: number } };

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

export type EventListener = (event: EngineEvent) => void;

/**
 * The contract between the engine and a stage kind. A stage kind is a module whose default
 * export is a `StageKind`. Stages know nothing about terminals or tracking: they talk to the
 * outside world only through the `StageContext` they are given.
 *
 * Keep a stage module's top-level imports light (the engine imports every stage of a pipeline
 * to validate it); import heavy libraries (tfjs, mujoco) inside `run`.
 */
import type { Table } from 'apache-arrow';
import type { ResourcesDecl } from './declaration.js';

/** JSON Schema (draft-07 subset understood by ajv) for a stage's `with:` parameters. */
export type JsonSchema = Record<string, unknown>;

export interface PortSpec {
  description: string;
  /** Input only: the input receives every matching upstream instance (fan-in), as a list. */
  many?: boolean;
  /** Input: the stage can run without it. Output: the stage may leave it out (e.g. a figure with no data). */
  optional?: boolean;
}

/** An output that is not a table (an HTML report, a PNG). Recorded in the manifest like a table. */
export interface FileOutput {
  bytes: Uint8Array;
  /** File extension without dot, e.g. "html", "png", "svg". */
  ext: string;
  mediaType?: string;
}

export type OutputValue = Table | FileOutput;

/** A committed upstream output, as a stage sees it. */
export interface InputArtifact {
  /** Upstream instance name, e.g. "policy[method=awr,seed=0]". */
  instance: string;
  /** Upstream output name. */
  output: string;
  /** Matrix coordinates of the upstream instance (empty for plain stages). */
  matrix: Record<string, unknown>;
  /** Resolved parameters of the upstream instance. */
  params: Record<string, unknown>;
  /** sha256 of the artifact file. */
  digest: string;
  /** Absolute path of the artifact file (read-only). */
  path: string;
  kind: 'table' | 'file';
  /** Decodes the Arrow IPC file (throws for file outputs). */
  table(): Promise<Table>;
  bytes(): Promise<Uint8Array>;
}

// Checkpoints belong to the store, which depends on nothing above it; stages see them through the context.
export type { Checkpointer, CheckpointState } from '../store/checkpoint.js';
import type { Checkpointer } from '../store/checkpoint.js';

export interface StageContext<P = Record<string, unknown>> {
  /** Parameters after defaults, templates and overrides; validated against the schema. */
  params: P;
  seed: number;
  /** Single inputs map to one artifact, `many` inputs to a list. Optional missing inputs are absent. */
  inputs: Record<string, InputArtifact | InputArtifact[]>;
  instance: string;
  cacheKey: string;
  signal: AbortSignal;
  checkpoint: Checkpointer;
  /** Reports progress; `total` may be omitted when unknown. */
  progress(step: number, total?: number, note?: string): void;
  /** A scalar time series point (training curves). */
  metric(name: string, value: number, step: number): void;
  log(message: string): void;
  /** Records facts about how the result was computed (backend, versions); goes into the manifest. */
  record(key: string, value: unknown): void;
  /** A scratch directory private to this run of the stage. */
  scratchDir: string;
  /**
   * A directory private to this stage instance (its cache key) that outlives a killed run and is
   * removed once the result is stored: where an external program keeps its own checkpoints.
   * The engine always sets it; hand-built contexts (unit tests of native stages) may leave it out.
   */
  stateDir?: string;
}

export interface StageResult {
  outputs: Record<string, OutputValue>;
  /** Headline numbers of this stage (score, std...): stored in the manifest and tracked. */
  summary?: Record<string, number>;
}

export interface StageKind<P = any> {
  /** Stage kind id, e.g. "fit-iql". */
  kind: string;
  /** Bump to invalidate every cached result of this kind (part of the cache key). */
  version: string;
  description: string;
  params: JsonSchema;
  inputs: Record<string, PortSpec>;
  outputs: Record<string, PortSpec>;
  /**
   * Parameters that name input files (paths relative to the working directory). The content
   * digest of each named file is part of the cache key, so editing the file reruns the stage.
   */
  fileParams?: string[];
  /**
   * What one instance needs by default (a pipeline's `resources:` overrides it): CPUs, GPUs and
   * memory (bytes or a size like 4GiB). Cluster executors pass it to their scheduler.
   */
  resources?: ResourcesDecl;
  /**
   * The parameters this instance's result depends on (default: all of them), for the cache key and
   * the manifest. A kind whose parameters apply to some modes only (extract-policy's DDPG-only
   * `bc_alpha` under `method: awr`) returns the others, so a sweep over a mode's parameter does not
   * recompute the other modes. It must drop only what `run` provably ignores (a test per kind
   * pins that the outputs are byte-identical); `run` still receives every parameter.
   */
  keyParams?(params: P): Record<string, unknown>;
  run(ctx: StageContext<P>): Promise<StageResult>;
}

/** A `uses:` resolved to its stage kind: the id as written, the module it was loaded from, the kind. */
export interface ResolvedKind {
  id: string;
  moduleUrl: string;
  kind: StageKind;
}

export function isFileOutput(v: OutputValue): v is FileOutput {
  return (v as FileOutput).bytes instanceof Uint8Array && typeof (v as FileOutput).ext === 'string';
}

/**
 * Runs a stage kind in-process for its unit tests, as the engine would: the parameters validated
 * and defaulted by the kind's schema (ajv with useDefaults, the engine's settings), inputs as
 * in-memory artifacts, and a context that keeps what the stage reports (progress, `record`).
 */
import { tmpdir } from 'node:os';
import AjvModule from 'ajv';
import type { Table } from 'apache-arrow';
import type { InputArtifact, StageContext, StageKind, StageResult } from '../../src/engine/stage.js';

type Validator = ((d: unknown) => boolean) & { errors?: unknown[] };
const Ajv = (AjvModule as unknown as { default?: typeof AjvModule }).default ?? AjvModule;
const ajv = new (Ajv as unknown as new (o: object) => { compile(s: object): Validator })({ allErrors: true, useDefaults: true, strict: false });
const validators = new WeakMap<object, Validator>();

/** The kind's schema validator (compiled once per schema). */
export function paramsValidator(kind: StageKind): Validator {
  let v = validators.get(kind.params);
  if (!v) validators.set(kind.params, (v = ajv.compile(kind.params)));
  return v;
}

/** `params` with the schema's defaults filled in; throws naming the kind when they are invalid. */
export function withDefaults(kind: StageKind, params: Record<string, unknown>): Record<string, unknown> {
  const p = { ...params };
  const validate = paramsValidator(kind);
  if (!validate(p)) throw new Error(`${kind.kind}: ${JSON.stringify(validate.errors)}`);
  return p;
}

/** An in-memory table as an upstream artifact named `name` (its instance and output). */
export function tableArtifact(name: string, table: Table, params: Record<string, unknown> = {}): InputArtifact {
  return {
    instance: name, output: name, matrix: {}, params, digest: `${name}-digest`.padEnd(64, '0'), path: '/dev/null', kind: 'table',
    table: async () => table, bytes: async () => new Uint8Array(),
  };
}

export interface StageRun {
  result: StageResult;
  /** Every progress step reported, in order. */
  progress: number[];
  /** What the stage recorded for the manifest. */
  records: Record<string, unknown>;
}

export interface RunOptions {
  seed?: number;
  instance?: string;
  cacheKey?: string;
  scratchDir?: string;
}

export async function runStage(
  kind: StageKind,
  params: Record<string, unknown>,
  inputs: Record<string, InputArtifact | InputArtifact[]> = {},
  opts: RunOptions = {},
): Promise<StageRun> {
  const progress: number[] = [];
  const records: Record<string, unknown> = {};
  const ctx: StageContext<any> = {
    params: withDefaults(kind, params), seed: opts.seed ?? 0, inputs, instance: opts.instance ?? kind.kind, cacheKey: opts.cacheKey ?? 'k'.repeat(64),
    signal: new AbortController().signal,
    checkpoint: { latest: async () => null, save: async () => {} },
    progress: (s) => progress.push(s), metric: () => {}, log: () => {},
    record: (k, v) => {
      records[k] = v;
    },
    scratchDir: opts.scratchDir ?? tmpdir(),
  };
  return { result: await kind.run(ctx), progress, records };
}

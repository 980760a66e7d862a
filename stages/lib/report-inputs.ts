/**
 * Runs the report stage in-process on synthetic upstream tables: each input is an in-memory
 * Arrow table with the matrix coordinates and parameters an upstream instance would have, so the
 * stage's grouping (setting × method × critic seed × actor seed) and its outputs can be checked
 * without training anything. The tables carry the columns and metadata the real evaluate,
 * diagnose and load-dataset stages write.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RecordBatch, Schema, Table, tableFromArrays } from 'apache-arrow';
import stage from '../report.js';
import type { InputArtifact, OutputValue, StageResult } from '../../src/engine/stage.js';
import { runStage } from './test-harness.js';
import { isFileOutput } from '../../src/engine/stage.js';
import { instanceName } from '../../src/engine/plan.js';

type Matrix = Record<string, string | number>;

function withMeta(t: Table, meta: Record<string, string>): Table {
  const m = new Map(t.schema.metadata);
  for (const [k, v] of Object.entries(meta)) m.set(k, v);
  const schema = new Schema(t.schema.fields, m);
  return new Table(schema, t.batches.map((b) => new RecordBatch(schema, b.data)));
}

export function artifact(stageName: string, output: string, matrix: Matrix, table: Table, params: Record<string, unknown> = {}): InputArtifact {
  const instance = instanceName(stageName, matrix);
  return {
    instance, output, matrix, params, digest: `${instance}.${output}`.padEnd(64, '0'), path: '/dev/null', kind: 'table',
    table: async () => table, bytes: async () => new Uint8Array(),
  };
}

/** evaluate.episodes: `scores` per episode (success 0, ends 1.5 cells from the goal). */
export function episodes(matrix: Matrix, scores: number[]): InputArtifact {
  const n = scores.length;
  const t = tableFromArrays({
    episode: Int32Array.from({ length: n }, (_, i) => i), return: Float64Array.from(scores), score: Float64Array.from(scores),
    success: new Float64Array(n), final_cells_to_goal: new Float64Array(n).fill(1.5),
  });
  return artifact('evaluate', 'episodes', matrix, t, { episodes: n });
}

/** diagnose.actions with its summary JSON (policy std, edge fraction, ...). */
export function diagnostics(matrix: Matrix, summary: Record<string, number>): InputArtifact {
  const t = tableFromArrays({ a0: Float32Array.from([0.1, -0.9]), a1: Float32Array.from([0.2, 1]), std: Float64Array.from([summary['mean_std'] ?? 0, summary['mean_std'] ?? 0]) });
  return artifact('diagnose', 'actions', matrix, withMeta(t, { summary: JSON.stringify(summary) }));
}

/** load-dataset.action_hist with its coverage_summary and env_id metadata. */
export function coverage(matrix: Matrix, envId: string, summary: Record<string, number>, params: Record<string, unknown> = {}, extraMeta: Record<string, string> = {}): InputArtifact {
  const t = tableFromArrays({ a0: Float32Array.from([0]), a1: Float32Array.from([0]), count: Int32Array.from([1]), fraction: Float64Array.from([1]) });
  return artifact('dataset', 'action_hist', matrix, withMeta(t, { coverage_summary: JSON.stringify(summary), env_id: envId, ...extraMeta }), { env: envId, ...params });
}

export interface ReportRun {
  result: StageResult;
  text: string;
  html: string;
  table(name: string): Table;
}

export async function runReport(inputs: Record<string, InputArtifact[]>, params: Record<string, unknown> = {}, instance = 'report'): Promise<ReportRun> {
  const { result } = await runStage(stage, params, inputs, { instance, cacheKey: 'c'.repeat(64), scratchDir: mkdtempSync(join(tmpdir(), 'iqlp-report-')) });
  const file = (name: string) => {
    const o = result.outputs[name] as OutputValue | undefined;
    if (!o || !isFileOutput(o)) throw new Error(`no file output ${name}`);
    return new TextDecoder().decode(o.bytes);
  };
  return {
    result, text: file('summary'), html: file('html'),
    table: (name) => {
      const o = result.outputs[name];
      if (!(o instanceof Table)) throw new Error(`no table output ${name}`);
      return o;
    },
  };
}

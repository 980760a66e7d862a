/** A cheap, seeded numeric table: the smoke pipeline's data source and an engine test fixture. */
import { tableFromArrays } from 'apache-arrow';
import type { StageKind } from '../src/engine/stage.js';
import { syntheticTableSchema, type SyntheticTableParams } from './params/synthetic-table.js';

/** mulberry32: tiny, seeded, good enough for test data. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const stage: StageKind<SyntheticTableParams> = {
  kind: 'synthetic-table',
  version: '1',
  description: 'Generates a seeded table of uniform random float32 columns c0..cN.',
  params: syntheticTableSchema,
  inputs: {},
  outputs: { table: { description: 'rows × columns float32 values in [0, scale)' } },
  async run(ctx) {
    const { rows, columns, scale } = ctx.params;
    const next = rng(ctx.seed * 7919 + 1);
    const cols: Record<string, Float32Array> = {};
    for (let c = 0; c < columns; c++) {
      const a = new Float32Array(rows);
      for (let i = 0; i < rows; i++) a[i] = next() * scale;
      cols[`c${c}`] = a;
      ctx.progress(c + 1, columns);
    }
    return { outputs: { table: tableFromArrays(cols) }, summary: { rows, columns } };
  },
};
export default stage;

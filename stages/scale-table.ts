/** Multiplies every float column of a table by a factor (smoke pipeline, engine tests). */
import { tableFromArrays } from 'apache-arrow';
import type { InputArtifact, StageKind } from '../src/engine/stage.js';
import { scaleTableSchema, type ScaleTableParams } from './params/scale-table.js';

const stage: StageKind<ScaleTableParams> = {
  kind: 'scale-table',
  version: '1',
  description: 'Multiplies every column of the input table by `factor`.',
  params: scaleTableSchema,
  inputs: { table: { description: 'a numeric table' } },
  outputs: { table: { description: 'the scaled table' } },
  async run(ctx) {
    const input = await (ctx.inputs['table'] as InputArtifact).table();
    const cols: Record<string, Float32Array> = {};
    for (const f of input.schema.fields) {
      const src = input.getChild(f.name)!.toArray() as ArrayLike<number>;
      const out = new Float32Array(src.length);
      for (let i = 0; i < src.length; i++) out[i] = src[i]! * ctx.params.factor;
      cols[f.name] = out;
    }
    return { outputs: { table: tableFromArrays(cols) }, summary: { rows: input.numRows } };
  },
};
export default stage;

/** A stage kind that does nothing but return a one-row table: what a benchmark of the controller's own overhead runs. */
import { tableFromArrays } from 'apache-arrow';
import type { StageKind } from '../src/engine/stage.js';

const stage: StageKind<{ i: number }> = {
  kind: 'noop',
  version: '1',
  description: 'Returns a one-row table holding its parameter i (no work: controller overhead only).',
  params: { type: 'object', additionalProperties: false, properties: { i: { type: 'integer', default: 0 } } },
  inputs: {},
  outputs: { out: { description: 'one row: i' } },
  async run(ctx) {
    return { outputs: { out: tableFromArrays({ i: Int32Array.of(ctx.params.i) }) } };
  },
};
export default stage;

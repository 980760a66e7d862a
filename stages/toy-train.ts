/**
 * A deterministic "training loop" that checkpoints: the engine's resume tests kill it mid-run and
 * check that a re-run continues from the checkpoint and ends with the same result.
 */
import { tableFromArrays } from 'apache-arrow';
import type { InputArtifact, StageKind } from '../src/engine/stage.js';
import { toyTrainSchema, type ToyTrainParams } from './params/toy-train.js';


const stage: StageKind<ToyTrainParams> = {
  kind: 'toy-train',
  version: '1',
  description: 'Gradient descent on the mean squared distance to the column means of the input; checkpoints as it goes.',
  params: toyTrainSchema,
  inputs: { table: { description: 'a numeric table (its column means are the target)' } },
  outputs: {
    weights: { description: 'the learned vector (one row per column)' },
    curve: { description: 'loss per step' },
  },
  async run(ctx) {
    const { steps, checkpoint_every, step_ms, lr } = ctx.params;
    const input = await (ctx.inputs['table'] as InputArtifact).table();
    const names = input.schema.fields.map((f) => f.name);
    const target = names.map((n) => {
      const v = input.getChild(n)!.toArray() as ArrayLike<number>;
      let s = 0;
      for (let i = 0; i < v.length; i++) s += v[i]!;
      return s / Math.max(1, v.length);
    });
    let w = new Float64Array(names.length);
    let losses: number[] = [];
    let start = 0;
    const ck = await ctx.checkpoint.latest();
    if (ck) {
      w = Float64Array.from(ck.tables['weights']!.getChild('w')!.toArray() as Float64Array);
      losses = Array.from(ck.tables['curve']!.getChild('loss')!.toArray() as Float64Array);
      start = ck.step;
    }
    for (let step = start; step < steps; step++) {
      if (ctx.signal.aborted) throw new Error('interrupted');
      let loss = 0;
      for (let j = 0; j < w.length; j++) {
        const d = w[j]! - target[j]!;
        loss += d * d;
        w[j] = w[j]! - lr * 2 * d;
      }
      losses.push(loss);
      ctx.metric('loss', loss, step + 1);
      ctx.progress(step + 1, steps);
      if (step_ms > 0) await new Promise((r) => setTimeout(r, step_ms));
      if ((step + 1) % checkpoint_every === 0 && step + 1 < steps) {
        await ctx.checkpoint.save({
          step: step + 1,
          meta: {},
          tables: { weights: tableFromArrays({ w: Float64Array.from(w) }), curve: tableFromArrays({ loss: Float64Array.from(losses) }) },
        });
      }
    }
    return {
      outputs: {
        weights: tableFromArrays({ column: names, w: Float64Array.from(w) }),
        curve: tableFromArrays({ step: Int32Array.from(losses.map((_, i) => i + 1)), loss: Float64Array.from(losses) }),
      },
      summary: { final_loss: losses[losses.length - 1] ?? NaN, resumed_from: start },
    };
  },
};
export default stage;

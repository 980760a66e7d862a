import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../nn/backend.js';
import {
  awrWeights,
  categoricalLogProb,
  ddpgLoss,
  episodeBounds,
  episodeReturns,
  expectileLoss,
  gaussianLogProb,
  tdLoss,
  transformRewards,
  weightedNll,
  type Transitions,
} from './common.js';
import { actionsToBins, binCenters, categoricalStats } from './policy.js';

const LOG2PI = Math.log(2 * Math.PI);

/** Every loss on tiny batches, with the values worked out by hand. */
function lossValues(): Record<string, number[]> {
  return tf.tidy(() => {
    const v = (t: tf.Tensor) => Array.from(t.dataSync());
    return {
      td: v(tdLoss(tf.tensor1d([1, 2, 3]), tf.tensor1d([1.5, 2, 1]))),
      expectile: v(expectileLoss(tf.tensor2d([1, -2, 0.5, 0], [4, 1]), 0.7)),
      weights: v(awrWeights(tf.tensor1d([0, 1, 2]), 3, 100)),
      gaussLogp: v(gaussianLogProb(tf.tensor2d([[0, 1]]), tf.tensor1d([0, Math.log(2)]), tf.tensor2d([[1, 0]]))),
      nll: v(weightedNll(tf.tensor1d([-1, -2]), tf.tensor2d([1, 3], [2, 1]))),
      ddpg: v(ddpgLoss(tf.tensor2d([1, 3], [2, 1]), tf.tensor2d([[0.5], [0]]), tf.tensor2d([[0], [1]]), 0.5)),
      ddpgPure: v(ddpgLoss(tf.tensor2d([1, 3], [2, 1]), tf.tensor2d([[0.5], [0]]), tf.tensor2d([[0], [1]]), 0)),
      catLogp: v(categoricalLogProb(tf.tensor3d([[[0, 0, Math.log(2)], [Math.log(3), 0, 0]]]), tf.tensor2d([[2, 1]], [1, 2], 'int32'))),
      discreteLoss: v(
        weightedNll(
          categoricalLogProb(tf.tensor3d([[[0, 0, Math.log(2)]], [[0, 0, 0]]]), tf.tensor2d([[2], [0]], [2, 1], 'int32')),
          tf.tensor1d([2, 1]),
        ),
      ),
    };
  });
}

const EXPECTED: Record<string, number[]> = {
  td: [(0.25 + 0 + 4) / 3],
  // weights τ=0.7 where diff > 0, 0.3 elsewhere: (0.7·1 + 0.3·4 + 0.7·0.25 + 0.3·0) / 4
  expectile: [(0.7 + 1.2 + 0.175) / 4],
  weights: [1, Math.exp(3), 100],
  // dim 0: z = 1, σ = 1; dim 1: z = −0.5, σ = 2
  gaussLogp: [-0.5 - 0.5 * LOG2PI + (-0.125 - Math.log(2) - 0.5 * LOG2PI)],
  nll: [3.5],
  ddpg: [-2 + 0.5 * ((0.25 + 1) / 2)],
  ddpgPure: [-2],
  // dim 0: p = (¼, ¼, ½), bin 2 → ln ½; dim 1: p = (⅗, ⅕, ⅕), bin 1 → ln ⅕
  catLogp: [Math.log(0.5) + Math.log(0.2)],
  // −mean(2·ln ½, 1·ln ⅓)
  discreteLoss: [-(2 * Math.log(0.5) + Math.log(1 / 3)) / 2],
};

test('losses match hand-computed values on cpu and wasm', async () => {
  for (const backend of ['cpu', 'wasm'] as const) {
    await initBackend(backend);
    const got = lossValues();
    for (const [k, exp] of Object.entries(EXPECTED)) {
      const g = got[k]!;
      assert.equal(g.length, exp.length, `${backend} ${k}`);
      exp.forEach((e, i) => assert.ok(Math.abs(g[i]! - e) < 1e-5 * Math.max(1, Math.abs(e)), `${backend} ${k}[${i}]: ${g[i]} vs ${e}`));
    }
  }
});

test('expectile loss gradient: τ-weighted, zero-weight derivative through the step', async () => {
  await initBackend('wasm');
  const g = tf.tidy(() => Array.from(tf.grad((d: tf.Tensor) => expectileLoss(d, 0.9))(tf.tensor1d([2, -1])).dataSync()));
  // d/dd of mean(w·d²) = w·2d/2
  assert.ok(Math.abs(g[0]! - 0.9 * 2) < 1e-6 && Math.abs(g[1]! - 0.1 * -1) < 1e-6, `${g}`);
});

function episodes(): Transitions {
  // Two episodes: rows 0-1 (terminal at 1), rows 2-4 (last row). Obs are 1-D and continuous
  // inside an episode; row 3 → 4 breaks continuity only if nextObs differs.
  const obs = [0, 1, 10, 11, 12];
  const next = [1, 2, 11, 12, 13];
  return {
    size: 5,
    obsDim: 1,
    actDim: 1,
    observations: Float32Array.from(obs),
    actions: new Float32Array(5),
    nextObservations: Float32Array.from(next),
    rewards: Float32Array.from([1, 2, 3, 4, 5]),
    terminals: Float32Array.from([0, 1, 0, 0, 0]),
    timeouts: new Float32Array(5),
    envId: 'test',
  };
}

test('reward transforms: none, antmaze (r − 1), locomotion (1000 / return span)', () => {
  const d = episodes();
  assert.deepEqual(episodeBounds(d), [
    [0, 2],
    [2, 5],
  ]);
  assert.deepEqual(episodeReturns(d), [3, 12]);
  assert.deepEqual(Array.from(transformRewards(d, 'none')), [1, 2, 3, 4, 5]);
  assert.deepEqual(Array.from(transformRewards(d, 'antmaze')), [0, 1, 2, 3, 4]);
  const loc = transformRewards(d, 'locomotion');
  [1, 2, 3, 4, 5].forEach((r, i) => assert.ok(Math.abs(loc[i]! - (r * 1000) / 9) < 1e-3));
  // A discontinuity (next obs ≠ following obs) also ends an episode; so does a timeout.
  const d2 = { ...d, nextObservations: Float32Array.from([1, 2, 11, 99, 13]), terminals: new Float32Array(5), timeouts: Float32Array.from([0, 1, 0, 0, 0]) };
  assert.deepEqual(episodeBounds(d2), [
    [0, 2],
    [2, 4],
    [4, 5],
  ]);
});

test('action bins: centres include the edges, nearest-bin assignment, categorical stats', async () => {
  assert.deepEqual(Array.from(binCenters(5, -1, 1)), [-1, -0.5, 0, 0.5, 1]);
  assert.deepEqual(Array.from(actionsToBins(Float32Array.from([-1, -0.74, -0.76, 0.1, 1, 3]), 5, -1, 1)), [0, 1, 0, 2, 4, 4]);
  await initBackend('wasm');
  const { std, entropy } = tf.tidy(() => {
    const s = categoricalStats(tf.tensor3d([[[0, -1e9, 0]], [[-1e9, 0, -1e9]]]), tf.tensor1d([-1, 0, 1]));
    return { std: Array.from(s.std.dataSync()), entropy: Array.from(s.entropy.dataSync()) };
  });
  assert.ok(Math.abs(std[0]! - 1) < 1e-5 && Math.abs(std[1]!) < 1e-3, `std ${std}`);
  assert.ok(Math.abs(entropy[0]! - Math.log(2)) < 1e-5 && Math.abs(entropy[1]!) < 1e-5, `entropy ${entropy}`);
});

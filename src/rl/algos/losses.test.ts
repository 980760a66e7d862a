/**
 * The objectives of losses.ts: the plain losses against values worked out by hand, and each
 * hand-derived gradient (what the training steps run) against tfjs autograd of its plain loss.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../nn/backend.js';
import { Rng } from '../rng.js';
import {
  awrDiscreteLoss,
  awrDiscreteLossGrad,
  awrGaussianLoss,
  awrGaussianLossGrad,
  awrWeights,
  categoricalLogProb,
  ddpgLoss,
  ddpgLossGrad,
  expectileLoss,
  expectileValueLoss,
  expectileValueLossGrad,
  gaussianLogProb,
  tdLoss,
  tdLossGrad,
  weightedNll,
} from './losses.js';

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

/** Random tensors from a seeded stream. */
function rand(rng: Rng, shape: number[], lo = -1, hi = 1): tf.Tensor {
  return tf.tensor(Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rng.uniform(lo, hi)), shape);
}

function assertClose(got: tf.Tensor, want: tf.Tensor, label: string): void {
  assert.deepEqual(got.shape, want.shape, `${label}: shape`);
  const g = got.dataSync();
  const w = want.dataSync();
  for (let i = 0; i < w.length; i++) assert.ok(Math.abs(g[i]! - w[i]!) <= 1e-5 * Math.max(1, Math.abs(w[i]!)), `${label}[${i}]: ${g[i]} vs ${w[i]}`);
}

/** Each objective's hand-derived gradient vs tf.grad of its plain loss, on every backend that initialises here. */
test('each loss gradient equals autograd of its plain loss (expectile, TD, Gaussian AWR, discrete AWR, DDPG(+BC) with Q normalisation)', async () => {
  const seen = new Set<string>();
  for (const pref of ['cpu', 'wasm', 'node'] as const) {
    const info = await initBackend(pref);
    if (seen.has(info.name)) continue; // 'node' fell back to wasm: tfjs-node not installed
    seen.add(info.name);
    const rng = new Rng(3);
    const B = 6;
    const D = 2;
    tf.tidy(() => {
      for (const tau of [0.7, 0.9, 0.3]) {
        const label = `${info.name} expectile τ=${tau}`;
        const qTarget = rand(rng, [B, 1]);
        const v = rand(rng, [B, 1]);
        const g = expectileValueLossGrad(qTarget, v, tau);
        assertClose(g.loss, expectileValueLoss(qTarget, v, tau), `${label} loss`);
        assertClose(g.dV, tf.grad((x: tf.Tensor) => expectileValueLoss(qTarget, x, tau))(v), `${label} dV`);
        assertClose(g.u, tf.sub(qTarget, v), `${label} u`);
      }

      const q = rand(rng, [2, B, 1]);
      const y = rand(rng, [B, 1]);
      const td = tdLossGrad(q, y);
      const [q1, q2] = tf.unstack(q);
      assertClose(td.losses, tf.stack([tdLoss(q1!, y), tdLoss(q2!, y)]), `${info.name} TD losses`);
      assertClose(td.dQ, tf.grad((x: tf.Tensor) => tf.add(tdLoss(tf.unstack(x)[0]!, y), tdLoss(tf.unstack(x)[1]!, y)))(q), `${info.name} TD dQ`);

      const act = rand(rng, [B, D], -0.9, 0.9) as tf.Tensor2D;
      const w = rand(rng, [B, 1], 0, 3);
      const out = rand(rng, [B, D], -2, 2);
      const clip = { min: -5, max: 0.5 };
      const rawLogStd = tf.tensor1d([0.2, 0.8]); // the second is outside the clip: no gradient
      const awr = awrGaussianLossGrad(out, rawLogStd, act, w, clip);
      const [dOut, dLogStd] = tf.grads((o: tf.Tensor, l: tf.Tensor) => awrGaussianLoss(o, l, act, w, clip))([out, rawLogStd]);
      assertClose(awr.loss, awrGaussianLoss(out, rawLogStd, act, w, clip), `${info.name} AWR loss`);
      assertClose(awr.dOut, dOut!, `${info.name} AWR dL/do`);
      assertClose(awr.dLogStd, dLogStd!, `${info.name} AWR dL/dlog σ`);
      assert.equal(awr.dLogStd.dataSync()[1], 0, 'no gradient outside the clip');

      const K = 5;
      const logits = rand(rng, [B, D, K], -2, 2) as tf.Tensor3D;
      const bins = tf.tensor2d(Array.from({ length: B * D }, () => rng.int(K)), [B, D], 'int32');
      const disc = awrDiscreteLossGrad(logits, bins, w);
      assertClose(disc.loss, awrDiscreteLoss(logits, bins, w), `${info.name} discrete loss`);
      assertClose(disc.dLogits, tf.grad((x: tf.Tensor) => awrDiscreteLoss(x as tf.Tensor3D, bins, w))(logits), `${info.name} discrete dL/dlogits`);

      // DDPG through a known "critic" q_b = Σ_d c_d π_bd − Σ_d π²_bd, so ∂q/∂π = c − 2π.
      const c = tf.tensor1d([1.5, -0.7]);
      const qOf = (pi: tf.Tensor) => tf.sub(tf.sum(tf.mul(pi, c), 1, true), tf.sum(tf.square(pi), 1, true));
      const pi = tf.tanh(out);
      for (const [alpha, qNormalize] of [[0, false], [0.5, false], [0, true], [2.5, true]] as const) {
        const label = `${info.name} DDPG α=${alpha} qNormalize=${qNormalize}`;
        const qv = qOf(pi);
        const g = ddpgLossGrad(qv, tf.sub(c, tf.mul(pi, 2)), pi, act, alpha, qNormalize);
        const lambda = qNormalize ? 1 / tf.mean(tf.abs(qv)).dataSync()[0]! : 1; // a constant of the loss
        const plain = (o: tf.Tensor) => ddpgLoss(qOf(tf.tanh(o)), tf.tanh(o) as tf.Tensor2D, act, alpha, lambda);
        assertClose(g.loss, plain(out), `${label} loss`);
        assertClose(g.dOut, tf.grad(plain)(out), `${label} dL/do`);
      }
    });
  }
  await initBackend('wasm');
});

/**
 * Shared pieces of IQL and the policy extractions: the dataset on the device, minibatch
 * sampling, reward transforms, and the loss functions (exported so tests can check each one
 * against hand-computed values).
 */
import * as tf from '@tensorflow/tfjs';
import type { Transitions } from '../data/dataset.js';
import type { Rng } from '../rng.js';

export type { Transitions };

// ---------------------------------------------------------------------------------------------
// Reward transforms (as the official IQL code applies them before training)

export type RewardTransform = 'none' | 'antmaze' | 'locomotion';

/**
 * Episode boundaries as official IQL's split_into_trajectories: an episode ends at a terminal,
 * a timeout, where the next observation does not continue into the following row, or at the
 * last row. Returns [start, end) pairs.
 */
export function episodeBounds(data: Transitions): Array<[number, number]> {
  const { size, obsDim, observations: o, nextObservations: o2 } = data;
  const out: Array<[number, number]> = [];
  let start = 0;
  for (let i = 0; i < size; i++) {
    let end = i === size - 1 || data.terminals[i]! > 0.5 || data.timeouts[i]! > 0.5;
    if (!end) {
      for (let k = 0; k < obsDim; k++) {
        if (Math.abs(o2[i * obsDim + k]! - o[(i + 1) * obsDim + k]!) > 1e-6) {
          end = true;
          break;
        }
      }
    }
    if (end) {
      out.push([start, i + 1]);
      start = i + 1;
    }
  }
  return out;
}

/** Undiscounted return of each episode (episodeBounds order). */
export function episodeReturns(data: Transitions): number[] {
  return episodeBounds(data).map(([s, e]) => {
    let r = 0;
    for (let i = s; i < e; i++) r += data.rewards[i]!;
    return r;
  });
}

/**
 * Rewards after the transform:
 * - none:        r
 * - antmaze:     r − 1
 * - locomotion:  r · 1000 / (max episode return − min episode return)
 */
export function transformRewards(data: Transitions, kind: RewardTransform): Float32Array {
  const r = Float32Array.from(data.rewards);
  if (kind === 'none') return r;
  if (kind === 'antmaze') {
    for (let i = 0; i < r.length; i++) r[i] = r[i]! - 1;
    return r;
  }
  if (kind === 'locomotion') {
    const rets = episodeReturns(data);
    const span = Math.max(...rets) - Math.min(...rets);
    if (!(span > 0)) throw new Error('locomotion reward transform: all episode returns are equal');
    const scale = 1000 / span;
    for (let i = 0; i < r.length; i++) r[i] = r[i]! * scale;
    return r;
  }
  throw new Error(`unknown reward transform '${String(kind)}'`);
}

// ---------------------------------------------------------------------------------------------
// Dataset on the device, built once; minibatches are gathers with sampled indices

export interface DeviceDataOptions {
  rewards?: Float32Array;
  /** Also build [obs, act] rows (the critic's input). */
  obsAct?: boolean;
  /** Also build next observations, rewards and discount·(1 − terminal) (TD targets). */
  td?: { discount: number };
}

export class DeviceData {
  readonly size: number;
  readonly obsDim: number;
  readonly actDim: number;
  readonly obs: tf.Tensor2D;
  readonly act: tf.Tensor2D;
  readonly obsAct: tf.Tensor2D | null;
  readonly nextObs: tf.Tensor2D | null;
  /** [N, 1] */
  readonly reward: tf.Tensor2D | null;
  /** [N, 1]: discount · (1 − terminal) */
  readonly discountMask: tf.Tensor2D | null;

  constructor(data: Transitions, opts: DeviceDataOptions = {}) {
    validateShapes(data);
    const { size, obsDim, actDim } = data;
    this.size = size;
    this.obsDim = obsDim;
    this.actDim = actDim;
    this.obs = tf.keep(tf.tensor2d(data.observations, [size, obsDim], 'float32'));
    this.act = tf.keep(tf.tensor2d(data.actions, [size, actDim], 'float32'));
    this.obsAct = opts.obsAct ? tf.keep(tf.concat([this.obs, this.act], 1)) : null;
    if (opts.td) {
      const rewards = opts.rewards ?? data.rewards;
      const mask = new Float32Array(size);
      for (let i = 0; i < size; i++) mask[i] = opts.td.discount * (1 - data.terminals[i]!);
      this.nextObs = tf.keep(tf.tensor2d(data.nextObservations, [size, obsDim], 'float32'));
      this.reward = tf.keep(tf.tensor2d(rewards, [size, 1], 'float32'));
      this.discountMask = tf.keep(tf.tensor2d(mask, [size, 1], 'float32'));
    } else {
      this.nextObs = this.reward = this.discountMask = null;
    }
  }

  dispose(): void {
    for (const t of [this.obs, this.act, this.obsAct, this.nextObs, this.reward, this.discountMask]) t?.dispose();
  }
}

export function validateShapes(d: Transitions): void {
  const n = d.size;
  const check = (name: string, arr: Float32Array | undefined, len: number) => {
    if (!arr || arr.length !== len) throw new Error(`Transitions.${name}: expected ${len} values, got ${arr?.length}`);
  };
  if (!(n > 0)) throw new Error('Transitions: empty dataset');
  check('observations', d.observations, n * d.obsDim);
  check('actions', d.actions, n * d.actDim);
  check('nextObservations', d.nextObservations, n * d.obsDim);
  check('rewards', d.rewards, n);
  check('terminals', d.terminals, n);
  check('timeouts', d.timeouts, n);
}

/** Uniform minibatch indices (with replacement, as the reference implementations). */
export function sampleIndices(rng: Rng, size: number, count: number): Int32Array {
  const idx = new Int32Array(count);
  for (let i = 0; i < count; i++) idx[i] = rng.int(size);
  return idx;
}

// ---------------------------------------------------------------------------------------------
// Losses (all return scalars; inputs [B, 1] or [B])

/** Mean squared TD error: mean((q − y)²). */
export function tdLoss(q: tf.Tensor, y: tf.Tensor): tf.Scalar {
  return tf.mean(tf.square(tf.sub(q, y)));
}

/**
 * IQL expectile loss on diff = Q(s,a) − V(s): mean(|τ − 1(diff ≤ 0)| · diff²), i.e. weight τ
 * where diff > 0 and 1 − τ elsewhere (as the official code's where(diff > 0, τ, 1 − τ)).
 */
export function expectileLoss(diff: tf.Tensor, tau: number): tf.Scalar {
  const w = tf.add(tf.mul(tf.step(diff), 2 * tau - 1), 1 - tau);
  return tf.mean(tf.mul(w, tf.square(diff)));
}

/** Exponentiated-advantage weights min(exp(β·adv), maxWeight). */
export function awrWeights(adv: tf.Tensor, beta: number, maxWeight: number): tf.Tensor {
  return tf.minimum(tf.exp(tf.mul(adv, beta)), maxWeight);
}

/**
 * Diagonal Gaussian log-density per row: Σ_d −½((a−μ)/σ)² − log σ − ½ log 2π.
 * mean, act: [B, D]; logStd: [D] or [B, D]. Returns [B].
 */
export function gaussianLogProb(mean: tf.Tensor2D, logStd: tf.Tensor, act: tf.Tensor2D): tf.Tensor1D {
  const z = tf.mul(tf.sub(act, mean), tf.exp(tf.neg(logStd)));
  const perDim = tf.sub(tf.mul(tf.square(z), -0.5), tf.add(logStd, 0.5 * Math.log(2 * Math.PI)));
  return tf.sum(perDim, 1) as tf.Tensor1D;
}

/** Weighted negative log-likelihood: −mean(w · logp). */
export function weightedNll(logp: tf.Tensor, w: tf.Tensor): tf.Scalar {
  return tf.neg(tf.mean(tf.mul(tf.reshape(w, [-1]), tf.reshape(logp, [-1]))));
}

/**
 * DDPG(+BC) extraction loss: −λ · mean Q(s, π(s)) + α · mean_b ‖π(s) − a‖² (squared L2 norm
 * summed over action dims, averaged over the batch; α = 0 is pure DDPG). λ (`qScale`) is a
 * number, a constant of the loss: 1 without Q normalisation, 1/mean_b |Q| with it (computed by
 * the caller outside any gradient, i.e. stop-gradient).
 */
export function ddpgLoss(q: tf.Tensor, pi: tf.Tensor2D, act: tf.Tensor2D, alpha: number, qScale = 1): tf.Scalar {
  const qTerm = (qScale === 1 ? tf.neg(tf.mean(q)) : tf.mul(tf.mean(q), -qScale)) as tf.Scalar;
  if (alpha === 0) return qTerm;
  return tf.add(qTerm, tf.mul(tf.mean(tf.sum(tf.square(tf.sub(pi, act)), 1)), alpha)) as tf.Scalar;
}

/**
 * Factorised categorical log-likelihood of the data bins: logits [B, D, K], bins [B, D] int32.
 * Returns Σ_d log softmax(logits)[b, d, bin] per row: [B].
 */
export function categoricalLogProb(logits: tf.Tensor3D, bins: tf.Tensor2D): tf.Tensor1D {
  const K = logits.shape[2];
  const logp = tf.logSoftmax(logits, -1);
  return tf.sum(tf.mul(logp, tf.cast(tf.oneHot(bins, K), 'float32')), [1, 2]) as tf.Tensor1D;
}

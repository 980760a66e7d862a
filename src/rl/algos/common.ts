/**
 * Shared pieces of IQL and the policy extractions: the dataset on the device, minibatch
 * sampling and reward transforms (the losses are in losses.ts).
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

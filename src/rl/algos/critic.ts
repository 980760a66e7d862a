/**
 * A frozen IQL critic: twin Q (Q1, Q2: MLP([obs, act]) → 1) and V (MLP(obs) → 1), used by the
 * policy extractions. Built from a trained IQL (`iql.critic()`, which snapshots the TARGET Q
 * nets and the V net, as the official IQL actor update uses) or from an Arrow table
 * (`criticFromTable`: an exported critic or a full IQL state checkpoint).
 */
import * as arrow from 'apache-arrow';
import * as tf from '@tensorflow/tfjs';
import { FrozenMlp, mlpNames, mlpShapes } from '../nn/dense.js';
import { readMetadata, requireWeight, tableToWeights, weightsToTable, type NamedArray } from '../nn/serialize.js';

export type QReduce = 'min' | 'mean' | 'q1';

export interface CriticSpec {
  obsDim: number;
  actDim: number;
  hidden: number[];
}

export class Critic {
  readonly spec: CriticSpec;
  readonly q1: FrozenMlp;
  readonly q2: FrozenMlp;
  readonly v: FrozenMlp;

  /** params: per-network lists [W0, b0, ...] (copied). */
  constructor(spec: CriticSpec, params: { q1: readonly tf.Tensor[]; q2: readonly tf.Tensor[]; v: readonly tf.Tensor[] }) {
    this.spec = { obsDim: spec.obsDim, actDim: spec.actDim, hidden: spec.hidden.slice() };
    this.q1 = new FrozenMlp(params.q1);
    this.q2 = new FrozenMlp(params.q2);
    this.v = new FrozenMlp(params.v);
  }

  get obsDim(): number {
    return this.spec.obsDim;
  }
  get actDim(): number {
    return this.spec.actDim;
  }

  /** Q(s, a) reduced over the twins, [B, 1]; differentiable w.r.t. act (DDPG). */
  q(obs: tf.Tensor2D, act: tf.Tensor2D, reduce: QReduce = 'min'): tf.Tensor2D {
    const sa = tf.concat([obs, act], 1);
    if (reduce === 'q1') return this.q1.apply(sa);
    const a = this.q1.apply(sa);
    const b = this.q2.apply(sa);
    return reduce === 'min' ? tf.minimum(a, b) : tf.mul(tf.add(a, b), 0.5);
  }

  /** Advantage min(Q1, Q2)(s, a) − V(s) without tape, [B, 1]; obsAct = [obs, act] rows. */
  advantage(obsAct: tf.Tensor2D, obs: tf.Tensor2D): tf.Tensor2D {
    return tf.tidy(() => tf.sub(tf.minimum(this.q1.infer(obsAct), this.q2.infer(obsAct)), this.v.infer(obs)));
  }

  /** Plain-JS helper: Q1, Q2, V for rows of obs/act (tests, diagnostics). */
  evaluate(obs: Float32Array, act: Float32Array, n: number): { q1: Float32Array; q2: Float32Array; v: Float32Array } {
    return tf.tidy(() => {
      const o = tf.tensor2d(obs, [n, this.obsDim]);
      const sa = tf.concat([o, tf.tensor2d(act, [n, this.actDim])], 1);
      return {
        q1: this.q1.infer(sa).dataSync() as Float32Array,
        q2: this.q2.infer(sa).dataSync() as Float32Array,
        v: this.v.infer(o).dataSync() as Float32Array,
      };
    });
  }

  /** Export as an Arrow table: rows q1/l0/W ... q2/... v/..., metadata format 'iql-critic'. */
  toTable(extraMeta: Record<string, unknown> = {}): arrow.Table {
    const named: Record<string, tf.Tensor> = {};
    for (const [prefix, net] of [['q1', this.q1], ['q2', this.q2], ['v', this.v]] as const) {
      const names = mlpNames(prefix === 'v' ? vSizes(this.spec) : qSizes(this.spec));
      net.params.forEach((p, i) => (named[`${prefix}/${names[i]}`] = p));
    }
    return weightsToTable(named, { format: 'iql-critic', version: 1, ...this.spec, ...extraMeta });
  }

  dispose(): void {
    this.q1.dispose();
    this.q2.dispose();
    this.v.dispose();
  }
}

export function qSizes(s: CriticSpec): number[] {
  return [s.obsDim + s.actDim, ...s.hidden, 1];
}
export function vSizes(s: CriticSpec): number[] {
  return [s.obsDim, ...s.hidden, 1];
}

/**
 * Rebuild a critic from a table written by Critic.toTable (format 'iql-critic') or by
 * IQL.exportState (format 'iql-state': the target Q nets and V are used).
 */
export function criticFromTable(table: arrow.Table): Critic {
  const meta = readMetadata(table);
  const spec: CriticSpec = { obsDim: Number(meta['obsDim']), actDim: Number(meta['actDim']), hidden: meta['hidden'] as number[] };
  if (!(spec.obsDim > 0) || !(spec.actDim > 0) || !Array.isArray(spec.hidden)) {
    throw new Error('criticFromTable: metadata needs obsDim, actDim, hidden');
  }
  const w = tableToWeights(table);
  const qPrefix = meta['format'] === 'iql-state' ? 'target/' : '';
  const load = (prefix: string, sizes: number[]): tf.Tensor[] => {
    const shapes = mlpShapes(sizes);
    return mlpNames(sizes).map((n, i) => toTensor(requireWeight(w, `${prefix}/${n}`, shapes[i])));
  };
  const q1 = load(`${qPrefix}q1`, qSizes(spec));
  const q2 = load(`${qPrefix}q2`, qSizes(spec));
  const v = load('v', vSizes(spec));
  const critic = new Critic(spec, { q1, q2, v });
  for (const t of [...q1, ...q2, ...v]) t.dispose();
  return critic;
}

function toTensor(a: NamedArray): tf.Tensor {
  return tf.tensor(a.values, a.shape, 'float32');
}

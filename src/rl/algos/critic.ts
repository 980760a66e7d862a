/**
 * A frozen IQL critic: twin Q (Q1, Q2: MLP([obs, act]) → 1) and V (MLP(obs) → 1), used by the
 * policy extractions. Built from a trained IQL (`iql.critic()`, which snapshots the TARGET Q
 * nets and the V net, as the official IQL actor update uses) or from an Arrow table
 * (`criticFromTable`: an exported critic or a full IQL state checkpoint).
 */
import * as arrow from 'apache-arrow';
import * as tf from '@tensorflow/tfjs';
import { FrozenMlp, isNativeBackend, mlpBackward, mlpForward, mlpNames, mlpShapes } from '../nn/dense.js';
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

  /**
   * Q(s, a) reduced over the twins [B, 1] and its gradient w.r.t. the action, ∂q_b/∂a_b [B, actDim],
   * without a tape (DDPG's actor step backpropagates it through the actor). Row b's value depends
   * only on row b's action, so one backward of Σ_b q_b gives every row's gradient. Where the twins
   * tie, 'min' sends the gradient to Q1 (as tfjs's minimum gradient does). On the native backend the
   * twins run as one batched matmul per layer.
   */
  qWithActionGrad(obs: tf.Tensor2D, act: tf.Tensor2D, reduce: QReduce = 'min'): { q: tf.Tensor2D; dqda: tf.Tensor2D } {
    return tf.tidy(() => {
      const B = obs.shape[0];
      const sa = tf.concat([obs, act], 1);
      const backward = (dy: tf.Tensor, pass: ReturnType<typeof mlpForward>, net: FrozenMlp) =>
        mlpBackward(dy, pass, net.params, { paramGrads: false, inputGrad: true, Wt: net.Wt }).dx!;
      let q: tf.Tensor;
      let dsa: tf.Tensor;
      if (reduce === 'q1') {
        const p1 = mlpForward(sa, this.q1.params);
        q = p1.out;
        dsa = backward(tf.onesLike(q), p1, this.q1);
      } else {
        const native = isNativeBackend();
        const pass = native ? mlpForward(sa, this.twinParams(), true) : null;
        const p1 = native ? null : mlpForward(sa, this.q1.params);
        const p2 = native ? null : mlpForward(sa, this.q2.params);
        const [q1, q2] = pass ? tf.unstack(pass.out) : [p1!.out, p2!.out];
        const d1 = reduce === 'min' ? tf.cast(tf.lessEqual(q1!, q2!), 'float32') : tf.fill([B, 1], 0.5);
        const d2 = tf.sub(1, d1);
        q = reduce === 'min' ? tf.minimum(q1!, q2!) : tf.mul(tf.add(q1!, q2!), 0.5);
        dsa = pass
          ? tf.sum(mlpBackward(tf.stack([d1, d2]), pass, this.twinParams(), { paramGrads: false, inputGrad: true, native }).dx!, 0)
          : tf.add(backward(d1, p1!, this.q1), backward(d2, p2!, this.q2));
      }
      const dqda = tf.slice(dsa, [0, this.obsDim], [B, this.actDim]);
      return { q: q as tf.Tensor2D, dqda: dqda as tf.Tensor2D };
    });
  }

  private twins: tf.Tensor[] | null = null;

  /** Q1 and Q2 stacked per layer: W [2, in, out], b [2, 1, out] (kept; built on first use). */
  private twinParams(): tf.Tensor[] {
    if (!this.twins) {
      this.twins = this.q1.params.map((p, i) =>
        tf.keep(p.rank === 2 ? tf.stack([p, this.q2.params[i]!]) : tf.reshape(tf.stack([p, this.q2.params[i]!]), [2, 1, p.shape[0]!])),
      );
    }
    return this.twins;
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
    for (const t of this.twins ?? []) t.dispose();
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

/**
 * A frozen IQL critic: twin Q (Q1, Q2: MLP([obs, act]) → 1) and V (MLP(obs) → 1), used by the
 * policy extractions. Built from a trained IQL (`iql.critic()`, which snapshots the TARGET Q
 * nets and the V net, as the official IQL actor update uses) or from an Arrow table
 * (`criticFromTable`: an exported critic or a full IQL state checkpoint).
 *
 * The nets' architecture (activation, LayerNorm) and the observation statistics fit-iql trained
 * with (obs-norm.ts) are part of the critic: every method takes RAW observations and normalises
 * them itself, unless told with `{ normalizedObs: true }` that its caller already did (the
 * extractor normalises its dataset once).
 */
import * as arrow from 'apache-arrow';
import * as tf from '@tensorflow/tfjs';
import {
  archFromMetadata,
  archMetadata,
  FrozenMlp,
  isNativeBackend,
  mlpBackward,
  mlpForward,
  mlpNames,
  PLAIN_RELU,
  type MlpArch,
} from '../nn/dense.js';
import { readMetadata, readMlpWeights, tableToWeights, weightsToTable, type NamedArray } from '../nn/serialize.js';
import { stackTwinParams } from '../nn/twin.js';
import { normalizeObs, obsNormFromMetadata, obsNormMetadata, type ObsNorm } from './obs-norm.js';

export type QReduce = 'min' | 'mean' | 'q1';

export interface CriticSpec {
  obsDim: number;
  actDim: number;
  hidden: number[];
  /** Architecture of Q1, Q2 and V (default: plain ReLU). */
  arch?: MlpArch;
  /** Observation statistics the nets were trained with (default: none). */
  obsNorm?: ObsNorm | null;
}

/** Options of the critic's tensor methods. */
export interface CriticInputOptions {
  /** The observations passed are already normalised with `critic.obsNorm`. */
  normalizedObs?: boolean;
}

export class Critic {
  readonly spec: Required<CriticSpec>;
  readonly q1: FrozenMlp;
  readonly q2: FrozenMlp;
  readonly v: FrozenMlp;
  /** obsNorm as [obs | act] rows (mean 0, std 1 on the action columns) and as obs rows. */
  private readonly norm: { mean: tf.Tensor1D; std: tf.Tensor1D; meanSA: tf.Tensor1D; stdSA: tf.Tensor1D } | null;

  /** params: per-network lists [W0, b0, ...] in mlpNames order (copied). */
  constructor(spec: CriticSpec, params: { q1: readonly tf.Tensor[]; q2: readonly tf.Tensor[]; v: readonly tf.Tensor[] }) {
    const arch = { ...(spec.arch ?? PLAIN_RELU) };
    const obsNorm = spec.obsNorm ?? null;
    if (obsNorm && obsNorm.mean.length !== spec.obsDim) throw new Error(`Critic: obsNorm has ${obsNorm.mean.length} dims, expected ${spec.obsDim}`);
    this.spec = { obsDim: spec.obsDim, actDim: spec.actDim, hidden: spec.hidden.slice(), arch, obsNorm };
    this.q1 = new FrozenMlp(params.q1, arch);
    this.q2 = new FrozenMlp(params.q2, arch);
    this.v = new FrozenMlp(params.v, arch);
    this.norm = obsNorm
      ? tf.tidy(() => {
          const pad = (a: Float32Array, fill: number) => tf.concat([tf.tensor1d(a), tf.fill([spec.actDim], fill)]) as tf.Tensor1D;
          return {
            mean: tf.keep(tf.tensor1d(obsNorm.mean)),
            std: tf.keep(tf.tensor1d(obsNorm.std)),
            meanSA: tf.keep(pad(obsNorm.mean, 0)),
            stdSA: tf.keep(pad(obsNorm.std, 1)),
          };
        })
      : null;
  }

  get obsDim(): number {
    return this.spec.obsDim;
  }
  get actDim(): number {
    return this.spec.actDim;
  }
  get arch(): MlpArch {
    return this.spec.arch;
  }
  /** The observation statistics the critic applies (null: none). */
  get obsNorm(): ObsNorm | null {
    return this.spec.obsNorm;
  }

  /** (s − μ)/σ of raw observation rows [B, obsDim] (identity without statistics). */
  normalizeObs(obs: tf.Tensor2D): tf.Tensor2D {
    return this.norm ? (tf.div(tf.sub(obs, this.norm.mean), this.norm.std) as tf.Tensor2D) : obs;
  }

  private normalizeObsAct(obsAct: tf.Tensor2D): tf.Tensor2D {
    return this.norm ? (tf.div(tf.sub(obsAct, this.norm.meanSA), this.norm.stdSA) as tf.Tensor2D) : obsAct;
  }

  /**
   * Q(s, a) reduced over the twins [B, 1] and its gradient w.r.t. the action, ∂q_b/∂a_b [B, actDim],
   * without a tape (DDPG's actor step backpropagates it through the actor). Row b's value depends
   * only on row b's action, so one backward of Σ_b q_b gives every row's gradient. Where the twins
   * tie, 'min' sends the gradient to Q1 (as tfjs's minimum gradient does). On the native backend the
   * twins run as one batched matmul per layer. The observation normalisation does not touch the
   * action columns, so ∂q/∂a needs no correction.
   */
  qWithActionGrad(obs: tf.Tensor2D, act: tf.Tensor2D, reduce: QReduce = 'min', opts: CriticInputOptions = {}): { q: tf.Tensor2D; dqda: tf.Tensor2D } {
    return tf.tidy(() => {
      const B = obs.shape[0];
      const sa = tf.concat([opts.normalizedObs ? obs : this.normalizeObs(obs), act], 1);
      const arch = this.spec.arch;
      const backward = (dy: tf.Tensor, pass: ReturnType<typeof mlpForward>, net: FrozenMlp) =>
        mlpBackward(dy, pass, net.params, { paramGrads: false, inputGrad: true, Wt: net.Wt }).dx!;
      let q: tf.Tensor;
      let dsa: tf.Tensor;
      if (reduce === 'q1') {
        const p1 = mlpForward(sa, this.q1.params, arch);
        q = p1.out;
        dsa = backward(tf.onesLike(q), p1, this.q1);
      } else {
        const native = isNativeBackend();
        const pass = native ? mlpForward(sa, this.twinParams(), arch, true) : null;
        const p1 = native ? null : mlpForward(sa, this.q1.params, arch);
        const p2 = native ? null : mlpForward(sa, this.q2.params, arch);
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

  /** Q1 and Q2 stacked per tensor (nn/twin.ts): W [2, in, out], b/γ/β [2, 1, out] (kept; built on first use). */
  private twinParams(): tf.Tensor[] {
    if (!this.twins) {
      this.twins = stackTwinParams(this.q1.params, this.q2.params).map((t) => tf.keep(t));
    }
    return this.twins;
  }

  /** Advantage min(Q1, Q2)(s, a) − V(s) without tape, [B, 1]; obsAct = [obs, act] rows. */
  advantage(obsAct: tf.Tensor2D, obs: tf.Tensor2D, opts: CriticInputOptions = {}): tf.Tensor2D {
    return tf.tidy(() => {
      const sa = opts.normalizedObs ? obsAct : this.normalizeObsAct(obsAct);
      const s = opts.normalizedObs ? obs : this.normalizeObs(obs);
      return tf.sub(tf.minimum(this.q1.infer(sa), this.q2.infer(sa)), this.v.infer(s));
    });
  }

  /** Plain-JS helper: Q1, Q2, V for n rows of raw observations and actions (tests, diagnostics). */
  evaluate(obs: Float32Array, act: Float32Array, n: number): { q1: Float32Array; q2: Float32Array; v: Float32Array } {
    return tf.tidy(() => {
      const o = tf.tensor2d(normalizeObs(obs, this.spec.obsNorm), [n, this.obsDim]);
      const sa = tf.concat([o, tf.tensor2d(act, [n, this.actDim])], 1);
      return {
        q1: this.q1.infer(sa).dataSync() as Float32Array,
        q2: this.q2.infer(sa).dataSync() as Float32Array,
        v: this.v.infer(o).dataSync() as Float32Array,
      };
    });
  }

  /**
   * Export as an Arrow table: rows q1/l0/W ... q2/... v/..., metadata format 'iql-critic' with the
   * sizes, the architecture (activation, layerNorm) and the observation statistics (obsNorm).
   */
  toTable(extraMeta: Record<string, unknown> = {}): arrow.Table {
    const named: Record<string, tf.Tensor> = {};
    for (const [prefix, net] of [['q1', this.q1], ['q2', this.q2], ['v', this.v]] as const) {
      const names = mlpNames(prefix === 'v' ? vSizes(this.spec) : qSizes(this.spec), this.spec.arch);
      net.params.forEach((p, i) => (named[`${prefix}/${names[i]}`] = p));
    }
    return weightsToTable(named, { format: 'iql-critic', version: 2, ...criticMetadata(this.spec), ...extraMeta });
  }

  dispose(): void {
    for (const t of this.twins ?? []) t.dispose();
    if (this.norm) for (const t of Object.values(this.norm)) t.dispose();
    this.q1.dispose();
    this.q2.dispose();
    this.v.dispose();
  }
}

/** The metadata keys describing a critic (shared by critic tables and IQL checkpoints). */
export function criticMetadata(spec: CriticSpec): Record<string, unknown> {
  return {
    obsDim: spec.obsDim,
    actDim: spec.actDim,
    hidden: spec.hidden,
    ...archMetadata(spec.arch ?? PLAIN_RELU),
    obsNorm: obsNormMetadata(spec.obsNorm ?? null),
  };
}

export function qSizes(s: CriticSpec): number[] {
  return [s.obsDim + s.actDim, ...s.hidden, 1];
}
export function vSizes(s: CriticSpec): number[] {
  return [s.obsDim, ...s.hidden, 1];
}

/**
 * Rebuild a critic from a table written by Critic.toTable (format 'iql-critic') or by
 * IQL.exportState (format 'iql-state': the target Q nets and V are used). Tables without
 * architecture metadata (written before it existed) are plain ReLU nets without normalisation.
 */
export function criticFromTable(table: arrow.Table): Critic {
  const meta = readMetadata(table);
  const obsDim = Number(meta['obsDim']);
  const actDim = Number(meta['actDim']);
  const hidden = meta['hidden'] as number[];
  if (!(obsDim > 0) || !(actDim > 0) || !Array.isArray(hidden)) {
    throw new Error('criticFromTable: metadata needs obsDim, actDim, hidden');
  }
  const spec: CriticSpec = {
    obsDim,
    actDim,
    hidden,
    arch: archFromMetadata(meta, 'criticFromTable'),
    obsNorm: obsNormFromMetadata(meta, obsDim, 'criticFromTable'),
  };
  const w = tableToWeights(table);
  const qPrefix = meta['format'] === 'iql-state' ? 'target/' : '';
  const load = (prefix: string, sizes: number[]): tf.Tensor[] => readMlpWeights(w, prefix, sizes, spec.arch!, 'criticFromTable').map(toTensor);
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

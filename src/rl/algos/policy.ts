/**
 * Extracted policies (inference side): the three heads used by extract.ts, rebuilt from an
 * Arrow table alone (`policyFromTable`).
 *
 *   awr           Gaussian: mean = tanh(MLP(s)), state-independent log σ (clipped to
 *                 [logStdMin, logStdMax]); acts with the mean (deterministic) or samples and
 *                 clips to [−1, 1].
 *   ddpg          deterministic: a = tanh(MLP(s)).
 *   awr-discrete  factorised categorical: MLP(s) → [actDim, bins] logits, bin k of a dimension
 *                 stands for the value low + k·(high − low)/(bins − 1) (edges included);
 *                 acts by the argmax bin (deterministic) or samples the bins.
 *
 * The MLP's architecture (activation, LayerNorm) and the observation statistics of the critic it
 * was extracted from (obs-norm.ts) are part of the policy and its table: `act` and `stats` take
 * RAW observations and normalise them as the critic's training did.
 */
import * as arrow from 'apache-arrow';
import * as tf from '@tensorflow/tfjs';
import { Rng } from '../rng.js';
import { archFromMetadata, archMetadata, mlpInfer, mlpNames, PLAIN_RELU, type MlpArch } from '../nn/dense.js';
import { readMetadata, readMlpWeights, requireWeight, tableToWeights, weightsToTable } from '../nn/serialize.js';
import { normalizeObs, obsNormFromMetadata, obsNormMetadata, type ObsNorm } from './obs-norm.js';

export type ExtractMethod = 'awr' | 'ddpg' | 'awr-discrete';
export const EXTRACT_METHODS: readonly ExtractMethod[] = ['awr', 'ddpg', 'awr-discrete'];

export interface PolicySpec {
  method: ExtractMethod;
  obsDim: number;
  actDim: number;
  hidden: number[];
  /** Architecture of the MLP (default: plain ReLU). */
  arch?: MlpArch;
  /** Observation statistics applied before the MLP (the critic's; default: none). */
  obsNorm?: ObsNorm | null;
  /** awr */
  logStdMin: number;
  logStdMax: number;
  /** awr-discrete */
  bins: number;
  actLow: number;
  actHigh: number;
}

export interface ActOptions {
  /** Mean / argmax action (default true: evaluation as in IQL, temperature 0). */
  deterministic?: boolean;
  /** Sampling stream (defaults to the policy's own, seeded at construction). */
  rng?: Rng;
}

export interface PolicyStats {
  /** Per state: mean over action dims of the policy's standard deviation (0 for ddpg). */
  std: Float32Array;
  /** Per state: entropy of the action distribution (Gaussian: differential; discrete: of the
   *  factorised categorical in nats; NaN for ddpg). */
  entropy: Float32Array;
  /** Per state: the deterministic action (n × actDim). */
  mode: Float32Array;
}

export function mlpSizesFor(spec: PolicySpec): number[] {
  const out = spec.method === 'awr-discrete' ? spec.actDim * spec.bins : spec.actDim;
  return [spec.obsDim, ...spec.hidden, out];
}

/** Bin centre values (bins ≥ 2, edges included). */
export function binCenters(bins: number, low: number, high: number): Float32Array {
  if (!(bins >= 2)) throw new Error(`awr-discrete needs at least 2 bins, got ${bins}`);
  return Float32Array.from({ length: bins }, (_, k) => low + (k * (high - low)) / (bins - 1));
}

/** Nearest-bin index of each action value (n × actDim int32). */
export function actionsToBins(actions: Float32Array, bins: number, low: number, high: number): Int32Array {
  const out = new Int32Array(actions.length);
  for (let i = 0; i < actions.length; i++) {
    const k = Math.round(((actions[i]! - low) / (high - low)) * (bins - 1));
    out[i] = Math.min(bins - 1, Math.max(0, k));
  }
  return out;
}

/** Per-row std (mean over dims) and entropy (sum over dims) of factorised categoricals. */
export function categoricalStats(logits: tf.Tensor3D, centers: tf.Tensor1D): { std: tf.Tensor1D; entropy: tf.Tensor1D } {
  return tf.tidy(() => categoricalStatsOfLogp(tf.logSoftmax(logits, -1), centers));
}

/** categoricalStats from log-probabilities [B, D, K] already computed (the extractor's step has them). */
export function categoricalStatsOfLogp(logp: tf.Tensor, centers: tf.Tensor1D): { std: tf.Tensor1D; entropy: tf.Tensor1D } {
  const p = tf.exp(logp);
  const m1 = tf.sum(tf.mul(p, centers), -1);
  const m2 = tf.sum(tf.mul(p, tf.square(centers)), -1);
  const std = tf.mean(tf.sqrt(tf.relu(tf.sub(m2, tf.square(m1)))), -1) as tf.Tensor1D;
  const entropy = tf.neg(tf.sum(tf.mul(p, logp), [1, 2])) as tf.Tensor1D;
  return { std, entropy };
}

/** Differential entropy of a diagonal Gaussian with the given log σ (sum over dims). */
export function gaussianEntropy(logStd: tf.Tensor1D): tf.Scalar {
  return tf.sum(tf.add(logStd, 0.5 * Math.log(2 * Math.PI * Math.E))) as tf.Scalar;
}

export class Policy {
  readonly spec: PolicySpec & { arch: MlpArch; obsNorm: ObsNorm | null };
  /** MLP parameters [W0, b0, ...] (kept). */
  readonly params: tf.Tensor[];
  /** awr: clipped log σ, [actDim]. */
  readonly logStd: tf.Tensor1D | null;
  private readonly centers: tf.Tensor1D | null;
  private readonly centerValues: Float32Array | null;
  private readonly rng: Rng;

  constructor(spec: PolicySpec, params: readonly tf.Tensor[], logStd: tf.Tensor1D | null, seed = 0) {
    this.spec = { ...spec, hidden: spec.hidden.slice(), arch: { ...(spec.arch ?? PLAIN_RELU) }, obsNorm: spec.obsNorm ?? null };
    if (this.spec.obsNorm && this.spec.obsNorm.mean.length !== spec.obsDim) throw new Error(`Policy: obsNorm has ${this.spec.obsNorm.mean.length} dims, expected ${spec.obsDim}`);
    this.params = params.map((p) => tf.keep(p.clone()));
    this.logStd =
      spec.method === 'awr'
        ? tf.keep(tf.tidy(() => tf.clipByValue(logStd ?? tf.zeros([spec.actDim]), spec.logStdMin, spec.logStdMax) as tf.Tensor1D))
        : null;
    this.centerValues = spec.method === 'awr-discrete' ? binCenters(spec.bins, spec.actLow, spec.actHigh) : null;
    this.centers = this.centerValues ? tf.keep(tf.tensor1d(this.centerValues)) : null;
    this.rng = new Rng(seed, 7);
  }

  get method(): ExtractMethod {
    return this.spec.method;
  }
  get obsDim(): number {
    return this.spec.obsDim;
  }
  get actDim(): number {
    return this.spec.actDim;
  }

  /** Actions for n observations (row-major n × obsDim) → n × actDim. */
  act(obs: Float32Array, n: number, opts: ActOptions = {}): Float32Array {
    const deterministic = opts.deterministic ?? true;
    const rng = opts.rng ?? this.rng;
    const { actDim } = this.spec;
    if (obs.length !== n * this.spec.obsDim) throw new Error(`Policy.act: expected ${n}×${this.spec.obsDim} observation values, got ${obs.length}`);
    if (this.spec.method === 'awr-discrete') {
      const K = this.spec.bins;
      const probs = tf.tidy(() => tf.softmax(this.logits(this.input(obs, n)), -1).dataSync() as Float32Array);
      const out = new Float32Array(n * actDim);
      for (let i = 0; i < n * actDim; i++) {
        const p = probs.subarray(i * K, (i + 1) * K);
        let k = 0;
        if (deterministic) {
          for (let j = 1; j < K; j++) if (p[j]! > p[k]!) k = j;
        } else {
          let u = rng.random();
          for (k = 0; k < K - 1; k++) {
            u -= p[k]!;
            if (u < 0) break;
          }
        }
        out[i] = this.centerValues![k]!;
      }
      return out;
    }
    const mean = tf.tidy(() => tf.tanh(mlpInfer(this.input(obs, n), this.params, this.spec.arch)).dataSync() as Float32Array);
    const out = Float32Array.from(mean);
    if (!deterministic && this.spec.method === 'awr') {
      const std = Array.from(tf.exp(this.logStd!).dataSync());
      for (let i = 0; i < out.length; i++) out[i] = Math.min(1, Math.max(-1, out[i]! + std[i % actDim]! * rng.normal()));
    }
    return out;
  }

  /** Per-state spread of the action distribution (diagnostics). */
  stats(obs: Float32Array, n: number): PolicyStats {
    const { actDim } = this.spec;
    const mode = this.act(obs, n, { deterministic: true });
    if (this.spec.method === 'awr') {
      const [sd, ent] = tf.tidy(() => [tf.mean(tf.exp(this.logStd!)).dataSync()[0]!, gaussianEntropy(this.logStd!).dataSync()[0]!]);
      return { std: new Float32Array(n).fill(sd!), entropy: new Float32Array(n).fill(ent!), mode };
    }
    if (this.spec.method === 'ddpg') {
      return { std: new Float32Array(n), entropy: new Float32Array(n).fill(NaN), mode };
    }
    const { std, entropy } = tf.tidy(() => {
      const s = categoricalStats(this.logits(this.input(obs, n)), this.centers!);
      return { std: s.std.dataSync() as Float32Array, entropy: s.entropy.dataSync() as Float32Array };
    });
    void actDim;
    return { std: Float32Array.from(std), entropy: Float32Array.from(entropy), mode };
  }

  /** Raw observation rows → the MLP's input tensor (normalised with the critic's statistics). */
  private input(obs: Float32Array, n: number): tf.Tensor2D {
    return tf.tensor2d(normalizeObs(obs, this.spec.obsNorm), [n, this.spec.obsDim]);
  }

  private logits(obs: tf.Tensor2D): tf.Tensor3D {
    return tf.reshape(mlpInfer(obs, this.params, this.spec.arch), [-1, this.spec.actDim, this.spec.bins]);
  }

  /** Arrow table with everything needed to rebuild the policy (format 'policy'). */
  toTable(extraMeta: Record<string, unknown> = {}): arrow.Table {
    const named: Record<string, tf.Tensor> = {};
    const names = mlpNames(mlpSizesFor(this.spec), this.spec.arch);
    this.params.forEach((p, i) => (named[`pi/${names[i]}`] = p));
    if (this.logStd) named['log_std'] = this.logStd;
    return weightsToTable(named, { format: 'policy', version: 2, ...policyMetadata(this.spec), ...extraMeta });
  }

  dispose(): void {
    for (const t of [...this.params, this.logStd, this.centers]) t?.dispose();
  }
}

/** A PolicySpec as table metadata (architecture and observation statistics included). */
export function policyMetadata(spec: PolicySpec): Record<string, unknown> {
  const { arch, obsNorm, ...rest } = spec;
  return { ...rest, ...archMetadata(arch ?? PLAIN_RELU), obsNorm: obsNormMetadata(obsNorm ?? null) };
}

/**
 * The PolicySpec recorded in a policy or extraction-state table's metadata. Tables written before
 * the architecture was recorded are plain ReLU nets on raw observations.
 */
export function specFromMetadata(meta: Record<string, unknown>): PolicySpec & { arch: MlpArch; obsNorm: ObsNorm | null } {
  const spec = {
    method: String(meta['method']) as ExtractMethod,
    obsDim: Number(meta['obsDim']),
    actDim: Number(meta['actDim']),
    hidden: meta['hidden'] as number[],
    logStdMin: Number(meta['logStdMin'] ?? -5),
    logStdMax: Number(meta['logStdMax'] ?? 2),
    bins: Number(meta['bins'] ?? 21),
    actLow: Number(meta['actLow'] ?? -1),
    actHigh: Number(meta['actHigh'] ?? 1),
    arch: archFromMetadata(meta, 'policy table'),
    obsNorm: null as ObsNorm | null,
  };
  if (!EXTRACT_METHODS.includes(spec.method)) throw new Error(`policy table: unknown method '${spec.method}'`);
  if (!(spec.obsDim > 0) || !(spec.actDim > 0) || !Array.isArray(spec.hidden)) throw new Error('policy table: metadata needs obsDim, actDim, hidden');
  spec.obsNorm = obsNormFromMetadata(meta, spec.obsDim, 'policy table');
  return spec;
}

/**
 * Rebuild a policy from a table written by Policy.toTable / Extractor.exportPolicy (format
 * 'policy') or an extraction checkpoint (format 'extract-state').
 */
export function policyFromTable(table: arrow.Table, seed = 0): Policy {
  const meta = readMetadata(table);
  if (meta['format'] !== 'policy' && meta['format'] !== 'extract-state') {
    throw new Error(`policyFromTable: not a policy table (format ${String(meta['format'])})`);
  }
  const spec = specFromMetadata(meta);
  const w = tableToWeights(table);
  const params = readMlpWeights(w, 'pi', mlpSizesFor(spec), spec.arch, 'policyFromTable').map((a) => tf.tensor(a.values, a.shape, 'float32'));
  const ls = spec.method === 'awr' ? requireWeight(w, 'log_std', [spec.actDim]) : null;
  const logStd = ls ? tf.tensor1d(ls.values) : null;
  const policy = new Policy(spec, params, logStd, seed);
  for (const t of [...params, logStd]) t?.dispose();
  return policy;
}

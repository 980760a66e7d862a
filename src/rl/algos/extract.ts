/**
 * Policy extraction from a FROZEN IQL critic (target Q1, Q2 and V), three ways:
 *
 *   awr           official IQL: Gaussian head (tanh mean, state-independent log σ clipped to
 *                 [−5, 2]); loss −mean(w · log π(a|s)), w = min(exp(β·(min(Q1,Q2)(s,a) − V(s))), 100)
 *   ddpg          deterministic tanh actor through the critic:
 *                 loss −mean Q(s, π(s)) + α · mean ‖π(s) − a‖²   (α = 0: pure DDPG)
 *                 Q = min(Q1, Q2) by default (`qReduce`: 'min' | 'mean' | 'q1'): the same
 *                 conservative min that defines IQL's advantage; TD3 uses Q1 — selectable.
 *   awr-discrete  each action dim binned (bins values over [low, high], edges included), a
 *                 factorised categorical head, loss −mean(w · Σ_d log p_d(bin of a_d | s)) with
 *                 the same weights w.
 *
 * Actor Adam 3e-4 with a cosine-decayed learning rate over `steps` (official IQL actor; used
 * for all three methods so that they differ only in the objective).
 *
 * Speed: the critic is frozen, so AWR's weights depend only on the dataset row; with
 * `precomputeWeights` ('auto': when steps·batch ≥ dataset size) they are computed once for the
 * whole dataset and a step costs only the actor's forward/backward. DDPG differentiates through
 * the frozen critic w.r.t. the action only (FrozenMlp: cached transposed weights, no weight
 * gradients).
 */
import * as arrow from 'apache-arrow';
import * as tf from '@tensorflow/tfjs';
import { Rng } from '../envs/rng.js';
import { cosineLr, FlatAdam } from '../nn/adam.js';
import { initMlp, mlp, ParamLayout } from '../nn/dense.js';
import { readMetadata, requireWeight, tableToWeights, weightsToTable, type NamedArray } from '../nn/serialize.js';
import {
  awrWeights,
  categoricalLogProb,
  ddpgLoss,
  DeviceData,
  gaussianLogProb,
  sampleIndices,
  weightedNll,
  type Transitions,
} from './common.js';
import type { Critic, QReduce } from './critic.js';
import {
  actionsToBins,
  binCenters,
  categoricalStats,
  gaussianEntropy,
  mlpSizesFor,
  Policy,
  type ActOptions,
  type ExtractMethod,
  type PolicySpec,
  type PolicyStats,
} from './policy.js';

export { policyFromTable, Policy, EXTRACT_METHODS, type ExtractMethod } from './policy.js';

export interface ExtractConfig {
  method: ExtractMethod;
  hidden: number[];
  lr: number;
  lrSchedule: 'cosine' | 'constant';
  /** Planned number of steps: the cosine horizon (and the 'auto' precompute decision). */
  steps: number;
  batchSize: number;
  adamBeta1: number;
  adamBeta2: number;
  adamEps: number;
  /** AWR inverse temperature β and the clip of exp(β·A) (awr, awr-discrete). */
  beta: number;
  maxWeight: number;
  /** awr: log σ clip. */
  logStdMin: number;
  logStdMax: number;
  /** ddpg: which critic value to maximise, and the behaviour-cloning weight α. */
  qReduce: QReduce;
  bcAlpha: number;
  /** awr-discrete: bins per action dim over [actLow, actHigh]. */
  bins: number;
  actLow: number;
  actHigh: number;
  /** Compute the AWR weights of every dataset row once ('auto': when steps·batch ≥ size). */
  precomputeWeights: 'auto' | 'always' | 'never';
}

export const EXTRACT_DEFAULTS: Omit<ExtractConfig, 'method'> = {
  hidden: [256, 256],
  lr: 3e-4,
  lrSchedule: 'cosine',
  steps: 1_000_000,
  batchSize: 256,
  adamBeta1: 0.9,
  adamBeta2: 0.999,
  adamEps: 1e-8,
  beta: 3,
  maxWeight: 100,
  logStdMin: -5,
  logStdMax: 2,
  qReduce: 'min',
  bcAlpha: 0,
  bins: 21,
  actLow: -1,
  actHigh: 1,
  precomputeWeights: 'auto',
};

/** Means over the steps of the last step() call. NaN where a method has no such quantity. */
export interface ExtractMetrics {
  step: number;
  loss: number;
  /** Policy std: Gaussian mean σ; discrete: mean std of the categorical over bin values; ddpg 0. */
  policyStd: number;
  /** Entropy per state (Gaussian differential / categorical in nats); NaN for ddpg. */
  entropy: number;
  /** Mean AWR weight of the batch (awr, awr-discrete). */
  meanWeight: number;
  /** Fraction of batch weights at the clip maxWeight (awr, awr-discrete). */
  clippedFrac: number;
  /** Mean Q(s, π(s)) (ddpg). */
  meanQ: number;
  /** Mean ‖mode(π(s)) − a‖² against the data action. */
  bcMse: number;
  /** Learning rate used by the last step. */
  lr: number;
}

const METRIC_KEYS = ['loss', 'policyStd', 'entropy', 'meanWeight', 'clippedFrac', 'meanQ', 'bcMse'] as const;

export interface Extractor {
  readonly method: ExtractMethod;
  readonly config: ExtractConfig;
  readonly stepCount: number;
  /** Run n steps; mean metrics over them (one device read). */
  step(n?: number, opts?: { indices?: Int32Array }): ExtractMetrics;
  metrics(): ExtractMetrics;
  exportState(): arrow.Table;
  importState(table: arrow.Table): void;
  /** Snapshot of the current policy (caller disposes). */
  policy(): Policy;
  /** Policy table (format 'policy'): policyFromTable rebuilds it from this alone. */
  exportPolicy(): arrow.Table;
  act(obs: Float32Array, n: number, opts?: ActOptions): Float32Array;
  stats(obs: Float32Array, n: number): PolicyStats;
  /** AWR weights of all dataset rows when precomputed (else null); for diagnostics. */
  datasetWeights(): Float32Array | null;
  dispose(): void;
}

export function createExtractor(
  critic: Critic,
  data: Transitions,
  config: Partial<ExtractConfig> & { method: ExtractMethod },
  seed = 0,
): Extractor {
  const cfg: ExtractConfig = { ...EXTRACT_DEFAULTS, ...config, hidden: (config.hidden ?? EXTRACT_DEFAULTS.hidden).slice() };
  const { method } = cfg;
  if (critic.obsDim !== data.obsDim || critic.actDim !== data.actDim) throw new Error('createExtractor: critic and dataset dimensions differ');
  const spec: PolicySpec = {
    method,
    obsDim: data.obsDim,
    actDim: data.actDim,
    hidden: cfg.hidden,
    logStdMin: cfg.logStdMin,
    logStdMax: cfg.logStdMax,
    bins: cfg.bins,
    actLow: cfg.actLow,
    actHigh: cfg.actHigh,
  };
  const { actDim } = spec;
  const usesWeights = method !== 'ddpg';

  // Parameters: one flat vector [policy MLP | log σ (awr)].
  const sizes = mlpSizesFor(spec);
  const layout = ParamLayout.ofMlps([{ prefix: 'pi', sizes }], method === 'awr' ? [{ name: 'log_std', shape: [actDim] }] : []);
  const nMlp = (sizes.length - 1) * 2;
  const initRng = new Rng(seed, 0);
  const init = initMlp(sizes, initRng);
  if (method === 'awr') init.push(new Float32Array(actDim)); // log σ = 0
  const adam = new FlatAdam(layout.packArrays(init), { lr: cfg.lr, beta1: cfg.adamBeta1, beta2: cfg.adamBeta2, eps: cfg.adamEps });
  const batchRng = new Rng(seed, 1);

  // Data on the device.
  const dev = new DeviceData(data, { obsAct: usesWeights });
  const bins =
    method === 'awr-discrete'
      ? tf.keep(tf.tensor2d(actionsToBins(data.actions, cfg.bins, cfg.actLow, cfg.actHigh), [data.size, actDim], 'int32'))
      : null;
  const centers = method === 'awr-discrete' ? tf.keep(tf.tensor1d(binCenters(cfg.bins, cfg.actLow, cfg.actHigh))) : null;
  const precompute =
    usesWeights &&
    (cfg.precomputeWeights === 'always' || (cfg.precomputeWeights === 'auto' && cfg.steps * cfg.batchSize >= data.size));
  const weights = precompute ? tf.keep(computeWeights(critic, dev, cfg.beta, cfg.maxWeight)) : null;

  let steps = 0;
  let last = emptyMetrics(0, cfg.lr);

  function lrAt(t: number): number {
    return cfg.lrSchedule === 'cosine' ? cosineLr(cfg.lr, t, cfg.steps) : cfg.lr;
  }

  function batchWeights(it: tf.Tensor1D): tf.Tensor2D {
    if (weights) return tf.gather(weights, it);
    return awrWeights(critic.advantage(tf.gather(dev.obsAct!, it), tf.gather(dev.obs, it)), cfg.beta, cfg.maxWeight) as tf.Tensor2D;
  }

  /** One actor step; returns the metric vector (METRIC_KEYS order). */
  function trainStep(idx: Int32Array): tf.Tensor1D {
    return tf.tidy(() => {
      const it = tf.tensor1d(idx, 'int32');
      const s = tf.gather(dev.obs, it);
      const a = tf.gather(dev.act, it);
      const w = usesWeights ? batchWeights(it) : null;
      const binIdx = bins ? tf.gather(bins, it) : null;
      const diag: { vec?: tf.Tensor1D } = {};
      const nan = tf.scalar(NaN);

      const { grads } = tf.valueAndGrads((theta: tf.Tensor) => {
        const p = layout.unpack(theta as tf.Tensor1D);
        const out = mlp(s, p.slice(0, nMlp));
        let loss: tf.Scalar;
        let std: tf.Scalar, entropy: tf.Scalar, meanQ: tf.Scalar = nan, mode: tf.Tensor2D;
        if (method === 'awr') {
          const mean = tf.tanh(out);
          const logStd = tf.clipByValue(p[nMlp]!, cfg.logStdMin, cfg.logStdMax) as tf.Tensor1D;
          loss = weightedNll(gaussianLogProb(mean, logStd, a), w!);
          std = tf.mean(tf.exp(logStd));
          entropy = gaussianEntropy(logStd);
          mode = mean;
        } else if (method === 'ddpg') {
          const pi = tf.tanh(out);
          const q = critic.q(s, pi, cfg.qReduce);
          loss = ddpgLoss(q, pi, a, cfg.bcAlpha);
          std = tf.scalar(0);
          entropy = nan;
          meanQ = tf.mean(q);
          mode = pi;
        } else {
          const logits = tf.reshape(out, [-1, actDim, cfg.bins]) as tf.Tensor3D;
          loss = weightedNll(categoricalLogProb(logits, binIdx!), w!);
          const st = categoricalStats(logits, centers!);
          std = tf.mean(st.std);
          entropy = tf.mean(st.entropy);
          mode = tf.gather(centers!, tf.argMax(logits, -1)) as unknown as tf.Tensor2D;
        }
        const meanW = w ? tf.mean(w) : nan;
        const clipped = w ? tf.mean(tf.cast(tf.greaterEqual(w, cfg.maxWeight), 'float32')) : nan;
        const bcMse = tf.mean(tf.sum(tf.square(tf.sub(mode, a)), 1));
        diag.vec = tf.keep(tf.stack([loss, std, entropy, meanW, clipped, meanQ, bcMse]) as tf.Tensor1D);
        return loss;
      })([adam.theta]);

      adam.step(grads[0] as tf.Tensor1D, lrAt(steps));
      return diag.vec!;
    });
  }

  function step(n = 1, opts: { indices?: Int32Array } = {}): ExtractMetrics {
    if (!(n >= 1) || !Number.isInteger(n)) throw new Error(`Extractor.step: n must be a positive integer, got ${n}`);
    const B = cfg.batchSize;
    if (opts.indices && opts.indices.length !== n * B) throw new Error(`Extractor.step: indices must hold ${n * B} rows`);
    let sum: tf.Tensor1D | null = null;
    let lr = cfg.lr;
    for (let k = 0; k < n; k++) {
      const idx = opts.indices ? opts.indices.subarray(k * B, (k + 1) * B) : sampleIndices(batchRng, dev.size, B);
      lr = lrAt(steps);
      const vec = trainStep(idx);
      steps += 1;
      if (sum === null) sum = vec;
      else {
        const s2: tf.Tensor1D = tf.add(sum, vec);
        sum.dispose();
        vec.dispose();
        sum = s2;
      }
    }
    const v = sum!.dataSync();
    sum!.dispose();
    const out = emptyMetrics(steps, lr);
    METRIC_KEYS.forEach((k, i) => (out[k] = v[i]! / n));
    last = out;
    return { ...out };
  }

  function policy(): Policy {
    const p = tf.tidy(() => layout.unpack(adam.theta));
    const pol = new Policy(spec, p.slice(0, nMlp), method === 'awr' ? (p[nMlp] as tf.Tensor1D) : null, seed);
    for (const t of p) t.dispose();
    return pol;
  }

  function withPolicy<T>(f: (p: Policy) => T): T {
    const p = policy();
    try {
      return f(p);
    } finally {
      p.dispose();
    }
  }

  function exportState(): arrow.Table {
    const named: Record<string, NamedArray> = {};
    const put = (prefix: string, flat: Float32Array) =>
      layout.unpackArrays(flat).forEach((a, i) => (named[`${prefix}${layout.names[i]}`] = { shape: layout.shapes[i]!, values: a }));
    put('', adam.theta.dataSync() as Float32Array);
    put('adam/m/', adam.m.dataSync() as Float32Array);
    put('adam/v/', adam.v.dataSync() as Float32Array);
    return weightsToTable(named, {
      format: 'extract-state',
      version: 1,
      ...spec,
      config: cfg,
      seed,
      step: steps,
      adamT: adam.t,
      rng: batchRng.getState(),
    });
  }

  function importState(table: arrow.Table): void {
    const meta = readMetadata(table);
    if (meta['format'] !== 'extract-state' || meta['method'] !== method) {
      throw new Error(`Extractor.importState: expected an '${method}' extract-state table`);
    }
    if (meta['obsDim'] !== spec.obsDim || meta['actDim'] !== actDim || JSON.stringify(meta['hidden']) !== JSON.stringify(cfg.hidden)) {
      throw new Error('Extractor.importState: network sizes differ');
    }
    const w = tableToWeights(table);
    const read = (prefix: string) => layout.packArrays(layout.names.map((n, i) => requireWeight(w, `${prefix}${n}`, layout.shapes[i]).values));
    adam.setState(read(''), read('adam/m/'), read('adam/v/'), Number(meta['adamT']));
    steps = Number(meta['step']);
    batchRng.setState(meta['rng'] as number[]);
    last = emptyMetrics(steps, lrAt(steps));
  }

  return {
    method,
    config: cfg,
    get stepCount() {
      return steps;
    },
    step,
    metrics: () => ({ ...last }),
    exportState,
    importState,
    policy,
    exportPolicy: () => withPolicy((p) => p.toTable({ step: steps, seed })),
    act: (obs, n, opts) => withPolicy((p) => p.act(obs, n, opts)),
    stats: (obs, n) => withPolicy((p) => p.stats(obs, n)),
    datasetWeights: () => (weights ? Float32Array.from(weights.dataSync() as Float32Array) : null),
    dispose() {
      for (const t of [bins, centers, weights]) t?.dispose();
      adam.dispose();
      dev.dispose();
    },
  };
}

/** AWR weights of every dataset row, [N, 1], computed in chunks through the frozen critic. */
function computeWeights(critic: Critic, dev: DeviceData, beta: number, maxWeight: number, chunk = 8192): tf.Tensor2D {
  const parts: tf.Tensor2D[] = [];
  for (let start = 0; start < dev.size; start += chunk) {
    const len = Math.min(chunk, dev.size - start);
    parts.push(
      tf.tidy(() => {
        const sa = tf.slice(dev.obsAct!, [start, 0], [len, -1]);
        const s = tf.slice(dev.obs, [start, 0], [len, -1]);
        return awrWeights(critic.advantage(sa, s), beta, maxWeight) as tf.Tensor2D;
      }),
    );
  }
  const all = tf.concat(parts, 0);
  for (const p of parts) p.dispose();
  return all;
}

function emptyMetrics(step: number, lr: number): ExtractMetrics {
  return { step, loss: NaN, policyStd: NaN, entropy: NaN, meanWeight: NaN, clippedFrac: NaN, meanQ: NaN, bcMse: NaN, lr };
}

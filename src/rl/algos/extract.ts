/**
 * Policy extraction from a FROZEN IQL critic (target Q1, Q2 and V), three ways. With
 * A(s, a) = min(Q1, Q2)(s, a) − V(s) and w = min(exp(β·A), 100) (the official IQL weights):
 *
 *   awr           the paper's extraction, advantage-weighted regression with a Gaussian head
 *                 (mean tanh(o), state-independent log σ clipped to [−5, 2]):
 *                   L_π = −mean( w · log π(a | s) )
 *   ddpg          a deterministic tanh actor through the critic:
 *                   L_π = −λ · mean Q(s, π(s)) + α · mean ‖π(s) − a‖²   (‖·‖² summed over action dims)
 *                 λ = 1 by default (α = 0: pure DDPG, as the note's code); with `qNormalize`
 *                 λ = 1 / mean_batch |Q(s, π(s))| (a constant of the step: no gradient through it).
 *                 This is exactly CORL's ReBRAC actor loss, mean(β·‖π − a‖² − λ·min Q) with
 *                 normalize_q, α = its β (actor_bc_coef); and OGBench's −Q/mean|Q| + α·BC form
 *                 (OGBench's BC term is a unit-σ Gaussian −log-likelihood, so α_OGBench = 2α). TD3+BC
 *                 writes −(α_TD3/mean|Q|)·mean Q + mean_{b,d}(π − a)² instead, i.e. the same
 *                 objective scaled by α_TD3 with α = 1/(α_TD3 · actDim): TD3+BC's α_TD3 = 2.5 is
 *                 α = 0.2 here for a 2-D action (Adam is invariant to the overall scale). We keep
 *                 α on the BC term so that α = 0 stays pure DDPG with or without the normalisation.
 *                 Q = min(Q1, Q2) by default (`qReduce`: 'min' | 'mean' | 'q1'): the same
 *                 conservative min that defines IQL's advantage; TD3 uses Q1 — selectable.
 *   awr-discrete  each action dim binned (bins values over [low, high], edges included), a
 *                 factorised categorical head p_d, the same weights:
 *                   L_π = −mean( w · Σ_d log p_d(bin of a_d | s) )
 *
 * Each loss and its hand-derived gradient are in losses.ts; a step runs the gradient without an
 * autograd tape and backpropagates it through the actor (nn/dense.ts mlpBackward). DDPG's
 * ∂Q/∂a comes from the frozen critic (Critic.qWithActionGrad: cached transposed weights, no
 * weight gradients).
 *
 * Actor Adam 3e-4 with a cosine-decayed learning rate over `steps` (official IQL actor; used
 * for all three methods so that they differ only in the objective). The actor's MLP has its own
 * `hidden`, `activation` and `layerNorm` (nn/dense.ts); it sees observations normalised with the
 * critic's statistics when the critic has them (the dataset is normalised once here, the critic
 * is called with `normalizedObs`, and the policy carries the statistics to act on raw ones).
 *
 * Compute path (`compute`): 'tfjs' runs the step below as tfjs ops on the active backend; 'kernel'
 * runs the same step in the native kernel (iql-kernel.ts createExtractKernel, native/iql-kernel:
 * one call for n steps, GEMMs on OpenBLAS with one thread), with the state in the same flat
 * Float32Arrays ([pi MLP | log σ], Adam's m and v), the same minibatches (indices drawn here from
 * the same Rng) and the learning rate of each step computed here; 'auto' is the kernel when it is
 * built, else tfjs (said once). The two agree to float rounding, not bit for bit: checkpoints and
 * policy tables record the path (`compute`), and a checkpoint of either path resumes on the other.
 * `setCritic` (joint training) hands the kernel the new critic's weights (a copy per call).
 *
 * Speed: the critic is frozen, so AWR's weights depend only on the dataset row; with
 * `precomputeWeights` ('auto': when steps·batch ≥ dataset size) they are computed once for the
 * whole dataset and a step costs only the actor's forward/backward.
 */
import * as arrow from 'apache-arrow';
import * as tf from '@tensorflow/tfjs';
import { Rng } from '../rng.js';
import { cosineLr, FlatAdam } from '../nn/adam.js';
import { archFromMetadata, initMlp, isNativeBackend, mlpBackward, mlpForward, ParamLayout, type Activation } from '../nn/dense.js';
import { readMetadata, requireWeight, tableToWeights, weightsToTable, type NamedArray } from '../nn/serialize.js';
import { DeviceData, sampleIndices, validateShapes, type Transitions } from './common.js';
import { awrDiscreteLossGrad, awrGaussianLossGrad, awrWeights, ddpgLossGrad, meanRowSq } from './losses.js';
import { normalizeObs, sameObsNorm } from './obs-norm.js';
import { qSizes, vSizes, type Critic, type QReduce } from './critic.js';
import { createExtractKernel, extractFallbackMessage, extractKernelStatus, warnExtractFallback } from './iql-kernel.js';
import {
  actionsToBins,
  binCenters,
  categoricalStatsOfLogp,
  gaussianEntropy,
  mlpSizesFor,
  Policy,
  policyMetadata,
  type ActOptions,
  type ExtractMethod,
  type PolicySpec,
  type PolicyStats,
} from './policy.js';

export { policyFromTable, Policy, EXTRACT_METHODS, type ExtractMethod } from './policy.js';

export interface ExtractConfig {
  method: ExtractMethod;
  hidden: number[];
  /** Hidden-layer activation and LayerNorm of the actor's MLP. */
  activation: Activation;
  layerNorm: boolean;
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
  /** ddpg: divide the Q term by the batch's mean |Q| (TD3+BC / ReBRAC / OGBench's normalisation). */
  qNormalize: boolean;
  /** awr-discrete: bins per action dim over [actLow, actHigh]. */
  bins: number;
  actLow: number;
  actHigh: number;
  /** Compute the AWR weights of every dataset row once ('auto': when steps·batch ≥ size). */
  precomputeWeights: 'auto' | 'always' | 'never';
  /** Where the step runs: tfjs ops on the active backend, the native kernel, or the kernel when built. */
  compute: ExtractCompute;
}

export type ExtractCompute = 'auto' | 'tfjs' | 'kernel';

export const EXTRACT_DEFAULTS: Omit<ExtractConfig, 'method'> = {
  hidden: [256, 256],
  activation: 'relu',
  layerNorm: false,
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
  qNormalize: false,
  bins: 21,
  actLow: -1,
  actHigh: 1,
  precomputeWeights: 'auto',
  compute: 'tfjs',
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
  /** The compute path actually used ('auto' resolved). */
  readonly compute: 'tfjs' | 'kernel';
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
  /**
   * Use another critic from the next step on (joint training: the critic moves while the actor
   * learns). Refused when the AWR weights were precomputed from the first critic, or when the
   * new critic's dimensions or observation statistics differ. The caller owns both critics.
   */
  setCritic(next: Critic): void;
  /**
   * compute 'kernel' only: the next steps use these critic parameters (`IQL.criticWeights()` order:
   * target Q1, Q2, then V), copied straight into the kernel. The critic keeps this extractor's
   * architecture and observation statistics; no tensors are built.
   */
  setCriticWeights(weights: readonly Float32Array[]): void;
  dispose(): void;
}

export function createExtractor(
  initialCritic: Critic,
  data: Transitions,
  config: Partial<ExtractConfig> & { method: ExtractMethod },
  seed = 0,
): Extractor {
  const cfg: ExtractConfig = { ...EXTRACT_DEFAULTS, ...config, hidden: (config.hidden ?? EXTRACT_DEFAULTS.hidden).slice() };
  const { method } = cfg;
  let critic = initialCritic;
  if (critic.obsDim !== data.obsDim || critic.actDim !== data.actDim) throw new Error('createExtractor: critic and dataset dimensions differ');
  const spec: PolicySpec = {
    method,
    obsDim: data.obsDim,
    actDim: data.actDim,
    hidden: cfg.hidden,
    arch: { activation: cfg.activation, layerNorm: cfg.layerNorm },
    obsNorm: critic.obsNorm,
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
  const arch = spec.arch!;
  const layout = ParamLayout.ofMlps([{ prefix: 'pi', sizes, arch }], method === 'awr' ? [{ name: 'log_std', shape: [actDim] }] : []);
  const nMlp = layout.names.filter((n) => n.startsWith('pi/')).length;
  const initRng = new Rng(seed, 0);
  const init = initMlp(sizes, initRng, 1, arch);
  if (method === 'awr') init.push(new Float32Array(actDim)); // log σ = 0
  const theta0 = layout.packArrays(init);
  const batchRng = new Rng(seed, 1);
  const obsNorm = critic.obsNorm;
  const precompute =
    usesWeights &&
    (cfg.precomputeWeights === 'always' || (cfg.precomputeWeights === 'auto' && cfg.steps * cfg.batchSize >= data.size));
  const compute = resolveExtractCompute(cfg.compute);
  const trainer = compute === 'kernel' ? kernelTrainer() : tfjsTrainer();

  let steps = 0;
  let last = emptyMetrics(0, cfg.lr);

  function lrAt(t: number): number {
    return cfg.lrSchedule === 'cosine' ? cosineLr(cfg.lr, t, cfg.steps) : cfg.lr;
  }

  /** The step on tfjs ops (the active backend): θ, m, v in FlatAdam. */
  function tfjsTrainer(): ActorTrainer {
    const adam = new FlatAdam(theta0, { lr: cfg.lr, beta1: cfg.adamBeta1, beta2: cfg.adamBeta2, eps: cfg.adamEps });
    // Data on the device, observations normalised once with the critic's statistics (if any).
    const dev = new DeviceData(obsNorm ? { ...data, observations: normalizeObs(data.observations, obsNorm) } : data, { obsAct: usesWeights });
    const bins =
      method === 'awr-discrete'
        ? tf.keep(tf.tensor2d(actionsToBins(data.actions, cfg.bins, cfg.actLow, cfg.actHigh), [data.size, actDim], 'int32'))
        : null;
    const centers = method === 'awr-discrete' ? tf.keep(tf.tensor1d(binCenters(cfg.bins, cfg.actLow, cfg.actHigh))) : null;
    const weights = precompute ? tf.keep(computeWeights(critic, dev, cfg.beta, cfg.maxWeight)) : null;

    function batchWeights(it: tf.Tensor1D): tf.Tensor2D {
      if (weights) return tf.gather(weights, it);
      return awrWeights(critic.advantage(tf.gather(dev.obsAct!, it), tf.gather(dev.obs, it), NORMALIZED), cfg.beta, cfg.maxWeight) as tf.Tensor2D;
    }

    const native = isNativeBackend();

    /**
     * One actor step without a tape: the actor's forward (mlpForward), the method's loss and its
     * dL/d(actor output) from losses.ts, back through the actor (mlpBackward), one flat Adam update.
     * Returns the metric vector (METRIC_KEYS order).
     */
    function trainStep(idx: Int32Array, lr: number): tf.Tensor1D {
      return tf.tidy(() => {
        const B = idx.length;
        const it = tf.tensor1d(idx, 'int32');
        const s = tf.gather(dev.obs, it);
        const a = tf.gather(dev.act, it);
        const w = usesWeights ? batchWeights(it) : null;
        const p = layout.unpack(adam.theta);
        const actor = p.slice(0, nMlp);
        const pass = mlpForward(s, actor, arch, native);
        const nan = tf.scalar(NaN);
        let dOut: tf.Tensor;
        let dExtra: tf.Tensor[] = [];
        let metrics: tf.Tensor[];
        if (method === 'awr') {
          const g = awrGaussianLossGrad(pass.out, p[nMlp]!, a, w!, { min: cfg.logStdMin, max: cfg.logStdMax });
          dOut = g.dOut;
          dExtra = [g.dLogStd];
          metrics = [g.loss, tf.mean(tf.exp(g.logStd)), gaussianEntropy(g.logStd as tf.Tensor1D), tf.div(g.sumW, B), clippedFrac(w!), nan, meanRowSq(g.diff)];
        } else if (method === 'ddpg') {
          const pi = tf.tanh(pass.out);
          const { q, dqda } = critic.qWithActionGrad(s, pi as tf.Tensor2D, cfg.qReduce, NORMALIZED);
          const g = ddpgLossGrad(q, dqda, pi, a, cfg.bcAlpha, cfg.qNormalize);
          dOut = g.dOut;
          metrics = [g.loss, tf.scalar(0), nan, nan, nan, g.meanQ, g.bcMse];
        } else {
          const logits = tf.reshape(pass.out, [B, actDim, cfg.bins]) as tf.Tensor3D;
          const g = awrDiscreteLossGrad(logits, tf.gather(bins!, it), w!);
          dOut = tf.reshape(g.dLogits, [B, actDim * cfg.bins]);
          const st = categoricalStatsOfLogp(g.logp, centers!);
          const mode = tf.gather(centers!, tf.argMax(logits, -1));
          metrics = [g.loss, tf.mean(st.std), tf.mean(st.entropy), tf.div(tf.sum(w!), B), clippedFrac(w!), nan, meanRowSq(tf.sub(mode, a))];
        }
        const grads = mlpBackward(dOut, pass, actor, { native }).grads;
        adam.step(tf.concat([...grads, ...dExtra].map((g) => tf.reshape(g, [-1]))) as tf.Tensor1D, lr);
        return tf.stack(metrics) as tf.Tensor1D;
      });
    }

    /** Fraction of weights at the clip. */
    function clippedFrac(w: tf.Tensor): tf.Scalar {
      return tf.mean(tf.cast(tf.greaterEqual(w, cfg.maxWeight), 'float32'));
    }

    return {
      run(idx, n, lrs) {
        const B = cfg.batchSize;
        let sum: tf.Tensor1D | null = null;
        for (let k = 0; k < n; k++) {
          const vec = trainStep(idx.subarray(k * B, (k + 1) * B), lrs[k]!);
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
        return Array.from(v, (x) => x / n);
      },
      read: () => ({ theta: adam.theta.dataSync() as Float32Array, m: adam.m.dataSync() as Float32Array, v: adam.v.dataSync() as Float32Array, t: adam.t }),
      write: (x) => adam.setState(x.theta, x.m, x.v, x.t),
      theta: () => adam.theta.clone(),
      datasetWeights: () => (weights ? Float32Array.from(weights.dataSync() as Float32Array) : null),
      // The step reads `critic` (this extractor's current one) every time.
      setCritic: () => undefined,
      setCriticWeights() {
        throw new Error("Extractor.setCriticWeights: compute 'kernel' only (tfjs steps need a Critic: use setCritic)");
      },
      dispose() {
        for (const t of [bins, centers, weights]) t?.dispose();
        adam.dispose();
        dev.dispose();
      },
    };
  }

  /** The step in the native kernel: θ, m, v in Float32Arrays (`layout` order) it updates in place. */
  function kernelTrainer(): ActorTrainer {
    validateShapes(data);
    const cArch = critic.arch;
    const cLayout = ParamLayout.ofMlps([
      { prefix: 'q1', sizes: qSizes(critic.spec), arch: cArch },
      { prefix: 'q2', sizes: qSizes(critic.spec), arch: cArch },
      { prefix: 'v', sizes: vSizes(critic.spec), arch: cArch },
    ]);
    const packCritic = (c: Critic): Float32Array => cLayout.packArrays([...c.q1.params, ...c.q2.params, ...c.v.params].map((t) => t.dataSync() as Float32Array));
    const cFlat = packCritic(critic);
    const kernel = createExtractKernel(
      {
        method, obsDim: spec.obsDim, actDim, batchSize: cfg.batchSize, bins: cfg.bins, qReduce: cfg.qReduce, qNormalize: cfg.qNormalize,
        precomputeWeights: precompute, actorArch: arch, actorSizes: sizes, beta: cfg.beta, maxWeight: cfg.maxWeight,
        logStdMin: cfg.logStdMin, logStdMax: cfg.logStdMax, bcAlpha: cfg.bcAlpha, beta1: cfg.adamBeta1, beta2: cfg.adamBeta2, eps: cfg.adamEps,
        total: layout.total, offset: (name) => layout.offsets[layout.index(name)]!,
        critic: { arch: cArch, qSizes: qSizes(critic.spec), flat: cFlat, offset: (name) => cLayout.offsets[cLayout.index(name)]! },
      },
      {
        obs: obsNorm ? normalizeObs(data.observations, obsNorm) : data.observations,
        act: data.actions,
        ...(method === 'awr-discrete'
          ? { bins: actionsToBins(data.actions, cfg.bins, cfg.actLow, cfg.actHigh), centers: binCenters(cfg.bins, cfg.actLow, cfg.actHigh) }
          : {}),
      },
    );
    const s = { theta: theta0.slice(), m: new Float32Array(layout.total), v: new Float32Array(layout.total) };
    let t = 0;
    return {
      run(idx, n, lrs) {
        const r = kernel.step(idx, n, Float64Array.from(lrs), s, t);
        t += n;
        return Array.from(r);
      },
      read: () => ({ theta: s.theta.slice(), m: s.m.slice(), v: s.v.slice(), t }),
      write(x) {
        for (const k of ['theta', 'm', 'v'] as const) {
          if (x[k].length !== s[k].length) throw new Error(`Extractor.importState: ${k} has ${x[k].length} values, expected ${s[k].length}`);
          s[k].set(x[k]);
        }
        t = x.t;
      },
      // A copy: on the cpu backend a tensor may alias the array.
      theta: () => tf.tensor1d(s.theta.slice()),
      datasetWeights: () => kernel.weights(),
      setCritic: (next) => kernel.setCritic(packCritic(next)),
      setCriticWeights: (weights) => kernel.setCritic(cLayout.packArrays(weights)),
      dispose: () => kernel.dispose(),
    };
  }

  function step(n = 1, opts: { indices?: Int32Array } = {}): ExtractMetrics {
    if (!(n >= 1) || !Number.isInteger(n)) throw new Error(`Extractor.step: n must be a positive integer, got ${n}`);
    const B = cfg.batchSize;
    if (opts.indices && opts.indices.length !== n * B) throw new Error(`Extractor.step: indices must hold ${n * B} rows`);
    // n·B draws in one go: the same stream as B draws per step.
    const idx = opts.indices ?? sampleIndices(batchRng, data.size, n * B);
    const lrs = Array.from({ length: n }, (_, k) => lrAt(steps + k));
    const v = trainer.run(idx, n, lrs);
    steps += n;
    const out = emptyMetrics(steps, lrs[n - 1]!);
    METRIC_KEYS.forEach((k, i) => (out[k] = v[i]!));
    last = out;
    return { ...out };
  }

  function policy(): Policy {
    const theta = trainer.theta();
    const p = tf.tidy(() => layout.unpack(theta));
    theta.dispose();
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
    const st = trainer.read();
    put('', st.theta);
    put('adam/m/', st.m);
    put('adam/v/', st.v);
    return weightsToTable(named, {
      format: 'extract-state',
      version: 2,
      ...policyMetadata(spec),
      config: cfg,
      compute,
      seed,
      step: steps,
      adamT: st.t,
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
    const saved = archFromMetadata(meta, 'Extractor.importState');
    if (saved.activation !== arch.activation || saved.layerNorm !== arch.layerNorm) {
      throw new Error(`Extractor.importState: checkpoint architecture ${JSON.stringify(saved)} differs from ${JSON.stringify(arch)}`);
    }
    const w = tableToWeights(table);
    const read = (prefix: string) => layout.packArrays(layout.names.map((n, i) => requireWeight(w, `${prefix}${n}`, layout.shapes[i]).values));
    trainer.write({ theta: read(''), m: read('adam/m/'), v: read('adam/v/'), t: Number(meta['adamT']) });
    steps = Number(meta['step']);
    batchRng.setState(meta['rng'] as number[]);
    last = emptyMetrics(steps, lrAt(steps));
  }

  return {
    method,
    config: cfg,
    compute,
    get stepCount() {
      return steps;
    },
    step,
    metrics: () => ({ ...last }),
    exportState,
    importState,
    policy,
    exportPolicy: () => withPolicy((p) => p.toTable({ step: steps, seed, compute })),
    act: (obs, n, opts) => withPolicy((p) => p.act(obs, n, opts)),
    stats: (obs, n) => withPolicy((p) => p.stats(obs, n)),
    datasetWeights: () => trainer.datasetWeights(),
    setCritic(next) {
      if (precompute) throw new Error('Extractor.setCritic: the AWR weights were precomputed from the first critic (use precomputeWeights: never)');
      if (next.obsDim !== critic.obsDim || next.actDim !== critic.actDim) throw new Error('Extractor.setCritic: critic dimensions differ');
      if (!sameObsNorm(next.obsNorm, critic.obsNorm)) throw new Error('Extractor.setCritic: observation statistics differ');
      if (JSON.stringify([qSizes(next.spec), next.arch]) !== JSON.stringify([qSizes(critic.spec), critic.arch])) {
        throw new Error('Extractor.setCritic: critic architecture differs');
      }
      trainer.setCritic(next);
      critic = next;
    },
    setCriticWeights(weights) {
      if (precompute) throw new Error('Extractor.setCriticWeights: the AWR weights were precomputed from the first critic (use precomputeWeights: never)');
      trainer.setCriticWeights(weights);
    },
    dispose() {
      trainer.dispose();
    },
  };
}

/** The actor's state and its step runner on one compute path. */
interface ActorTrainer {
  /** n steps on rows idx (n·batchSize) at rates lrs; the mean metric vector (METRIC_KEYS order). */
  run(idx: Int32Array, n: number, lrs: readonly number[]): number[];
  read(): { theta: Float32Array; m: Float32Array; v: Float32Array; t: number };
  write(s: { theta: Float32Array; m: Float32Array; v: Float32Array; t: number }): void;
  /** θ as a new tensor (caller disposes). */
  theta(): tf.Tensor1D;
  datasetWeights(): Float32Array | null;
  /** The critic the next steps use (the extractor has checked that it fits). */
  setCritic(next: Critic): void;
  setCriticWeights(weights: readonly Float32Array[]): void;
  dispose(): void;
}

/**
 * 'auto' → the extraction kernel when it loads, else tfjs, saying why through `say` (default: a
 * warning, once per process); 'kernel' without one throws.
 */
export function resolveExtractCompute(c: ExtractCompute, say?: (msg: string) => void): 'tfjs' | 'kernel' {
  if (c === 'tfjs') return 'tfjs';
  const st = extractKernelStatus();
  if (st.available) return 'kernel';
  if (c === 'kernel') throw new Error(`extraction compute 'kernel': the native kernel is unavailable (${st.reason})`);
  if (say) say(extractFallbackMessage());
  else warnExtractFallback();
  return 'tfjs';
}

/** The extractor's device data holds normalised observations already. */
const NORMALIZED = { normalizedObs: true } as const;

/** AWR weights of every dataset row, [N, 1], computed in chunks through the frozen critic. */
function computeWeights(critic: Critic, dev: DeviceData, beta: number, maxWeight: number, chunk = 8192): tf.Tensor2D {
  const parts: tf.Tensor2D[] = [];
  for (let start = 0; start < dev.size; start += chunk) {
    const len = Math.min(chunk, dev.size - start);
    parts.push(
      tf.tidy(() => {
        const sa = tf.slice(dev.obsAct!, [start, 0], [len, -1]);
        const s = tf.slice(dev.obs, [start, 0], [len, -1]);
        return awrWeights(critic.advantage(sa, s, NORMALIZED), beta, maxWeight) as tf.Tensor2D;
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

/**
 * Implicit Q-Learning (Kostrikov, Nair & Levine 2021), the critic: twin Q nets with Polyak target
 * copies, and V fitted by expectile regression. The policy is extracted afterwards from the frozen
 * critic (extract.ts), or beside it step for step (joint.ts).
 *
 * One gradient step on a minibatch (s, a, r, s', done) of B rows, in the paper's order:
 *
 *   L_V(ψ)  = mean L₂^τ( min(Q_θ'1, Q_θ'2)(s, a) − V_ψ(s) ),   L₂^τ(u) = |τ − 1(u ≤ 0)|·u²
 *   L_Q(θ)  = mean( Q_θ1(s, a) − y )² + mean( Q_θ2(s, a) − y )²,   y = r + γ·(1 − done)·V_ψ(s')
 *   θ, ψ    ← Adam(∇(L_Q + L_V))          (disjoint parameters: the same as two Adams)
 *   θ'      ← θ' + α·(θ − θ')              (α = targetTau)
 *
 * y uses V before this step's update, as CORL's iql.py (the official JAX code updates V first and
 * uses the new V in y: one step of lag). Each loss and its hand-derived gradient are in losses.ts;
 * the step runs them without an autograd tape, backpropagating through the nets with
 * nn/dense.ts's mlpBackward.
 *
 * Networks: `hidden` sizes, `activation` and `layerNorm` (nn/dense.ts) shared by Q1, Q2 and V.
 * With `normalizeObservations` the observations and next observations are standardised by the
 * dataset's statistics first (obs-norm.ts, CORL's `normalize: true`); the exported critic carries
 * the statistics and applies them to raw observations.
 *
 * Speed: all parameters [Q1 | Q2 | V] live in one flat vector updated by one fused Adam, the twin
 * Q nets interleaved so that they run as one batched net on native (nn/twin.ts); minibatches are
 * gathers from tensors built once; `step(n)` runs n steps and downloads the metrics once.
 *
 * Compute path (`compute`): 'tfjs' runs the step above as tfjs ops on the active backend; 'kernel'
 * runs the same step in the native kernel (iql-kernel.ts, native/iql-kernel: one call for n steps,
 * GEMMs on OpenBLAS), on the same minibatches (indices drawn here from the same Rng), with the
 * state in the same flat layout; 'auto' is the kernel when it is built, else tfjs (said once).
 * Results differ by float rounding, so checkpoints and critics record the path (`compute`).
 */
import * as arrow from 'apache-arrow';
import * as tf from '@tensorflow/tfjs';
import { Rng } from '../rng.js';
import { FlatAdam, polyak } from '../nn/adam.js';
import { archFromMetadata, initMlp, isNativeBackend, mlpBackward, mlpForward, mlpNames, mlpShapes, ParamLayout, type Activation } from '../nn/dense.js';
import { layoutPieces, reorderParams, splitPieces, TwinMlp } from '../nn/twin.js';
import { readMetadata, requireWeight, tableToWeights, weightsToTable, type NamedArray } from '../nn/serialize.js';
import {
  DeviceData,
  sampleIndices,
  transformRewards,
  validateShapes,
  type RewardTransform,
  type Transitions,
} from './common.js';
import { Critic, criticMetadata, qSizes, vSizes, type CriticSpec } from './critic.js';
import { expectileValueLossGrad, tdLossGrad } from './losses.js';
import { computeObsNorm, normalizeObs, obsNormFromMetadata, sameObsNorm } from './obs-norm.js';
import { createIqlKernel, kernelFallbackMessage, kernelStatus, warnKernelFallback } from './iql-kernel.js';

/** Where the step runs: tfjs ops on the active backend, the native kernel, or the kernel when built. */
export type IQLCompute = 'auto' | 'tfjs' | 'kernel';

export interface IQLConfig {
  /** Hidden layer sizes of Q1, Q2 and V. */
  hidden: number[];
  /** Hidden-layer activation of Q1, Q2 and V. */
  activation: Activation;
  /** LayerNorm after each hidden linear layer (before the activation). */
  layerNorm: boolean;
  /** Standardise observations by the dataset's mean and std + 1e-3 (CORL's `normalize`). */
  normalizeObservations: boolean;
  discount: number;
  /** Polyak rate of the target Q nets. */
  targetTau: number;
  /** Expectile τ of the V loss (0.7 locomotion/maze2d, 0.9 AntMaze). */
  expectile: number;
  criticLr: number;
  valueLr: number;
  adamBeta1: number;
  adamBeta2: number;
  adamEps: number;
  batchSize: number;
  rewardTransform: RewardTransform;
  /** Compute path of the step (default 'tfjs' here; fit-iql's default is 'auto'). */
  compute: IQLCompute;
}

export const IQL_DEFAULTS: IQLConfig = {
  hidden: [256, 256],
  activation: 'relu',
  layerNorm: false,
  normalizeObservations: false,
  discount: 0.99,
  targetTau: 0.005,
  expectile: 0.7,
  criticLr: 3e-4,
  valueLr: 3e-4,
  adamBeta1: 0.9,
  adamBeta2: 0.999,
  adamEps: 1e-8,
  batchSize: 256,
  rewardTransform: 'none',
  compute: 'tfjs',
};

/** Means over the steps of the last step() call (advMax: the max over them). */
export interface IQLMetrics {
  step: number;
  q1Loss: number;
  q2Loss: number;
  vLoss: number;
  /** mean of min(Q1, Q2)(s, a) (online nets) */
  meanQ: number;
  meanV: number;
  /** advantage min(Q1', Q2')(s, a) − V(s) as AWR uses it */
  advMean: number;
  advStd: number;
  advMax: number;
}

export interface IQLStepOptions {
  /** Explicit minibatch rows (n · batchSize indices); otherwise sampled from the seeded PRNG. */
  indices?: Int32Array;
}

export interface IQL {
  readonly config: IQLConfig;
  readonly obsDim: number;
  readonly actDim: number;
  /** The compute path actually used ('auto' resolved). */
  readonly compute: 'tfjs' | 'kernel';
  /** Gradient steps taken so far. */
  readonly stepCount: number;
  /** Run n gradient steps; returns the mean metrics over them (one device read). */
  step(n?: number, opts?: IQLStepOptions): IQLMetrics;
  /** Metrics of the last step() call (NaN before the first). */
  metrics(): IQLMetrics;
  /** Full resumable state: online + target nets, Adam moments, step, RNG, config. */
  exportState(): arrow.Table;
  importState(table: arrow.Table): void;
  /** Snapshot of the frozen critic for extraction: target Q1, Q2 and V. Caller disposes. */
  critic(): Critic;
  /**
   * The same critic's parameters as plain arrays, in the order of `[...q1.params, ...q2.params,
   * ...v.params]` of `critic()`, without building tensors (joint training hands them to the
   * extraction kernel every step). On the kernel path they are views of the live state: use them
   * before the next step.
   */
  criticWeights(): Float32Array[];
  /** The same critic as an Arrow table (criticFromTable reads it back). */
  exportCritic(): arrow.Table;
  dispose(): void;
}

const METRIC_KEYS = ['q1Loss', 'q2Loss', 'vLoss', 'meanQ', 'meanV', 'advMean', 'advStd'] as const;

export function createIQL(data: Transitions, config: Partial<IQLConfig> = {}, seed = 0): IQL {
  const cfg: IQLConfig = { ...IQL_DEFAULTS, ...config, hidden: (config.hidden ?? IQL_DEFAULTS.hidden).slice() };
  const { obsDim, actDim } = data;
  const arch = { activation: cfg.activation, layerNorm: cfg.layerNorm };
  const obsNorm = cfg.normalizeObservations ? computeObsNorm(data.observations, obsDim) : null;
  const spec: Required<CriticSpec> = { obsDim, actDim, hidden: cfg.hidden, arch, obsNorm };
  const native = isNativeBackend();

  // Parameters: one flat vector [Q1 | Q2 | V] updated by one Adam; the target holds [Q1' | Q2'].
  // `layout`/`targetLayout` are the checkpoint's order (one net after the other); in memory the
  // twins are interleaved per tensor (nn/twin.ts: one batched matmul per layer on native), which
  // `mem`/`targetMem` describe.
  const layout = ParamLayout.ofMlps([
    { prefix: 'q1', sizes: qSizes(spec), arch },
    { prefix: 'q2', sizes: qSizes(spec), arch },
    { prefix: 'v', sizes: vSizes(spec), arch },
  ]);
  const targetLayout = ParamLayout.ofMlps([
    { prefix: 'q1', sizes: qSizes(spec), arch },
    { prefix: 'q2', sizes: qSizes(spec), arch },
  ]);
  const twin = new TwinMlp(qSizes(spec), arch, native);
  const vSh = mlpShapes(vSizes(spec), arch);
  const vEntries = mlpNames(vSizes(spec), arch).map((n, i) => ({ name: `v/${n}`, shape: vSh[i]! }));
  const mem = new ParamLayout([...twin.entries, ...vEntries]);
  const targetMem = new ParamLayout(twin.entries);
  const [qStart, qEnd] = mem.range('q');
  const [vStart] = mem.range('v/');
  // How a flat in-memory vector splits for the tfjs step: the twins' pieces, then one per V tensor.
  const pieces = [...twin.pieces, ...layoutPieces(new ParamLayout(vEntries))];
  const nQPieces = twin.pieces.length;

  const initRng = new Rng(seed, 0);
  const init = [...initMlp(qSizes(spec), initRng, 1, arch), ...initMlp(qSizes(spec), initRng, 1, arch), ...initMlp(vSizes(spec), initRng, 1, arch)];
  const theta0 = reorderParams(layout, mem, layout.packArrays(init));
  const batchRng = new Rng(seed, 1);

  const rewards = transformRewards(data, cfg.rewardTransform);
  const trainData = obsNorm
    ? { ...data, observations: normalizeObs(data.observations, obsNorm), nextObservations: normalizeObs(data.nextObservations, obsNorm) }
    : data;
  const compute = resolveCompute(cfg.compute);
  const trainer = compute === 'kernel' ? kernelTrainer() : tfjsTrainer();

  let steps = 0;
  let last: IQLMetrics = emptyMetrics(0);

  /** The step on tfjs ops (the active backend): θ, m, v in FlatAdam, the target a kept tensor. */
  function tfjsTrainer(): Trainer {
    // Per-element learning-rate multiplier (valueLr / criticLr on V) only when the rates differ.
    const lrScale =
      cfg.criticLr === cfg.valueLr
        ? null
        : tf.keep(tf.tensor1d(Float32Array.from({ length: mem.total }, (_, i) => (i >= vStart ? cfg.valueLr / cfg.criticLr : 1))));
    const adam = new FlatAdam(theta0, { lr: cfg.criticLr, beta1: cfg.adamBeta1, beta2: cfg.adamBeta2, eps: cfg.adamEps });
    let target: tf.Tensor1D = tf.keep(tf.tensor1d(theta0.subarray(qStart, qEnd)));
    const dev = new DeviceData(trainData, { rewards, obsAct: true, td: { discount: cfg.discount } });

    /**
     * One gradient step on rows idx, in the header's order: L_V, L_Q, one Adam step on [Q1 | Q2 | V],
     * Polyak. Tape-free: losses.ts gives dL/d(each net's output), the nets backpropagate it.
     * Returns the [7] metric vector (METRIC_KEYS order) and the batch's max advantage.
     */
    function trainStep(idx: Int32Array): { vec: tf.Tensor1D; advMax: tf.Scalar } {
      return tf.tidy(() => {
        const it = tf.tensor1d(idx, 'int32');
        const sa = tf.gather(dev.obsAct!, it);
        const s = tf.gather(dev.obs, it);
        const s2 = tf.gather(dev.nextObs!, it);
        const r = tf.gather(dev.reward!, it);
        const gmask = tf.gather(dev.discountMask!, it); // γ·(1 − done)
        const p = splitPieces(adam.theta, pieces);
        const q = p.slice(0, nQPieces);
        const v = p.slice(nQPieces);

        // L_V: V(s) regressed on the target nets' min Q(s, a) with the expectile loss.
        const qTarget = tf.min(twin.forward(sa, splitPieces(target, twin.pieces)).out, 0); // [B, 1]
        const vPass = mlpForward(s, v, arch, native);
        const value = expectileValueLossGrad(qTarget, vPass.out, cfg.expectile);

        // L_Q: Q1, Q2 regressed on y = r + γ(1 − done)·V(s'), V before this step's update.
        const y = tf.add(r, tf.mul(gmask, mlpForward(s2, v, arch, native).out));
        const qf = twin.forward(sa, q); // [2, B, 1]
        const td = tdLossGrad(qf.out, y);

        // One Adam step on ∇(L_Q + L_V) (disjoint parameters: the same as two Adams), then Polyak.
        const gq = twin.backward(td.dQ, qf.passes, q);
        const gv = mlpBackward(value.dV, vPass, v, { native }).grads;
        adam.step(tf.concat([...gq, ...gv].map((t) => tf.reshape(t, [-1]))) as tf.Tensor1D, cfg.criticLr, lrScale ?? undefined);
        const newTarget = polyak(target, tf.slice(adam.theta, qStart, qEnd - qStart), cfg.targetTau);
        target.dispose();
        target = tf.keep(newTarget);

        // Diagnostics: losses, mean min Q and V, the advantage u = min Q' − V as AWR weighs it.
        const { mean: advMean, variance: advVar } = tf.moments(value.u);
        const vec = tf.concat([
          td.losses,
          tf.stack([value.loss, tf.mean(tf.min(qf.out, 0)), tf.mean(vPass.out), advMean, tf.sqrt(advVar)]),
        ]) as tf.Tensor1D;
        return { vec, advMax: tf.max(value.u) as tf.Scalar };
      });
    }

    return {
      run(idx, n) {
        const B = cfg.batchSize;
        let sum: tf.Tensor1D | null = null;
        let max: tf.Scalar | null = null;
        for (let k = 0; k < n; k++) {
          const { vec, advMax } = trainStep(idx.subarray(k * B, (k + 1) * B));
          if (sum === null || max === null) {
            sum = vec;
            max = advMax;
          } else {
            const s2: tf.Tensor1D = tf.add(sum, vec);
            const m2: tf.Scalar = tf.maximum(max, advMax);
            for (const t of [sum, max, vec, advMax]) t.dispose();
            sum = s2;
            max = m2;
          }
        }
        const v = sum!.dataSync();
        const mx = max!.dataSync()[0]!;
        sum!.dispose();
        max!.dispose();
        return { means: Array.from(v, (x) => x / n), advMax: mx };
      },
      read: () => ({
        theta: adam.theta.dataSync() as Float32Array,
        m: adam.m.dataSync() as Float32Array,
        v: adam.v.dataSync() as Float32Array,
        target: target.dataSync() as Float32Array,
        t: adam.t,
      }),
      write(s) {
        adam.setState(s.theta, s.m, s.v, s.t);
        target.dispose();
        target = tf.keep(tf.tensor1d(s.target));
      },
      tensors: () => ({ theta: adam.theta.clone(), target: target.clone() }),
      dispose() {
        adam.dispose();
        target.dispose();
        lrScale?.dispose();
        dev.dispose();
      },
    };
  }

  /** The step in the native kernel: the state in Float32Arrays (`mem`/`targetMem` order) it updates in place. */
  function kernelTrainer(): Trainer {
    validateShapes(trainData);
    if (qStart !== 0 || vStart !== qEnd) throw new Error('IQL kernel: expected the layout [twins | V]');
    const N = data.size;
    const w = obsDim + actDim;
    const obsAct = new Float32Array(N * w);
    for (let i = 0; i < N; i++) {
      obsAct.set(trainData.observations.subarray(i * obsDim, (i + 1) * obsDim), i * w);
      obsAct.set(trainData.actions.subarray(i * actDim, (i + 1) * actDim), i * w + obsDim);
    }
    const kernel = createIqlKernel(
      {
        obsDim, actDim, batchSize: cfg.batchSize, activation: arch.activation, layerNorm: arch.layerNorm, qSizes: qSizes(spec),
        targetTau: cfg.targetTau, expectile: cfg.expectile, beta1: cfg.adamBeta1, beta2: cfg.adamBeta2, eps: cfg.adamEps,
        criticLr: cfg.criticLr, valueLr: cfg.valueLr, total: mem.total, qEnd, vStart,
        offset: (name) => mem.offsets[mem.index(name)]!,
      },
      {
        obsAct,
        obs: trainData.observations,
        nextObs: trainData.nextObservations,
        reward: rewards,
        // γ·(1 − done) rounded to float32, as DeviceData builds it
        mask: Float32Array.from(data.terminals, (d) => cfg.discount * (1 - d)),
      },
    );
    const s = { theta: theta0.slice(), m: new Float32Array(mem.total), v: new Float32Array(mem.total), target: theta0.slice(qStart, qEnd) };
    let t = 0;
    return {
      run(idx, n) {
        const r = kernel.step(idx, n, s, t);
        t += n;
        return { means: r.subarray(0, METRIC_KEYS.length), advMax: r[METRIC_KEYS.length]! };
      },
      read: () => ({ ...s, t }),
      write(x) {
        for (const k of ['theta', 'm', 'v', 'target'] as const) {
          if (x[k].length !== s[k].length) throw new Error(`IQL.importState: ${k} has ${x[k].length} values, expected ${s[k].length}`);
          s[k].set(x[k]);
        }
        t = x.t;
      },
      // Copies: on the cpu backend a tensor may alias the array (and its slices, their parent).
      tensors: () => ({ theta: tf.tensor1d(s.theta.slice()), target: tf.tensor1d(s.target.slice()) }),
      dispose: () => kernel.dispose(),
    };
  }

  function step(n = 1, opts: IQLStepOptions = {}): IQLMetrics {
    if (!(n >= 1) || !Number.isInteger(n)) throw new Error(`IQL.step: n must be a positive integer, got ${n}`);
    const B = cfg.batchSize;
    if (opts.indices && opts.indices.length !== n * B) {
      throw new Error(`IQL.step: indices must hold n·batchSize = ${n * B} rows, got ${opts.indices.length}`);
    }
    // n·B draws in one go: the same stream as B draws per step.
    const idx = opts.indices ?? sampleIndices(batchRng, data.size, n * B);
    const { means, advMax } = trainer.run(idx, n);
    steps += n;
    const out = emptyMetrics(steps);
    METRIC_KEYS.forEach((k, i) => (out[k] = means[i]!));
    out.advMax = advMax;
    last = out;
    return { ...out };
  }

  // ------------------------------------------------------------------ checkpoints
  function exportState(): arrow.Table {
    const named: Record<string, NamedArray> = {};
    const put = (prefix: string, lay: ParamLayout, flat: Float32Array) =>
      lay.unpackArrays(flat).forEach((a, i) => (named[`${prefix}${lay.names[i]}`] = { shape: lay.shapes[i]!, values: a }));
    const st = trainer.read();
    put('', layout, reorderParams(mem, layout, st.theta));
    put('target/', targetLayout, reorderParams(targetMem, targetLayout, st.target));
    put('adam/m/', layout, reorderParams(mem, layout, st.m));
    put('adam/v/', layout, reorderParams(mem, layout, st.v));
    return weightsToTable(named, {
      format: 'iql-state',
      version: 2,
      ...criticMetadata(spec),
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
    if (meta['format'] !== 'iql-state') throw new Error(`IQL.importState: not an IQL state table (format ${String(meta['format'])})`);
    if (meta['obsDim'] !== obsDim || meta['actDim'] !== actDim || JSON.stringify(meta['hidden']) !== JSON.stringify(cfg.hidden)) {
      throw new Error('IQL.importState: network sizes differ from this IQL instance');
    }
    const saved = archFromMetadata(meta, 'IQL.importState');
    if (saved.activation !== arch.activation || saved.layerNorm !== arch.layerNorm) {
      throw new Error(`IQL.importState: checkpoint architecture ${JSON.stringify(saved)} differs from this IQL instance's ${JSON.stringify(arch)}`);
    }
    if (!sameObsNorm(obsNormFromMetadata(meta, obsDim, 'IQL.importState'), obsNorm)) {
      throw new Error('IQL.importState: checkpoint observation statistics differ from this dataset\'s (or normalizeObservations differs)');
    }
    const w = tableToWeights(table);
    // Read by name straight into the in-memory order.
    const read = (prefix: string, lay: ParamLayout) =>
      lay.packArrays(lay.names.map((n, i) => requireWeight(w, `${prefix}${n}`, lay.shapes[i]).values));
    trainer.write({ theta: read('', mem), m: read('adam/m/', mem), v: read('adam/v/', mem), target: read('target/', targetMem), t: Number(meta['adamT']) });
    steps = Number(meta['step']);
    batchRng.setState(meta['rng'] as number[]);
    last = emptyMetrics(steps);
  }

  function critic(): Critic {
    const { theta, target } = trainer.tensors();
    const tq = tf.tidy(() => targetMem.unpack(target));
    const on = tf.tidy(() => mem.unpack(theta));
    theta.dispose();
    target.dispose();
    const pick = (from: tf.Tensor[], lay: ParamLayout, prefix: string) =>
      mlpNames(prefix === 'v' ? vSizes(spec) : qSizes(spec), arch).map((n) => from[lay.index(`${prefix}/${n}`)]!);
    const c = new Critic(spec, { q1: pick(tq, targetMem, 'q1'), q2: pick(tq, targetMem, 'q2'), v: pick(on, mem, 'v') });
    for (const t of [...tq, ...on]) t.dispose();
    return c;
  }

  function criticWeights(): Float32Array[] {
    const st = trainer.read();
    // Views into the state by name (the twins are interleaved in memory): valid until the next step.
    const view = (lay: ParamLayout, flat: Float32Array, name: string) => {
      const i = lay.index(name);
      return flat.subarray(lay.offsets[i]!, lay.offsets[i]! + lay.sizes[i]!);
    };
    return [
      ...targetLayout.names.map((n) => view(targetMem, st.target, n)),
      ...layout.names.filter((n) => n.startsWith('v/')).map((n) => view(mem, st.theta, n)),
    ];
  }

  return {
    config: cfg,
    obsDim,
    actDim,
    compute,
    get stepCount() {
      return steps;
    },
    step,
    metrics: () => ({ ...last }),
    exportState,
    importState,
    critic,
    criticWeights,
    exportCritic() {
      const c = critic();
      try {
        return c.toTable({ step: steps, seed, compute });
      } finally {
        c.dispose();
      }
    },
    dispose() {
      trainer.dispose();
    },
  };
}

/** The step's state and its runner on one compute path. */
interface Trainer {
  /** n steps on rows idx (n·batchSize): the mean metrics (METRIC_KEYS order) and the max advantage. */
  run(idx: Int32Array, n: number): { means: ArrayLike<number>; advMax: number };
  /** θ, m, v (memory order), the target vector and Adam's step count (read-only views). */
  read(): IQLFlatState;
  write(s: IQLFlatState): void;
  /** θ and the target vector as tensors (the caller disposes them). */
  tensors(): { theta: tf.Tensor1D; target: tf.Tensor1D };
  dispose(): void;
}

interface IQLFlatState {
  theta: Float32Array;
  m: Float32Array;
  v: Float32Array;
  target: Float32Array;
  t: number;
}

/**
 * 'auto' → the kernel when it loads, else tfjs, saying why through `say` (default: a warning, once
 * per process); 'kernel' without one throws.
 */
export function resolveCompute(c: IQLCompute, say?: (msg: string) => void): 'tfjs' | 'kernel' {
  if (c === 'tfjs') return 'tfjs';
  const st = kernelStatus();
  if (st.available) return 'kernel';
  if (c === 'kernel') throw new Error(`IQL compute 'kernel': the native kernel is unavailable (${st.reason})`);
  if (say) say(kernelFallbackMessage());
  else warnKernelFallback();
  return 'tfjs';
}

function emptyMetrics(step: number): IQLMetrics {
  return { step, q1Loss: NaN, q2Loss: NaN, vLoss: NaN, meanQ: NaN, meanV: NaN, advMean: NaN, advStd: NaN, advMax: NaN };
}

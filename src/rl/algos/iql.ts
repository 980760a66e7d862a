/**
 * Implicit Q-Learning (Kostrikov et al. 2021), critic part: twin Q, target Q (Polyak), V by
 * expectile regression. Readable top to bottom, CORL style; the policy is extracted later
 * from the frozen critic (see extract.ts).
 *
 * One gradient step on a minibatch (s, a, r, s', done):
 *
 *   y        = r + γ·(1 − done)·V(s')                      (V before this step's update)
 *   L_Q      = mean((Q1(s,a) − y)²) + mean((Q2(s,a) − y)²)
 *   L_V      = mean(|τ − 1(u ≤ 0)| · u²),  u = min(Q1', Q2')(s,a) − V(s)   (target nets Q')
 *   θ_Q, θ_V ← Adam(∇(L_Q + L_V))                           (disjoint parameters: same as two Adams)
 *   θ_Q'     ← θ_Q' + τ_polyak·(θ_Q − θ_Q')
 *
 * (CORL's order: V(s') is computed before the V update. The official JAX code updates V first
 * and uses the new V in y; the difference is one step of lag.)
 *
 * Speed (wasm backend): all parameters [Q1 | Q2 | V] live in one flat vector updated by one
 * fused Adam; the MLPs use the custom-gradient dense layers (nn/dense.ts); minibatches are
 * gathers from tensors built once; `step(n)` runs n steps and downloads the metrics once.
 */
import * as arrow from 'apache-arrow';
import * as tf from '@tensorflow/tfjs';
import { Rng } from '../envs/rng.js';
import { FlatAdam, polyak } from '../nn/adam.js';
import { initMlp, mlp, mlpInfer, ParamLayout } from '../nn/dense.js';
import { readMetadata, requireWeight, tableToWeights, weightsToTable, type NamedArray } from '../nn/serialize.js';
import {
  DeviceData,
  expectileLoss,
  sampleIndices,
  tdLoss,
  transformRewards,
  type RewardTransform,
  type Transitions,
} from './common.js';
import { Critic, qSizes, vSizes } from './critic.js';

export interface IQLConfig {
  /** Hidden layer sizes of Q1, Q2 and V. */
  hidden: number[];
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
}

export const IQL_DEFAULTS: IQLConfig = {
  hidden: [256, 256],
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
  /** The same critic as an Arrow table (criticFromTable reads it back). */
  exportCritic(): arrow.Table;
  dispose(): void;
}

const METRIC_KEYS = ['q1Loss', 'q2Loss', 'vLoss', 'meanQ', 'meanV', 'advMean', 'advStd'] as const;

export function createIQL(data: Transitions, config: Partial<IQLConfig> = {}, seed = 0): IQL {
  const cfg: IQLConfig = { ...IQL_DEFAULTS, ...config, hidden: (config.hidden ?? IQL_DEFAULTS.hidden).slice() };
  const { obsDim, actDim } = data;
  const spec = { obsDim, actDim, hidden: cfg.hidden };

  // Parameters: one flat vector [Q1 | Q2 | V]; the target holds [Q1' | Q2'].
  const layout = ParamLayout.ofMlps([
    { prefix: 'q1', sizes: qSizes(spec) },
    { prefix: 'q2', sizes: qSizes(spec) },
    { prefix: 'v', sizes: vSizes(spec) },
  ]);
  const targetLayout = ParamLayout.ofMlps([
    { prefix: 'q1', sizes: qSizes(spec) },
    { prefix: 'q2', sizes: qSizes(spec) },
  ]);
  const nQ = (qSizes(spec).length - 1) * 2; // tensors per Q net
  const [qStart, qEnd] = layout.range('q');
  const [vStart, vEnd] = layout.range('v/');
  const vLayout = ParamLayout.ofMlps([{ prefix: 'v', sizes: vSizes(spec) }]);

  const initRng = new Rng(seed, 0);
  const init = [...initMlp(qSizes(spec), initRng), ...initMlp(qSizes(spec), initRng), ...initMlp(vSizes(spec), initRng)];
  const theta0 = layout.packArrays(init);
  // Per-element learning-rate multiplier only when Q and V rates differ.
  const lrScale =
    cfg.criticLr === cfg.valueLr
      ? null
      : tf.keep(tf.tensor1d(Float32Array.from({ length: layout.total }, (_, i) => (i >= vStart ? cfg.valueLr / cfg.criticLr : 1))));
  const adam = new FlatAdam(theta0, { lr: cfg.criticLr, beta1: cfg.adamBeta1, beta2: cfg.adamBeta2, eps: cfg.adamEps });
  let target: tf.Tensor1D = tf.keep(tf.tensor1d(theta0.subarray(qStart, qEnd)));
  const batchRng = new Rng(seed, 1);

  const rewards = transformRewards(data, cfg.rewardTransform);
  const dev = new DeviceData(data, { rewards, obsAct: true, td: { discount: cfg.discount } });

  let steps = 0;
  let last: IQLMetrics = emptyMetrics(0);

  /** One gradient step on rows idx; returns [7] metric vector and the batch max advantage. */
  function trainStep(idx: Int32Array): { vec: tf.Tensor1D; advMax: tf.Scalar } {
    return tf.tidy(() => {
      const it = tf.tensor1d(idx, 'int32');
      const sa = tf.gather(dev.obsAct!, it);
      const s = tf.gather(dev.obs, it);
      const s2 = tf.gather(dev.nextObs!, it);
      const r = tf.gather(dev.reward!, it);
      const gmask = tf.gather(dev.discountMask!, it);

      // Constants of this step (no tape): TD target and the target nets' min Q.
      const vNow = vLayout.unpack(tf.slice(adam.theta, vStart, vEnd - vStart));
      const y = tf.add(r, tf.mul(gmask, mlpInfer(s2, vNow)));
      const tp = targetLayout.unpack(target);
      const qTarget = tf.minimum(mlpInfer(sa, tp.slice(0, nQ)), mlpInfer(sa, tp.slice(nQ)));

      const diag: { vec?: tf.Tensor1D; advMax?: tf.Scalar } = {};
      const { grads } = tf.valueAndGrads((theta: tf.Tensor) => {
        const p = layout.unpack(theta as tf.Tensor1D);
        const q1 = mlp(sa, p.slice(0, nQ));
        const q2 = mlp(sa, p.slice(nQ, 2 * nQ));
        const v = mlp(s, p.slice(2 * nQ));
        const q1Loss = tdLoss(q1, y);
        const q2Loss = tdLoss(q2, y);
        const adv = tf.sub(qTarget, v);
        const vLoss = expectileLoss(adv, cfg.expectile);
        // Diagnostics (not on the path to the loss, so no gradient work).
        const { mean: advMean, variance: advVar } = tf.moments(adv);
        diag.vec = tf.keep(
          tf.stack([q1Loss, q2Loss, vLoss, tf.mean(tf.minimum(q1, q2)), tf.mean(v), advMean, tf.sqrt(advVar)]) as tf.Tensor1D,
        );
        diag.advMax = tf.keep(tf.max(adv));
        return tf.add(tf.add(q1Loss, q2Loss), vLoss) as tf.Scalar;
      })([adam.theta]);

      const g = lrScale ? tf.mul(grads[0]!, lrScale) : grads[0]!;
      adam.step(g as tf.Tensor1D);
      const newTarget = polyak(target, tf.slice(adam.theta, qStart, qEnd - qStart), cfg.targetTau);
      target.dispose();
      target = tf.keep(newTarget);
      return { vec: diag.vec!, advMax: diag.advMax! };
    });
  }

  function step(n = 1, opts: IQLStepOptions = {}): IQLMetrics {
    if (!(n >= 1) || !Number.isInteger(n)) throw new Error(`IQL.step: n must be a positive integer, got ${n}`);
    const B = cfg.batchSize;
    if (opts.indices && opts.indices.length !== n * B) {
      throw new Error(`IQL.step: indices must hold n·batchSize = ${n * B} rows, got ${opts.indices.length}`);
    }
    let sum: tf.Tensor1D | null = null;
    let max: tf.Scalar | null = null;
    for (let k = 0; k < n; k++) {
      const idx = opts.indices ? opts.indices.subarray(k * B, (k + 1) * B) : sampleIndices(batchRng, dev.size, B);
      const { vec, advMax } = trainStep(idx);
      steps += 1;
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
    const out = emptyMetrics(steps);
    METRIC_KEYS.forEach((k, i) => (out[k] = v[i]! / n));
    out.advMax = mx;
    last = out;
    return { ...out };
  }

  // ------------------------------------------------------------------ checkpoints
  function exportState(): arrow.Table {
    const named: Record<string, NamedArray> = {};
    const put = (prefix: string, lay: ParamLayout, flat: Float32Array) =>
      lay.unpackArrays(flat).forEach((a, i) => (named[`${prefix}${lay.names[i]}`] = { shape: lay.shapes[i]!, values: a }));
    put('', layout, adam.theta.dataSync() as Float32Array);
    put('target/', targetLayout, target.dataSync() as Float32Array);
    put('adam/m/', layout, adam.m.dataSync() as Float32Array);
    put('adam/v/', layout, adam.v.dataSync() as Float32Array);
    return weightsToTable(named, {
      format: 'iql-state',
      version: 1,
      obsDim,
      actDim,
      hidden: cfg.hidden,
      config: cfg,
      seed,
      step: steps,
      adamT: adam.t,
      rng: batchRng.getState(),
    });
  }

  function importState(table: arrow.Table): void {
    const meta = readMetadata(table);
    if (meta['format'] !== 'iql-state') throw new Error(`IQL.importState: not an IQL state table (format ${String(meta['format'])})`);
    if (meta['obsDim'] !== obsDim || meta['actDim'] !== actDim || JSON.stringify(meta['hidden']) !== JSON.stringify(cfg.hidden)) {
      throw new Error('IQL.importState: network sizes differ from this IQL instance');
    }
    const w = tableToWeights(table);
    const read = (prefix: string, lay: ParamLayout) =>
      lay.packArrays(lay.names.map((n, i) => requireWeight(w, `${prefix}${n}`, lay.shapes[i]).values));
    adam.setState(read('', layout), read('adam/m/', layout), read('adam/v/', layout), Number(meta['adamT']));
    target.dispose();
    target = tf.keep(tf.tensor1d(read('target/', targetLayout)));
    steps = Number(meta['step']);
    batchRng.setState(meta['rng'] as number[]);
    last = emptyMetrics(steps);
  }

  function critic(): Critic {
    const parts = tf.tidy(() => [...targetLayout.unpack(target), ...vLayout.unpack(tf.slice(adam.theta, vStart, vEnd - vStart))]);
    const c = new Critic(spec, { q1: parts.slice(0, nQ), q2: parts.slice(nQ, 2 * nQ), v: parts.slice(2 * nQ) });
    for (const t of parts) t.dispose();
    return c;
  }

  return {
    config: cfg,
    obsDim,
    actDim,
    get stepCount() {
      return steps;
    },
    step,
    metrics: () => ({ ...last }),
    exportState,
    importState,
    critic,
    exportCritic() {
      const c = critic();
      try {
        return c.toTable({ step: steps, seed });
      } finally {
        c.dispose();
      }
    },
    dispose() {
      adam.dispose();
      target.dispose();
      lrScale?.dispose();
      dev.dispose();
    },
  };
}

function emptyMetrics(step: number): IQLMetrics {
  return { step, q1Loss: NaN, q2Loss: NaN, vLoss: NaN, meanQ: NaN, meanV: NaN, advMean: NaN, advStd: NaN, advMax: NaN };
}

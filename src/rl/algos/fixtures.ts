/**
 * Small synthetic datasets for tests and benchmarks (Transitions with known structure).
 */
import * as tf from '@tensorflow/tfjs';
import { Rng } from '../rng.js';
import type { NamedArray } from '../nn/serialize.js';
import { mlpNames, PLAIN_RELU, type MlpArch } from '../nn/dense.js';
import { referenceMlp as referenceMlpOfList } from '../nn/reference-mlp.js';
import type { Transitions } from './common.js';
import { awrDiscreteLoss, awrGaussianLoss, ddpgLoss, expectileValueLoss, tdLoss } from './losses.js';
import { actionsToBins } from './policy.js';

/** Random transitions of the given sizes (speed benchmarks): episodes of 300 steps. */
export function syntheticTransitions(size: number, obsDim: number, actDim: number, seed = 0): Transitions {
  const rng = new Rng(seed);
  const f = (n: number, lo = -1, hi = 1) => Float32Array.from({ length: n }, () => rng.uniform(lo, hi));
  const terminals = new Float32Array(size);
  const timeouts = new Float32Array(size);
  for (let i = 299; i < size; i += 300) timeouts[i] = 1;
  return {
    size,
    obsDim,
    actDim,
    observations: f(size * obsDim, 0, 5),
    actions: f(size * actDim),
    nextObservations: f(size * obsDim, 0, 5),
    rewards: f(size, 0, 1),
    terminals,
    timeouts,
    envId: 'synthetic',
  };
}

/**
 * A chain of `n` states 0..n−1 (observation: one-hot). Action a ∈ [−1, 1] (1-D): a > 0 moves
 * right, else left (clamped at 0). Reaching state n−1 gives reward 1 and ends the episode.
 * Transitions start from uniformly random non-terminal states with uniformly random actions.
 */
export function chainMdp(size: number, n = 5, seed = 0): Transitions {
  const rng = new Rng(seed);
  const obs = new Float32Array(size * n);
  const next = new Float32Array(size * n);
  const act = new Float32Array(size);
  const rew = new Float32Array(size);
  const term = new Float32Array(size);
  for (let i = 0; i < size; i++) {
    const s = rng.int(n - 1);
    const a = rng.uniform(-1, 1);
    const s2 = a > 0 ? s + 1 : Math.max(0, s - 1);
    obs[i * n + s] = 1;
    next[i * n + s2] = 1;
    act[i] = a;
    if (s2 === n - 1) {
      rew[i] = 1;
      term[i] = 1;
    }
  }
  return {
    size,
    obsDim: n,
    actDim: 1,
    observations: obs,
    actions: act,
    nextObservations: next,
    rewards: rew,
    terminals: term,
    timeouts: new Float32Array(size),
    envId: 'chain',
  };
}

/**
 * A one-state bandit (observation [1], every step terminal) with a BIMODAL 1-D action dataset:
 * half the actions near −0.9, half near +0.9 (± `spread`), reward `rLow` for the negative mode
 * and `rHigh` for the positive one. The best data action is +0.9.
 */
export function bimodalBandit(size: number, opts: { rLow?: number; rHigh?: number; spread?: number; seed?: number } = {}): Transitions {
  const { rLow = 0.5, rHigh = 1, spread = 0.05, seed = 0 } = opts;
  const rng = new Rng(seed);
  const act = new Float32Array(size);
  const rew = new Float32Array(size);
  for (let i = 0; i < size; i++) {
    const pos = i % 2 === 0;
    act[i] = (pos ? 0.9 : -0.9) + rng.uniform(-spread, spread);
    rew[i] = pos ? rHigh : rLow;
  }
  return {
    size,
    obsDim: 1,
    actDim: 1,
    observations: new Float32Array(size).fill(1),
    actions: act,
    nextObservations: new Float32Array(size).fill(1),
    rewards: rew,
    terminals: new Float32Array(size).fill(1),
    timeouts: new Float32Array(size),
    envId: 'bandit',
  };
}

// ---------------------------------------------------------------------------------------------
// References for the tests of the tape-free training steps

/**
 * An MLP of `layers` linear layers (default 3: two hidden; `arch`: activation, LayerNorm) written with plain tfjs ops (autograd
 * differentiates it), its parameters fetched by name: `${prefix}/l0/W`, ...
 */
export function referenceMlp(x: tf.Tensor, get: (name: string) => tf.Tensor, prefix: string, arch: MlpArch = PLAIN_RELU, layers = 3): tf.Tensor {
  const names = mlpNames(new Array<number>(layers + 1).fill(1), arch);
  return referenceMlpOfList(x, names.map((n) => get(`${prefix}/${n}`)), layers, arch);
}

/**
 * First mismatch between an exported state after one update (w1) and the torch Adam formula in
 * float64 applied to the state before it (w0) with reference gradients, or null. `t` is the Adam
 * step index of the update.
 */
export function adamMismatch(
  names: readonly string[],
  grads: readonly Float32Array[],
  w0: Map<string, NamedArray>,
  w1: Map<string, NamedArray>,
  opts: { t: number; lr: number; beta1?: number; beta2?: number; eps?: number; thetaTol?: number },
): string | null {
  const { t, lr, beta1: b1 = 0.9, beta2: b2 = 0.999, eps = 1e-8, thetaTol = 1e-6 } = opts;
  for (let k = 0; k < names.length; k++) {
    const n = names[k]!;
    const m0 = w0.get(`adam/m/${n}`)!.values, v0 = w0.get(`adam/v/${n}`)!.values, th0 = w0.get(n)!.values;
    const m1 = w1.get(`adam/m/${n}`)!.values, v1 = w1.get(`adam/v/${n}`)!.values, th1 = w1.get(n)!.values;
    const g = grads[k]!;
    for (let i = 0; i < g.length; i++) {
      const em = b1 * m0[i]! + (1 - b1) * g[i]!;
      const ev = b2 * v0[i]! + (1 - b2) * g[i]! * g[i]!;
      const eth = th0[i]! - (lr * em) / (1 - b1 ** t) / (Math.sqrt(ev / (1 - b2 ** t)) + eps);
      if (!(Math.abs(m1[i]! - em) < 2e-4 * Math.max(1e-3, Math.abs(em)) + 1e-7)) return `${n}[${i}] m: ${m1[i]} vs ${em}`;
      if (!(Math.abs(v1[i]! - ev) < 1e-3 * Math.max(1e-8, ev) + 1e-10)) return `${n}[${i}] v: ${v1[i]} vs ${ev}`;
      if (!(Math.abs(th1[i]! - eth) < thetaTol)) return `${n}[${i}] θ: ${th1[i]} vs ${eth}`;
    }
  }
  return null;
}

/**
 * The case of the IQL step tests (iql.test.ts on each backend, iql-kernel.test.ts): 40 transitions
 * (obs 3, act 2) with a terminal at a row of the minibatch `idx` (which repeats a row), a small
 * [8, 8] net with target ≠ online rates, the architecture variants every path must match, and the
 * observation statistics the reference computes itself in float64 (population std + 1e-3, as CORL's
 * compute_mean_std). `base` is a Partial<IQLConfig>.
 */
export function iqlStepCase() {
  const data = syntheticTransitions(40, 3, 2, 6);
  data.terminals[7] = 1;
  const base = { hidden: [8, 8], batchSize: 5, discount: 0.95, expectile: 0.7, targetTau: 0.05, criticLr: 1e-3, valueLr: 1e-3 };
  const variants: Array<{ activation?: 'relu' | 'mish' | 'gelu'; layerNorm?: boolean; normalizeObservations?: boolean }> = [
    {},
    { activation: 'mish', layerNorm: true },
    { activation: 'relu', layerNorm: true },
    { activation: 'gelu' },
    { activation: 'mish' },
    { activation: 'gelu', layerNorm: true, normalizeObservations: true },
    { normalizeObservations: true },
  ];
  const mean = (a: number[]) => a.reduce((s, x) => s + x, 0) / a.length;
  const col = (k: number) => Array.from({ length: 40 }, (_, i) => data.observations[i * 3 + k]!);
  const mu = [0, 1, 2].map((k) => mean(col(k)));
  const sd = [0, 1, 2].map((k) => Math.sqrt(mean(col(k).map((x) => (x - mu[k]!) ** 2))) + 1e-3);
  return { data, base, variants, obsStats: { mean: mu, std: sd }, idx: Int32Array.from([7, 3, 3, 21, 39]) };
}

/**
 * The reference for the IQL step tests (iql.test.ts, iql-kernel.test.ts): tfjs autograd of the plain
 * losses L_Q1 + L_Q2 + L_V (losses.ts) over per-tensor weights read from the state exported before
 * the step (w0), on minibatch rows idx, with rewards as stored (no transform). `obsNorm`: the
 * reference's own statistics (float64) to standardise observations with. Returns the online
 * parameters' names (q1/…, q2/…, v/…), their gradients and the total loss.
 */
export function referenceIqlStep(
  data: Transitions,
  w0: Map<string, NamedArray>,
  idx: Int32Array,
  opts: { discount: number; expectile: number; arch: MlpArch; layers: number; obsNorm?: { mean: number[]; std: number[] } | null },
): { names: string[]; grads: Float32Array[]; loss: number } {
  const { obsDim: od, actDim: ad } = data;
  const norm = opts.obsNorm ?? null;
  const names = [...w0.keys()].filter((k) => /^(q1|q2|v)\//.test(k));
  return tf.tidy(() => {
    const T = (k: string) => tf.tensor(w0.get(k)!.values, w0.get(k)!.shape);
    const net = (x: tf.Tensor, get: (n: string) => tf.Tensor, prefix: string) => referenceMlp(x, get, prefix, opts.arch, opts.layers);
    const rows = Array.from(idx);
    const pick = (a: Float32Array, d: number) => tf.tensor2d(rows.flatMap((i) => Array.from(a.subarray(i * d, i * d + d))), [rows.length, d]);
    const pickObs = (a: Float32Array) =>
      tf.tensor2d(rows.flatMap((i) => Array.from(a.subarray(i * od, i * od + od), (x, k) => (norm ? (x - norm.mean[k]!) / norm.std[k]! : x))), [rows.length, od]);
    const s = pickObs(data.observations);
    const sa = tf.concat([s, pick(data.actions, ad)], 1);
    const s2 = pickObs(data.nextObservations);
    const r = tf.tensor2d(rows.map((i) => data.rewards[i]!), [rows.length, 1]);
    const mask = tf.tensor2d(rows.map((i) => opts.discount * (1 - data.terminals[i]!)), [rows.length, 1]);
    const y = tf.add(r, tf.mul(mask, net(s2, T, 'v')));
    const qt = tf.minimum(net(sa, T, 'target/q1'), net(sa, T, 'target/q2'));
    const { value, grads } = tf.valueAndGrads((...ps: tf.Tensor[]) => {
      const get = (n: string) => ps[names.indexOf(n)]!;
      return tf.addN([tdLoss(net(sa, get, 'q1'), y), tdLoss(net(sa, get, 'q2'), y), expectileValueLoss(qt, net(s, get, 'v'), opts.expectile)]) as tf.Scalar;
    })(names.map(T));
    return { names, loss: value.dataSync()[0]!, grads: grads.map((g) => Float32Array.from(g.dataSync())) };
  });
}

/**
 * The reference of one extraction step (extract.test.ts, extract-kernel.test.ts): tfjs autograd of
 * the method's plain loss (losses.ts) over the per-tensor weights of an exported extract-state `w0`
 * and of a critic table `cw`, on rows `idx` of `data` (observations normalised with `stats` where
 * given, as the critic saw them). AWR weights min(exp(β·A), maxWeight); DDPG's λ = 1/mean|Q| at w0
 * (a constant: stop-gradient). Returns the loss, the gradients in `names` order (every non-Adam
 * tensor of w0) and the fraction of weights at the clip.
 */
export function referenceExtractStep(
  data: Transitions,
  cw: Map<string, NamedArray>,
  w0: Map<string, NamedArray>,
  idx: Int32Array,
  o: {
    method: 'awr' | 'ddpg' | 'awr-discrete';
    actorArch: MlpArch;
    criticArch: MlpArch;
    /** Linear layers of the actor (the critic's: 3). */
    actorLayers?: number;
    stats: { mean: number[]; std: number[] } | null;
    beta: number;
    maxWeight?: number;
    logStdMin?: number;
    logStdMax?: number;
    qReduce?: 'min' | 'mean' | 'q1';
    bcAlpha?: number;
    qNormalize?: boolean;
    bins?: number;
  },
): { names: string[]; loss: number; grads: Float32Array[]; clipped: number } {
  const { obsDim: od, actDim: ad } = data;
  const B = idx.length;
  const names = [...w0.keys()].filter((k) => !k.startsWith('adam/'));
  const maxWeight = o.maxWeight ?? 100;
  const bins = o.bins ?? 5;
  return tf.tidy(() => {
    const net = (x: tf.Tensor, get: (n: string) => tf.Tensor, prefix: string) =>
      prefix === 'pi' ? referenceMlp(x, get, prefix, o.actorArch, o.actorLayers ?? 3) : referenceMlp(x, get, prefix, o.criticArch);
    const C = (n: string) => tf.tensor(cw.get(n)!.values, cw.get(n)!.shape);
    const rows = Array.from(idx);
    const stats = o.stats;
    const s = tf.tensor2d(
      rows.flatMap((i) => Array.from(data.observations.subarray(i * od, (i + 1) * od), (x, k) => (stats ? (x - stats.mean[k]!) / stats.std[k]! : x))),
      [B, od],
    );
    const a = tf.tensor2d(rows.flatMap((i) => Array.from(data.actions.subarray(i * ad, (i + 1) * ad))), [B, ad]);
    const sa = tf.concat([s, a], 1);
    const adv = tf.sub(tf.minimum(net(sa, C, 'q1'), net(sa, C, 'q2')), net(s, C, 'v'));
    const wts = tf.minimum(tf.exp(tf.mul(adv, o.beta)), maxWeight);
    const T0 = (n: string) => tf.tensor(w0.get(n)!.values, w0.get(n)!.shape);
    const ddpgQ = (get: (n: string) => tf.Tensor) => {
      const pi = tf.tanh(net(s, get, 'pi')) as tf.Tensor2D;
      const piSa = tf.concat([s, pi], 1);
      const q1 = net(piSa, C, 'q1');
      const q = o.qReduce === 'q1' ? q1 : o.qReduce === 'mean' ? tf.mul(tf.add(q1, net(piSa, C, 'q2')), 0.5) : tf.minimum(q1, net(piSa, C, 'q2'));
      return { pi, q };
    };
    // λ = 1/mean|Q(s, π(s))| at the step's parameters, a constant of the loss (stop-gradient).
    const qScale = o.qNormalize ? 1 / tf.mean(tf.abs(ddpgQ(T0).q)).dataSync()[0]! : 1;
    const { value, grads } = tf.valueAndGrads((...ps: tf.Tensor[]) => {
      const get = (n: string) => ps[names.indexOf(n)]!;
      if (o.method === 'ddpg') {
        const { pi, q } = ddpgQ(get);
        return ddpgLoss(q, pi, a, o.bcAlpha ?? 0, qScale);
      }
      const out = net(s, get, 'pi') as tf.Tensor2D;
      if (o.method === 'awr') return awrGaussianLoss(out, get('log_std'), a, wts, { min: o.logStdMin ?? -5, max: o.logStdMax ?? 2 });
      const binsOf = tf.tensor2d(rows.flatMap((r) => Array.from(actionsToBins(data.actions.subarray(r * ad, (r + 1) * ad), bins, -1, 1))), [B, ad], 'int32');
      return awrDiscreteLoss(tf.reshape(out, [B, ad, bins]) as tf.Tensor3D, binsOf, wts);
    })(names.map(T0));
    const clipped = tf.mean(tf.cast(tf.greaterEqual(wts, maxWeight), 'float32')).dataSync()[0]!;
    return { names, loss: value.dataSync()[0]!, grads: grads.map((g) => Float32Array.from(g.dataSync())), clipped };
  });
}

/** Largest |a − b| over every tensor of two exported states (same names), and where. */
export function maxStateDiff(a: Map<string, NamedArray>, b: Map<string, NamedArray>, filter: (name: string) => boolean = () => true): { diff: number; at: string } {
  let diff = 0;
  let at = '';
  for (const [k, x] of a) {
    if (!filter(k)) continue;
    const y = b.get(k)!.values;
    x.values.forEach((v, i) => {
      const d = Math.abs(v - y[i]!);
      if (!(d <= diff)) {
        diff = d;
        at = `${k}[${i}]`;
      }
    });
  }
  return { diff, at };
}

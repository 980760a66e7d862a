/**
 * A behaviour policy for the cheetahs, optimised inside this project: a central-pattern-generator
 * (CPG) gait — one sinusoid per joint with a shared frequency —
 *
 *   φ = 2π f · t · dt,
 *   a_k(t) = clip(b_k + A_k · sin(φ + ψ_k) + B_k · sin(2φ + χ_k), −1, 1),   k = 0..5,
 *
 * 31 parameters θ = (f, A_0..5, ψ_0..5, b_0..5, B_0..5, χ_0..5), optimised with the cross-entropy method (CEM) on
 * real episode returns of the environment (`optimiseGait`). The gait is open loop: it depends on
 * the time step, not on the observation (on the limit cycle the phase is a function of the joint
 * state, which is what an offline learner sees). Deterministic given the seed.
 */
import { refitCem } from '../shared/cem.js';
import { Rng, deriveSeed } from '../../rng.js';
import { CheetahSim } from './sim.js';
import type { LocomotionEnvSpec, LocomotionFamily } from './spec.js';

export const GAIT_PARAM_DIM = 31;

const six = (x: number): number[] => Array(6).fill(x) as number[];
/** Parameter box of θ: f in [0.5, 6] Hz, A in [0, 1.5], ψ, χ in [−π, π], b in [−1, 1], B in [0, 1]. */
export const GAIT_LOW = Float64Array.from([0.5, ...six(0), ...six(-Math.PI), ...six(-1), ...six(0), ...six(-Math.PI)]);
export const GAIT_HIGH = Float64Array.from([6, ...six(1.5), ...six(Math.PI), ...six(1), ...six(1), ...six(Math.PI)]);

/** Writes the gait's action at env step t into out[off..off+6). */
export function gaitAction(theta: ArrayLike<number>, t: number, dt: number, out: Float32Array | Float64Array, off = 0): void {
  const ph = 2 * Math.PI * theta[0]! * t * dt;
  for (let k = 0; k < 6; k++) {
    const x = theta[13 + k]! + theta[1 + k]! * Math.sin(ph + theta[7 + k]!) + theta[19 + k]! * Math.sin(2 * ph + theta[25 + k]!);
    out[off + k] = x > 1 ? 1 : x < -1 ? -1 : x;
  }
}

function clampTheta(th: Float64Array): void {
  for (let i = 0; i < GAIT_PARAM_DIM; i++) th[i] = Math.min(GAIT_HIGH[i]!, Math.max(GAIT_LOW[i]!, th[i]!));
}

/**
 * Mean return of each parameter vector over `episodes` episodes of `steps` steps, all stepped in
 * one vectorised simulation (pop × episodes bodies). Resets from (seed, body index) streams.
 */
export async function evaluateGaits(
  spec: LocomotionEnvSpec,
  thetas: ReadonlyArray<ArrayLike<number>>,
  opts: { episodes: number; steps: number; seed: number; sim?: CheetahSim; actionNoise?: number },
): Promise<Float64Array> {
  const P = thetas.length;
  const E = opts.episodes;
  const n = P * E;
  const sim = opts.sim && opts.sim.n >= n ? opts.sim : await CheetahSim.create(spec.family, n);
  try {
    for (let i = 0; i < n; i++) sim.reset(i, new Rng(opts.seed, i));
    const sigma = opts.actionNoise ?? 0;
    const noiseRngs = sigma > 0 ? Array.from({ length: n }, (_, i) => new Rng(deriveSeed(opts.seed, 'action-noise'), i)) : [];
    const acts = new Float64Array(6 * P);
    const noisy = new Float64Array(6);
    const ret = new Float64Array(P);
    for (let t = 0; t < opts.steps; t++) {
      for (let p = 0; p < P; p++) gaitAction(thetas[p]!, t, spec.dt, acts, 6 * p);
      for (let i = 0; i < n; i++) {
        const p = Math.floor(i / E);
        if (sigma > 0) {
          const r = noiseRngs[i]!;
          for (let k = 0; k < 6; k++) {
            const x = acts[6 * p + k]! + sigma * r.normal();
            noisy[k] = x > 1 ? 1 : x < -1 ? -1 : x;
          }
          sim.step(i, noisy, 0);
        } else sim.step(i, acts, 6 * p);
        ret[p] += sim.rewards[i]!;
      }
    }
    for (let p = 0; p < P; p++) ret[p] /= E;
    return ret;
  } finally {
    if (sim !== opts.sim) sim.close();
  }
}

export interface GaitOptimiserParams {
  seed: number;
  /** CEM iterations. */
  iterations: number;
  /** Candidates per iteration. */
  population: number;
  /** Elite fraction (the best ⌈population·elite⌉ refit the sampling distribution). */
  elite: number;
  /** Episodes per candidate and steps per episode (≤ 1000) during optimisation. */
  episodes: number;
  steps: number;
  /** Held-out episodes that pick the result among (best candidate seen, final CEM mean). */
  finalEpisodes: number;
  /**
   * Std of Gaussian action noise applied during optimisation (and selection), so that the gait is
   * robust to the noise it will be collected with. Default 0.
   */
  actionNoise?: number;
}

export const DEFAULT_GAIT_OPTIMISER: Omit<GaitOptimiserParams, 'seed'> = {
  iterations: 40,
  population: 32,
  elite: 0.25,
  episodes: 2,
  steps: 1000,
  finalEpisodes: 8,
};

export interface GaitOptimiserResult {
  theta: Float64Array;
  /** Best candidate's mean return per iteration (on the optimisation episodes). */
  history: number[];
  /** Mean return of `theta` over the held-out selection episodes (full 1000-step episodes, with the optimisation's action noise). */
  selectionReturn: number;
  /** Env steps simulated. */
  envSteps: number;
  family: LocomotionFamily;
}

/**
 * Cross-entropy method over θ: a diagonal Gaussian (initial mean at the box centre with f = 2 Hz,
 * A = 0.75, b = 0; initial std = ¼ of the box width) sampled `population` times per iteration and
 * refit to the elites (with a small std floor). The best candidate ever seen is returned.
 */
export async function optimiseGait(
  spec: LocomotionEnvSpec,
  p: GaitOptimiserParams,
  opts: { onProgress?: (iter: number, total: number, best: number) => void; signal?: AbortSignal } = {},
): Promise<GaitOptimiserResult> {
  const D = GAIT_PARAM_DIM;
  const rng = new Rng(deriveSeed(p.seed, 'gait-cem'));
  const mean = new Float64Array(D);
  const std = new Float64Array(D);
  for (let i = 0; i < D; i++) {
    mean[i] = (GAIT_LOW[i]! + GAIT_HIGH[i]!) / 2;
    std[i] = (GAIT_HIGH[i]! - GAIT_LOW[i]!) / 4;
  }
  mean[0] = 2;
  for (let k = 0; k < 6; k++) {
    mean[1 + k] = 0.75;
    mean[19 + k] = 0;
    std[19 + k] = 0.25;
  }
  const nElite = Math.max(2, Math.ceil(p.population * p.elite));
  const sim = await CheetahSim.create(spec.family, p.population * p.episodes);
  let best = -Infinity;
  let bestTheta = Float64Array.from(mean);
  const history: number[] = [];
  let envSteps = 0;
  try {
    for (let it = 0; it < p.iterations; it++) {
      if (opts.signal?.aborted) throw opts.signal.reason ?? new Error('gait optimisation aborted');
      const cands: Float64Array[] = [];
      for (let c = 0; c < p.population; c++) {
        const th = new Float64Array(D);
        if (c === 0 && it > 0) th.set(bestTheta);
        else for (let i = 0; i < D; i++) th[i] = mean[i]! + std[i]! * rng.normal();
        clampTheta(th);
        cands.push(th);
      }
      const scores = await evaluateGaits(spec, cands, { episodes: p.episodes, steps: p.steps, seed: deriveSeed(p.seed, 'gait-eval', it), sim, actionNoise: p.actionNoise ?? 0 });
      envSteps += p.population * p.episodes * p.steps;
      const order = Array.from({ length: p.population }, (_, i) => i).sort((a, b) => scores[b]! - scores[a]! || a - b);
      if (scores[order[0]!]! > best) {
        best = scores[order[0]!]!;
        bestTheta = Float64Array.from(cands[order[0]!]!);
      }
      history.push(scores[order[0]!]!);
      refitCem(cands, order, nElite, mean, std, GAIT_LOW, GAIT_HIGH);
      opts.onProgress?.(it + 1, p.iterations, best);
      await new Promise<void>((r) => setImmediate(r));
    }
  } finally {
    sim.close();
  }
  // Pick between the best candidate seen (optimistically biased: best of many noisy scores) and
  // the final CEM mean on held-out reset seeds.
  const finalists = [bestTheta, Float64Array.from(mean)];
  clampTheta(finalists[1]!);
  const fe = Math.max(1, p.finalEpisodes);
  const sel = await evaluateGaits(spec, finalists, { episodes: fe, steps: spec.maxEpisodeSteps, seed: deriveSeed(p.seed, 'gait-select'), actionNoise: p.actionNoise ?? 0 });
  envSteps += 2 * fe * spec.maxEpisodeSteps;
  const k = sel[1]! > sel[0]! ? 1 : 0;
  return { theta: finalists[k]!, selectionReturn: sel[k]!, history, envSteps, family: spec.family };
}

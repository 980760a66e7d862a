/**
 * Offline datasets for the cheetahs (halfcheetah-v2, cheetah-run), generated here — NOT the D4RL or
 * ExoRL files. Two behaviours, named for what they are:
 *
 *  behaviour 'gait' (procedure `cem-cpg-gait+gaussian`, narrow, expert-like):
 *    a CPG gait (locomotion/gait.ts) optimised with CEM on real returns of the same env — under
 *    the same action noise it is then collected with, so the gait is robust to it — then
 *    run with Gaussian action noise: a = clip(gait(t) + N(0, σ²), −1, 1), σ = `actionNoise`
 *    (default 0.1). Unimodal, concentrated actions along one gait cycle — the regime where the
 *    note says DDPG exploits Q errors.
 *  behaviour 'explore' (procedure `mixed-exploration`, dense action coverage):
 *    the trajectory is cut into segments of U{20..100} steps; each segment draws a mode:
 *      held-uniform (p = (1 − gaitFraction)/2): a ~ U(−1, 1)^6, redrawn every U{1..holdMax} steps;
 *      OU noise    (p = (1 − gaitFraction)/2): x ← x − θx + σ_ou·N(0, I), θ = 0.15, σ_ou = 0.3, a = clip(x);
 *      noisy gait  (p = gaitFraction):         a = clip(gait(t) + N(0, exploreGaitNoise²)).
 *    Temporally correlated random actions fill the action box (edges included); the gait
 *    segments carry the body into running states so that states are diverse too. Stands in for
 *    ExoRL's unsupervised-exploration data (which came from RND/APT/... agents).
 *
 * Episodes are 1000 steps (the env's limit) from the env's reset distribution; timeouts = 1 on an
 * episode's last row, terminals all 0; a final partial episode (size not a multiple of 1000) has
 * no flag. rewards = the env's reward of the step (next-state semantics). infos/qpos, infos/qvel =
 * the simulator state of the observation row (9 + 9). Deterministic given the parameters.
 * The optimised gait parameters and their held-out return are part of the result (and recorded in
 * the table metadata by the load-dataset stage). Gait optimisations are memoised per process.
 */
import { Rng, deriveSeed } from '../rng.js';
import { getLocomotionSpec, type LocomotionEnvSpec } from '../envs/locomotion/spec.js';
import { CheetahSim } from '../envs/locomotion/sim.js';
import { DEFAULT_GAIT_OPTIMISER, evaluateGaits, gaitAction, optimiseGait, type GaitOptimiserParams } from '../envs/locomotion/gait.js';
import type { Transitions } from './dataset.js';

export type LocomotionBehaviour = 'gait' | 'explore';

export interface LocomotionGeneratorParams {
  env: string;
  size: number;
  seed: number;
  behaviour: LocomotionBehaviour;
  /** 'gait': σ of the Gaussian action noise. Default 0.1. */
  actionNoise?: number;
  /** 'explore': probability that a segment is a noisy-gait segment. Default 0.3. */
  gaitFraction?: number;
  /** 'explore': σ of the noise on gait segments. Default 0.3. */
  exploreGaitNoise?: number;
  /** 'explore': max steps a held-uniform action is kept. Default 8. */
  holdMax?: number;
  /** CEM settings of the gait optimisation (defaults: DEFAULT_GAIT_OPTIMISER). */
  gaitIterations?: number;
  gaitPopulation?: number;
  gaitEpisodes?: number;
}

export type ResolvedLocomotionParams = Required<LocomotionGeneratorParams> & { procedure: string };

export interface LocomotionDataset {
  transitions: Transitions;
  infos: { qpos: Float32Array; qvel: Float32Array };
  params: ResolvedLocomotionParams;
  /**
   * Optimised gait θ; `return`/`score` = its noise-free mean return over 4 held-out episodes;
   * `noisyReturn` = the held-out selection return under the optimisation's action noise.
   */
  gait: { theta: number[]; return: number; score: number; noisyReturn: number; envSteps: number; history: number[] };
  episodes: number;
  /** Mean return of the complete episodes of the dataset and its normalised score. */
  datasetReturn: number;
  datasetScore: number;
}

export interface LocomotionGenerateOptions {
  onProgress?: (done: number, total: number, what: string) => void;
  signal?: AbortSignal;
}

const gaitMemo = new Map<string, Promise<Awaited<ReturnType<typeof optimiseGait>>>>();

/** Optimised gait for (env, seed, CEM settings); memoised per process (deterministic anyway). */
export function getOptimisedGait(
  spec: LocomotionEnvSpec,
  p: GaitOptimiserParams,
  opts: LocomotionGenerateOptions = {},
): Promise<Awaited<ReturnType<typeof optimiseGait>>> {
  const key = JSON.stringify([spec.id, p]);
  let r = gaitMemo.get(key);
  if (!r) {
    r = optimiseGait(spec, p, {
      signal: opts.signal,
      onProgress: (it, total) => opts.onProgress?.(it, total, 'gait CEM iterations'),
    });
    r.catch(() => gaitMemo.delete(key));
    gaitMemo.set(key, r);
  }
  return r;
}

export function resolveLocomotionParams(p: LocomotionGeneratorParams): ResolvedLocomotionParams {
  getLocomotionSpec(p.env);
  if (!Number.isInteger(p.size) || p.size < 1) throw new Error(`locomotion generator: size must be a positive integer, got ${p.size}`);
  if (p.behaviour !== 'gait' && p.behaviour !== 'explore') throw new Error(`locomotion generator: behaviour must be 'gait' or 'explore', got ${String(p.behaviour)}`);
  const r: ResolvedLocomotionParams = {
    procedure: p.behaviour === 'gait' ? 'cem-cpg-gait+gaussian' : 'mixed-exploration',
    env: p.env,
    size: p.size,
    seed: p.seed,
    behaviour: p.behaviour,
    actionNoise: p.actionNoise ?? 0.1,
    gaitFraction: p.gaitFraction ?? 0.3,
    exploreGaitNoise: p.exploreGaitNoise ?? 0.3,
    holdMax: p.holdMax ?? 8,
    gaitIterations: p.gaitIterations ?? DEFAULT_GAIT_OPTIMISER.iterations,
    gaitPopulation: p.gaitPopulation ?? DEFAULT_GAIT_OPTIMISER.population,
    gaitEpisodes: p.gaitEpisodes ?? DEFAULT_GAIT_OPTIMISER.episodes,
  };
  if (!(r.actionNoise >= 0)) throw new Error(`locomotion generator: actionNoise must be ≥ 0, got ${r.actionNoise}`);
  if (!(r.gaitFraction >= 0 && r.gaitFraction <= 1)) throw new Error(`locomotion generator: gaitFraction must be in [0, 1], got ${r.gaitFraction}`);
  if (!(r.exploreGaitNoise >= 0)) throw new Error(`locomotion generator: exploreGaitNoise must be ≥ 0`);
  if (!Number.isInteger(r.holdMax) || r.holdMax < 1) throw new Error(`locomotion generator: holdMax must be a positive integer`);
  for (const k of ['gaitIterations', 'gaitPopulation', 'gaitEpisodes'] as const) {
    if (!Number.isInteger(r[k]) || r[k] < 1) throw new Error(`locomotion generator: ${k} must be a positive integer, got ${r[k]}`);
  }
  if (r.gaitPopulation < 4) throw new Error('locomotion generator: gaitPopulation must be ≥ 4');
  return r;
}

export async function generateLocomotionDataset(p: LocomotionGeneratorParams, opts: LocomotionGenerateOptions = {}): Promise<LocomotionDataset> {
  const params = resolveLocomotionParams(p);
  const spec = getLocomotionSpec(params.env);
  const g = await getOptimisedGait(
    spec,
    {
      ...DEFAULT_GAIT_OPTIMISER,
      seed: deriveSeed(params.seed, 'gait'),
      iterations: params.gaitIterations,
      population: params.gaitPopulation,
      episodes: params.gaitEpisodes,
      // The 'gait' data is collected with noise σ: optimise the gait under that noise (robust gait).
      actionNoise: params.behaviour === 'gait' ? params.actionNoise : 0,
    },
    opts,
  );
  // Noise-free held-out return of the gait (reported; the selection return above includes the noise).
  const clean = await evaluateGaits(spec, [g.theta], { episodes: 4, steps: spec.maxEpisodeSteps, seed: deriveSeed(params.seed, 'gait-report') });
  const theta = g.theta;
  const size = params.size;
  const observations = new Float32Array(17 * size);
  const nextObservations = new Float32Array(17 * size);
  const actions = new Float32Array(6 * size);
  const rewards = new Float32Array(size);
  const terminals = new Float32Array(size);
  const timeouts = new Float32Array(size);
  const qposI = new Float32Array(9 * size);
  const qvelI = new Float32Array(9 * size);

  const rng = new Rng(deriveSeed(params.seed, 'collect'), 0);
  const sim = await CheetahSim.create(spec.family, 1);
  const T = spec.maxEpisodeSteps;
  const dt = spec.dt;
  const a = new Float32Array(6);
  const ou = new Float64Array(6);
  let episodes = 0;
  let fullEpisodes = 0;
  let fullReturnSum = 0;
  try {
    let k = 0;
    while (k < size) {
      if (opts.signal?.aborted) throw opts.signal.reason ?? new Error('generation aborted');
      sim.reset(0, rng);
      episodes++;
      let ret = 0;
      // exploration state
      let segLeft = 0;
      let mode = 0; // 0 held-uniform, 1 OU, 2 noisy gait
      let holdLeft = 0;
      ou.fill(0);
      const q = sim.qpos;
      const v = sim.qvel;
      let t = 0;
      for (; t < T && k < size; t++, k++) {
        sim.writeObs(0, observations, 17 * k);
        for (let j = 0; j < 9; j++) {
          qposI[9 * k + j] = q[j]!;
          qvelI[9 * k + j] = v[j]!;
        }
        if (params.behaviour === 'gait') {
          gaitAction(theta, t, dt, a);
          if (params.actionNoise > 0) for (let j = 0; j < 6; j++) a[j] = clip1(a[j]! + params.actionNoise * rng.normal());
        } else {
          if (segLeft <= 0) {
            segLeft = 20 + rng.int(81);
            const u = rng.random();
            mode = u < params.gaitFraction ? 2 : u < params.gaitFraction + (1 - params.gaitFraction) / 2 ? 0 : 1;
            holdLeft = 0;
          }
          segLeft--;
          if (mode === 0) {
            if (holdLeft <= 0) {
              holdLeft = 1 + rng.int(params.holdMax);
              for (let j = 0; j < 6; j++) a[j] = rng.uniform(-1, 1);
            }
            holdLeft--;
          } else if (mode === 1) {
            for (let j = 0; j < 6; j++) {
              ou[j] = ou[j]! - 0.15 * ou[j]! + 0.3 * rng.normal();
              a[j] = clip1(ou[j]!);
            }
          } else {
            gaitAction(theta, t, dt, a);
            for (let j = 0; j < 6; j++) a[j] = clip1(a[j]! + params.exploreGaitNoise * rng.normal());
          }
        }
        actions.set(a, 6 * k);
        sim.step(0, a, 0);
        sim.writeObs(0, nextObservations, 17 * k);
        const r = sim.rewards[0]!;
        rewards[k] = r;
        ret += r;
        if (t === T - 1) timeouts[k] = 1;
        if ((k + 1) % 20_000 === 0) {
          opts.onProgress?.(k + 1, size, 'transitions');
          await new Promise<void>((res) => setImmediate(res));
          if (opts.signal?.aborted) throw opts.signal.reason ?? new Error('generation aborted');
        }
      }
      if (t === T) {
        fullEpisodes++;
        fullReturnSum += ret;
      }
    }
    opts.onProgress?.(size, size, 'transitions');
  } finally {
    sim.close();
  }
  const datasetReturn = fullEpisodes ? fullReturnSum / fullEpisodes : NaN;
  return {
    transitions: { size, obsDim: 17, actDim: 6, observations, actions, nextObservations, rewards, terminals, timeouts, envId: params.env },
    infos: { qpos: qposI, qvel: qvelI },
    params,
    gait: {
      theta: Array.from(theta),
      return: clean[0]!,
      score: spec.normalizedScore(clean[0]!),
      noisyReturn: g.selectionReturn,
      envSteps: g.envSteps + 4 * spec.maxEpisodeSteps,
      history: g.history,
    },
    episodes,
    datasetReturn,
    datasetScore: spec.normalizedScore(datasetReturn),
  };
}

function clip1(x: number): number {
  return x > 1 ? 1 : x < -1 ? -1 : x;
}

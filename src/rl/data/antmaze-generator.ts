/**
 * Offline datasets for AntMaze (antmaze-umaze-v2), generated here — NOT D4RL's files. Procedure
 * `cem-gait-waypoint+gaussian` (D4RL's umaze "fixed goal" collection, with our controller in
 * place of D4RL's SAC goal-reaching policy):
 *
 *  - episodes of `episodeSteps` steps (default 1000: D4RL's generate_dataset.py
 *    max_episode_steps; its off-by-one makes its episodes 1001 steps long) from the start cell with
 *    gym Ant's reset noise; a new goal is drawn in the goal cell at every episode (D4RL's
 *    set_target_goal(): cell centre + U(0, 1) + U(0, 0.5) per axis);
 *  - behaviour: the AntMaze waypoint controller (antmaze/controller.ts: a CEM-optimised CPG gait
 *    steered by BFS + pure pursuit) commanded to the goal; the ant is NOT stopped at the goal (D4RL
 *    collection uses eval=False: no termination), it keeps hovering around it;
 *  - action noise: a = clip(controller + N(0, σ²), −1, 1), σ = `noise` (default 0.2 = D4RL's
 *    `--noisy`, `np.random.randn(*act.shape) * 0.2`);
 *  - rewards: sparse, 1 if ‖xy' − goal‖ ≤ 0.5 after the step (the released files' relabelling);
 *  - terminals: `terminalsOnGoal` (default true) sets terminals = rewards, as the released D4RL
 *    antmaze v0/v2 files do (a 1 wherever the ant is within 0.5 of the goal; cf. D4RL issue #199);
 *    false gives all-zero terminals (a purely time-limited view);
 *  - timeouts = 1 on each episode's last row; a final partial episode has no flag;
 *  - infos/goal (2), infos/qpos (15), infos/qvel (14) = the goal and simulator state of the
 *    observation row.
 * Deterministic given the parameters. The controller's θ and its source are part of the result.
 */
import { Rng, deriveSeed } from '../rng.js';
import { getAntMazeSpec } from '../envs/antmaze/spec.js';
import { AntMazeSim, ANT_NQ, ANT_NV, ANTMAZE_ACT_DIM, ANTMAZE_OBS_DIM, torsoUpZ } from '../envs/antmaze/sim.js';
import { ANT_GAIT_THETA, AntMazeController, DEFAULT_ANT_GAIT_OPTIMISER, optimiseAntGait, type AntGaitOptimiserResult } from '../envs/antmaze/controller.js';
import type { Transitions } from './dataset.js';

export interface AntMazeGeneratorParams {
  env: string;
  size: number;
  seed: number;
  /** σ of the Gaussian action noise. Default 0.2 (D4RL). */
  noise?: number;
  /** Steps per episode. Default 1000. */
  episodeSteps?: number;
  /** terminals = rewards (D4RL files) or all zero. Default true. */
  terminalsOnGoal?: boolean;
  /** Pure-pursuit lookahead (m). Default 2. */
  lookahead?: number;
  /** 'committed': the θ found offline (ANT_GAIT_THETA); 'optimise': run CEM now (memoised). Default 'committed'. */
  gait?: 'committed' | 'optimise';
  /** CEM settings when gait = 'optimise' (defaults: DEFAULT_ANT_GAIT_OPTIMISER). */
  gaitIterations?: number;
  gaitPopulation?: number;
  gaitEpisodes?: number;
}

export type ResolvedAntMazeParams = Required<AntMazeGeneratorParams> & { procedure: string };

export interface AntMazeDataset {
  transitions: Transitions;
  infos: { goal: Float32Array; qpos: Float32Array; qvel: Float32Array };
  params: ResolvedAntMazeParams;
  controller: { theta: number[]; source: string; lookahead: number; gaitSpeed?: number; envSteps?: number };
  episodes: number;
  /** Fraction of complete episodes in which the ant came within 0.5 of the goal at least once. */
  episodeSuccessRate: number;
  /** Mean first step at which the goal was reached (successful complete episodes). */
  meanStepsToGoal: number;
  /** Fraction of rows with reward 1. */
  rewardFraction: number;
  /** Fraction of complete episodes that ended with the torso upside down. */
  flipRate: number;
}

export interface AntMazeGenerateOptions {
  onProgress?: (done: number, total: number, what: string) => void;
  signal?: AbortSignal;
}

const gaitMemo = new Map<string, Promise<AntGaitOptimiserResult>>();

export function resolveAntMazeParams(p: AntMazeGeneratorParams): ResolvedAntMazeParams {
  getAntMazeSpec(p.env);
  if (!Number.isInteger(p.size) || p.size < 1) throw new Error(`antmaze generator: size must be a positive integer, got ${p.size}`);
  const r: ResolvedAntMazeParams = {
    procedure: 'cem-gait-waypoint+gaussian',
    env: p.env,
    size: p.size,
    seed: p.seed,
    noise: p.noise ?? 0.2,
    episodeSteps: p.episodeSteps ?? 1000,
    terminalsOnGoal: p.terminalsOnGoal ?? true,
    lookahead: p.lookahead ?? 2,
    gait: p.gait ?? 'committed',
    gaitIterations: p.gaitIterations ?? DEFAULT_ANT_GAIT_OPTIMISER.iterations,
    gaitPopulation: p.gaitPopulation ?? DEFAULT_ANT_GAIT_OPTIMISER.population,
    gaitEpisodes: p.gaitEpisodes ?? DEFAULT_ANT_GAIT_OPTIMISER.episodes,
  };
  if (!(r.noise >= 0)) throw new Error(`antmaze generator: noise must be ≥ 0, got ${r.noise}`);
  if (!Number.isInteger(r.episodeSteps) || r.episodeSteps < 1) throw new Error(`antmaze generator: episodeSteps must be a positive integer, got ${r.episodeSteps}`);
  if (!(r.lookahead > 0)) throw new Error(`antmaze generator: lookahead must be > 0`);
  if (r.gait !== 'committed' && r.gait !== 'optimise') throw new Error(`antmaze generator: gait must be 'committed' or 'optimise', got ${String(r.gait)}`);
  for (const k of ['gaitIterations', 'gaitPopulation', 'gaitEpisodes'] as const) {
    if (!Number.isInteger(r[k]) || r[k] < 1) throw new Error(`antmaze generator: ${k} must be a positive integer, got ${r[k]}`);
  }
  if (r.gaitPopulation < 4) throw new Error('antmaze generator: gaitPopulation must be ≥ 4');
  return r;
}

export async function generateAntMazeDataset(p: AntMazeGeneratorParams, opts: AntMazeGenerateOptions = {}): Promise<AntMazeDataset> {
  const params = resolveAntMazeParams(p);
  const spec = getAntMazeSpec(params.env);
  let theta: Float64Array;
  let controllerInfo: AntMazeDataset['controller'];
  if (params.gait === 'optimise') {
    const cem = { ...DEFAULT_ANT_GAIT_OPTIMISER, seed: deriveSeed(params.seed, 'gait'), iterations: params.gaitIterations, population: params.gaitPopulation, episodes: params.gaitEpisodes };
    const key = JSON.stringify(cem);
    let g = gaitMemo.get(key);
    if (!g) {
      g = optimiseAntGait(cem, { signal: opts.signal, onProgress: (it, total) => opts.onProgress?.(it, total, 'gait CEM iterations') });
      g.catch(() => gaitMemo.delete(key));
      gaitMemo.set(key, g);
    }
    const res = await g;
    theta = res.theta;
    controllerInfo = { theta: Array.from(theta), source: 'cem', lookahead: params.lookahead, gaitSpeed: res.selectionSpeed, envSteps: res.envSteps };
  } else {
    theta = Float64Array.from(ANT_GAIT_THETA);
    controllerInfo = { theta: Array.from(theta), source: 'committed ANT_GAIT_THETA', lookahead: params.lookahead };
  }

  const size = params.size;
  const D = ANTMAZE_OBS_DIM;
  const A = ANTMAZE_ACT_DIM;
  const observations = new Float32Array(D * size);
  const nextObservations = new Float32Array(D * size);
  const actions = new Float32Array(A * size);
  const rewards = new Float32Array(size);
  const terminals = new Float32Array(size);
  const timeouts = new Float32Array(size);
  const goalI = new Float32Array(2 * size);
  const qposI = new Float32Array(ANT_NQ * size);
  const qvelI = new Float32Array(ANT_NV * size);

  const rng = new Rng(deriveSeed(params.seed, 'antmaze-collect'), 0);
  const sim = await AntMazeSim.create(spec.maze, 1);
  const ctrl = new AntMazeController(sim.layout, theta, { lookahead: params.lookahead });
  const T = params.episodeSteps;
  const sigma = params.noise;
  const a = new Float64Array(A);
  let episodes = 0;
  let full = 0;
  let fullSucc = 0;
  let stepSum = 0;
  let flips = 0;
  let ones = 0;
  try {
    let k = 0;
    while (k < size) {
      if (opts.signal?.aborted) throw opts.signal.reason ?? new Error('generation aborted');
      sim.sampleGoal(0, rng);
      sim.reset(0, rng);
      ctrl.reset();
      episodes++;
      const gx = sim.goals[0]!;
      const gy = sim.goals[1]!;
      let first = -1;
      let t = 0;
      for (; t < T && k < size; t++, k++) {
        sim.writeObs(0, observations, D * k);
        for (let j = 0; j < ANT_NQ; j++) qposI[ANT_NQ * k + j] = sim.qpos[j]!;
        for (let j = 0; j < ANT_NV; j++) qvelI[ANT_NV * k + j] = sim.qvel[j]!;
        goalI[2 * k] = gx;
        goalI[2 * k + 1] = gy;
        ctrl.act(sim.qpos, 0, gx, gy, a);
        if (sigma > 0) for (let j = 0; j < A; j++) a[j] = clip1(a[j]! + sigma * rng.normal());
        for (let j = 0; j < A; j++) actions[A * k + j] = a[j]!;
        sim.step(0, actions, A * k); // the stored (float32) action is the one executed
        sim.writeObs(0, nextObservations, D * k);
        const r = sim.rewards[0]!;
        rewards[k] = r;
        if (r === 1) {
          ones++;
          if (first < 0) first = t + 1;
          if (params.terminalsOnGoal) terminals[k] = 1;
        }
        if (t === T - 1) timeouts[k] = 1;
        if ((k + 1) % 10_000 === 0) {
          opts.onProgress?.(k + 1, size, 'transitions');
          await new Promise<void>((res) => setImmediate(res));
          if (opts.signal?.aborted) throw opts.signal.reason ?? new Error('generation aborted');
        }
      }
      if (t === T) {
        full++;
        if (first > 0) {
          fullSucc++;
          stepSum += first;
        }
        if (torsoUpZ(sim.qpos, 0) < 0) flips++;
      }
    }
    opts.onProgress?.(size, size, 'transitions');
  } finally {
    sim.close();
  }
  return {
    transitions: { size, obsDim: D, actDim: A, observations, actions, nextObservations, rewards, terminals, timeouts, envId: params.env },
    infos: { goal: goalI, qpos: qposI, qvel: qvelI },
    params,
    controller: controllerInfo,
    episodes,
    episodeSuccessRate: full ? fullSucc / full : NaN,
    meanStepsToGoal: fullSucc ? stepSum / fullSucc : NaN,
    rewardFraction: ones / size,
    flipRate: full ? flips / full : NaN,
  };
}

function clip1(x: number): number {
  return x > 1 ? 1 : x < -1 ? -1 : x;
}

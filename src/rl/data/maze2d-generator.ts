/**
 * D4RL's maze2d data collection (scripts/generation/generate_maze2d_datasets.py, behaviour only):
 * one continuous trajectory of the point mass driven by the waypoint controller to random
 * targets. Per step:
 *   action = controller(pos, vel, target) (+ N(0, noise²) per axis), clipped to [-1, 1];
 *   an "episode" ends (timeouts = 1) when the controller reports the target reached (within 0.1
 *   of the target cell and slow), or when the step counter since the last target reaches
 *   maxEpisodeSteps (the counter starts at 0, so such an episode has maxEpisodeSteps + 1 rows,
 *   as in D4RL); then a new target is drawn (uniform free cell + U(-0.1, 0.1)) and the motion
 *   continues from the current state (no reset).
 * terminals are all 0 (D4RL: "no terminal states"; timeouts only split the trajectory).
 * The start state uses the env reset distribution. infos/goal = the navigation target of the row.
 *
 * Rewards are relabelled for the evaluation goal (the layout's G cell) with the env's reward type
 * (sparse: ‖pos − goal‖ ≤ 0.5, dense: exp(−‖pos − goal‖)), as D4RL's relabel script does.
 * `rewardOn: 'next'` (default) scores next_observations, matching env.step's reward;
 * `rewardOn: 'obs'` scores observations, which is what the released D4RL files contain
 * (the known off-by-one, D4RL issue #194).
 *
 * Differences from the Python script, on purpose: the observation after a finished episode is
 * the true current state (the script re-records the stale pre-step observation once), and
 * next_observations are exact (stored, not derived). Deterministic given `seed`.
 */
import { Rng } from '../rng.js';
import { getMaze2dSpec, mazeReward } from '../envs/maze2d/spec.js';
import { MazeSim } from '../envs/maze2d/sim.js';
import { WaypointController } from '../envs/maze2d/waypoint-controller.js';
import type { Transitions } from './dataset.js';

export interface Maze2dGeneratorParams {
  env: string;
  /** Number of transitions. D4RL: 1e6 (umaze), 2e6 (medium), 4e6 (large). */
  size: number;
  seed: number;
  /** Std of the Gaussian action noise. D4RL released datasets: 0.5. */
  noise?: number;
  rewardOn?: 'next' | 'obs';
  /** Steps before a new target is forced; default: the env's maxEpisodeSteps. */
  maxEpisodeSteps?: number;
}

export interface GeneratedInfos {
  goal: Float32Array;
  qpos: Float32Array;
  qvel: Float32Array;
}

export interface GeneratedDataset {
  transitions: Transitions;
  infos: GeneratedInfos;
  /** Resolved generator parameters (recorded in the table metadata). */
  params: Required<Maze2dGeneratorParams>;
  /** Targets reached (episodes ended by the controller, not by the step limit). */
  targetsReached: number;
  episodes: number;
}

export interface GenerateOptions {
  onProgress?: (step: number, total: number) => void;
  signal?: AbortSignal;
  /** Rows between progress reports / event-loop yields. Default 50 000. */
  chunk?: number;
}

export async function generateMaze2dDataset(p: Maze2dGeneratorParams, opts: GenerateOptions = {}): Promise<GeneratedDataset> {
  const spec = getMaze2dSpec(p.env);
  const size = p.size;
  if (!Number.isInteger(size) || size < 1) throw new Error(`maze2d generator: size must be a positive integer, got ${size}`);
  const params: Required<Maze2dGeneratorParams> = {
    env: p.env,
    size,
    seed: p.seed,
    noise: p.noise ?? 0.5,
    rewardOn: p.rewardOn ?? 'next',
    maxEpisodeSteps: p.maxEpisodeSteps ?? spec.maxEpisodeSteps,
  };
  if (!(params.noise >= 0)) throw new Error(`maze2d generator: noise must be ≥ 0, got ${params.noise}`);
  const layout = spec.layout;
  const cells = layout.freeCells;
  const rng = new Rng(params.seed, 0); // targets, resets, action noise
  const ctrlRng = new Rng(params.seed, 1); // waypoint jitter
  const controller = new WaypointController(layout, ctrlRng);
  const sim = await MazeSim.create(spec.maze, 1);

  const observations = new Float32Array(4 * size);
  const nextObservations = new Float32Array(4 * size);
  const actions = new Float32Array(2 * size);
  const rewards = new Float32Array(size);
  const terminals = new Float32Array(size);
  const timeouts = new Float32Array(size);
  const goal = new Float32Array(2 * size);
  const qpos = new Float32Array(2 * size);
  const qvel = new Float32Array(2 * size);

  const [gx, gy] = layout.goal;
  const rtype = spec.rewardType;
  const noise = params.noise;
  const limit = params.maxEpisodeSteps;
  const chunk = Math.max(1, opts.chunk ?? 50_000);
  const act = new Float64Array(2);

  let tx = 0;
  let ty = 0;
  const newTarget = () => {
    const c = cells[rng.int(cells.length)]!;
    tx = c[0] + rng.uniform(-0.1, 0.1);
    ty = c[1] + rng.uniform(-0.1, 0.1);
  };
  let targetsReached = 0;
  let episodes = 0;
  try {
    newTarget();
    {
      const c = cells[rng.int(cells.length)]!;
      const x = c[0] + rng.uniform(-0.1, 0.1);
      const y = c[1] + rng.uniform(-0.1, 0.1);
      sim.setState(0, x, y, rng.normal(0, 0.1), rng.normal(0, 0.1));
    }
    const q = sim.qpos;
    const v = sim.qvel;
    let ts = 0;
    for (let k = 0; k < size; k++) {
      if (k % chunk === 0 && k > 0) {
        opts.onProgress?.(k, size);
        await new Promise<void>((r) => setImmediate(r));
        if (opts.signal?.aborted) throw opts.signal.reason ?? new Error('generation aborted');
      }
      const x = q[0]!;
      const y = q[1]!;
      const vx = v[0]!;
      const vy = v[1]!;
      let done = controller.act(x, y, vx, vy, tx, ty, act, 0);
      if (done) targetsReached++;
      let ax = act[0]!;
      let ay = act[1]!;
      if (noise > 0) {
        ax += rng.normal(0, noise);
        ay += rng.normal(0, noise);
      }
      ax = ax > 1 ? 1 : ax < -1 ? -1 : ax;
      ay = ay > 1 ? 1 : ay < -1 ? -1 : ay;
      if (ts >= limit) done = true;

      const o4 = 4 * k;
      const o2 = 2 * k;
      observations[o4] = x;
      observations[o4 + 1] = y;
      observations[o4 + 2] = vx;
      observations[o4 + 3] = vy;
      actions[o2] = ax;
      actions[o2 + 1] = ay;
      goal[o2] = tx;
      goal[o2 + 1] = ty;
      qpos[o2] = x;
      qpos[o2 + 1] = y;
      qvel[o2] = vx;
      qvel[o2 + 1] = vy;

      sim.step(0, ax, ay);
      const nx = q[0]!;
      const ny = q[1]!;
      nextObservations[o4] = nx;
      nextObservations[o4 + 1] = ny;
      nextObservations[o4 + 2] = v[0]!;
      nextObservations[o4 + 3] = v[1]!;
      rewards[k] = params.rewardOn === 'next' ? mazeReward(rtype, nx, ny, gx, gy) : mazeReward(rtype, x, y, gx, gy);

      ts++;
      if (done) {
        timeouts[k] = 1;
        episodes++;
        newTarget();
        ts = 0;
      }
    }
    opts.onProgress?.(size, size);
  } finally {
    sim.close();
  }
  const transitions: Transitions = {
    size,
    obsDim: 4,
    actDim: 2,
    observations,
    actions,
    nextObservations,
    rewards,
    terminals,
    timeouts,
    envId: params.env,
  };
  return { transitions, infos: { goal, qpos, qvel }, params, targetsReached, episodes };
}

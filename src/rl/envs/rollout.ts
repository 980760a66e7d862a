/**
 * Batched policy evaluation on D4RL maze2d: all episodes of a chunk run in one vectorised loop,
 * with ONE batched policy call per env step (obs n×obsDim in, actions n×actDim out).
 *
 * Success is reported two ways:
 *  - `success[i]` = the ball was within the goal radius (0.5 of the goal) at ANY step of episode i
 *    (the headline "success rate");
 *  - `successAtEnd[i]` = within the goal radius at the last step.
 * Episodes all last `maxEpisodeSteps` (D4RL maze2d has no terminal states).
 *
 * Locomotion ids (halfcheetah-v2, cheetah-run) are dispatched to `rolloutLocomotion`
 * (locomotion/rollout.ts): same result shape, obs n×17 / actions n×6, `success` all 0,
 * `successRate` NaN, no trajectories. AntMaze ids go to `rolloutAntMaze` (antmaze/rollout.ts):
 * episodes end on reaching the goal (return 1) or at 700 steps (return 0).
 */
import { makeVecEnv } from './vec-env.js';
import { bfsDistances, physicalCell } from './maze.js';
import { getEnvSpec, isAntMazeEnv, isLocomotionEnv } from './registry.js';
import { rolloutLocomotion } from './locomotion/rollout.js';
import { rolloutAntMaze } from './antmaze/rollout.js';
import { VisitedRecorder, type VisitedStates } from './visited.js';

export type BatchPolicy = (obs: Float32Array, n: number) => Float32Array | Promise<Float32Array>;

export interface RolloutOptions {
  episodes: number;
  seed: number;
  /** Record the (x, y) trajectories of the first k episodes (maze2d, antmaze; ignored for locomotion). */
  recordTrajectories?: number;
  /** Keep about this many full observations of all episodes (see VisitedRecorder; 0 or absent: none). */
  recordVisited?: number;
  /** Max episodes stepped at once (memory bound: one MjData each). Default 256. */
  maxParallel?: number;
  /** Override maxEpisodeSteps (tests). */
  maxSteps?: number;
  signal?: AbortSignal;
  onProgress?: (episodesDone: number, total: number) => void;
}

export interface RolloutResult {
  envId: string;
  episodes: number;
  returns: Float64Array;
  normalizedScores: Float64Array;
  /** 1 if the goal region was reached at any step (locomotion: all 0, successRate NaN). */
  success: Uint8Array;
  /** 1 if in the goal region at the last step. */
  successAtEnd: Uint8Array;
  lengths: Int32Array;
  /** Distance to the goal at each episode's last step (maze2d, antmaze; NaN for locomotion). */
  finalGoalDistance: Float64Array;
  /**
   * Cells between the episode's last position and the goal cell along the maze (4-neighbour BFS;
   * 0 = in the goal cell). Unlike the straight-line distance it shows progress round walls.
   */
  finalCellsToGoal: Float64Array;
  meanReturn: number;
  meanScore: number;
  stdScore: number;
  successRate: number;
  /** Means of finalGoalDistance and finalCellsToGoal (NaN without a goal). */
  meanFinalGoalDistance: number;
  meanFinalCellsToGoal: number;
  /** Flat (x0, y0, x1, y1, ...) per recorded episode, including the initial position. */
  trajectories: Float32Array[];
  /** A sample of the observations the episodes visited (when `recordVisited` was set). */
  visited?: VisitedStates;
  /** Wall time spent inside the policy and everything else (ms). */
  policyMs: number;
  envMs: number;
}

export async function rollout(envId: string, policy: BatchPolicy, opts: RolloutOptions): Promise<RolloutResult> {
  if (isLocomotionEnv(envId)) return rolloutLocomotion(envId, policy, opts);
  if (isAntMazeEnv(envId)) return rolloutAntMaze(envId, policy, opts);
  const spec = getEnvSpec(envId);
  const { total, maxPar, T } = rolloutBounds(opts, spec.maxEpisodeSteps);
  const nRec = Math.min(opts.recordTrajectories ?? 0, total);
  const [gx, gy] = spec.goalCell;
  const r2 = spec.goalRadius * spec.goalRadius;

  const returns = new Float64Array(total);
  const success = new Uint8Array(total);
  const successAtEnd = new Uint8Array(total);
  const lengths = new Int32Array(total);
  const finalGoalDistance = new Float64Array(total);
  const finalCellsToGoal = new Float64Array(total);
  const cellsToGoal = bfsDistances(spec.layout, gx, gy);
  const trajectories: Float32Array[] = [];
  for (let k = 0; k < nRec; k++) trajectories.push(new Float32Array(2 * (T + 1)));
  const visited = visitedRecorder(opts, 4, total, T);

  let policyMs = 0;
  const t0 = performance.now();
  const env = await makeVecEnv(envId, maxPar, opts.seed);
  try {
    for (let start = 0; start < total; start += maxPar) {
      const n = Math.min(maxPar, total - start);
      env.reset();
      const obsAll = env.observations();
      const recordRow = (t: number) => {
        for (let k = start; k < Math.min(start + n, nRec); k++) {
          const i = k - start;
          trajectories[k]![2 * t] = obsAll[4 * i]!;
          trajectories[k]![2 * t + 1] = obsAll[4 * i + 1]!;
        }
      };
      recordRow(0);
      for (let i = 0; i < n; i++) visited?.offer(start + i, 0, obsAll, 4 * i, false);
      const acts = new Float32Array(2 * maxPar);
      for (let t = 0; t < T; t++) {
        if (opts.signal?.aborted) throw opts.signal.reason ?? new Error('rollout aborted');
        const p0 = performance.now();
        const obsView = obsAll.subarray(0, 4 * n);
        const a = await policy(n === maxPar ? obsView : obsView.slice(), n);
        policyMs += performance.now() - p0;
        if (!(a instanceof Float32Array) || a.length < 2 * n) {
          throw new Error(`rollout: policy must return a Float32Array of ${2 * n} values (n × actDim), got ${a?.length}`);
        }
        acts.set(a.subarray(0, 2 * n));
        // Unused slots (last chunk smaller than maxPar) are stepped with zero actions and ignored.
        acts.fill(0, 2 * n);
        const res = env.step(acts);
        const o = res.obs;
        for (let i = 0; i < n; i++) {
          const ep = start + i;
          returns[ep] += res.rewards[i]!;
          const dx = o[4 * i]! - gx;
          const dy = o[4 * i + 1]! - gy;
          const inGoal = dx * dx + dy * dy <= r2 ? 1 : 0;
          if (inGoal) success[ep] = 1;
          if (t === T - 1) {
            successAtEnd[ep] = inGoal;
            finalGoalDistance[ep] = Math.hypot(dx, dy);
            finalCellsToGoal[ep] = cellsAway(cellsToGoal, spec.layout.nCols, physicalCell(o[4 * i]!), physicalCell(o[4 * i + 1]!));
          }
          visited?.offer(ep, t + 1, o, 4 * i, t === T - 1);
        }
        recordRow(t + 1);
      }
      for (let i = 0; i < n; i++) lengths[start + i] = T;
      opts.onProgress?.(start + n, total);
    }
  } finally {
    env.close();
  }
  const envMs = performance.now() - t0 - policyMs;
  return rolloutResult(envId, spec.normalizedScore, { returns, success, successAtEnd, lengths, finalGoalDistance, finalCellsToGoal, trajectories, visited: visited?.result(), policyMs, envMs, hasGoal: true });
}

/** Validated episode count, episodes stepped at once, and steps per episode. */
export function rolloutBounds(opts: RolloutOptions, maxEpisodeSteps: number): { total: number; maxPar: number; T: number } {
  const total = opts.episodes;
  if (!Number.isInteger(total) || total < 1) throw new Error(`rollout: episodes must be a positive integer, got ${total}`);
  const maxPar = Math.max(1, Math.min(opts.maxParallel ?? 256, total));
  const T = opts.maxSteps ?? maxEpisodeSteps;
  if (!Number.isInteger(T) || T < 1 || T > maxEpisodeSteps) {
    throw new Error(`rollout: maxSteps must be an integer in [1, ${maxEpisodeSteps}], got ${T}`);
  }
  return { total, maxPar, T };
}

/** The recorder of `opts.recordVisited` observations (obsDim each) over `total` episodes of at most T steps, or undefined. */
export function visitedRecorder(opts: RolloutOptions, obsDim: number, total: number, T: number): VisitedRecorder | undefined {
  return opts.recordVisited ? new VisitedRecorder(obsDim, total, T, opts.recordVisited) : undefined;
}

/** Per-episode arrays → the result with scores and the means every caller reports. */
export function rolloutResult(
  envId: string,
  normalizedScore: (ret: number) => number,
  r: {
    returns: Float64Array; success: Uint8Array; successAtEnd: Uint8Array; lengths: Int32Array;
    finalGoalDistance?: Float64Array; finalCellsToGoal?: Float64Array;
    trajectories: Float32Array[]; visited?: VisitedStates; policyMs: number; envMs: number; hasGoal: boolean;
  },
): RolloutResult {
  const normalizedScores = r.returns.map((x) => normalizedScore(x));
  const meanScore = mean(normalizedScores);
  return {
    envId,
    episodes: r.returns.length,
    returns: r.returns,
    normalizedScores,
    success: r.success,
    successAtEnd: r.successAtEnd,
    lengths: r.lengths,
    finalGoalDistance: r.finalGoalDistance ?? new Float64Array(r.returns.length).fill(NaN),
    finalCellsToGoal: r.finalCellsToGoal ?? new Float64Array(r.returns.length).fill(NaN),
    meanReturn: mean(r.returns),
    meanScore,
    stdScore: Math.sqrt(mean(normalizedScores.map((x) => (x - meanScore) ** 2))),
    successRate: r.hasGoal ? mean(Float64Array.from(r.success)) : NaN,
    meanFinalGoalDistance: r.hasGoal && r.finalGoalDistance ? mean(r.finalGoalDistance) : NaN,
    meanFinalCellsToGoal: r.hasGoal && r.finalCellsToGoal ? mean(r.finalCellsToGoal) : NaN,
    trajectories: r.trajectories,
    ...(r.visited ? { visited: r.visited } : {}),
    policyMs: r.policyMs,
    envMs: r.envMs,
  };
}

/** BFS cells from (i, j) to the goal (`dist` from bfsDistances); NaN inside a wall or off the grid. */
export function cellsAway(dist: Int32Array, nCols: number, i: number, j: number): number {
  if (i < 0 || j < 0 || j >= nCols || i * nCols + j >= dist.length) return NaN;
  const d = dist[i * nCols + j]!;
  return d < 0 ? NaN : d;
}

function mean(a: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]!;
  return a.length ? s / a.length : NaN;
}

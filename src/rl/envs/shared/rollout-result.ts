/**
 * What every family's rollout shares: the options, the result and the helpers that build it
 * (validated bounds, the visited-state recorder, per-episode arrays → result with means).
 */
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

function mean(a: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]!;
  return a.length ? s / a.length : NaN;
}

/**
 * Batched policy evaluation on D4RL maze2d (called by `rollout()` for maze2d ids): all episodes
 * of a chunk run in one vectorised loop, with ONE batched policy call per env step (obs n×4 in,
 * actions n×2 out).
 *
 * Success is reported two ways:
 *  - `success[i]` = the ball was within the goal radius (0.5 of the goal) at ANY step of episode i
 *    (the headline "success rate");
 *  - `successAtEnd[i]` = within the goal radius at the last step.
 * Episodes all last `maxEpisodeSteps` (D4RL maze2d has no terminal states).
 */
import { bfsDistances, cellsAway } from '../shared/grid.js';
import { rolloutBounds, rolloutResult, visitedRecorder, type BatchPolicy, type RolloutOptions, type RolloutResult } from '../shared/rollout-result.js';
import { physicalCell } from './layout.js';
import { getMaze2dSpec } from './spec.js';
import { makeMaze2dVecEnv } from './vec-env.js';

export async function rolloutMaze2d(envId: string, policy: BatchPolicy, opts: RolloutOptions): Promise<RolloutResult> {
  const spec = getMaze2dSpec(envId);
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
  const env = await makeMaze2dVecEnv(envId, maxPar, opts.seed);
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

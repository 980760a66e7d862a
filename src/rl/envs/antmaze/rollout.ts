/**
 * Batched policy evaluation on AntMaze (called by `rollout()` for antmaze ids): all episodes of a
 * chunk run in one vectorised loop with ONE batched policy call per env step (obs n×29 in,
 * actions n×8 out). An episode ends on the step that reaches the goal (D4RL's eval env: return 1,
 * score 100) or at the 700-step limit (return 0); a finished slot auto-resets and keeps stepping
 * (zero actions, ignored) until every episode of the chunk is done. `success` = reached the goal; `successAtEnd` is the same (the
 * episode stops there). Trajectories are the torso's world (x, y).
 */
import { rolloutBounds, rolloutResult, visitedRecorder, type BatchPolicy, type RolloutOptions, type RolloutResult } from '../shared/rollout-result.js';
import { bfsDistances, cellsAway } from '../shared/grid.js';
import { cellOf, getAntMazeLayout } from './model.js';
import { getAntMazeSpec } from './spec.js';
import { makeAntMazeVecEnv } from './vec-env.js';

export async function rolloutAntMaze(envId: string, policy: BatchPolicy, opts: RolloutOptions): Promise<RolloutResult> {
  const spec = getAntMazeSpec(envId);
  const { total, maxPar, T } = rolloutBounds(opts, spec.maxEpisodeSteps);
  const D = spec.obsDim;
  const A = spec.actDim;
  const nRec = Math.min(opts.recordTrajectories ?? 0, total);
  const returns = new Float64Array(total);
  const success = new Uint8Array(total);
  const lengths = new Int32Array(total);
  const finalGoalDistance = new Float64Array(total);
  const finalCellsToGoal = new Float64Array(total);
  const layout = getAntMazeLayout(spec.maze);
  const cellsToGoal = bfsDistances(layout, layout.goal[0], layout.goal[1]);
  const trajectories: Float32Array[] = [];
  const visited = visitedRecorder(opts, D, total, T);
  let policyMs = 0;
  const t0 = performance.now();
  const env = await makeAntMazeVecEnv(envId, maxPar, opts.seed, { maxEpisodeSteps: T, autoReset: true });
  try {
    const acts = new Float32Array(A * maxPar);
    const live = new Uint8Array(maxPar);
    const path: number[][] = [];
    for (let start = 0; start < total; start += maxPar) {
      const n = Math.min(maxPar, total - start);
      env.reset();
      const obsAll = env.observations();
      // Goals of this chunk's episodes (a done slot auto-resets and draws a new one).
      const goals = Float64Array.from(env.goals);
      live.fill(0);
      live.fill(1, 0, n);
      for (let k = 0; k < Math.min(n, nRec - start); k++) path[k] = [obsAll[D * k]!, obsAll[D * k + 1]!];
      for (let i = 0; i < n; i++) visited?.offer(start + i, 0, obsAll, D * i, false);
      for (let t = 0; t < T && live.includes(1); t++) {
        if (opts.signal?.aborted) throw opts.signal.reason ?? new Error('rollout aborted');
        const p0 = performance.now();
        const a = await policy(obsAll.slice(0, D * n), n);
        policyMs += performance.now() - p0;
        if (!(a instanceof Float32Array) || a.length < A * n) {
          throw new Error(`rollout: policy must return a Float32Array of ${A * n} values (n × actDim), got ${a?.length}`);
        }
        acts.set(a.subarray(0, A * n));
        for (let i = 0; i < maxPar; i++) if (!live[i]) acts.fill(0, A * i, A * i + A);
        const res = env.step(acts);
        for (let i = 0; i < n; i++) {
          if (!live[i]) continue;
          const ep = start + i;
          returns[ep] += res.rewards[i]!;
          // A done slot has already been reset: its last observation is in finalObs.
          const o = res.dones[i] ? res.finalObs : res.obs;
          if (i < nRec - start) path[i]!.push(o[D * i]!, o[D * i + 1]!);
          visited?.offer(ep, t + 1, o, D * i, !!res.dones[i]);
          if (res.dones[i]) {
            live[i] = 0;
            lengths[ep] = t + 1;
            finalGoalDistance[ep] = Math.hypot(o[D * i]! - goals[2 * i]!, o[D * i + 1]! - goals[2 * i + 1]!);
            finalCellsToGoal[ep] = cellsAway(cellsToGoal, layout.nCols, ...cellOf(layout, o[D * i]!, o[D * i + 1]!));
            if (res.terminals[i]) success[ep] = 1;
          }
        }
        if ((t & 63) === 63) await new Promise<void>((r) => setImmediate(r));
      }
      for (let k = 0; k < Math.min(n, nRec - start); k++) trajectories.push(Float32Array.from(path[k]!));
      opts.onProgress?.(start + n, total);
    }
  } finally {
    env.close();
  }
  const envMs = performance.now() - t0 - policyMs;
  return rolloutResult(envId, (ret) => spec.normalizedScore(ret), {
    returns, success, successAtEnd: success.slice(), lengths, finalGoalDistance, finalCellsToGoal, trajectories, visited: visited?.result(), policyMs, envMs, hasGoal: true,
  });
}

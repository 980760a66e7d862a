/**
 * Batched policy evaluation on the cheetahs (called by `rollout()` for locomotion ids): all
 * episodes of a chunk run in one vectorised loop with ONE batched policy call per env step
 * (obs n×17 in, actions n×6 out). Every episode lasts 1000 steps (no terminal states).
 *
 * Locomotion has no goal: `success` and `successAtEnd` are all 0 and `successRate` is NaN
 * (stage summaries drop non-finite values, so no "0 % success" is reported). `trajectories` is
 * empty (the x, y trajectory plots are maze-only).
 */
import { rolloutBounds, rolloutResult, visitedRecorder, type BatchPolicy, type RolloutOptions, type RolloutResult } from '../shared/rollout-result.js';
import { getLocomotionSpec } from './spec.js';
import { makeLocoVecEnv } from './vec-env.js';

export async function rolloutLocomotion(envId: string, policy: BatchPolicy, opts: RolloutOptions): Promise<RolloutResult> {
  const spec = getLocomotionSpec(envId);
  const { total, maxPar, T } = rolloutBounds(opts, spec.maxEpisodeSteps);
  const D = spec.obsDim;
  const A = spec.actDim;
  const returns = new Float64Array(total);
  const lengths = new Int32Array(total);
  const visited = visitedRecorder(opts, D, total, T);
  let policyMs = 0;
  const t0 = performance.now();
  const env = await makeLocoVecEnv(envId, maxPar, opts.seed);
  try {
    const acts = new Float32Array(A * maxPar);
    for (let start = 0; start < total; start += maxPar) {
      const n = Math.min(maxPar, total - start);
      env.reset();
      const obsAll = env.observations();
      for (let i = 0; i < n; i++) visited?.offer(start + i, 0, obsAll, D * i, false);
      for (let t = 0; t < T; t++) {
        if (opts.signal?.aborted) throw opts.signal.reason ?? new Error('rollout aborted');
        const p0 = performance.now();
        const obsView = obsAll.subarray(0, D * n);
        const a = await policy(n === maxPar ? obsView : obsView.slice(), n);
        policyMs += performance.now() - p0;
        if (!(a instanceof Float32Array) || a.length < A * n) {
          throw new Error(`rollout: policy must return a Float32Array of ${A * n} values (n × actDim), got ${a?.length}`);
        }
        acts.set(a.subarray(0, A * n));
        acts.fill(0, A * n);
        const res = env.step(acts);
        for (let i = 0; i < n; i++) {
          returns[start + i] += res.rewards[i]!;
          visited?.offer(start + i, t + 1, res.obs, D * i, t === T - 1);
        }
        // Don't let a 1000-step chunk starve the event loop (progress, SIGINT).
        if ((t & 63) === 63) await new Promise<void>((r) => setImmediate(r));
      }
      for (let i = 0; i < n; i++) lengths[start + i] = T;
      opts.onProgress?.(start + n, total);
    }
  } finally {
    env.close();
  }
  const envMs = performance.now() - t0 - policyMs;
  // No goal in locomotion: success is all 0 and the success rate NaN.
  return rolloutResult(envId, (ret) => spec.normalizedScore(ret), {
    returns, success: new Uint8Array(total), successAtEnd: new Uint8Array(total), lengths, trajectories: [], visited: visited?.result(), policyMs, envMs, hasGoal: false,
  });
}

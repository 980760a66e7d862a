/**
 * Batched policy evaluation of any registered environment: dispatches on the id to its family's
 * rollout (maze2d/rollout.ts, locomotion/rollout.ts, antmaze/rollout.ts), which all return the
 * same `RolloutResult` (shared/rollout-result.ts): one batched policy call per env step.
 *
 *  - maze2d: every episode lasts maxEpisodeSteps; success = within the goal radius at any step.
 *  - locomotion (halfcheetah-v2, cheetah-run): obs n×17 / actions n×6, `success` all 0,
 *    `successRate` NaN, no trajectories.
 *  - AntMaze: episodes end on reaching the goal (return 1) or at 700 steps (return 0).
 */
import { isAntMazeEnv } from './antmaze/spec.js';
import { rolloutAntMaze } from './antmaze/rollout.js';
import { isLocomotionEnv } from './locomotion/spec.js';
import { rolloutLocomotion } from './locomotion/rollout.js';
import { isMaze2dEnv } from './maze2d/spec.js';
import { rolloutMaze2d } from './maze2d/rollout.js';
import { listEnvIds } from './registry.js';
import type { BatchPolicy, RolloutOptions, RolloutResult } from './shared/rollout-result.js';

export type { BatchPolicy, RolloutOptions, RolloutResult } from './shared/rollout-result.js';

export async function rollout(envId: string, policy: BatchPolicy, opts: RolloutOptions): Promise<RolloutResult> {
  if (isMaze2dEnv(envId)) return rolloutMaze2d(envId, policy, opts);
  if (isLocomotionEnv(envId)) return rolloutLocomotion(envId, policy, opts);
  if (isAntMazeEnv(envId)) return rolloutAntMaze(envId, policy, opts);
  throw new Error(`unknown environment '${envId}' (known: ${listEnvIds().join(', ')})`);
}

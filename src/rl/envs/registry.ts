/**
 * Every registered environment, by family: maze2d (maze2d/spec.ts), locomotion
 * (locomotion/spec.ts: halfcheetah-v2, cheetah-run) and AntMaze (antmaze/spec.ts). This module only
 * dispatches on the id; each family's module holds its own facts. No mujoco import here, so it is
 * cheap to import anywhere.
 */
import { getMaze2dSpec, isMaze2dEnv, listMaze2dEnvIds, type Maze2dEnvSpec } from './maze2d/spec.js';
import { getLocomotionSpec, isLocomotionEnv, listLocomotionEnvIds, type LocomotionEnvSpec } from './locomotion/spec.js';
import { getAntMazeSpec, isAntMazeEnv, listAntMazeEnvIds, type AntMazeEnvSpec } from './antmaze/spec.js';

/** Spec of any registered environment, discriminated by `kind`. */
export type EnvSpec = Maze2dEnvSpec | LocomotionEnvSpec | AntMazeEnvSpec;

/** All registered ids: the maze2d ids (D4RL order), then the locomotion ids, then AntMaze. */
export function listEnvIds(): string[] {
  return [...listMaze2dEnvIds(), ...listLocomotionEnvIds(), ...listAntMazeEnvIds()];
}

export function hasEnv(id: string): boolean {
  return isMaze2dEnv(id) || isLocomotionEnv(id) || isAntMazeEnv(id);
}

export function getEnvSpec(id: string): EnvSpec {
  if (isLocomotionEnv(id)) return getLocomotionSpec(id);
  if (isAntMazeEnv(id)) return getAntMazeSpec(id);
  if (isMaze2dEnv(id)) return getMaze2dSpec(id);
  throw new Error(`unknown environment '${id}' (known: ${listEnvIds().join(', ')})`);
}

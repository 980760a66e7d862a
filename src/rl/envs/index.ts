/** Public entry of the environments: D4RL maze2d point-mass mazes and the cheetahs (locomotion/), on mujoco-js. */
export { Rng, deriveSeed } from './rng.js';
export {
  LAYOUTS,
  getLayout,
  parseMaze,
  mazeXml,
  isWall,
  gridCell,
  physicalCell,
  distanceToWalls,
  bfsDistances,
  BODY_OFFSET,
  BALL_RADIUS,
  type MazeLayout,
  type MazeName,
} from './maze.js';
export { getEnvSpec, getAnyEnvSpec, listEnvIds, hasEnv, isMazeEnv, mazeReward, type EnvSpec, type AnyEnvSpec, type RewardType } from './registry.js';
export * from './locomotion/index.js';
export { makeVecEnv, type VecEnv, type VecEnvOptions, type VecStepResult } from './vec-env.js';
export { rollout, type BatchPolicy, type RolloutOptions, type RolloutResult } from './rollout.js';
export { WaypointController, type WaypointControllerOptions } from './waypoint-controller.js';
export { MazeSim, getMujoco, releaseMazeModels } from './physics.js';

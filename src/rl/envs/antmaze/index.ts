/** Public entry of the AntMaze environment (re-implementation of D4RL antmaze-umaze-v2 on mujoco-js). */
export { getAntMazeSpec, listAntMazeEnvIds, isAntMazeEnv, type AntMazeEnvSpec } from './specs.js';
export { ANTMAZE_LAYOUTS, antMazeXml, getAntMazeLayout, parseAntMaze, cellCentre, cellOf, isAntMazeWall, MAZE_SIZE_SCALING, MAZE_HEIGHT, ANT_GEAR, ANT_TORSO_Z, type AntMazeLayout, type AntMazeName } from './model.js';
export { AntMazeSim, ANTMAZE_OBS_DIM, ANTMAZE_ACT_DIM, ANT_NQ, ANT_NV, FRAME_SKIP, GOAL_RADIUS, sampleGoal, torsoYaw, torsoUpZ } from './sim.js';
export { makeAntMazeVecEnv, type AntMazeVecEnv, type AntMazeStepResult, type AntMazeVecEnvOptions } from './vec-env.js';
export {
  ANT_GAIT_DIM, ANT_GAIT_LOW, ANT_GAIT_HIGH, ANT_GAIT_THETA, ANT_DT, DEFAULT_ANT_GAIT_OPTIMISER, DEFAULT_GAIT_SCORE,
  antGaitAction, antSteerAction, evaluateAntGaits, optimiseAntGait, AntMazeController, evaluateAntController,
  type AntGaitOptimiserParams, type AntGaitOptimiserResult, type AntGaitEval, type AntGaitScoreWeights, type AntControllerOptions, type AntControllerEval,
} from './controller.js';

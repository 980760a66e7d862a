/** Public entry of the locomotion environments (gym HalfCheetah, dm_control cheetah-run). */
export { getLocomotionSpec, listLocomotionEnvIds, isLocomotionEnv, runTolerance, type LocomotionEnvSpec, type LocomotionFamily } from './specs.js';
export { CheetahSim, LOCO_OBS_DIM, LOCO_ACT_DIM } from './sim.js';
export { makeLocoVecEnv, type LocoVecEnv, type LocoStepResult } from './vec-env.js';
export { rolloutLocomotion } from './rollout.js';
export { HALF_CHEETAH_XML, DMC_CHEETAH_XML } from './models.js';
export { gaitAction, evaluateGaits, optimiseGait, GAIT_PARAM_DIM, GAIT_LOW, GAIT_HIGH, DEFAULT_GAIT_OPTIMISER, type GaitOptimiserParams, type GaitOptimiserResult } from './gait.js';

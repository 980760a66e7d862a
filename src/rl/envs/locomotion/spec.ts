/**
 * Locomotion environment registry (pure data, no mujoco import): gym HalfCheetah (D4RL) and the
 * DeepMind Control Suite cheetah `run` task (ExoRL). Both share the 17-D observation
 * (qpos[1:] ++ qvel) and the 6-D action box [−1, 1]^6.
 *
 *  halfcheetah-v2  gym HalfCheetah-v2/v3 semantics: frame_skip 5 (dt 0.05 s), reward = Δx/dt −
 *                  0.1·‖a‖², 1000 steps, reset qpos0 + U(−0.1, 0.1), qvel 0.1·N(0, 1).
 *                  Normalised score = D4RL's: 100 · (R − (−280.178953)) / (12135.0 − (−280.178953)).
 *  cheetah-run     dm_control suite `cheetah.run`: control timestep = physics timestep 0.01 s
 *                  (n_sub_steps 1), 10 s = 1000 steps, reward = tolerance(speed, bounds=(10, ∞),
 *                  margin=10, value_at_margin=0, sigmoid='linear') = clip(speed / 10, 0, 1), speed =
 *                  the torso subtree's linear x velocity. Reset: limited joints uniform in their range,
 *                  200 physics steps with zero control to settle. Normalised score = 100 · R / 1000
 *                  (our convention, = the per-episode maximum; ExoRL papers report the raw return R).
 */
import { specTable } from '../shared/spec-table.js';

export type LocomotionFamily = 'halfcheetah' | 'cheetah-run';

export interface LocomotionEnvSpec {
  kind: 'locomotion';
  id: string;
  family: LocomotionFamily;
  obsDim: 17;
  actDim: 6;
  actionLow: Float32Array;
  actionHigh: Float32Array;
  maxEpisodeSteps: number;
  /** Physics steps per env step. */
  frameSkip: number;
  /** Seconds per env step. */
  dt: number;
  refMinScore: number;
  refMaxScore: number;
  normalizedScore(ret: number): number;
  description: string;
}

interface Row {
  id: string;
  family: LocomotionFamily;
  frameSkip: number;
  dt: number;
  min: number;
  max: number;
  description: string;
}

const ROWS: Row[] = [
  {
    id: 'halfcheetah-v2',
    family: 'halfcheetah',
    frameSkip: 5,
    dt: 0.05,
    min: -280.178953,
    max: 12135.0,
    description: 'gym HalfCheetah-v2/v3 (D4RL normalisation: random −280.178953, expert 12135.0)',
  },
  {
    id: 'cheetah-run',
    family: 'cheetah-run',
    frameSkip: 1,
    dt: 0.01,
    min: 0,
    max: 1000,
    description: 'dm_control cheetah run (ExoRL); normalised score = 100 · return / 1000',
  },
];

/** A row as its spec (built once per id by the table). */
function buildSpec(r: Row): LocomotionEnvSpec {
  const min = r.min;
  const span = r.max - r.min;
  return Object.freeze({
    kind: 'locomotion' as const,
    id: r.id,
    family: r.family,
    obsDim: 17 as const,
    actDim: 6 as const,
    actionLow: new Float32Array(6).fill(-1),
    actionHigh: new Float32Array(6).fill(1),
    maxEpisodeSteps: 1000,
    frameSkip: r.frameSkip,
    dt: r.dt,
    refMinScore: r.min,
    refMaxScore: r.max,
    normalizedScore: (ret: number) => (100 * (ret - min)) / span,
    description: r.description,
  });
}

const table = specTable('locomotion', ROWS, buildSpec);

export function listLocomotionEnvIds(): string[] {
  return table.ids();
}

export function isLocomotionEnv(id: string): boolean {
  return table.has(id);
}

export function getLocomotionSpec(id: string): LocomotionEnvSpec {
  return table.get(id);
}

/** dm_control rewards.tolerance(x, bounds=(lo, ∞), margin, value_at_margin=0, sigmoid='linear'). */
export function runTolerance(speed: number, lo = 10, margin = 10): number {
  if (speed >= lo) return 1;
  const d = (lo - speed) / margin;
  return d < 1 ? 1 - d : 0;
}

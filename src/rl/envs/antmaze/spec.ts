/**
 * AntMaze environment registry (pure data, no mujoco import). `antmaze-umaze-v2` is OUR
 * re-implementation of D4RL's task of that name (d4rl/locomotion/__init__.py, ant.py,
 * maze_env.py, goal_reaching_env.py), not D4RL's code:
 *
 *  - layout U_MAZE_TEST, maze_size_scaling 4, start cell (1, 1) = world origin, goal cell (3, 1)
 *    whose centre is world (0, 8);
 *  - observation 29-D = qpos[0:15] ++ qvel[0:14] (eval=True: no goal appended, no contact forces);
 *  - action 8-D in [−1, 1] (torque = 30 · a, see model.ts);
 *  - reward sparse: 1 if ‖xy − goal‖ ≤ 0.5 else 0, computed after the step;
 *  - episode: 700 steps; with D4RL's eval flag the episode TERMINATES on the step that reaches
 *    the goal (done = True), so the return is 1 (reached within 700 steps) or 0. We implement that
 *    by default (`terminateOnSuccess`); the normalised score = 100 · (R − 0) / (1 − 0) is then the
 *    success percentage;
 *  - goal: v2_resets=True re-samples the goal at every reset: goal cell centre + U(0, 1) + U(0, 0.5)
 *    per axis (D4RL's goal_sampler: `add_random_noise` U(0, 0.25·s) then U(0, 0.5)·0.25·s), then
 *    max(·, 0) — so the goal lies in [0, 1.5] × [8, 9.5];
 *  - reset: gym Ant's reset_model: qpos0 + U(−0.1, 0.1) on all 15 qpos (quaternion included, as
 *    gym does; MuJoCo normalises it when integrating), qvel 0.1·N(0, 1);
 *  - no health termination: gym's Ant reports done when torso z leaves [0.2, 1.0], but
 *    GoalReachingEnv.step discards that flag, so a flipped ant keeps going until the time limit.
 */
import { specTable } from '../shared/spec-table.js';
import type { AntMazeName } from './model.js';

export interface AntMazeEnvSpec {
  kind: 'antmaze';
  id: string;
  maze: AntMazeName;
  obsDim: 29;
  actDim: 8;
  actionLow: Float32Array;
  actionHigh: Float32Array;
  maxEpisodeSteps: number;
  frameSkip: number;
  /** Physics timestep (s) and seconds per env step. */
  timestep: number;
  dt: number;
  goalRadius: number;
  /** Episode ends on the step that reaches the goal (D4RL eval=True). */
  terminateOnSuccess: boolean;
  refMinScore: number;
  refMaxScore: number;
  normalizedScore(ret: number): number;
  description: string;
}

interface Row {
  id: string;
  maze: AntMazeName;
  steps: number;
  description: string;
}

const ROWS: Row[] = [
  {
    id: 'antmaze-umaze-v2',
    maze: 'umaze',
    steps: 700,
    description: 'AntMaze U-maze (re-implementation of D4RL antmaze-umaze-v2 on mujoco-js; sparse reward, terminates on success; score = 100 · return)',
  },
];

/** A row as its spec (built once per id by the table). */
function buildSpec(r: Row): AntMazeEnvSpec {
  return Object.freeze({
    kind: 'antmaze' as const,
    id: r.id,
    maze: r.maze,
    obsDim: 29 as const,
    actDim: 8 as const,
    actionLow: new Float32Array(8).fill(-1),
    actionHigh: new Float32Array(8).fill(1),
    maxEpisodeSteps: r.steps,
    frameSkip: 5,
    timestep: 0.02,
    dt: 0.1,
    goalRadius: 0.5,
    terminateOnSuccess: true,
    refMinScore: 0,
    refMaxScore: 1,
    normalizedScore: (ret: number) => 100 * ret,
    description: r.description,
  });
}

const table = specTable('antmaze', ROWS, buildSpec);

export function listAntMazeEnvIds(): string[] {
  return table.ids();
}

export function isAntMazeEnv(id: string): boolean {
  return table.has(id);
}

export function getAntMazeSpec(id: string): AntMazeEnvSpec {
  return table.get(id);
}

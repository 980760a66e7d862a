/**
 * The D4RL maze2d environments: ids, layouts, reward types, episode limits and the
 * normalised-score references of D4RL's registration (d4rl/pointmaze/__init__.py), and the
 * reward of D4RL's MazeEnv. Pure data + small functions: no mujoco import here.
 */
import { specTable } from '../shared/spec-table.js';
import { getLayout, type MazeLayout, type MazeName } from './layout.js';

export type RewardType = 'sparse' | 'dense';

export interface Maze2dEnvSpec {
  kind: 'maze2d';
  id: string;
  maze: MazeName;
  rewardType: RewardType;
  obsDim: 4;
  actDim: 2;
  actionLow: Float32Array;
  actionHigh: Float32Array;
  maxEpisodeSteps: number;
  refMinScore: number;
  refMaxScore: number;
  /** 100 · (ret − min) / (max − min). */
  normalizedScore(ret: number): number;
  layout: MazeLayout;
  /** The `G` cell (row, col) = the evaluation target in qpos coordinates. */
  goalCell: readonly [number, number];
  /** Sparse: ‖pos − target‖ ≤ 0.5. */
  goalRadius: number;
}

interface Row {
  id: string;
  maze: MazeName;
  reward: RewardType;
  steps: number;
  min: number;
  max: number;
}

// Facts from D4RL's registration. v1 = the datasets used in the literature.
const ROWS: Row[] = [
  { id: 'maze2d-open-v0', maze: 'open', reward: 'sparse', steps: 150, min: 0.01, max: 20.66 },
  { id: 'maze2d-umaze-v0', maze: 'umaze', reward: 'sparse', steps: 150, min: 0.94, max: 62.6 },
  { id: 'maze2d-medium-v0', maze: 'medium', reward: 'sparse', steps: 250, min: 5.77, max: 85.14 },
  { id: 'maze2d-large-v0', maze: 'large', reward: 'sparse', steps: 600, min: 4.83, max: 191.99 },
  { id: 'maze2d-umaze-v1', maze: 'umaze', reward: 'sparse', steps: 300, min: 23.85, max: 161.86 },
  { id: 'maze2d-medium-v1', maze: 'medium', reward: 'sparse', steps: 600, min: 13.13, max: 277.39 },
  { id: 'maze2d-large-v1', maze: 'large', reward: 'sparse', steps: 800, min: 6.7, max: 273.99 },
  { id: 'maze2d-eval-umaze-v1', maze: 'umaze-eval', reward: 'sparse', steps: 300, min: 36.63, max: 141.4 },
  { id: 'maze2d-eval-medium-v1', maze: 'medium-eval', reward: 'sparse', steps: 600, min: 13.07, max: 204.93 },
  { id: 'maze2d-eval-large-v1', maze: 'large-eval', reward: 'sparse', steps: 800, min: 16.4, max: 302.22 },
  { id: 'maze2d-open-dense-v0', maze: 'open', reward: 'dense', steps: 150, min: 11.17817, max: 27.166538620695782 },
  { id: 'maze2d-umaze-dense-v0', maze: 'umaze', reward: 'dense', steps: 150, min: 23.249793, max: 81.78995240126592 },
  { id: 'maze2d-medium-dense-v0', maze: 'medium', reward: 'dense', steps: 250, min: 19.47762, max: 96.03474232952358 },
  { id: 'maze2d-large-dense-v0', maze: 'large', reward: 'dense', steps: 600, min: 27.38831, max: 215.09965671563742 },
  { id: 'maze2d-umaze-dense-v1', maze: 'umaze', reward: 'dense', steps: 300, min: 68.537689, max: 193.66285642381482 },
  { id: 'maze2d-medium-dense-v1', maze: 'medium', reward: 'dense', steps: 600, min: 44.264742, max: 297.4552547777125 },
  { id: 'maze2d-large-dense-v1', maze: 'large', reward: 'dense', steps: 800, min: 30.569041, max: 303.4857382709002 },
  { id: 'maze2d-eval-umaze-dense-v1', maze: 'umaze-eval', reward: 'dense', steps: 300, min: 56.95455, max: 178.21373133248397 },
  { id: 'maze2d-eval-medium-dense-v1', maze: 'medium-eval', reward: 'dense', steps: 600, min: 42.28578, max: 235.5658957482388 },
  { id: 'maze2d-eval-large-dense-v1', maze: 'large-eval', reward: 'dense', steps: 800, min: 56.95455, max: 326.09647655082637 },
];


function buildSpec(r: Row): Maze2dEnvSpec {
  const layout = getLayout(r.maze);
  const min = r.min;
  const span = r.max - r.min;
  return Object.freeze({
    kind: 'maze2d' as const,
    id: r.id,
    maze: r.maze,
    rewardType: r.reward,
    obsDim: 4,
    actDim: 2,
    actionLow: new Float32Array([-1, -1]),
    actionHigh: new Float32Array([1, 1]),
    maxEpisodeSteps: r.steps,
    refMinScore: r.min,
    refMaxScore: r.max,
    normalizedScore: (ret: number) => (100 * (ret - min)) / span,
    layout,
    goalCell: layout.goal,
    goalRadius: 0.5,
  });
}

const table = specTable('maze2d', ROWS, buildSpec);

/** The maze2d ids in D4RL's order. */
export function listMaze2dEnvIds(): string[] {
  return table.ids();
}

export function isMaze2dEnv(id: string): boolean {
  return table.has(id);
}

export function getMaze2dSpec(id: string): Maze2dEnvSpec {
  return table.get(id);
}

/** Reward of D4RL's MazeEnv for a position (qpos coordinates) and a target. */
export function mazeReward(type: RewardType, x: number, y: number, tx: number, ty: number): number {
  const d = Math.hypot(x - tx, y - ty);
  return type === 'sparse' ? (d <= 0.5 ? 1 : 0) : Math.exp(-d);
}

/**
 * The `with:` parameters of the load-dataset stage: the JSON Schema the engine validates them against
 * and fills defaults from, and their TypeScript type, derived from it (json-schema-to-ts).
 */
import type { FromSchema, JSONSchema } from 'json-schema-to-ts';
import { listEnvIds } from '../../src/rl/envs/registry.js';

export const loadDatasetSchema = {
  title: 'load-dataset parameters',
  description: 'Generates a D4RL-style maze2d dataset, a cheetah (halfcheetah-v2, cheetah-run) gait/exploration dataset or an AntMaze U-maze goal-reaching dataset on MuJoCo physics, or loads one from an HDF5 (D4RL or Minari layout) or Arrow IPC file; computes coverage diagnostics.',
  type: 'object',
  additionalProperties: false,
  required: ['env'],
  properties: {
    env: { type: 'string', enum: listEnvIds(), description: "Environment id: a D4RL maze2d id (layout, reward type, episode limit, normalisation), halfcheetah-v2 (gym HalfCheetah, D4RL normalisation), cheetah-run (dm_control, score = return/10) or antmaze-umaze-v2 (our re-implementation of D4RL's AntMaze U-maze; score = success %)." },
    source: { type: 'string', enum: ['generate', 'hdf5', 'arrow', 'exorl'], default: 'generate', description: "generate: maze2d: run D4RL's waypoint-controller collection; locomotion: this project's gait/exploration generator (see behaviour); hdf5: read a D4RL/Minari file; arrow: read an Arrow IPC file written by this stage. exorl: an ExoRL episode buffer (path: a directory of episode .npz files, or one file)." },
    path: { type: 'string', default: '', description: 'File (hdf5, arrow) or directory of .npz episodes (exorl) to read; relative paths are resolved against the current working directory. Its content digest is part of the cache key.' },
    exorl_reward: { type: 'string', enum: ['stored', 'relabel'], description: "source exorl: 'relabel' computes the task reward from each row's physics state (implemented for cheetah-run: dm_control's run reward; the default there); 'stored' keeps the file's reward column (default for other envs)." },
    size: { type: 'integer', minimum: 1, default: 1000000, description: 'Transitions to generate (D4RL maze2d-umaze-v1: 1e6; D4RL halfcheetah: 1e6; ExoRL: 1e5 per 100 episodes... up to 1e7).' },
    noise: { type: 'number', minimum: 0, default: 0.5, description: "maze2d only: std of the Gaussian noise added to the controller's actions (D4RL: 0.5). Ignored for locomotion (see action_noise)." },
    reward_on: { type: 'string', enum: ['next', 'obs'], default: 'next', description: "maze2d only: generated rewards score next_observations (env semantics) or observations (what D4RL's released files contain)." },
    behaviour: { type: 'string', enum: ['gait', 'explore'], description: 'Locomotion generate only (required there): gait = a CEM-optimised CPG gait + N(0, action_noise²) (narrow, expert-like; dataset name <env>-generated-cemgait-narrow); explore = segments of held uniform-random actions, OU noise and noisy gait (dense action coverage; <env>-generated-mixed-exploration).' },
    action_noise: { type: 'number', minimum: 0, description: "Std of the Gaussian action noise. Locomotion, behaviour gait: default 0.1. AntMaze: default 0.2 (D4RL's --noisy collection)." },
    gait_fraction: { type: 'number', minimum: 0, maximum: 1, description: 'Locomotion, behaviour explore: probability that a segment follows the noisy gait (default 0.3).' },
    explore_gait_noise: { type: 'number', minimum: 0, description: 'Locomotion, behaviour explore: std of the noise on gait segments (default 0.3).' },
    hold_max: { type: 'integer', minimum: 1, description: 'Locomotion, behaviour explore: a held uniform-random action lasts U{1..hold_max} steps (default 8).' },
    gait_iterations: { type: 'integer', minimum: 1, description: 'Locomotion: CEM iterations of the gait optimisation (default 40).' },
    gait_population: { type: 'integer', minimum: 4, description: 'Locomotion: CEM candidates per iteration (default 32).' },
    gait_episodes: { type: 'integer', minimum: 1, description: 'Locomotion: 1000-step episodes per CEM candidate (default 2).' },
    terminals_on_goal: { type: 'boolean', description: 'AntMaze only: terminals = rewards (1 wherever the ant is within 0.5 of the goal), as the released D4RL antmaze files; false gives all-zero terminals. Default true.' },
    hdf5_format: { type: 'string', enum: ['auto', 'd4rl', 'minari'], default: 'auto', description: 'HDF5 layout; auto detects it.' },
    coverage_bins: { type: 'integer', minimum: 1, maximum: 200, default: 20, description: 'Bins per action dimension of the action histogram.' },
    coverage_edge_eps: { type: 'number', minimum: 0, maximum: 1, default: 0.001, description: 'An action component within this distance of the box bound counts as on the edge.' },
  },
  if: { properties: { source: { enum: ['hdf5', 'arrow', 'exorl'] } }, required: ['source'] },
  then: { properties: { path: { type: 'string', minLength: 1 } }, required: ['path'] },
} as const satisfies JSONSchema;

export type LoadDatasetParams = FromSchema<typeof loadDatasetSchema>;

/**
 * load-dataset: the offline dataset of an experiment, as an Arrow table (see
 * src/rl/data/dataset.ts for the schema), plus coverage diagnostics. The work is in
 * src/rl/data/load-dataset.ts (dispatch on source × env family) and coverage.ts.
 *
 *  source=generate  maze2d: D4RL's maze2d collection (waypoint controller + Gaussian noise) on
 *                   MuJoCo physics. Locomotion (halfcheetah-v2, cheetah-run): this project's own
 *                   generator (src/rl/data/locomotion-generator.ts), `behaviour` gait (a CEM-optimised
 *                   CPG gait + N(0, action_noise²): narrow, expert-like) or explore (mixed
 *                   temporally-correlated random actions and noisy gait: dense coverage) — not the
 *                   D4RL/ExoRL files. `size` transitions, deterministic given the stage seed.
 *                   AntMaze (antmaze-umaze-v2): this project's waypoint controller (a CEM-optimised
 *                   ant gait steered through the maze by BFS) + N(0, action_noise²) (default 0.2,
 *                   D4RL's), D4RL's fixed-goal umaze procedure (src/rl/data/antmaze-generator.ts).
 *                   For locomotion/antmaze `noise`/`reward_on` (maze2d-only) are ignored, and the
 *                   maze2d-only `cell_occupancy` output is an empty table with the same columns.
 *  source=hdf5      a D4RL-layout or Minari-layout HDF5 file (`path`).
 *  source=arrow     an Arrow IPC file with the dataset schema (`path`), e.g. an earlier output.
 *  source=exorl     an ExoRL episode buffer (`path`: a directory of episode .npz files, or one
 *                   file); cheetah-run rewards are relabelled from the stored physics by default.
 *
 * For hdf5/arrow the file's content digest is part of the cache key (`fileParams`), so replacing
 * the file reruns the stage; its sha256 is also recorded in the manifest (`input_file_sha256`).
 */
import type { StageKind, StageResult } from '../src/engine/stage.js';
import { loadDatasetSchema, type LoadDatasetParams } from './params/load-dataset.js';

const stage: StageKind<LoadDatasetParams> = {
  kind: 'load-dataset',
  version: '2',
  fileParams: ['path'], // a file, or a directory (ExoRL buffers): its content digest joins the key
  description: 'Generate (D4RL maze2d procedure, or gait/exploration data for the cheetahs, on MuJoCo) or load (HDF5 D4RL/Minari, Arrow) an offline dataset; report its coverage.',
  params: loadDatasetSchema,
  inputs: {},
  outputs: {
    dataset: { description: 'transitions: observations, actions, next_observations, rewards, terminals, timeouts, infos/*' },
    action_hist: { description: 'action histogram over the action box: a0, a1 (bin centres), count, fraction; metadata coverage_summary = the coverage figures as JSON' },
    cell_occupancy: { description: 'visits per maze cell: row, col, free, count, fraction (empty for locomotion envs)' },
    episodes: { description: 'per-episode start, length, return' },
  },
  async run(ctx): Promise<StageResult> {
    const p = ctx.params;
    const { loadDataset, datasetCoverage } = await import('../src/rl/data/load-dataset.js');
    const { withMetadata } = await import('./lib/train-loop.js');
    const ds = await loadDataset(
      {
        env: p.env, source: p.source, path: p.path, size: p.size, seed: ctx.seed, noise: p.noise, rewardOn: p.reward_on,
        hdf5Format: p.hdf5_format, exorlReward: p.exorl_reward, behaviour: p.behaviour, actionNoise: p.action_noise,
        gaitFraction: p.gait_fraction, exploreGaitNoise: p.explore_gait_noise, holdMax: p.hold_max, gaitIterations: p.gait_iterations,
        gaitPopulation: p.gait_population, gaitEpisodes: p.gait_episodes, terminalsOnGoal: p.terminals_on_goal,
      },
      ctx,
    );
    const cov = await datasetCoverage(ds.transitions, ds.spec, { bins: p.coverage_bins, edgeEps: p.coverage_edge_eps });
    const summary: Record<string, number> = { ...cov.summary };
    for (const [k, v] of Object.entries(ds.summary)) if (Number.isFinite(v)) summary[k] = v;
    summary['reward_per_episode_length'] = cov.rewardPerEpisodeLength;
    return {
      outputs: {
        dataset: ds.table,
        // The coverage figures travel with the histogram (a small table) so reports can show them.
        action_hist: await withMetadata(cov.tables.action_hist, { coverage_summary: JSON.stringify(cov.summary), env_id: p.env }),
        episodes: cov.tables.episodes,
        cell_occupancy: cov.tables.cell_occupancy,
      },
      summary,
    };
  },
};

export default stage;

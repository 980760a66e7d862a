/**
 * load-dataset: the offline dataset of an experiment, as an Arrow table (see
 * src/rl/data/dataset.ts for the schema), plus coverage diagnostics.
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
import type { StageKind, StageResult, OutputValue } from '../src/engine/stage.js';
import { loadStageSchema } from '../src/engine/stage-schema.js';

interface Params {
  env: string;
  source: 'generate' | 'hdf5' | 'arrow' | 'exorl';
  exorl_reward?: 'stored' | 'relabel';
  path: string;
  size: number;
  noise: number;
  reward_on: 'next' | 'obs';
  hdf5_format: 'auto' | 'd4rl' | 'minari';
  coverage_bins: number;
  coverage_edge_eps: number;
  // Locomotion generator options (no schema defaults: absent for maze2d, resolved in code).
  behaviour?: 'gait' | 'explore';
  action_noise?: number;
  gait_fraction?: number;
  explore_gait_noise?: number;
  hold_max?: number;
  gait_iterations?: number;
  gait_population?: number;
  gait_episodes?: number;
  // AntMaze generator option (no schema default: resolved in code).
  terminals_on_goal?: boolean;
}

const LOCO_KEYS = ['behaviour', 'action_noise', 'gait_fraction', 'explore_gait_noise', 'hold_max', 'gait_iterations', 'gait_population', 'gait_episodes'] as const;
/** Generator options that apply to AntMaze (the rest of LOCO_KEYS are cheetah-only). */
const ANT_KEYS = ['action_noise', 'terminals_on_goal'] as const;

const stage: StageKind<Params> = {
  kind: 'load-dataset',
  version: '2',
  fileParams: ['path'], // a file, or a directory (ExoRL buffers): its content digest joins the key
  description: 'Generate (D4RL maze2d procedure, or gait/exploration data for the cheetahs, on MuJoCo) or load (HDF5 D4RL/Minari, Arrow) an offline dataset; report its coverage.',
  params: loadStageSchema('load-dataset'),
  inputs: {},
  outputs: {
    dataset: { description: 'transitions: observations, actions, next_observations, rewards, terminals, timeouts, infos/*' },
    action_hist: { description: 'action histogram over the action box: a0, a1 (bin centres), count, fraction; metadata coverage_summary = the coverage figures as JSON' },
    cell_occupancy: { description: 'visits per maze cell: row, col, free, count, fraction (empty for locomotion envs)' },
    episodes: { description: 'per-episode start, length, return' },
  },
  async run(ctx): Promise<StageResult> {
    const p = ctx.params;
    const [{ getEnvSpec }, data, cov] = await Promise.all([
      import('../src/rl/envs/registry.js'),
      import('../src/rl/data/dataset.js'),
      import('../src/rl/data/coverage.js'),
    ]);
    const spec = getEnvSpec(p.env);
    let table;
    let transitions;
    const extraSummary: Record<string, number> = {};
    if (spec.kind !== 'locomotion') {
      const set = [...LOCO_KEYS, 'terminals_on_goal' as const].filter((k) => p[k] !== undefined && !(spec.kind === 'antmaze' && (ANT_KEYS as readonly string[]).includes(k)));
      if (set.length) throw new Error(`load-dataset: ${set.join(', ')} do not apply to ${p.env} (${spec.kind})`);
    } else if (p.terminals_on_goal !== undefined) {
      throw new Error(`load-dataset: terminals_on_goal only applies to antmaze envs, not ${p.env}`);
    }

    if (p.source === 'generate' && spec.kind === 'locomotion') {
      if (!p.behaviour) throw new Error(`load-dataset: generating a ${p.env} dataset needs behaviour: gait (narrow, expert-like) or explore (dense coverage)`);
      const { generateLocomotionDataset } = await import('../src/rl/data/locomotion-generator.js');
      const t0 = performance.now();
      const g = await generateLocomotionDataset(
        {
          env: p.env, size: p.size, seed: ctx.seed, behaviour: p.behaviour, actionNoise: p.action_noise, gaitFraction: p.gait_fraction,
          exploreGaitNoise: p.explore_gait_noise, holdMax: p.hold_max, gaitIterations: p.gait_iterations, gaitPopulation: p.gait_population,
          gaitEpisodes: p.gait_episodes,
        },
        { signal: ctx.signal, onProgress: (s, total, what) => ctx.progress(s, total, what) },
      );
      const secs = (performance.now() - t0) / 1000;
      ctx.record('generation_seconds', Number(secs.toFixed(3)));
      ctx.record('transitions_per_second', Math.round(p.size / secs));
      ctx.record('gait_theta', g.gait.theta);
      ctx.record('gait_env_steps', g.gait.envSteps);
      ctx.log(
        `generated ${p.size} ${p.env} transitions (${g.params.procedure}) in ${secs.toFixed(1)} s; gait return ${g.gait.return.toFixed(1)} ` +
          `(score ${g.gait.score.toFixed(1)}), dataset episode return ${g.datasetReturn.toFixed(1)}`,
      );
      transitions = g.transitions;
      table = data.transitionsToTable(g.transitions, {
        source: 'generate',
        generator: {
          ...g.params,
          gait: { theta: g.gait.theta, return: g.gait.return, score: g.gait.score, noisy_return: g.gait.noisyReturn, env_steps: g.gait.envSteps },
        },
        infos: g.infos,
        metadata: { dataset_name: `${p.env}-generated-${p.behaviour === 'gait' ? 'cemgait-narrow' : 'mixed-exploration'}` },
      });
      extraSummary['behaviour_gait_return'] = g.gait.return;
      extraSummary['behaviour_gait_score'] = g.gait.score;
      extraSummary['behaviour_gait_noisy_return'] = g.gait.noisyReturn;
      extraSummary['dataset_episode_return'] = g.datasetReturn;
      extraSummary['dataset_episode_score'] = g.datasetScore;
    } else if (p.source === 'generate' && spec.kind === 'antmaze') {
      const { generateAntMazeDataset } = await import('../src/rl/data/antmaze-generator.js');
      const t0 = performance.now();
      const g = await generateAntMazeDataset(
        { env: p.env, size: p.size, seed: ctx.seed, noise: p.action_noise, terminalsOnGoal: p.terminals_on_goal },
        { signal: ctx.signal, onProgress: (s, total, what) => ctx.progress(s, total, what) },
      );
      const secs = (performance.now() - t0) / 1000;
      ctx.record('generation_seconds', Number(secs.toFixed(3)));
      ctx.record('transitions_per_second', Math.round(p.size / secs));
      ctx.record('controller', g.controller);
      ctx.log(
        `generated ${p.size} ${p.env} transitions (${g.params.procedure}) in ${secs.toFixed(1)} s: ${g.episodes} episodes, ` +
          `${(100 * g.episodeSuccessRate).toFixed(0)}% reach the goal (mean ${g.meanStepsToGoal.toFixed(0)} steps), ${(100 * g.flipRate).toFixed(0)}% flip`,
      );
      transitions = g.transitions;
      table = data.transitionsToTable(g.transitions, {
        source: 'generate',
        generator: { ...g.params, controller: g.controller },
        infos: g.infos,
        metadata: { dataset_name: `${p.env}-generated-gait-waypoint` },
      });
      extraSummary['behaviour_success_rate'] = g.episodeSuccessRate;
      extraSummary['behaviour_steps_to_goal'] = g.meanStepsToGoal;
      extraSummary['behaviour_flip_rate'] = g.flipRate;
      extraSummary['reward_fraction'] = g.rewardFraction;
    } else if (p.source === 'generate' && spec.kind === 'maze2d') {
      const { generateMaze2dDataset } = await import('../src/rl/data/maze2d-generator.js');
      const t0 = performance.now();
      const g = await generateMaze2dDataset(
        { env: p.env, size: p.size, seed: ctx.seed, noise: p.noise, rewardOn: p.reward_on },
        { signal: ctx.signal, onProgress: (s, total) => ctx.progress(s, total, 'transitions') },
      );
      const secs = (performance.now() - t0) / 1000;
      ctx.record('generation_seconds', Number(secs.toFixed(3)));
      ctx.record('transitions_per_second', Math.round(p.size / secs));
      ctx.log(`generated ${p.size} transitions in ${secs.toFixed(1)} s (${g.episodes} episodes, ${g.targetsReached} targets reached)`);
      transitions = g.transitions;
      table = data.transitionsToTable(g.transitions, {
        source: 'generate',
        generator: { procedure: 'd4rl-maze2d-waypoint', ...g.params },
        infos: g.infos,
      });
    } else if (p.source === 'exorl') {
      const [{ resolve, join, basename }, { readFileSync, readdirSync, statSync }] = await Promise.all([import('node:path'), import('node:fs')]);
      const root = resolve(process.cwd(), p.path);
      let names: string[];
      try {
        names = statSync(root).isDirectory() ? readdirSync(root).filter((n) => n.endsWith('.npz')).sort().map((n) => join(root, n)) : [root];
      } catch (e) {
        throw new Error(`load-dataset: cannot read the ExoRL buffer ${root}: ${(e as Error).message}`);
      }
      if (names.length === 0) throw new Error(`load-dataset: no .npz episode files in ${root}`);
      const reward = p.exorl_reward ?? (p.env === 'cheetah-run' ? 'relabel' : 'stored');
      let relabel: ((physics: Float64Array) => number) | undefined;
      let sim: import('../src/rl/envs/locomotion/sim.js').CheetahSim | undefined;
      if (reward === 'relabel') {
        if (p.env !== 'cheetah-run') throw new Error(`load-dataset: exorl_reward 'relabel' is implemented for cheetah-run only, not ${p.env}`);
        const { CheetahSim } = await import('../src/rl/envs/locomotion/sim.js');
        const { runTolerance } = await import('../src/rl/envs/locomotion/spec.js');
        const s1 = (sim = await CheetahSim.create('cheetah-run', 1));
        relabel = (ph) => {
          s1.setState(0, ph.subarray(0, 9), ph.subarray(9, 18));
          return runTolerance(s1.speed(0));
        };
      }
      const { exorlToTransitions } = await import('../src/rl/data/exorl.js');
      try {
        const files = names.map((n, i) => {
          ctx.progress(i, names.length, 'episodes');
          return { name: basename(n), bytes: readFileSync(n) };
        });
        const r = exorlToTransitions(files, { envId: p.env, obsDim: spec.obsDim, actDim: spec.actDim, reward, relabel });
        transitions = r.transitions;
        ctx.record('input_file', root);
        ctx.log(`read ${r.episodes} ExoRL episodes (${r.transitions.size} transitions) from ${root}; rewards: ${reward}`);
        // dm_control physics = qpos ++ qvel: kept as infos/qpos, infos/qvel for the cheetah (9 + 9).
        const ph = r.infos.physics;
        const split = spec.kind === 'locomotion' && r.physicsDim === 18;
        if (r.physicsDim && !split) ctx.log(`physics rows of ${r.physicsDim} values are not kept (no qpos/qvel split known for ${p.env})`);
        const n = r.transitions.size;
        const rowsOf = (from: number) => Float32Array.from({ length: n * 9 }, (_, k) => ph[Math.floor(k / 9) * 18 + from + (k % 9)]!);
        table = data.transitionsToTable(r.transitions, {
          source: 'exorl',
          generator: { path: root, episodes: r.episodes, reward },
          infos: split ? { qpos: rowsOf(0), qvel: rowsOf(9) } : undefined,
        });
      } finally {
        sim?.close();
      }
    } else {
      const [{ resolve }, { readFileSync }, { createHash }] = await Promise.all([
        import('node:path'),
        import('node:fs'),
        import('node:crypto'),
      ]);
      const file = resolve(process.cwd(), p.path);
      let bytes: Buffer;
      try {
        bytes = readFileSync(file);
      } catch (e) {
        throw new Error(`load-dataset: cannot read ${p.source} file ${file}: ${(e as Error).message}`);
      }
      ctx.record('input_file', file);
      ctx.record('input_file_sha256', createHash('sha256').update(bytes).digest('hex'));
      ctx.progress(0, 1, 'reading');
      if (p.source === 'hdf5') {
        const { loadHdf5Dataset } = await import('../src/rl/data/hdf5.js');
        const r = await loadHdf5Dataset(file, { envId: p.env, format: p.hdf5_format });
        transitions = r.transitions;
        table = data.transitionsToTable(r.transitions, { source: 'hdf5', generator: r.description, infos: r.infos });
      } else {
        const { tableFromIPC } = await import('apache-arrow');
        let src;
        try {
          src = tableFromIPC(bytes);
        } catch (e) {
          throw new Error(`load-dataset: ${file} is not an Arrow IPC file (${(e as Error).message})`);
        }
        const meta = data.datasetMetadata(src);
        if (meta.envId && meta.envId !== p.env) {
          throw new Error(`load-dataset: ${file} holds a dataset for '${meta.envId}', but env is '${p.env}'`);
        }
        transitions = { ...data.tableToTransitions(src), envId: p.env };
        data.validateTransitions(transitions, file);
        table = data.transitionsToTable(transitions, {
          source: 'arrow',
          generator: { file, upstream: meta.generator, upstream_source: meta.source },
          infos: data.tableInfos(src),
        });
      }
      ctx.progress(1, 1, 'read');
    }
    if (transitions.obsDim !== spec.obsDim || transitions.actDim !== spec.actDim) {
      throw new Error(
        `load-dataset: dataset has obs_dim ${transitions.obsDim}, act_dim ${transitions.actDim}; ${p.env} needs ${spec.obsDim}, ${spec.actDim}`,
      );
    }

    const c = cov.computeCoverage(transitions, {
      bins: p.coverage_bins,
      edgeEps: p.coverage_edge_eps,
      actionLow: spec.actionLow,
      actionHigh: spec.actionHigh,
      ...(spec.kind === 'maze2d' ? { layout: spec.layout } : {}),
    });
    // The coverage figures travel with the histogram (a small table) so reports can show them.
    const { withMetadata } = await import('./lib/train-loop.js');
    const coverageSummary: Record<string, number> = {};
    for (const [k, v] of Object.entries(c.summary)) if (typeof v === 'number' && Number.isFinite(v)) coverageSummary[k] = v;
    const outputs: Record<string, OutputValue> = {
      dataset: table,
      action_hist: await withMetadata(c.tables.action_hist, { coverage_summary: JSON.stringify(coverageSummary), env_id: p.env }),
      episodes: c.tables.episodes,
    };
    if (c.tables.cell_occupancy) outputs['cell_occupancy'] = c.tables.cell_occupancy;
    else {
      const { tableFromArrays } = await import('apache-arrow');
      outputs['cell_occupancy'] = tableFromArrays({
        row: new Int32Array(0), col: new Int32Array(0), free: new Uint8Array(0), count: new Int32Array(0), fraction: new Float64Array(0),
      });
    }
    const summary: Record<string, number> = {};
    for (const [k, v] of Object.entries(c.summary)) if (typeof v === 'number' && Number.isFinite(v)) summary[k] = v;
    for (const [k, v] of Object.entries(extraSummary)) if (Number.isFinite(v)) summary[k] = v;
    // Mean episode return in normalised-score units is only meaningful for full-length episodes;
    // report the per-step reward scaled to an episode instead.
    summary['reward_per_episode_length'] = c.summary.reward_mean * spec.maxEpisodeSteps;
    return { outputs, summary };
  },
};

export default stage;

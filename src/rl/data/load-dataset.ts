/**
 * An offline dataset from its source, dispatched on the source and the environment's family
 * (the load-dataset stage's work; see stages/load-dataset.ts for what each source means):
 *
 *   generate × maze2d      D4RL's maze2d collection (maze2d-generator.ts)
 *   generate × locomotion  this project's gait / exploration generator (locomotion-generator.ts)
 *   generate × antmaze     this project's goal-reaching ant controller (antmaze-generator.ts)
 *   exorl                  an ExoRL episode buffer (exorl.ts); cheetah-run rewards relabelled from physics
 *   hdf5                   a D4RL- or Minari-layout file (hdf5.ts)
 *   arrow                  an Arrow IPC file with the dataset schema (dataset.ts)
 *
 * Returns the transitions, their Arrow table (with the source and generator in its metadata) and
 * the source's own summary numbers. What a run should record (generation speed, the input file's
 * digest, the controller) goes through `hooks.record`.
 */
import { getEnvSpec, type EnvSpec } from '../envs/registry.js';
import { datasetMetadata, tableInfos, tableToTransitions, transitionsToTable, validateTransitions, type Transitions } from './dataset.js';
import type { Table } from 'apache-arrow';
import type { LocomotionBehaviour, LocomotionGeneratorParams } from './locomotion-generator.js';

export type DatasetSourceKind = 'generate' | 'hdf5' | 'arrow' | 'exorl';

/** Options of the cheetahs' generator (locomotion-generator.ts); actionNoise also AntMaze's. */
type GeneratorOptions = Omit<LocomotionGeneratorParams, 'env' | 'size' | 'seed' | 'behaviour'>;

/** What to load (the stage's parameters, in camelCase). Generator options absent = the generator's defaults. */
export interface DatasetRequest extends GeneratorOptions {
  env: string;
  source: DatasetSourceKind;
  /** File or directory to read (hdf5, arrow, exorl), relative to the working directory. */
  path: string;
  size: number;
  seed: number;
  /** maze2d generation. */
  noise: number;
  rewardOn: 'next' | 'obs';
  hdf5Format: 'auto' | 'd4rl' | 'minari';
  exorlReward?: 'stored' | 'relabel';
  /** Locomotion generation: gait (narrow) or explore (dense). */
  behaviour?: LocomotionBehaviour;
  /** AntMaze generation. */
  terminalsOnGoal?: boolean;
}

export interface DatasetHooks {
  signal?: AbortSignal;
  progress(step: number, total?: number, note?: string): void;
  record(key: string, value: unknown): void;
  log(message: string): void;
}

export interface LoadedDataset {
  spec: EnvSpec;
  transitions: Transitions;
  table: Table;
  /** Summary numbers of the source (behaviour returns, success rates…); may be empty. */
  summary: Record<string, number>;
}

/** Generator options that only the cheetahs use, by request field and parameter name. */
const LOCOMOTION_OPTIONS = [
  ['behaviour', 'behaviour'], ['actionNoise', 'action_noise'], ['gaitFraction', 'gait_fraction'], ['exploreGaitNoise', 'explore_gait_noise'],
  ['holdMax', 'hold_max'], ['gaitIterations', 'gait_iterations'], ['gaitPopulation', 'gait_population'], ['gaitEpisodes', 'gait_episodes'],
] as const;
/** Generator options that apply to AntMaze. */
const ANTMAZE_OPTIONS: readonly string[] = ['actionNoise', 'terminalsOnGoal'];

export async function loadDataset(req: DatasetRequest, hooks: DatasetHooks): Promise<LoadedDataset> {
  const spec = getEnvSpec(req.env);
  checkGeneratorOptions(req, spec);
  const loaded =
    req.source === 'generate'
      ? await generate(req, spec, hooks)
      : req.source === 'exorl'
        ? await readExorl(req, spec, hooks)
        : await readFile(req, hooks);
  const { transitions } = loaded;
  if (transitions.obsDim !== spec.obsDim || transitions.actDim !== spec.actDim) {
    throw new Error(
      `load-dataset: dataset has obs_dim ${transitions.obsDim}, act_dim ${transitions.actDim}; ${req.env} needs ${spec.obsDim}, ${spec.actDim}`,
    );
  }
  return { spec, ...loaded, summary: loaded.summary ?? {} };
}

/** The family-specific generator options are refused where they do not apply. */
function checkGeneratorOptions(req: DatasetRequest, spec: EnvSpec): void {
  if (spec.kind !== 'locomotion') {
    const options = [...LOCOMOTION_OPTIONS, ['terminalsOnGoal', 'terminals_on_goal'] as const];
    const set = options.filter(([k]) => req[k] !== undefined && !(spec.kind === 'antmaze' && ANTMAZE_OPTIONS.includes(k))).map(([, name]) => name);
    if (set.length) throw new Error(`load-dataset: ${set.join(', ')} do not apply to ${req.env} (${spec.kind})`);
  } else if (req.terminalsOnGoal !== undefined) {
    throw new Error(`load-dataset: terminals_on_goal only applies to antmaze envs, not ${req.env}`);
  }
}

type Source = Omit<LoadedDataset, 'spec' | 'summary'> & { summary?: Record<string, number> };

async function generate(req: DatasetRequest, spec: EnvSpec, hooks: DatasetHooks): Promise<Source> {
  const t0 = performance.now();
  const timing = () => {
    const secs = (performance.now() - t0) / 1000;
    hooks.record('generation_seconds', Number(secs.toFixed(3)));
    hooks.record('transitions_per_second', Math.round(req.size / secs));
    return secs;
  };
  if (spec.kind === 'locomotion') {
    if (!req.behaviour) throw new Error(`load-dataset: generating a ${req.env} dataset needs behaviour: gait (narrow, expert-like) or explore (dense coverage)`);
    const { generateLocomotionDataset } = await import('./locomotion-generator.js');
    const g = await generateLocomotionDataset(
      {
        env: req.env, size: req.size, seed: req.seed, behaviour: req.behaviour, actionNoise: req.actionNoise, gaitFraction: req.gaitFraction,
        exploreGaitNoise: req.exploreGaitNoise, holdMax: req.holdMax, gaitIterations: req.gaitIterations, gaitPopulation: req.gaitPopulation,
        gaitEpisodes: req.gaitEpisodes,
      },
      { signal: hooks.signal, onProgress: (s, total, what) => hooks.progress(s, total, what) },
    );
    const secs = timing();
    hooks.record('gait_theta', g.gait.theta);
    hooks.record('gait_env_steps', g.gait.envSteps);
    hooks.log(
      `generated ${req.size} ${req.env} transitions (${g.params.procedure}) in ${secs.toFixed(1)} s; gait return ${g.gait.return.toFixed(1)} ` +
        `(score ${g.gait.score.toFixed(1)}), dataset episode return ${g.datasetReturn.toFixed(1)}`,
    );
    return {
      transitions: g.transitions,
      table: transitionsToTable(g.transitions, {
        source: 'generate',
        generator: {
          ...g.params,
          gait: { theta: g.gait.theta, return: g.gait.return, score: g.gait.score, noisy_return: g.gait.noisyReturn, env_steps: g.gait.envSteps },
        },
        infos: g.infos,
        metadata: { dataset_name: `${req.env}-generated-${req.behaviour === 'gait' ? 'cemgait-narrow' : 'mixed-exploration'}` },
      }),
      summary: {
        behaviour_gait_return: g.gait.return,
        behaviour_gait_score: g.gait.score,
        behaviour_gait_noisy_return: g.gait.noisyReturn,
        dataset_episode_return: g.datasetReturn,
        dataset_episode_score: g.datasetScore,
      },
    };
  }
  if (spec.kind === 'antmaze') {
    const { generateAntMazeDataset } = await import('./antmaze-generator.js');
    const g = await generateAntMazeDataset(
      { env: req.env, size: req.size, seed: req.seed, noise: req.actionNoise, terminalsOnGoal: req.terminalsOnGoal },
      { signal: hooks.signal, onProgress: (s, total, what) => hooks.progress(s, total, what) },
    );
    const secs = timing();
    hooks.record('controller', g.controller);
    hooks.log(
      `generated ${req.size} ${req.env} transitions (${g.params.procedure}) in ${secs.toFixed(1)} s: ${g.episodes} episodes, ` +
        `${(100 * g.episodeSuccessRate).toFixed(0)}% reach the goal (mean ${g.meanStepsToGoal.toFixed(0)} steps), ${(100 * g.flipRate).toFixed(0)}% flip`,
    );
    return {
      transitions: g.transitions,
      table: transitionsToTable(g.transitions, {
        source: 'generate',
        generator: { ...g.params, controller: g.controller },
        infos: g.infos,
        metadata: { dataset_name: `${req.env}-generated-gait-waypoint` },
      }),
      summary: {
        behaviour_success_rate: g.episodeSuccessRate,
        behaviour_steps_to_goal: g.meanStepsToGoal,
        behaviour_flip_rate: g.flipRate,
        reward_fraction: g.rewardFraction,
      },
    };
  }
  const { generateMaze2dDataset } = await import('./maze2d-generator.js');
  const g = await generateMaze2dDataset(
    { env: req.env, size: req.size, seed: req.seed, noise: req.noise, rewardOn: req.rewardOn },
    { signal: hooks.signal, onProgress: (s, total) => hooks.progress(s, total, 'transitions') },
  );
  const secs = timing();
  hooks.log(`generated ${req.size} transitions in ${secs.toFixed(1)} s (${g.episodes} episodes, ${g.targetsReached} targets reached)`);
  return {
    transitions: g.transitions,
    table: transitionsToTable(g.transitions, { source: 'generate', generator: { procedure: 'd4rl-maze2d-waypoint', ...g.params }, infos: g.infos }),
  };
}

/** An ExoRL buffer: a directory of episode .npz files (sorted by name) or one file. */
async function readExorl(req: DatasetRequest, spec: EnvSpec, hooks: DatasetHooks): Promise<Source> {
  const [{ resolve, join, basename }, { readFileSync, readdirSync, statSync }] = await Promise.all([import('node:path'), import('node:fs')]);
  const root = resolve(process.cwd(), req.path);
  let names: string[];
  try {
    names = statSync(root).isDirectory() ? readdirSync(root).filter((n) => n.endsWith('.npz')).sort().map((n) => join(root, n)) : [root];
  } catch (e) {
    throw new Error(`load-dataset: cannot read the ExoRL buffer ${root}: ${(e as Error).message}`);
  }
  if (names.length === 0) throw new Error(`load-dataset: no .npz episode files in ${root}`);
  const reward = req.exorlReward ?? (req.env === 'cheetah-run' ? 'relabel' : 'stored');
  let relabel: ((physics: Float64Array) => number) | undefined;
  let sim: import('../envs/locomotion/sim.js').CheetahSim | undefined;
  if (reward === 'relabel') {
    if (req.env !== 'cheetah-run') throw new Error(`load-dataset: exorl_reward 'relabel' is implemented for cheetah-run only, not ${req.env}`);
    const { CheetahSim } = await import('../envs/locomotion/sim.js');
    const { runTolerance } = await import('../envs/locomotion/spec.js');
    const s1 = (sim = await CheetahSim.create('cheetah-run', 1));
    relabel = (ph) => {
      s1.setState(0, ph.subarray(0, 9), ph.subarray(9, 18));
      return runTolerance(s1.speed(0));
    };
  }
  const { exorlToTransitions } = await import('./exorl.js');
  try {
    const files = names.map((n, i) => {
      hooks.progress(i, names.length, 'episodes');
      return { name: basename(n), bytes: readFileSync(n) };
    });
    const r = exorlToTransitions(files, { envId: req.env, obsDim: spec.obsDim, actDim: spec.actDim, reward, relabel });
    hooks.record('input_file', root);
    hooks.log(`read ${r.episodes} ExoRL episodes (${r.transitions.size} transitions) from ${root}; rewards: ${reward}`);
    // dm_control physics = qpos ++ qvel: kept as infos/qpos, infos/qvel for the cheetah (9 + 9).
    const ph = r.infos.physics;
    const split = spec.kind === 'locomotion' && r.physicsDim === 18;
    if (r.physicsDim && !split) hooks.log(`physics rows of ${r.physicsDim} values are not kept (no qpos/qvel split known for ${req.env})`);
    const n = r.transitions.size;
    const rowsOf = (from: number) => Float32Array.from({ length: n * 9 }, (_, k) => ph[Math.floor(k / 9) * 18 + from + (k % 9)]!);
    return {
      transitions: r.transitions,
      table: transitionsToTable(r.transitions, {
        source: 'exorl',
        generator: { path: root, episodes: r.episodes, reward },
        infos: split ? { qpos: rowsOf(0), qvel: rowsOf(9) } : undefined,
      }),
    };
  } finally {
    sim?.close();
  }
}

/** A D4RL/Minari HDF5 file or an Arrow IPC dataset; its sha256 is recorded. */
async function readFile(req: DatasetRequest, hooks: DatasetHooks): Promise<Source> {
  const [{ resolve }, { readFileSync }, { createHash }] = await Promise.all([import('node:path'), import('node:fs'), import('node:crypto')]);
  const file = resolve(process.cwd(), req.path);
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (e) {
    throw new Error(`load-dataset: cannot read ${req.source} file ${file}: ${(e as Error).message}`);
  }
  hooks.record('input_file', file);
  hooks.record('input_file_sha256', createHash('sha256').update(bytes).digest('hex'));
  hooks.progress(0, 1, 'reading');
  let out: Source;
  if (req.source === 'hdf5') {
    const { loadHdf5Dataset } = await import('./hdf5.js');
    const r = await loadHdf5Dataset(file, { envId: req.env, format: req.hdf5Format });
    out = { transitions: r.transitions, table: transitionsToTable(r.transitions, { source: 'hdf5', generator: r.description, infos: r.infos }) };
  } else {
    const { tableFromIPC } = await import('apache-arrow');
    let src;
    try {
      src = tableFromIPC(bytes);
    } catch (e) {
      throw new Error(`load-dataset: ${file} is not an Arrow IPC file (${(e as Error).message})`);
    }
    const meta = datasetMetadata(src);
    if (meta.envId && meta.envId !== req.env) {
      throw new Error(`load-dataset: ${file} holds a dataset for '${meta.envId}', but env is '${req.env}'`);
    }
    const transitions = { ...tableToTransitions(src), envId: req.env };
    validateTransitions(transitions, file);
    out = {
      transitions,
      table: transitionsToTable(transitions, { source: 'arrow', generator: { file, upstream: meta.generator, upstream_source: meta.source }, infos: tableInfos(src) }),
    };
  }
  hooks.progress(1, 1, 'read');
  return out;
}

export interface DatasetCoverage {
  /** The finite coverage figures (coverage.ts CoverageSummary). */
  summary: Record<string, number>;
  /** Mean reward × the env's episode limit: a return-like scale for episodes of any length. */
  rewardPerEpisodeLength: number;
  /** action_hist, episodes and cell_occupancy (an empty table with the same columns outside maze2d). */
  tables: { action_hist: Table; episodes: Table; cell_occupancy: Table };
}

/** Coverage of a dataset in its env's action box, and of the maze cells for maze2d. */
export async function datasetCoverage(transitions: Transitions, spec: EnvSpec, opts: { bins: number; edgeEps: number }): Promise<DatasetCoverage> {
  const { computeCoverage } = await import('./coverage.js');
  const c = computeCoverage(transitions, {
    bins: opts.bins,
    edgeEps: opts.edgeEps,
    actionLow: spec.actionLow,
    actionHigh: spec.actionHigh,
    ...(spec.kind === 'maze2d' ? { layout: spec.layout } : {}),
  });
  const summary: Record<string, number> = {};
  for (const [k, v] of Object.entries(c.summary)) if (typeof v === 'number' && Number.isFinite(v)) summary[k] = v;
  let cellOccupancy = c.tables.cell_occupancy;
  if (!cellOccupancy) {
    const { tableFromArrays } = await import('apache-arrow');
    cellOccupancy = tableFromArrays({ row: new Int32Array(0), col: new Int32Array(0), free: new Uint8Array(0), count: new Int32Array(0), fraction: new Float64Array(0) });
  }
  return {
    summary,
    rewardPerEpisodeLength: c.summary.reward_mean * spec.maxEpisodeSteps,
    tables: { action_hist: c.tables.action_hist, episodes: c.tables.episodes, cell_occupancy: cellOccupancy },
  };
}

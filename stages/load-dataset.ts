/**
 * load-dataset: the offline dataset of a maze2d experiment, as an Arrow table (see
 * src/rl/data/dataset.ts for the schema), plus coverage diagnostics.
 *
 *  source=generate  D4RL's maze2d collection (waypoint controller + Gaussian noise) on MuJoCo
 *                   physics, `size` transitions, deterministic given the stage seed.
 *  source=hdf5      a D4RL-layout or Minari-layout HDF5 file (`path`).
 *  source=arrow     an Arrow IPC file with the dataset schema (`path`), e.g. an earlier output.
 *
 * For hdf5/arrow the file's content digest is part of the cache key (`fileParams`), so replacing
 * the file reruns the stage; its sha256 is also recorded in the manifest (`input_file_sha256`).
 */
import type { StageKind, StageResult, OutputValue } from '../src/engine/stage.js';
import { loadStageSchema } from '../src/engine/stage-schema.js';

interface Params {
  env: string;
  source: 'generate' | 'hdf5' | 'arrow';
  path: string;
  size: number;
  noise: number;
  reward_on: 'next' | 'obs';
  hdf5_format: 'auto' | 'd4rl' | 'minari';
  coverage_bins: number;
  coverage_edge_eps: number;
}

const stage: StageKind<Params> = {
  kind: 'load-dataset',
  version: '1',
  fileParams: ['path'],
  description: 'Generate (D4RL maze2d procedure on MuJoCo) or load (HDF5 D4RL/Minari, Arrow) an offline dataset; report its coverage.',
  params: loadStageSchema('load-dataset'),
  inputs: {},
  outputs: {
    dataset: { description: 'transitions: observations, actions, next_observations, rewards, terminals, timeouts, infos/*' },
    action_hist: { description: 'action histogram over the action box: a0, a1 (bin centres), count, fraction' },
    cell_occupancy: { description: 'visits per maze cell: row, col, free, count, fraction' },
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

    if (p.source === 'generate') {
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
      layout: spec.layout,
    });
    const outputs: Record<string, OutputValue> = {
      dataset: table,
      action_hist: c.tables.action_hist,
      episodes: c.tables.episodes,
    };
    if (c.tables.cell_occupancy) outputs['cell_occupancy'] = c.tables.cell_occupancy;
    const summary: Record<string, number> = {};
    for (const [k, v] of Object.entries(c.summary)) if (typeof v === 'number' && Number.isFinite(v)) summary[k] = v;
    // Mean episode return in normalised-score units is only meaningful for full-length episodes;
    // report the per-step reward scaled to an episode instead.
    summary['reward_per_episode_length'] = c.summary.reward_mean * spec.maxEpisodeSteps;
    return { outputs, summary };
  },
};

export default stage;

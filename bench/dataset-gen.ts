/**
 * Dataset generation throughput: D4RL maze2d collection on MuJoCo (default maze2d-umaze-v1, 1M
 * transitions, noise 0.5) + Arrow table conversion + coverage. Prints one JSON line.
 *   npx tsx bench/dataset-gen.ts [env] [size]      (or node dist/bench/dataset-gen.js ...)
 * Target: 1M transitions in < 30 s.
 */
import { generateMaze2dDataset } from '../src/rl/data/maze2d-generator.js';
import { transitionsToTable, tableToTransitions } from '../src/rl/data/dataset.js';
import { computeCoverage } from '../src/rl/data/coverage.js';
import { getMaze2dSpec } from '../src/rl/envs/maze2d/spec.js';
import { tableFromIPC, tableToIPC } from 'apache-arrow';

const env = process.argv[2] ?? 'maze2d-umaze-v1';
const size = Number(process.argv[3] ?? 1_000_000);
const spec = getMaze2dSpec(env);

const t0 = performance.now();
const g = await generateMaze2dDataset({ env, size, seed: 0 });
const genS = (performance.now() - t0) / 1000;
const t1 = performance.now();
const table = transitionsToTable(g.transitions, { source: 'generate', generator: g.params, infos: g.infos });
const ipc = tableToIPC(table, 'file');
const back = tableToTransitions(tableFromIPC(ipc));
const arrowS = (performance.now() - t1) / 1000;
const t2 = performance.now();
const cov = computeCoverage(back, { layout: spec.layout });
const covS = (performance.now() - t2) / 1000;

console.log(
  JSON.stringify({
    bench: 'dataset-gen',
    env,
    transitions: size,
    generate_s: +genS.toFixed(3),
    transitions_per_s: Math.round(size / genS),
    arrow_roundtrip_s: +arrowS.toFixed(3),
    ipc_bytes: ipc.byteLength,
    coverage_s: +covS.toFixed(3),
    episodes: g.episodes,
    action_edge_fraction: +cov.summary.action_edge_fraction.toFixed(4),
    cells_visited_fraction: cov.summary.cells_visited_fraction,
    reward_mean: +cov.summary.reward_mean.toFixed(4),
    node: process.version,
  }),
);

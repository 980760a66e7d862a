/**
 * Locomotion throughput: raw vectorised env steps/s of halfcheetah-v2 and cheetah-run (random
 * actions), then dataset generation (gait optimisation + collection) with coverage numbers.
 * Prints one JSON line per measurement.
 *   npx tsx bench/locomotion.ts [size=200000] [gaitIterations=40] [datasets=halfcheetah-v2:gait,cheetah-run:explore]
 */
import { makeLocoVecEnv } from '../src/rl/envs/locomotion/vec-env.js';
import { Rng } from '../src/rl/rng.js';
import { generateLocomotionDataset, type LocomotionBehaviour } from '../src/rl/data/locomotion-generator.js';
import { computeCoverage } from '../src/rl/data/coverage.js';

const size = Number(process.argv[2] ?? 200_000);
const gaitIterations = Number(process.argv[3] ?? 40);
const which = (process.argv[4] ?? 'halfcheetah-v2:gait,cheetah-run:explore').split(',').map((s) => s.split(':') as [string, LocomotionBehaviour]);

for (const id of ['halfcheetah-v2', 'cheetah-run']) {
  for (const n of [1, 16]) {
    const env = await makeLocoVecEnv(id, n, 0, { autoReset: true });
    env.reset();
    const rng = new Rng(1);
    const acts = new Float32Array(6 * n);
    const steps = Math.ceil(50_000 / n);
    const t0 = performance.now();
    for (let t = 0; t < steps; t++) {
      for (let i = 0; i < acts.length; i++) acts[i] = rng.uniform(-1, 1);
      env.step(acts);
    }
    const s = (performance.now() - t0) / 1000;
    console.log(JSON.stringify({ bench: 'locomotion-env', env: id, n, env_steps_per_s: Math.round((steps * n) / s) }));
    env.close();
  }
}

const r4 = (x: number | undefined) => (x === undefined ? null : +x.toFixed(4));
for (const [env, behaviour] of which) {
  const t0 = performance.now();
  let tGait = 0;
  const g = await generateLocomotionDataset(
    { env, size, seed: 0, behaviour, gaitIterations },
    { onProgress: (_d, _t, what) => { if (what === 'transitions' && !tGait) tGait = performance.now(); } },
  );
  const t1 = performance.now();
  const c = computeCoverage(g.transitions).summary;
  console.log(
    JSON.stringify({
      bench: 'locomotion-dataset',
      env,
      behaviour,
      procedure: g.params.procedure,
      transitions: size,
      gait_iterations: gaitIterations,
      gait_seconds: +((tGait - t0) / 1000).toFixed(1),
      gait_env_steps: g.gait.envSteps,
      collect_seconds: +((t1 - tGait) / 1000).toFixed(1),
      collect_transitions_per_s: Math.round(size / ((t1 - tGait) / 1000)),
      gait_return: +g.gait.return.toFixed(1),
      gait_score: +g.gait.score.toFixed(2),
      dataset_episode_return: +g.datasetReturn.toFixed(1),
      dataset_episode_score: +g.datasetScore.toFixed(2),
      action_edge_fraction: r4(c.action_edge_fraction),
      action_corner_fraction: r4(c.action_corner_fraction),
      action_marginal_bins_occupied_fraction: r4(c.action_bins_occupied_fraction),
      action_marginal_entropy: r4(c.action_hist_entropy),
      action_coarse_occupied_fraction_4pow6: r4(c.action_coarse_occupied_fraction),
      action_coarse_entropy: r4(c.action_coarse_entropy),
      action_std_mean: r4(c.action_std_mean),
    }),
  );
}

/**
 * Env throughput: raw vectorised env steps/s, and the time of 100 maze2d-umaze-v1 evaluation
 * episodes through rollout() (policy time excluded/reported separately). Prints one JSON line.
 *   npx tsx bench/rollout.ts      (or node dist/bench/rollout.js)
 * Target: 100 umaze episodes well under 10 s excluding policy time.
 */
import { makeMaze2dVecEnv } from '../src/rl/envs/maze2d/vec-env.js';
import { rollout } from '../src/rl/envs/rollout.js';
import { Rng } from '../src/rl/rng.js';

const results: Record<string, unknown> = { bench: 'rollout', node: process.version };

for (const n of [1, 100]) {
  const env = await makeMaze2dVecEnv('maze2d-umaze-v1', n, 0, { autoReset: true });
  env.reset();
  const rng = new Rng(1);
  const acts = new Float32Array(2 * n);
  for (let i = 0; i < acts.length; i++) acts[i] = rng.uniform(-1, 1);
  const steps = Math.ceil(300_000 / n);
  const t0 = performance.now();
  for (let t = 0; t < steps; t++) env.step(acts);
  const s = (performance.now() - t0) / 1000;
  results[`env_steps_per_s_n${n}`] = Math.round((steps * n) / s);
  env.close();
}

for (const id of ['maze2d-umaze-v1', 'maze2d-medium-v1', 'maze2d-large-v1']) {
  const rng = new Rng(2);
  const t0 = performance.now();
  const r = await rollout(id, (_o, n) => Float32Array.from({ length: 2 * n }, () => rng.uniform(-1, 1)), { episodes: 100, seed: 0 });
  const key = id.replace('maze2d-', '').replace('-v1', '');
  results[`${key}_100_episodes_s`] = +((performance.now() - t0) / 1000).toFixed(3);
  results[`${key}_100_episodes_env_s`] = +(r.envMs / 1000).toFixed(3);
  results[`${key}_100_episodes_policy_s`] = +(r.policyMs / 1000).toFixed(3);
}
console.log(JSON.stringify(results));

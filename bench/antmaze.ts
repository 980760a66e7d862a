/**
 * AntMaze throughput and controller quality. Prints one JSON line: raw env steps/s (random
 * actions, vectorised n=16, auto-reset), the committed controller's success rate within 700 steps
 * from the start cell (D4RL eval semantics: episode ends on success) over N episodes, with and
 * without the dataset's action noise, and dataset generation transitions/s.
 *   node dist/bench/antmaze.js [episodes=50] [size=100000]
 *   node dist/bench/antmaze.js --cem [seed=1] [iterations=30]   (re-run the gait CEM; prints θ)
 */
import { makeAntMazeVecEnv } from '../src/rl/envs/antmaze/vec-env.js';
import { ANT_GAIT_THETA, DEFAULT_ANT_GAIT_OPTIMISER, evaluateAntController, optimiseAntGait } from '../src/rl/envs/antmaze/controller.js';
import { generateAntMazeDataset } from '../src/rl/data/antmaze-generator.js';
import { Rng } from '../src/rl/rng.js';

const round = (x: number, d = 3): number => (Number.isFinite(x) ? +x.toFixed(d) : x);

if (process.argv[2] === '--cem') {
  const seed = Number(process.argv[3] ?? 1);
  const iterations = Number(process.argv[4] ?? DEFAULT_ANT_GAIT_OPTIMISER.iterations);
  const t0 = performance.now();
  const r = await optimiseAntGait({ ...DEFAULT_ANT_GAIT_OPTIMISER, seed, iterations });
  const secs = (performance.now() - t0) / 1000;
  const e = await evaluateAntController('umaze', r.theta, { episodes: 20, seed: 1 });
  console.log(
    JSON.stringify({
      bench: 'antmaze-cem', seed, iterations, population: DEFAULT_ANT_GAIT_OPTIMISER.population, cem_s: round(secs, 1), env_steps: r.envSteps,
      gait_speed_m_per_s: round(r.selectionSpeed), gait_lateral_m: round(r.selectionLateral), success_rate_20: e.successRate,
      mean_steps_to_goal: round(e.meanStepsToGoal, 1), theta: Array.from(r.theta, (x) => round(x, 4)),
    }),
  );
} else {
  const episodes = Number(process.argv[2] ?? 50);
  const size = Number(process.argv[3] ?? 100_000);

  const n = 16;
  const env = await makeAntMazeVecEnv('antmaze-umaze-v2', n, 0, { autoReset: true });
  env.reset();
  const rng = new Rng(1);
  const acts = new Float32Array(8 * n);
  const steps = Math.ceil(20_000 / n);
  let t0 = performance.now();
  for (let t = 0; t < steps; t++) {
    for (let i = 0; i < acts.length; i++) acts[i] = rng.uniform(-1, 1);
    env.step(acts);
  }
  const envRate = (steps * n) / ((performance.now() - t0) / 1000);
  env.close();

  const clean = await evaluateAntController('umaze', ANT_GAIT_THETA, { episodes, seed: 1 });
  const noisy = await evaluateAntController('umaze', ANT_GAIT_THETA, { episodes, seed: 1, actionNoise: 0.2 });

  t0 = performance.now();
  const g = await generateAntMazeDataset({ env: 'antmaze-umaze-v2', size, seed: 0 });
  const genS = (performance.now() - t0) / 1000;

  console.log(
    JSON.stringify({
      bench: 'antmaze',
      env: 'antmaze-umaze-v2',
      env_steps_per_s: Math.round(envRate),
      controller_episodes: episodes,
      controller_success_rate: clean.successRate,
      controller_mean_steps_to_goal: round(clean.meanStepsToGoal, 1),
      controller_flip_rate: clean.flipRate,
      controller_steps_per_s: Math.round(clean.envStepsPerSecond),
      controller_noise02_success_rate: noisy.successRate,
      controller_noise02_mean_steps_to_goal: round(noisy.meanStepsToGoal, 1),
      generate_transitions: size,
      generate_s: round(genS, 2),
      generate_transitions_per_s: Math.round(size / genS),
      dataset_episodes: g.episodes,
      dataset_episode_success_rate: round(g.episodeSuccessRate),
      dataset_mean_steps_to_goal: round(g.meanStepsToGoal, 1),
      dataset_reward_fraction: round(g.rewardFraction),
      dataset_flip_rate: round(g.flipRate),
    }),
  );
}

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateAntMazeDataset } from './antmaze-generator.js';
import { validateTransitions } from './dataset.js';

test('antmaze generator: shapes, flags, relabelled sparse rewards, continuity, determinism', async () => {
  const p = { env: 'antmaze-umaze-v2', size: 2300, seed: 3, episodeSteps: 1000 };
  const g = await generateAntMazeDataset(p);
  const t = g.transitions;
  validateTransitions(t, 'antmaze');
  assert.equal(t.obsDim, 29);
  assert.equal(t.actDim, 8);
  assert.equal(t.size, 2300);
  assert.equal(g.infos.qpos.length, 15 * 2300);
  assert.equal(g.infos.qvel.length, 14 * 2300);
  assert.equal(g.infos.goal.length, 2 * 2300);
  assert.equal(g.episodes, 3);
  assert.deepEqual([...t.timeouts.keys()].filter((i) => t.timeouts[i] === 1), [999, 1999]);
  assert.ok(t.actions.every((a) => a >= -1 && a <= 1));
  assert.deepEqual(t.terminals, t.rewards, 'terminals = rewards (D4RL antmaze files)');
  assert.ok(t.rewards.every((r) => r === 0 || r === 1));
  for (let k = 0; k < 2300; k++) {
    const dx = t.nextObservations[29 * k]! - g.infos.goal[2 * k]!;
    const dy = t.nextObservations[29 * k + 1]! - g.infos.goal[2 * k + 1]!;
    const d = Math.hypot(dx, dy);
    if (Math.abs(d - 0.5) > 1e-4) assert.equal(t.rewards[k], d <= 0.5 ? 1 : 0, `reward at row ${k}`);
  }
  assert.equal(g.episodeSuccessRate, 1, 'both complete episodes reach the goal');
  assert.ok(g.rewardFraction > 0.1, `reward fraction ${g.rewardFraction}`);
  for (const k of [0, 500, 998, 1000, 2298]) {
    for (let j = 0; j < 29; j++) assert.equal(t.nextObservations[29 * k + j], t.observations[29 * (k + 1) + j], `next_obs continuity at ${k}`);
  }
  assert.equal(t.observations[0], g.infos.qpos[0], 'obs = qpos[0:15] ++ qvel[0:14]');
  assert.equal(t.observations[15], g.infos.qvel[0]);
  assert.equal(g.infos.goal[0], g.infos.goal[2 * 999], 'one goal per episode');
  assert.notEqual(g.infos.goal[0], g.infos.goal[2 * 1000]);
  assert.equal(g.params.procedure, 'cem-gait-waypoint+gaussian');
  assert.equal(g.params.noise, 0.2);
  assert.equal(g.controller.theta.length, 25);
  const again = await generateAntMazeDataset(p);
  assert.deepEqual(again.transitions.actions, t.actions);
  assert.deepEqual(again.transitions.observations, t.observations);

  const z = await generateAntMazeDataset({ env: 'antmaze-umaze-v2', size: 300, seed: 1, terminalsOnGoal: false, noise: 0, episodeSteps: 100, gait: 'optimise', gaitIterations: 1, gaitPopulation: 4, gaitEpisodes: 1 });
  assert.ok(z.transitions.terminals.every((x) => x === 0));
  assert.equal(z.controller.source, 'cem');
  assert.deepEqual([...z.transitions.timeouts.keys()].filter((i) => z.transitions.timeouts[i] === 1), [99, 199, 299]);
  await assert.rejects(generateAntMazeDataset({ env: 'maze2d-umaze-v1', size: 10, seed: 0 }), /unknown antmaze environment/);
  await assert.rejects(generateAntMazeDataset({ env: 'antmaze-umaze-v2', size: 0, seed: 0 }), /size must be/);
});

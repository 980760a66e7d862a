import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateMaze2dDataset } from './maze2d-generator.js';
import { computeCoverage } from './coverage.js';
import { getMaze2dSpec, mazeReward } from '../envs/maze2d/spec.js';

const SIZE = 60_000;

test('generated umaze data has D4RL maze2d shape: edge-heavy actions, every free cell visited', async () => {
  const spec = getMaze2dSpec('maze2d-umaze-v1');
  const progress: number[] = [];
  const g = await generateMaze2dDataset(
    { env: spec.id, size: SIZE, seed: 0 },
    { chunk: 20_000, onProgress: (s) => progress.push(s) },
  );
  const t = g.transitions;
  assert.deepEqual(progress, [20_000, 40_000, 60_000]);
  assert.equal(t.size, SIZE);
  assert.equal(t.observations.length, 4 * SIZE);
  const c = computeCoverage(t, { bins: 20, layout: spec.layout });
  const s = c.summary;
  console.log(
    `umaze ${SIZE} transitions: edge fraction ${s.action_edge_fraction.toFixed(3)}, corner fraction ${s.action_corner_fraction.toFixed(3)}, ` +
      `cells visited ${s.cells_visited}/${s.cells_free}, min/mean cell visits ${s.cell_min_over_mean?.toFixed(2)}, episodes ${s.episodes} ` +
      `(mean length ${s.mean_episode_length.toFixed(1)}; D4RL umaze-v1 timeouts come every ~50-90 rows), targets reached ${g.targetsReached}, ` +
      `sparse reward mean ${s.reward_mean.toFixed(3)}, action bins occupied ${(s.action_bins_occupied_fraction * 100).toFixed(0)}%`,
  );
  // Noise N(0, 0.5²) on top of a saturating PD controller: about half the actions sit on the box edge.
  assert.ok(s.action_edge_fraction > 0.4 && s.action_edge_fraction < 0.8, `edge fraction ${s.action_edge_fraction}`);
  assert.equal(s.cells_visited, s.cells_free);
  assert.ok(s.cell_min_over_mean! > 0.2, 'no free cell is starved');
  assert.ok(s.action_bins_occupied_fraction > 0.95, 'noise covers the whole action box');
  // Episodes end on arrival (most) or at the step limit (+1 row, as in D4RL).
  assert.ok(s.episodes > SIZE / 200 && s.episodes < SIZE / 30, `episodes ${s.episodes}`);
  assert.ok(g.targetsReached >= 0.9 * g.episodes);
  const lengths = c.tables.episodes.getChild('length')!.toArray() as Int32Array;
  for (let e = 0; e < lengths.length - 1; e++) assert.ok(lengths[e]! <= spec.maxEpisodeSteps + 1);
  assert.ok(t.terminals.every((x) => x === 0), 'maze2d has no terminal states');
  // One continuous trajectory: next_observations[i] = observations[i + 1], across episode ends too.
  for (let i = 0; i < SIZE - 1; i++) {
    for (let k = 0; k < 4; k++) assert.equal(t.nextObservations[4 * i + k], t.observations[4 * (i + 1) + k]);
  }
  // Rewards: sparse, on next_observations, for the G cell.
  const [gx, gy] = spec.goalCell;
  for (let i = 0; i < SIZE; i += 7) {
    assert.equal(t.rewards[i], mazeReward('sparse', t.nextObservations[4 * i]!, t.nextObservations[4 * i + 1]!, gx, gy));
  }
  // infos: goal constant within an episode, changes after a timeout row; qpos/qvel = observation.
  for (let i = 0; i < SIZE - 1; i++) {
    const same = g.infos.goal[2 * i] === g.infos.goal[2 * i + 2] && g.infos.goal[2 * i + 1] === g.infos.goal[2 * i + 3];
    if (t.timeouts[i] === 0) assert.ok(same, `goal changed inside an episode at row ${i}`);
    assert.equal(g.infos.qpos[2 * i], t.observations[4 * i]);
    assert.equal(g.infos.qvel[2 * i + 1], t.observations[4 * i + 3]);
  }
  // All actions in the box.
  assert.ok(t.actions.every((a) => a >= -1 && a <= 1));
});

test('generation is deterministic given the seed; options change what they should', async () => {
  const a = await generateMaze2dDataset({ env: 'maze2d-umaze-v1', size: 5000, seed: 7 });
  const b = await generateMaze2dDataset({ env: 'maze2d-umaze-v1', size: 5000, seed: 7 });
  const c = await generateMaze2dDataset({ env: 'maze2d-umaze-v1', size: 5000, seed: 8 });
  assert.deepEqual(b.transitions.observations, a.transitions.observations);
  assert.deepEqual(b.transitions.actions, a.transitions.actions);
  assert.notDeepEqual(c.transitions.actions, a.transitions.actions);
  // noise 0: the pure PD controller, which saturates most of the time (gain 10) and leaves most of
  // the interior of the action box empty; the noise fills the box.
  const q = await generateMaze2dDataset({ env: 'maze2d-umaze-v1', size: 5000, seed: 7, noise: 0 });
  const cq = computeCoverage(q.transitions);
  const ca = computeCoverage(a.transitions);
  console.log(`noise 0: edge fraction ${cq.summary.action_edge_fraction.toFixed(3)}, bins occupied ${cq.summary.action_bins_occupied_fraction.toFixed(2)}; noise 0.5: ${ca.summary.action_edge_fraction.toFixed(3)}, ${ca.summary.action_bins_occupied_fraction.toFixed(2)}`);
  assert.ok(cq.summary.action_edge_fraction > 0.6);
  assert.ok(cq.summary.action_hist_entropy < ca.summary.action_hist_entropy);
  assert.ok(cq.summary.action_bins_occupied_fraction < ca.summary.action_bins_occupied_fraction);
  // rewardOn 'obs' = D4RL's released labelling; dense env = exp(-d).
  const o = await generateMaze2dDataset({ env: 'maze2d-umaze-dense-v1', size: 2000, seed: 7, rewardOn: 'obs' });
  const t = o.transitions;
  for (let i = 0; i < 2000; i += 13) {
    assert.ok(Math.abs(t.rewards[i]! - Math.exp(-Math.hypot(t.observations[4 * i]! - 1, t.observations[4 * i + 1]! - 1))) < 1e-6);
  }
  await assert.rejects(generateMaze2dDataset({ env: 'maze2d-umaze-v1', size: 0, seed: 0 }), /size must be a positive integer/);
  const ac = new AbortController();
  ac.abort(new Error('stop!'));
  await assert.rejects(generateMaze2dDataset({ env: 'maze2d-umaze-v1', size: 5000, seed: 0 }, { signal: ac.signal, chunk: 1000 }), /stop!/);
});

test('medium and large layouts: every free cell visited', async () => {
  for (const id of ['maze2d-medium-v1', 'maze2d-large-v1']) {
    const spec = getMaze2dSpec(id);
    const g = await generateMaze2dDataset({ env: id, size: 40_000, seed: 1 });
    const s = computeCoverage(g.transitions, { layout: spec.layout }).summary;
    console.log(`${id} 40000 transitions: cells visited ${s.cells_visited}/${s.cells_free}, edge fraction ${s.action_edge_fraction.toFixed(3)}, episodes ${s.episodes}`);
    assert.equal(s.cells_visited, s.cells_free);
  }
});

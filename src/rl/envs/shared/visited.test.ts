/** The visited-state sample: stride, finals, order, bound; and the maze2d rollout recording it deterministically. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { VisitedRecorder, visitedFromColumns, visitedToColumns } from './visited.js';
import { rollout } from '../rollout.js';

test('VisitedRecorder: every stride-th step plus each final one, sorted by (episode, t), bounded', () => {
  const rec = new VisitedRecorder(2, 2, 9, 8); // 2 episodes × 10 observations, about 8 rows → stride 3
  assert.equal(rec.stride, 3);
  // Offered in a rollout's order (step by step, episodes interleaved); episode 1 ends early at t = 7.
  for (let t = 0; t <= 9; t++) {
    rec.offer(0, t, [t, 0], 0, t === 9);
    if (t <= 7) rec.offer(1, t, [10 + t, 1], 0, t === 7);
  }
  const v = rec.result();
  assert.deepEqual(Array.from(v.episode), [0, 0, 0, 0, 1, 1, 1, 1]);
  assert.deepEqual(Array.from(v.t), [0, 3, 6, 9, 0, 3, 6, 7]);
  assert.deepEqual(Array.from(v.final), [0, 0, 0, 1, 0, 0, 0, 1], 'a final step on the stride is kept once');
  assert.deepEqual(Array.from(v.obs.filter((_, k) => k % 2 === 0)), [0, 3, 6, 9, 10, 13, 16, 17]);
  const back = visitedFromColumns((name) => visitedToColumns(v)[name] ?? null, v.stride);
  assert.deepEqual(back, v, 'columns round-trip');
  assert.throws(() => visitedFromColumns(() => null), /missing column 'episode'/);
  assert.throws(() => new VisitedRecorder(2, 1, 1, 0), /maxRows/);
});

test('maze2d rollout: visited states are the episodes\' observations, the same for the same seed, trajectories unchanged', async () => {
  const policy = (obs: Float32Array, n: number) => Float32Array.from({ length: 2 * n }, (_, k) => (k & 1 ? 0.5 : -0.3));
  const opts = { episodes: 3, seed: 5, maxSteps: 40, recordTrajectories: 1 };
  const plain = await rollout('maze2d-umaze-v1', policy, opts);
  const a = await rollout('maze2d-umaze-v1', policy, { ...opts, recordVisited: 30 });
  const b = await rollout('maze2d-umaze-v1', policy, { ...opts, recordVisited: 30 });
  assert.equal(plain.visited, undefined);
  assert.deepEqual(a.visited, b.visited, 'deterministic given the seed');
  assert.deepEqual(Array.from(a.returns), Array.from(plain.returns), 'recording does not change the episodes');
  assert.deepEqual(Array.from(a.trajectories[0]!), Array.from(plain.trajectories[0]!));
  const v = a.visited!;
  assert.equal(v.stride, Math.ceil((3 * 41) / 30));
  assert.equal(v.obsDim, 4);
  assert.ok(v.episode.length <= 30 + 3);
  // Episode 0's recorded positions are points of its trajectory, and its final row is the last one.
  const traj = a.trajectories[0]!;
  for (let r = 0; r < v.episode.length; r++) {
    if (v.episode[r] !== 0) continue;
    const t = v.t[r]!;
    assert.deepEqual([v.obs[4 * r], v.obs[4 * r + 1]], [traj[2 * t], traj[2 * t + 1]]);
  }
  const finals = Array.from(v.final).reduce((s, x) => s + x, 0);
  assert.equal(finals, 3, 'one final row per episode');
  for (let r = 0; r < v.episode.length; r++) if (v.final[r]) assert.equal(v.t[r], 40);
  // The final position is where final_goal_distance was measured.
  for (let r = 0; r < v.episode.length; r++) {
    if (!v.final[r]) continue;
    assert.ok(Math.abs(Math.hypot(v.obs[4 * r]! - 1, v.obs[4 * r + 1]! - 1) - a.finalGoalDistance[v.episode[r]!]!) < 1e-5);
  }
});

test('antmaze and locomotion rollouts: one final row per episode at its last step, full observations', async () => {
  const zero = (_obs: Float32Array, n: number) => new Float32Array(8 * n);
  const ant = await rollout('antmaze-umaze-v2', zero, { episodes: 2, seed: 1, maxSteps: 12, recordVisited: 10 });
  const v = ant.visited!;
  assert.equal(v.obsDim, 29);
  assert.deepEqual(Array.from(v.t).filter((_, r) => v.final[r] === 1), Array.from(ant.lengths), 'the final row sits at each episode\'s length');
  for (let r = 0; r < v.episode.length; r++) if (v.final[r]) {
    const d = Math.hypot(v.obs[29 * r]! - 0, v.obs[29 * r + 1]! - 0);
    assert.ok(d < 1, `an ant that does not move stays near its start (world origin): ${d}`);
  }
  const cheetah = await rollout('halfcheetah-v2', (_o, n) => new Float32Array(6 * n), { episodes: 1, seed: 1, maxSteps: 9, recordVisited: 5 });
  assert.equal(cheetah.visited!.obsDim, 17);
  assert.deepEqual(Array.from(cheetah.visited!.t), [0, 2, 4, 6, 8, 9]);
  assert.deepEqual(Array.from(cheetah.visited!.final), [0, 0, 0, 0, 0, 1]);
});

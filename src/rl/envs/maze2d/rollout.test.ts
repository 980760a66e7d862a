import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rollout } from '../rollout.js';
import { getMaze2dSpec } from './spec.js';

test('rollout: one batched policy call per step, deterministic, trajectories, success', async () => {
  const id = 'maze2d-open-v0';
  const spec = getMaze2dSpec(id);
  let calls = 0;
  const seen: number[] = [];
  const toGoal = (obs: Float32Array, n: number) => {
    calls++;
    seen.push(n);
    const a = new Float32Array(2 * n);
    for (let i = 0; i < n; i++) {
      a[2 * i] = 10 * (spec.goalCell[0] - obs[4 * i]!) - obs[4 * i + 2]!;
      a[2 * i + 1] = 10 * (spec.goalCell[1] - obs[4 * i + 1]!) - obs[4 * i + 3]!;
    }
    return a;
  };
  const r1 = await rollout(id, toGoal, { episodes: 50, seed: 1, recordTrajectories: 3, maxParallel: 20 });
  assert.equal(calls, 3 * spec.maxEpisodeSteps, 'chunks of 20, 20, 10 episodes');
  assert.deepEqual([...new Set(seen)].sort(), [10, 20]);
  const r2 = await rollout(id, async (o, n) => toGoal(o, n), { episodes: 50, seed: 1, maxParallel: 20 });
  assert.deepEqual(r2.returns, r1.returns);
  const r3 = await rollout(id, toGoal, { episodes: 50, seed: 2, maxParallel: 20 });
  assert.notDeepEqual(r3.returns, r1.returns);
  // The open maze has no walls in the way: the PD policy always succeeds.
  assert.equal(r1.successRate, 1);
  assert.ok(r1.successAtEnd.every((s) => s === 1));
  assert.ok(r1.finalGoalDistance.every((d) => d <= 0.5), 'episodes end within the goal radius');
  assert.ok(r1.finalCellsToGoal.every((d) => d === 0), 'in the goal cell');
  assert.ok(r1.lengths.every((l) => l === 150));
  assert.equal(r1.trajectories.length, 3);
  assert.equal(r1.trajectories[0]!.length, 2 * 151);
  const tr = r1.trajectories[0]!;
  assert.ok(Math.hypot(tr[300]! - 2, tr[301]! - 3) < 0.5, 'trajectory ends at the goal');
  for (let i = 0; i < 50; i++) assert.ok(Math.abs(r1.normalizedScores[i]! - spec.normalizedScore(r1.returns[i]!)) < 1e-9);
  // Standing still far from the goal: no success, zero sparse return for starts outside the goal radius.
  const still = await rollout(id, (_o, n) => new Float32Array(2 * n), { episodes: 30, seed: 3 });
  for (let i = 0; i < 30; i++) assert.equal(still.success[i] === 1, still.returns[i]! > 0);
  for (let i = 0; i < 30; i++) assert.equal(still.success[i] === 1, still.finalGoalDistance[i]! <= 0.5, 'a still ball ends where it started');
  assert.ok(still.finalCellsToGoal.every((d) => Number.isInteger(d) && d >= 0), 'a still ball is in a free cell');
  assert.ok(still.finalCellsToGoal.some((d) => d > 0));
  await assert.rejects(rollout(id, () => new Float32Array(1), { episodes: 2, seed: 0 }), /policy must return a Float32Array of 4 values/);
});

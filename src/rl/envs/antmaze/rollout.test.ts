import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rollout } from '../rollout.js';
import { ANT_GAIT_THETA, AntMazeController } from './controller.js';
import { cellCentre, getAntMazeLayout } from './model.js';

test('antmaze rollout: the waypoint controller as a batch policy succeeds and ends episodes at the goal', async () => {
  const layout = getAntMazeLayout('umaze');
  // The goal is not in the observation (D4RL antmaze): aim at the middle of the region the env
  // draws goals from (cell centre + [0, 1.5]² m).
  const [cx, cy] = cellCentre(layout, layout.goal[0], layout.goal[1]);
  const [gx, gy] = [cx + 0.75, cy + 0.75];
  const n = 3;
  const ctrls = Array.from({ length: n }, () => new AntMazeController(layout, ANT_GAIT_THETA));
  const out = new Float64Array(8);
  let calls = 0;
  // The rollout resets all slots at t = 0: restart the controllers' gait clocks there.
  const policy = (obs: Float32Array, k: number) => {
    if (calls++ === 0) ctrls.forEach((c) => c.reset());
    const a = new Float32Array(8 * k);
    for (let i = 0; i < k; i++) {
      ctrls[i]!.act(obs.subarray(29 * i, 29 * i + 15), 0, gx, gy, out);
      a.set(out, 8 * i);
    }
    return a;
  };
  const r = await rollout('antmaze-umaze-v2', policy, { episodes: n, seed: 4, recordTrajectories: 2 });
  assert.equal(r.successRate, 1, `success ${Array.from(r.success)}`);
  assert.ok(Array.from(r.lengths).every((l) => l > 50 && l < 700), `lengths ${Array.from(r.lengths)}`);
  assert.deepEqual(Array.from(r.returns), [1, 1, 1], 'sparse reward: 1 on the terminating step only');
  assert.equal(r.meanScore, 100);
  assert.ok(Array.from(r.finalGoalDistance).every((d) => d <= 0.5), `ends within the goal radius: ${Array.from(r.finalGoalDistance)}`);
  assert.deepEqual(Array.from(r.finalCellsToGoal), [0, 0, 0], 'in the goal cell');
  assert.equal(r.trajectories.length, 2);
  const xy = r.trajectories[0]!;
  assert.equal(xy.length, 2 * (r.lengths[0]! + 1), 'start position + one point per step');
  const [ex, ey] = [xy[xy.length - 2]!, xy[xy.length - 1]!];
  assert.ok(Math.hypot(ex - gx, ey - gy) < 2.5, `ends near the goal region (${ex}, ${ey})`);

  // A policy that stands still never succeeds: every episode runs to the step limit.
  const idle = await rollout('antmaze-umaze-v2', (_o, k) => new Float32Array(8 * k), { episodes: 2, seed: 1, maxSteps: 40 });
  assert.equal(idle.successRate, 0);
  assert.deepEqual(Array.from(idle.lengths), [40, 40]);
  assert.equal(idle.meanScore, 0);
  // The goal region lies 8–9.5 m up the U from the start (straight-line distance).
  assert.ok(idle.meanFinalGoalDistance > 7.5 && idle.meanFinalGoalDistance < 10, `idle ant ends ${idle.meanFinalGoalDistance} m from the goal`);
  // …but 6 cells away along the U: (1,1) → (1,2) → (1,3) → (2,3) → (3,3) → (3,2) → (3,1).
  assert.deepEqual(Array.from(idle.finalCellsToGoal), [6, 6]);
});

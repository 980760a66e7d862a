import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ANT_GAIT_DIM, ANT_GAIT_THETA, AntMazeController, antGaitAction, evaluateAntController, evaluateAntGaits, optimiseAntGait } from './controller.js';
import { getAntMazeLayout } from './model.js';

test('gait: actions in the box; direction gaits are leg permutations (ankle signs kept per leg)', () => {
  const a0 = new Float64Array(8);
  const a1 = new Float64Array(8);
  // Action order hip_4, ankle_4, hip_1, ankle_1, hip_2, ankle_2, hip_3, ankle_3; flexion signs +, −, −, +.
  const hip = [2, 4, 6, 0];
  const sign = [1, -1, -1, 1];
  for (let t = 0; t < 30; t++) {
    antGaitAction(ANT_GAIT_THETA, t, 0, a0);
    antGaitAction(ANT_GAIT_THETA, t, 1, a1);
    assert.ok([...a0, ...a1].every((x) => x >= -1 && x <= 1));
    for (let p = 0; p < 4; p++) {
      const q = (p + 3) % 4; // in direction 1, leg p plays leg p − 1's part of direction 0
      assert.equal(a1[hip[p]!], a0[hip[q]!]);
      assert.ok(Math.abs(sign[p]! * a1[hip[p]! + 1]! - sign[q]! * a0[hip[q]! + 1]!) < 1e-12);
    }
  }
});

test('committed gait walks forward; tiny CEM is deterministic', async () => {
  const ev = await evaluateAntGaits([ANT_GAIT_THETA], { episodes: 2, steps: 60, seed: 3 });
  console.log(`committed gait: ${ev.speed[0]!.toFixed(2)} m/s forward, |lateral| ${ev.lateral[0]!.toFixed(2)} m over 6 s`);
  assert.ok(ev.speed[0]! > 0.6, `speed ${ev.speed[0]}`);
  assert.equal(ev.flipped[0], 0);
  const p = { seed: 2, iterations: 2, population: 4, elite: 0.5, episodes: 1, steps: 15, finalEpisodes: 1 };
  const x = await optimiseAntGait(p);
  const y = await optimiseAntGait(p);
  assert.equal(x.theta.length, ANT_GAIT_DIM);
  assert.deepEqual(x.theta, y.theta);
  assert.equal(x.selectionScore, y.selectionScore);
  assert.equal(x.history.length, 2);
  assert.equal(x.envSteps, 2 * 4 * 15 + 2 * 15);
});

test('waypoint controller reaches the U-maze goal from the start within 700 steps', async () => {
  const e = await evaluateAntController('umaze', ANT_GAIT_THETA, { episodes: 4, seed: 11 });
  console.log(`controller: success ${e.successRate}, mean steps ${e.meanStepsToGoal}, ${Math.round(e.envStepsPerSecond)} env steps/s`);
  assert.ok(e.successRate >= 0.75, `success rate ${e.successRate}`);
  assert.ok(e.meanStepsToGoal < 600);
  const again = await evaluateAntController('umaze', ANT_GAIT_THETA, { episodes: 4, seed: 11 });
  assert.equal(again.meanStepsToGoal, e.meanStepsToGoal, 'deterministic');
  // The plan bends around the inner wall: from the start the pursuit target lies along +x.
  const c = new AntMazeController(getAntMazeLayout('umaze'), ANT_GAIT_THETA);
  const q = [0, 0, 0.6, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
  c.act(q, 0, 0.5, 8.5, new Float64Array(8));
  assert.deepEqual(c.target, [2, 0]);
  assert.throws(() => new AntMazeController(getAntMazeLayout('umaze'), [1, 2]), /25 values/);
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WaypointController } from './waypoint-controller.js';
import { isWall } from '../shared/grid.js';
import { getLayout, type MazeName } from './layout.js';
import { makeMaze2dVecEnv } from './vec-env.js';
import { rollout } from '../rollout.js';
import { getMaze2dSpec } from './spec.js';
import { Rng } from '../../rng.js';

test('plans follow shortest grid paths with jittered waypoints (umaze)', () => {
  const c = new WaypointController(getLayout('umaze'), new Rng(1));
  const out = new Float32Array(2);
  c.act(3, 1, 0, 0, 1.05, 0.95, out); // bottom-left to the goal (1, 1): 6 moves
  assert.equal(c.planLength, 6);
  const cells = Array.from({ length: 6 }, (_, k) => c.waypoint(k));
  const expected = [[3, 2], [3, 3], [2, 3], [1, 3], [1, 2], [1, 1]];
  cells.forEach(([x, y], k) => {
    const [ei, ej] = expected[k]!;
    if (k === 5) assert.deepEqual([x, y], [ei, ej], 'last waypoint = target cell, exact');
    else assert.ok(x <= ei! && x > ei! - 0.2 && y <= ej! && y > ej! - 0.2, `waypoint ${k}: ${x}, ${y}`);
  });
  assert.ok(out[1]! > 0.99, 'pushes towards (3, 2)');
});

test('the noise-free controller reaches random targets in every layout', async () => {
  for (const maze of ['open', 'umaze', 'medium', 'large'] as MazeName[]) {
    const id = { open: 'maze2d-open-v0', umaze: 'maze2d-umaze-v1', medium: 'maze2d-medium-v1', large: 'maze2d-large-v1' }[maze as 'open'];
    const layout = getLayout(maze);
    const env = await makeMaze2dVecEnv(id!, 1, 3);
    const rng = new Rng(4);
    const ctrl = new WaypointController(layout, rng);
    const a = new Float32Array(2);
    let reached = 0;
    let steps = 0;
    const targets = 12;
    env.reset();
    for (let k = 0; k < targets; k++) {
      const cell = layout.freeCells[rng.int(layout.freeCells.length)]!;
      const tx = cell[0] + rng.uniform(-0.1, 0.1);
      const ty = cell[1] + rng.uniform(-0.1, 0.1);
      // Fresh state for each target; done when the controller says so. The budget is the large
      // maze's episode limit (the stop-and-go controller needs ~30 steps per cell of path).
      env.resetOne(0);
      ctrl.reset();
      for (let t = 0; t < 800; t++) {
        if (env.t[0]! >= getMaze2dSpec(id!).maxEpisodeSteps - 1) {
          const o = env.observations();
          env.setState(0, o[0]!, o[1]!, o[2]!, o[3]!); // continue past the env's time limit
        }
        const o = env.observations();
        const done = ctrl.act(o[0]!, o[1]!, o[2]!, o[3]!, tx, ty, a);
        if (done) {
          assert.ok(Math.hypot(o[0]! - cell[0], o[1]! - cell[1]) < 0.1);
          reached++;
          steps += t;
          break;
        }
        env.step(a);
        assert.ok(!isWall(layout, Math.round(o[0]! + 0.2), Math.round(o[1]! + 0.2)));
      }
    }
    env.close();
    console.log(`${maze}: noise-free controller reached ${reached}/${targets} targets, mean ${(steps / Math.max(reached, 1)).toFixed(0)} steps`);
    assert.equal(reached, targets, `${maze}: every target reached`);
  }
});

test('returns match D4RL normalisation: controller ≈ ref max, random ≈ ref min', async () => {
  // D4RL's reference protocol (scripts/reference_scores/maze2d_controller.py): ONE controller for 100
  // sequential episodes, never re-planned after the first (its target never changes), so later
  // episodes steer straight at the goal from the new start. Random reference: uniform actions.
  const rows: string[] = [];
  for (const id of ['maze2d-umaze-v1', 'maze2d-medium-v1', 'maze2d-large-v1', 'maze2d-umaze-dense-v1', 'maze2d-medium-dense-v1', 'maze2d-large-dense-v1']) {
    const spec = getMaze2dSpec(id);
    const ctrlScores: number[] = [];
    const randScores: number[] = [];
    let planScore = 0;
    for (const seed of [0, 1, 2]) {
      const ctrl = new WaypointController(spec.layout, new Rng(seed, 99));
      const [gx, gy] = spec.goalCell;
      const c = await rollout(id, (o) => {
        const a = new Float32Array(2);
        ctrl.act(o[0]!, o[1]!, o[2]!, o[3]!, gx, gy, a);
        return a;
      }, { episodes: 100, seed, maxParallel: 1 });
      ctrlScores.push(c.meanScore);
      const rr = new Rng(seed, 7);
      const r = await rollout(id, (_o, n) => Float32Array.from({ length: 2 * n }, () => rr.uniform(-1, 1)), { episodes: 100, seed });
      randScores.push(r.meanScore);
      if (seed === 0) {
        // A controller that re-plans every episode (not D4RL's protocol) does much better.
        const ctrls: WaypointController[] = [];
        const jr = new Rng(seed, 5);
        const p = await rollout(id, (o, n) => {
          const a = new Float32Array(2 * n);
          for (let i = 0; i < n; i++) (ctrls[i] ??= new WaypointController(spec.layout, jr)).act(o[4 * i]!, o[4 * i + 1]!, o[4 * i + 2]!, o[4 * i + 3]!, gx, gy, a, 2 * i);
          return a;
        }, { episodes: 100, seed });
        planScore = p.meanScore;
      }
    }
    const cm = ctrlScores.reduce((a, b) => a + b) / 3;
    const rm = randScores.reduce((a, b) => a + b) / 3;
    rows.push(`${id.padEnd(24)} ref [${spec.refMinScore.toFixed(2)}, ${spec.refMaxScore.toFixed(2)}]  controller(D4RL protocol) score ${cm.toFixed(1)} (${ctrlScores.map((s) => s.toFixed(0)).join('/')})  random score ${rm.toFixed(1)}  re-planning controller ${planScore.toFixed(1)}`);
    assert.ok(cm > 75 && cm < 135, `${id}: controller normalised score ${cm}`);
    assert.ok(rm > -10 && rm < 20, `${id}: random normalised score ${rm}`);
    assert.ok(planScore > cm, `${id}: re-planning controller should beat the non-replanning one`);
  }
  console.log(rows.join('\n'));
});

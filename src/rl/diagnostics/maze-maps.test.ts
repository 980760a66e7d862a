/** Position grids in maze2d and AntMaze frames; the value map and action field of a hand-made critic. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { criticFromTable } from '../algos/critic.js';
import { initBackend } from '../nn/backend.js';
import { cellOf, getAntMazeLayout } from '../envs/antmaze/model.js';
import { isWall } from '../envs/shared/grid.js';
import { physicalCell } from '../envs/maze2d/layout.js';
import { actionGrid } from './greedy.js';
import { actionFieldColumns, valueMapColumns } from './columns.js';
import { mazeFrameFor } from './maze-frame.js';
import { actionField, positionGrid, valueMap } from './maze-maps.js';
import { handCriticTable, handV, targetAction } from './test-critic.js';

test('mazeFrameFor: maze2d and antmaze frames, none for locomotion or unknown ids', () => {
  const m = mazeFrameFor('maze2d-umaze-v1')!;
  assert.equal(m.kind, 'maze2d');
  assert.deepEqual(m.goal, [1, 1]);
  assert.equal(m.goalRadius, 0.5);
  assert.deepEqual(m.cellPoint(1, 1, 0.5, 0.5).map((v) => +v.toFixed(6)), [0.8, 0.8], "cell (1, 1)'s box is centred at qpos (0.8, 0.8)");
  assert.deepEqual(Object.keys(m.metadata), ['env_id', 'layout'], "the same metadata as evaluate's trajectories");
  const a = mazeFrameFor('antmaze-umaze-v2')!;
  assert.equal(a.kind, 'antmaze');
  assert.equal(a.obsDim, 29);
  assert.equal(a.metadata['frame'], 'antmaze-world');
  assert.deepEqual(a.goal, [0.75, 8.75], 'the mean of D4RL goals around the goal cell centre (0, 8)');
  const obs = new Float32Array(29).fill(9);
  a.restObservation(1.5, -2, obs, 0);
  assert.deepEqual(Array.from(obs.slice(0, 8)), [1.5, -2, 0.75, 1, 0, 0, 0, 0]);
  assert.ok(obs.slice(15).every((v) => v === 0), 'at rest: every velocity 0');
  assert.equal(mazeFrameFor('halfcheetah-medium-v2'), null);
  assert.equal(mazeFrameFor('no-such-env'), null);
});

test('positionGrid: perCell² points inside every free cell, none in walls, lattice indices', () => {
  const frame = mazeFrameFor('maze2d-umaze-v1')!;
  const g = positionGrid(frame, 3);
  assert.equal(g.n, 7 * 9, 'umaze has 7 free cells');
  assert.equal(g.obs.length, g.n * 4);
  for (let r = 0; r < g.n; r++) {
    const [i, j] = [Math.floor(g.gi[r]! / 3), Math.floor(g.gj[r]! / 3)];
    assert.deepEqual([physicalCell(g.x[r]!), physicalCell(g.y[r]!)], [i, j], 'the point lies in the box of its cell');
    assert.ok(!isWall(frame, i, j));
    assert.deepEqual(Array.from(g.obs.slice(4 * r, 4 * r + 4)), [g.x[r], g.y[r], 0, 0]);
  }
  assert.equal(new Set(Array.from(g.gi, (v, r) => `${v},${g.gj[r]}`)).size, g.n, 'lattice indices are unique');
  const ant = mazeFrameFor('antmaze-umaze-v2')!;
  const ga = positionGrid(ant, 2);
  const l = getAntMazeLayout('umaze');
  for (let r = 0; r < ga.n; r++) assert.deepEqual(cellOf(l, ga.x[r]!, ga.y[r]!), [Math.floor(ga.gi[r]! / 2), Math.floor(ga.gj[r]! / 2)]);
  assert.throws(() => positionGrid(frame, 0), /perCell/);
});

test('valueMap / actionField of a hand-made critic: V, greedy field and gaps as computed by hand', async () => {
  await initBackend('cpu');
  const critic = criticFromTable(handCriticTable());
  try {
    const grid = positionGrid(mazeFrameFor('maze2d-umaze-v1')!, 2);
    const map = valueMap(critic, grid, actionGrid(11, 2));
    const cols = valueMapColumns(grid, map, 2);
    assert.deepEqual(Object.keys(cols), ['gi', 'gj', 'x', 'y', 'v', 'q_max', 'greedy_a0', 'greedy_a1']);
    for (let r = 0; r < grid.n; r++) {
      const [x, y] = [grid.x[r]!, grid.y[r]!];
      assert.ok(Math.abs(cols['v']![r]! - handV(x, y)) < 1e-5);
      const [t0, t1] = targetAction(x, y);
      assert.ok(Math.abs(cols['greedy_a0']![r]! - t0) <= 0.1 + 1e-6 && Math.abs(cols['greedy_a1']![r]! - t1) <= 0.1 + 1e-6, 'greedy action within half a grid step of a*(s)');
    }
    // A policy that pushes +a1 everywhere: its field is (0, 1), its gap to the greedy field is positive.
    const right = { act: (_o: Float32Array, n: number) => Float32Array.from({ length: 2 * n }, (_, k) => (k & 1 ? 1 : 0)) };
    const field = actionFieldColumns(grid, actionField(critic, right, grid, map), 2);
    assert.deepEqual(Object.keys(field), ['gi', 'gj', 'x', 'y', 'a0', 'a1', 'q_pi', 'v', 'greedy_a0', 'greedy_a1', 'q_max', 'q_gap', 'greedy_dist']);
    for (let r = 0; r < grid.n; r++) {
      assert.equal(field['a1']![r], 1);
      assert.ok(field['q_gap']![r]! > 0.5 && Math.abs(field['q_gap']![r]! - (field['q_max']![r]! - field['q_pi']![r]!)) < 1e-9);
    }
    // No action grid: V only.
    assert.deepEqual(Object.keys(valueMapColumns(grid, valueMap(critic, grid, null), 2)), ['gi', 'gj', 'x', 'y', 'v']);
  } finally {
    critic.dispose();
  }
});

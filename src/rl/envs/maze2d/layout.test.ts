import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bfsDistances, isWall } from '../shared/grid.js';
import { getLayout, mazeXml, parseMaze, physicalCell, gridCell, LAYOUTS, type MazeName } from './layout.js';
import { listEnvIds } from '../registry.js';
import { getMaze2dSpec, mazeReward } from './spec.js';

test('layouts parse with D4RL cell conventions', () => {
  const u = getLayout('umaze');
  assert.equal(u.nRows, 5);
  assert.equal(u.nCols, 5);
  assert.deepEqual(u.goal, [1, 1]);
  assert.equal(u.freeCells.length, 7);
  // D4RL order: empty cells sorted, then the goal.
  assert.deepEqual(u.freeCells.at(-1), [1, 1]);
  assert.deepEqual(u.freeCells[0], [1, 2]);
  assert.ok(isWall(u, 2, 1) && !isWall(u, 2, 3) && isWall(u, -1, 0));
  assert.deepEqual(getLayout('medium').goal, [6, 6]);
  assert.deepEqual(getLayout('large').goal, [7, 9]);
  assert.deepEqual(getLayout('open').goal, [2, 3]);
  for (const name of Object.keys(LAYOUTS) as MazeName[]) {
    const l = getLayout(name);
    const free = l.wall.length - l.wall.reduce((a, b) => a + b, 0);
    assert.equal(l.freeCells.length, free);
  }
  assert.throws(() => parseMaze('bad', ['##', '#X']), /unknown tile 'X'/);
  assert.throws(() => parseMaze('bad', ['###', '#G']), /row 1 has length 2/);
});

test('MJCF has one 1×1 box per wall cell at (i+1, j+1) and the D4RL physics options', () => {
  const l = getLayout('umaze');
  const xml = mazeXml(l);
  const walls = l.wall.reduce((a, b) => a + b, 0);
  assert.equal((xml.match(/type="box"/g) ?? []).length, walls);
  assert.match(xml, /name="wall_2_1" type="box" conaffinity="1" pos="3 2 0" size="0.5 0.5 0.2"/);
  assert.match(xml, /timestep="0.01" gravity="0 0 0"[^>]*integrator="Euler"/);
  assert.match(xml, /<joint damping="1"/);
  assert.match(xml, /body name="particle" pos="1.2 1.2 0"/);
  assert.match(xml, /type="sphere" size="0.1"/);
  assert.equal((xml.match(/gear="100"/g) ?? []).length, 2);
  assert.equal((xml.match(/ctrlrange="-1 1"/g) ?? []).length, 2);
});

test('cells, BFS distances, registry and rewards', () => {
  assert.equal(gridCell(2.6), 3);
  assert.equal(physicalCell(2.25), 2); // world 3.45 lies in the box of cell 2 ([2.5, 3.5])
  assert.equal(physicalCell(2.35), 3);
  const u = getLayout('umaze');
  const d = bfsDistances(u, 1, 1);
  // U path: (1,1) (1,2) (1,3) (2,3) (3,3) (3,2) (3,1)
  assert.equal(d[3 * 5 + 1], 6);
  assert.equal(d[2 * 5 + 1], -1);
  const ids = listEnvIds();
  for (const id of ['maze2d-open-v0', 'maze2d-umaze-v1', 'maze2d-medium-v1', 'maze2d-large-v1', 'maze2d-umaze-dense-v1', 'maze2d-medium-dense-v1', 'maze2d-large-dense-v1']) {
    assert.ok(ids.includes(id), id);
  }
  const s = getMaze2dSpec('maze2d-umaze-v1');
  assert.equal(s.maxEpisodeSteps, 300);
  assert.equal(getMaze2dSpec('maze2d-medium-v1').maxEpisodeSteps, 600);
  assert.equal(getMaze2dSpec('maze2d-large-dense-v1').maxEpisodeSteps, 800);
  assert.equal(getMaze2dSpec('maze2d-open-v0').maxEpisodeSteps, 150);
  assert.equal(s.normalizedScore(161.86), 100);
  assert.equal(s.normalizedScore(23.85), 0);
  assert.ok(Math.abs(getMaze2dSpec('maze2d-large-dense-v1').normalizedScore(30.569041)) < 1e-9);
  assert.throws(() => getMaze2dSpec('maze2d-nope-v1'), /unknown maze2d environment 'maze2d-nope-v1'/);
  assert.equal(mazeReward('sparse', 1.3, 1.4, 1, 1), 1);
  assert.equal(mazeReward('sparse', 1.5, 1.4, 1, 1), 0);
  assert.ok(Math.abs(mazeReward('dense', 4, 5, 1, 1) - Math.exp(-5)) < 1e-12);
});

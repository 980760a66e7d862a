/** The diagnose stage's geometry helpers against hand-computed values. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { actionGeometry, actionGrid, distanceToNearbyData } from '../../stages/diagnose.js';

test('actionGeometry: norms, box edge and unit circle', () => {
  const g = actionGeometry(Float32Array.from([1, 0, 0.6, 0.8, 0.1, 0.1, -0.99, 0.5]), 2, 0.02);
  assert.deepEqual(Array.from(g.norms, (x) => +x.toFixed(4)), [1, 1, 0.1414, 1.1091]);
  assert.deepEqual(Array.from(g.onEdge), [1, 0, 0, 1]);
  assert.deepEqual(Array.from(g.onCircle), [1, 1, 0, 1]);
});

test('actionGrid: bins^d points covering the box, edges included', () => {
  const grid = actionGrid(3, 2);
  assert.deepEqual(Array.from(grid), [-1, -1, -1, 0, -1, 1, 0, -1, 0, 0, 0, 1, 1, -1, 1, 0, 1, 1]);
});

test('distanceToNearbyData: nearest action among the k nearest states', () => {
  // Pool: states 0, 1, 10 with actions 0.5, -0.5, 1; query at state 0.2 with action 0.4.
  const d1 = distanceToNearbyData(Float32Array.from([0.2]), Float32Array.from([0.4]), Float32Array.from([0, 1, 10]), Float32Array.from([0.5, -0.5, 1]), 1, 1, 1);
  assert.ok(Math.abs(d1[0]! - 0.1) < 1e-6, `k=1 uses only state 0: ${d1[0]}`);
  const d2 = distanceToNearbyData(Float32Array.from([0.9]), Float32Array.from([0.9]), Float32Array.from([0, 1, 10]), Float32Array.from([0.5, -0.5, 1]), 1, 1, 2);
  assert.ok(Math.abs(d2[0]! - 0.4) < 1e-6, `k=2 sees states 1 and 0, nearest action 0.5: ${d2[0]}`);
});

/** The critic's greedy action on an action grid, against a hand-made critic whose maximum is known. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { criticFromTable } from '../algos/critic.js';
import { initBackend } from '../nn/backend.js';
import { actionGrid, greedyOnGrid, policyVsCritic, rowDistances, searchableGrid, type QEvaluator } from './greedy.js';
import { handCriticTable, handQ, handV, targetAction } from './test-critic.js';

test('actionGrid / searchableGrid: bins^d points, edges included; too-large grids are not searched', () => {
  assert.deepEqual(Array.from(actionGrid(3, 2)), [-1, -1, -1, 0, -1, 1, 0, -1, 0, 0, 0, 1, 1, -1, 1, 0, 1, 1]);
  assert.equal(searchableGrid(11, 2)!.length, 121 * 2);
  assert.equal(searchableGrid(1, 2), null);
  assert.equal(searchableGrid(21, 6), null, '21^6 points is over the limit');
});

test('greedyOnGrid finds the grid point nearest the known maximum of a real (hand-made) critic, across chunks', async () => {
  await initBackend('cpu');
  const critic = criticFromTable(handCriticTable());
  try {
    const states = [[0.8, 0.8], [1.3, 2.9], [2.1, 0.4], [-0.2, 1.7], [2.9, 2.9]];
    const obs = Float32Array.from(states.flatMap(([x, y]) => [x!, y!, 0.3, -0.7]));
    const grid = actionGrid(11, 2);
    // chunkRows 150: one state (121 actions) per critic call, to exercise the chunking.
    const g = greedyOnGrid(critic, obs, states.length, grid, 150);
    states.forEach(([x, y], i) => {
      const [t0, t1] = targetAction(x!, y!);
      const want = [Math.round(t0 / 0.2) * 0.2, Math.round(t1 / 0.2) * 0.2];
      assert.ok(Math.abs(g.action[2 * i]! - want[0]!) < 1e-6 && Math.abs(g.action[2 * i + 1]! - want[1]!) < 1e-6, `state ${i}: ${g.action.slice(2 * i, 2 * i + 2)} vs ${want}`);
      assert.ok(Math.abs(g.q[i]! - handQ(x!, y!, want[0]!, want[1]!)) < 1e-5, 'the value is min(Q1, Q2) = Q1 at the greedy action');
    });
  } finally {
    critic.dispose();
  }
});

test('policyVsCritic: Q(s, π(s)), V, and the gap to the greedy action are consistent with the critic', async () => {
  await initBackend('cpu');
  const critic = criticFromTable(handCriticTable());
  try {
    const states = [[0.8, 0.8], [1.3, 2.9], [2.1, 0.4]];
    const obs = Float32Array.from(states.flatMap(([x, y]) => [x!, y!, 0, 0]));
    const exact = { act: (o: Float32Array, n: number) => Float32Array.from({ length: 2 * n }, (_, k) => targetAction(o[4 * (k >> 1)]!, o[4 * (k >> 1) + 1]!)[k & 1]!) };
    const corner = { act: (_o: Float32Array, n: number) => new Float32Array(2 * n).fill(1) };
    const grid = actionGrid(21, 2);
    const good = policyVsCritic(critic, exact, obs, 3, { grid });
    const bad = policyVsCritic(critic, corner, obs, 3, { grid });
    for (let i = 0; i < 3; i++) {
      const [x, y] = states[i]!;
      assert.ok(Math.abs(good.qPi[i]!) < 1e-5, 'the exact maximiser has Q = 0');
      assert.ok(Math.abs(good.v[i]! - handV(x!, y!)) < 1e-5, 'V comes from the V net');
      // The grid cannot beat the true maximum; the exact policy is within half a grid step of it.
      assert.ok(good.greedy!.qGap[i]! <= 1e-5 && good.greedy!.dist[i]! <= 0.05 * Math.SQRT2 + 1e-6);
      assert.ok(Math.abs(bad.qPi[i]! - handQ(x!, y!, 1, 1)) < 1e-5);
      assert.ok(bad.greedy!.qGap[i]! > 1, `the corner policy leaves value on the table (${bad.greedy!.qGap[i]})`);
      assert.ok(Math.abs(bad.greedy!.dist[i]! - Math.hypot(1 - bad.greedy!.action[2 * i]!, 1 - bad.greedy!.action[2 * i + 1]!)) < 1e-6);
    }
    // Without a grid: no greedy columns; with greedy actions given, they are reused (no search).
    assert.equal(policyVsCritic(critic, exact, obs, 3, null).greedy, undefined);
    const calls: number[] = [];
    const counting: QEvaluator = { obsDim: 4, actDim: 2, evaluate: (o, a, n) => { calls.push(n); return critic.evaluate(o, a, n); } };
    const reused = policyVsCritic(counting, corner, obs, 3, { greedy: { action: bad.greedy!.action, q: bad.greedy!.q } });
    assert.deepEqual(calls, [3], 'one critic call: Q(s, π(s)) only');
    assert.deepEqual(Array.from(reused.greedy!.qGap), Array.from(bad.greedy!.qGap));
  } finally {
    critic.dispose();
  }
});

test('rowDistances', () => {
  assert.deepEqual(Array.from(rowDistances(Float32Array.from([0, 0, 1, 1]), Float32Array.from([3, 4, 1, 1]), 2)), [5, 0]);
});

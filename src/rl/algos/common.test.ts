import { test } from 'node:test';
import assert from 'node:assert/strict';
import { episodeBounds, episodeReturns, transformRewards, type Transitions } from './common.js';

function episodes(): Transitions {
  // Two episodes: rows 0-1 (terminal at 1), rows 2-4 (last row). Obs are 1-D and continuous
  // inside an episode; row 3 → 4 breaks continuity only if nextObs differs.
  const obs = [0, 1, 10, 11, 12];
  const next = [1, 2, 11, 12, 13];
  return {
    size: 5,
    obsDim: 1,
    actDim: 1,
    observations: Float32Array.from(obs),
    actions: new Float32Array(5),
    nextObservations: Float32Array.from(next),
    rewards: Float32Array.from([1, 2, 3, 4, 5]),
    terminals: Float32Array.from([0, 1, 0, 0, 0]),
    timeouts: new Float32Array(5),
    envId: 'test',
  };
}

test('reward transforms: none, antmaze (r − 1), locomotion (1000 / return span)', () => {
  const d = episodes();
  assert.deepEqual(episodeBounds(d), [
    [0, 2],
    [2, 5],
  ]);
  assert.deepEqual(episodeReturns(d), [3, 12]);
  assert.deepEqual(Array.from(transformRewards(d, 'none')), [1, 2, 3, 4, 5]);
  assert.deepEqual(Array.from(transformRewards(d, 'antmaze')), [0, 1, 2, 3, 4]);
  const loc = transformRewards(d, 'locomotion');
  [1, 2, 3, 4, 5].forEach((r, i) => assert.ok(Math.abs(loc[i]! - (r * 1000) / 9) < 1e-3));
  // A discontinuity (next obs ≠ following obs) also ends an episode; so does a timeout.
  const d2 = { ...d, nextObservations: Float32Array.from([1, 2, 11, 99, 13]), terminals: new Float32Array(5), timeouts: Float32Array.from([0, 1, 0, 0, 0]) };
  assert.deepEqual(episodeBounds(d2), [
    [0, 2],
    [2, 4],
    [4, 5],
  ]);
});

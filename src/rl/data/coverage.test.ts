import { test } from 'node:test';
import assert from 'node:assert/strict';
import { computeCoverage, episodeRanges } from './coverage.js';
import { getLayout } from '../envs/maze2d/layout.js';
import type { Transitions } from './dataset.js';

function make(actions: number[][], pos: number[][], rewards: number[], timeouts: number[]): Transitions {
  const n = actions.length;
  const obs = new Float32Array(4 * n);
  pos.forEach(([x, y], i) => {
    obs[4 * i] = x!;
    obs[4 * i + 1] = y!;
  });
  return {
    size: n,
    obsDim: 4,
    actDim: 2,
    observations: obs,
    actions: Float32Array.from(actions.flat()),
    nextObservations: obs,
    rewards: Float32Array.from(rewards),
    terminals: new Float32Array(n),
    timeouts: Float32Array.from(timeouts),
    envId: 'maze2d-umaze-v1',
  };
}

test('action histogram, edge fractions, episodes and cell occupancy on a hand-made dataset', () => {
  const t = make(
    [[1, 1], [-1, 0.2], [0.1, 0.1], [0.12, 0.13], [-0.9995, 0.5], [0, 0]],
    [[1, 1], [1, 2], [1, 3], [2, 3], [3, 3], [3.25, 3.25]],
    [1, 0, 0, 2, 0, 3],
    [0, 0, 1, 0, 1, 0],
  );
  const c = computeCoverage(t, { bins: 4, layout: getLayout('umaze') });
  const s = c.summary;
  assert.equal(s.action_edge_fraction, 3 / 6); // [1,1], [-1,.2], [-0.9995,.5] (eps 1e-3)
  assert.equal(s.action_corner_fraction, 1 / 6);
  const counts = c.tables.action_hist.getChild('count')!.toArray() as Int32Array;
  const a0 = c.tables.action_hist.getChild('a0')!.toArray() as Float32Array;
  const a1 = c.tables.action_hist.getChild('a1')!.toArray() as Float32Array;
  assert.equal(counts.length, 16);
  assert.equal(counts.reduce((x, y) => x + y, 0), 6);
  const at = (x: number, y: number) => counts[a0.findIndex((v, i) => v === x && a1[i] === y)];
  assert.equal(at(0.75, 0.75), 1); // [1, 1] falls in the last bin
  assert.equal(at(0.25, 0.25), 3); // [.1,.1], [.12,.13], [0, 0]
  assert.equal(at(-0.75, 0.25), 1);
  assert.equal(at(-0.75, 0.75), 1);
  assert.equal(s.action_bins_occupied_fraction, 4 / 16);
  // Episodes split after timeouts: [0,3) [3,5) [5,6).
  assert.deepEqual(Array.from(episodeRanges(t)), [0, 3, 3, 5, 5, 6]);
  assert.equal(s.episodes, 3);
  assert.deepEqual(Array.from(c.tables.episodes.getChild('return')!.toArray() as Float64Array), [1, 2, 3]);
  assert.equal(s.mean_return, 2);
  // Cells: (1,1) (1,2) (1,3) (2,3) (3,3) (3,3)→ 3.25 + 0.2 rounds to 3; (3,1), (3,2) never visited.
  assert.equal(s.cells_free, 7);
  assert.equal(s.cells_visited, 5);
  const occ = c.tables.cell_occupancy!;
  const rows = occ.getChild('row')!.toArray() as Int32Array;
  const cols = occ.getChild('col')!.toArray() as Int32Array;
  const cnt = occ.getChild('count')!.toArray() as Int32Array;
  const k = Array.from(rows).findIndex((r, i) => r === 3 && cols[i] === 3);
  assert.equal(cnt[k], 2);
  assert.equal(occ.numRows, 25);
});

test('high-dimensional actions fall back to per-dimension marginals', () => {
  const n = 100;
  const d = 8;
  const t: Transitions = {
    size: n, obsDim: 1, actDim: d,
    observations: new Float32Array(n), nextObservations: new Float32Array(n),
    actions: Float32Array.from({ length: n * d }, (_, i) => ((i % 7) / 3.5) - 1),
    rewards: new Float32Array(n), terminals: new Float32Array(n), timeouts: new Float32Array(n), envId: 'x',
  };
  const c = computeCoverage(t, { bins: 10 });
  assert.equal(c.tables.action_hist.numRows, 80);
  assert.deepEqual(c.tables.action_hist.schema.fields.map((f) => f.name), ['dim', 'centre', 'count', 'fraction']);
  assert.equal(c.summary.episodes, 1);
  assert.equal(c.tables.cell_occupancy, undefined);
});

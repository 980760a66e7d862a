import assert from 'node:assert/strict';
import { test } from 'node:test';
import { aggregateBySeeds, formatMeanStd, stats } from './table.js';

test('stats: mean, sample std, missing values skipped', () => {
  const s = stats([1, 2, 3, 4, NaN, null]);
  assert.equal(s.n, 4);
  assert.equal(s.missing, 2);
  assert.equal(s.mean, 2.5);
  assert.ok(Math.abs(s.std - Math.sqrt(5 / 3)) < 1e-12);
  assert.equal(stats([7]).std, 0);
  assert.ok(Number.isNaN(stats([]).mean));
});

test('aggregateBySeeds: mean ± std per group, in first-appearance order', () => {
  const rows = [
    { method: 'awr', seed: 0, score: 40, std: 0.4 },
    { method: 'ddpg', seed: 0, score: 80, std: 0 },
    { method: 'awr', seed: 1, score: 44, std: 0.38 },
    { method: 'ddpg', seed: 1, score: 90, std: 0 },
    { method: 'awr-discrete', seed: 0, score: 70, std: 0.1 },
  ];
  const agg = aggregateBySeeds(rows, 'method', ['score', 'std'], { labels: { score: 'normalised score' } });
  assert.deepEqual(agg.columns, ['method', 'normalised score', 'std', 'n']);
  assert.deepEqual(
    agg.groups.map((g) => g.key.method),
    ['awr', 'ddpg', 'awr-discrete'],
  );
  const awr = agg.groups[0]!;
  assert.equal(awr.count, 2);
  assert.equal(awr.stats.score!.mean, 42);
  assert.ok(Math.abs(awr.stats.score!.std - Math.sqrt(8)) < 1e-12);
  assert.deepEqual(agg.rows[0], ['awr', '42.00 ± 2.83', '0.39 ± 0.01', '2']);
  assert.deepEqual(agg.rows[2], ['awr-discrete', '70.00', '0.10', '1']);
  const lines = agg.text.trimEnd().split('\n');
  assert.equal(lines.length, 2 + 3);
  assert.match(lines[0]!, /^method\s+normalised score\s+std\s+n$/);
  assert.match(lines[1]!, /^─+ +─+/);
  // Numeric columns are right-aligned: every row ends at the same column.
  const ends = lines.slice(2).map((l) => l.length);
  assert.equal(new Set(ends).size, 1, agg.text);
});

test('aggregateBySeeds: several group keys', () => {
  const rows = [
    { env: 'umaze', method: 'awr', score: 1 },
    { env: 'umaze', method: 'awr', score: 3 },
    { env: 'medium', method: 'awr', score: 5 },
  ];
  const agg = aggregateBySeeds(rows, ['env', 'method'], ['score'], { digits: 1 });
  assert.deepEqual(agg.rows, [
    ['umaze', 'awr', '2.0 ± 1.4', '2'],
    ['medium', 'awr', '5.0', '1'],
  ]);
});

test('formatMeanStd: mean ± sample std, just the mean for one value', () => {
  assert.equal(formatMeanStd(stats([1, 3]), 1), '2.0 ± 1.4');
  assert.equal(formatMeanStd(stats([1]), 1), '1.0');
});

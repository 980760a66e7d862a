import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../rl/rng.js';
import { aggregate, bootstrapInterval, differenceInterval, intervalSeed, iqm, mean, quantileOfSorted, type PairedRun } from './stats.js';

const FAST = { samples: 4000 };

test('iqm: drops floor(n/4) from each end (scipy trim_mean 0.25), the mean below 4 runs', () => {
  assert.equal(iqm([8, 1, 7, 2, 6, 3, 5, 4]), 4.5, 'mean of 3, 4, 5, 6');
  assert.equal(iqm([1, 2, 3, 4, 5, 6, 7, 8, 1000]), 5, 'n = 9: drops two each side, so the outlier goes');
  assert.equal(iqm([0, 0, 0, 100]), 0);
  assert.equal(iqm([1, 2, 6]), 3, 'n = 3: nothing trimmed');
  assert.ok(Number.isNaN(iqm([])));
  assert.equal(mean([1, 2, 6]), 3);
});

test('quantileOfSorted: linear interpolation between order statistics (numpy default)', () => {
  assert.equal(quantileOfSorted([1, 2, 3, 4], 0.5), 2.5);
  assert.equal(quantileOfSorted([1, 2, 3, 4], 0.25), 1.75);
  assert.equal(quantileOfSorted([1, 2, 3, 4], 1), 4);
  assert.equal(quantileOfSorted([7], 0.025), 7);
});

test('bootstrapInterval of two runs spans them exactly: resampled means are a, (a+b)/2, b with p = 1/4, 1/2, 1/4', () => {
  const ci = bootstrapInterval([[2, 10]], 'mean', FAST);
  assert.deepEqual([ci.estimate, ci.low, ci.high, ci.n], [6, 2, 10, 2]);
  const c = bootstrapInterval([[4, 4, 4]], 'iqm', FAST);
  assert.deepEqual([c.estimate, c.low, c.high], [4, 4, 4], 'constant runs: a point');
});

function sample(n: number, seed: number): number[] {
  const r = new Rng(seed);
  return Array.from({ length: n }, () => r.normal(10, 3));
}

test('bootstrapInterval: contains the sample mean and IQM, shrinks like 1/sqrt(n)', () => {
  const widths: number[] = [];
  for (const n of [5, 80]) {
    const xs = sample(n, n);
    for (const s of ['mean', 'iqm'] as const) {
      const ci = bootstrapInterval([xs], s, FAST);
      assert.equal(ci.estimate, s === 'mean' ? mean(xs) : iqm(xs));
      assert.ok(ci.low < ci.estimate && ci.estimate < ci.high, `${s} n=${n}: ${ci.low} < ${ci.estimate} < ${ci.high}`);
      if (s === 'mean') widths.push(ci.high - ci.low);
    }
  }
  assert.ok(widths[1]! < widths[0]! / 2, `16x the runs, about a quarter of the width: ${widths}`);
});

test('bootstrapInterval: deterministic under its seed, different seeds draw differently', () => {
  const xs = sample(12, 3);
  const a = bootstrapInterval([xs], 'iqm', { ...FAST, seed: intervalSeed(0, 'maze2d', 'awr') });
  const b = bootstrapInterval([xs], 'iqm', { ...FAST, seed: intervalSeed(0, 'maze2d', 'awr') });
  const c = bootstrapInterval([xs], 'iqm', { ...FAST, seed: intervalSeed(0, 'maze2d', 'ddpg') });
  assert.deepEqual(a, b);
  assert.notDeepEqual([a.low, a.high], [c.low, c.high]);
});

test('bootstrapInterval: strata are resampled separately (a mean of stratum means, not of pooled runs)', () => {
  const strata = [[0, 0, 0, 0], [10]];
  assert.equal(aggregate(strata, 'mean'), 5, 'pooled would be 2');
  const ci = bootstrapInterval(strata, 'mean', FAST);
  assert.deepEqual([ci.low, ci.high], [5, 5], 'constant within each stratum: no spread, as resampling within strata leaves each mean fixed');
  assert.equal(aggregate(strata, 'iqm'), 0, 'IQM pools the runs (rliable aggregate_iqm)');
  assert.throws(() => bootstrapInterval([[1], []], 'mean'), /stratum without runs/);
  assert.throws(() => bootstrapInterval([[1, NaN]], 'mean'), /non-finite/);
});

test('bootstrapInterval: covers the true mean in about 95 % of repeated experiments (n = 20)', () => {
  let covered = 0;
  const trials = 200;
  for (let t = 0; t < trials; t++) {
    const ci = bootstrapInterval([sample(20, 1000 + t)], 'mean', { samples: 2000, seed: t });
    if (ci.low <= 10 && 10 <= ci.high) covered++;
  }
  // Percentile intervals under-cover slightly at n = 20 (about 93 %); 200 trials leave ±3 %.
  assert.ok(covered >= 0.87 * trials && covered <= 0.99 * trials, `covered ${covered}/${trials}`);
});

function runs(values: number[][], offsets: number[]): PairedRun[] {
  return values.flatMap((vs, c) => vs.map((v) => ({ value: v + offsets[c]!, critic: String(c) })));
}

test('differenceInterval: mean(A) − mean(B); constant sides give a point', () => {
  const d = differenceInterval([{ a: [{ value: 3, critic: '0' }, { value: 3, critic: '1' }], b: [{ value: 1, critic: '2' }] }], FAST);
  assert.deepEqual([d.estimate, d.low, d.high, d.nA, d.nB, d.pairedStrata], [2, 2, 2, 2, 1, 0]);
});

test('differenceInterval: pairing by critic removes the critic effect both methods share', () => {
  // Six critics whose quality moves both methods by ±40; A is 5 above B on every critic (± actor noise).
  const offsets = [40, -40, 25, -25, 10, -10];
  const noise = new Rng(9);
  const actors = () => offsets.map(() => [0, 1, 2].map(() => noise.normal(0, 1)));
  const a = runs(actors().map((vs) => vs.map((v) => v + 5)), offsets);
  const b = runs(actors(), offsets);
  const paired = differenceInterval([{ a, b }], FAST);
  assert.equal(paired.pairedStrata, 1);
  assert.equal(paired.critics, 6);
  assert.ok(paired.low > 2 && paired.high < 8, `paired interval around 5: [${paired.low}, ${paired.high}]`);
  // The same runs with B's critics relabelled (nothing shared): independent resampling, a wide interval.
  const unpaired = differenceInterval([{ a, b: b.map((r) => ({ ...r, critic: `other-${r.critic}` })) }], FAST);
  assert.equal(unpaired.pairedStrata, 0);
  assert.equal(unpaired.estimate, paired.estimate);
  assert.ok(unpaired.low < 0 && unpaired.high > 10, `independent interval spans the critic spread: [${unpaired.low}, ${unpaired.high}]`);
});

test('differenceInterval: one shared critic = the plain bootstrap over actor seeds; strata average', () => {
  const a = [4, 6].map((v) => ({ value: v, critic: '0' }));
  const b = [0, 0].map((v) => ({ value: v, critic: '0' }));
  const d = differenceInterval([{ a, b }], FAST);
  assert.deepEqual([d.estimate, d.low, d.high, d.pairedStrata], [5, 4, 6, 1]);
  const two = differenceInterval([{ a, b }, { a: [{ value: 1, critic: '0' }], b: [{ value: 2, critic: '0' }] }], FAST);
  assert.equal(two.estimate, (5 + -1) / 2);
  assert.deepEqual([two.low, two.high], [1.5, 2.5]);
});

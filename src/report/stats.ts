/**
 * Interval estimates over runs, the rliable way (Agarwal et al. 2021, "Deep RL at the Edge of the
 * Statistical Precipice"; google-research/rliable):
 *
 * - a run is one trained policy (here: one critic seed × one actor seed) and its score the mean
 *   over its evaluation episodes;
 * - the interquartile mean (IQM) is the 25 % trimmed mean of the runs' scores: sort, drop
 *   ⌊n/4⌋ from each end, average the rest (scipy.stats.trim_mean(x, 0.25), which rliable's
 *   aggregate_iqm calls on all runs of all tasks pooled);
 * - a 95 % confidence interval is the percentile bootstrap: resample the runs with replacement
 *   within each stratum (task / setting: rliable's StratifiedBootstrap draws, for every task,
 *   as many runs as the task has), recompute the statistic, take the 2.5 % and 97.5 % quantiles
 *   of the replicates (linear interpolation, numpy's default);
 * - BOOTSTRAP_SAMPLES = 50 000 replicates, rliable's `get_interval_estimates` default.
 *
 * Every interval is seeded (xoshiro128** from src/rl/envs/rng.ts), so a report is a pure function
 * of its inputs: the same runs and seed give the same bytes.
 *
 * Small n: with 3 runs a percentile bootstrap has only 10 distinct resampled means and is known to
 * under-cover; the intervals say what the runs show, and how few they are is printed beside them.
 */
import { deriveSeed, Rng } from '../rl/rng.js';

/** Bootstrap replicates per interval (rliable's default `reps`). */
export const BOOTSTRAP_SAMPLES = 50_000;
/** Coverage of every interval. */
export const CONFIDENCE = 0.95;

export type Statistic = 'mean' | 'iqm';

export interface BootstrapOptions {
  /** Replicates (default BOOTSTRAP_SAMPLES). */
  samples?: number;
  /** PRNG seed (default 0). Derive one per interval with `intervalSeed` so intervals don't share draws. */
  seed?: number;
  /** Coverage (default CONFIDENCE). */
  confidence?: number;
}

export interface Interval {
  /** The statistic on the observed runs. */
  estimate: number;
  low: number;
  high: number;
  /** Runs (all strata together). */
  n: number;
}

/** A seed for one named interval (e.g. the setting, method and metric), from the report's seed. */
export function intervalSeed(seed: number, ...keys: (string | number)[]): number {
  return deriveSeed(seed, 'bootstrap', ...keys);
}

export function mean(xs: ArrayLike<number>): number {
  if (xs.length === 0) return NaN;
  let s = 0;
  for (let i = 0; i < xs.length; i++) s += xs[i]!;
  return s / xs.length;
}

/** Interquartile mean: the mean after dropping ⌊n/4⌋ values from each end (n < 4: the mean). */
export function iqm(xs: ArrayLike<number>): number {
  const sorted = Float64Array.from(xs).sort();
  return trimmedMeanOfSorted(sorted);
}

function trimmedMeanOfSorted(sorted: Float64Array): number {
  const cut = Math.floor(sorted.length / 4);
  return mean(sorted.subarray(cut, sorted.length - cut));
}

/** The q-quantile of sorted values, linear interpolation between order statistics (numpy's default). */
export function quantileOfSorted(sorted: ArrayLike<number>, q: number): number {
  const n = sorted.length;
  if (n === 0) return NaN;
  const h = (n - 1) * q;
  const lo = Math.floor(h);
  const hi = Math.min(lo + 1, n - 1);
  return sorted[lo]! + (h - lo) * (sorted[hi]! - sorted[lo]!);
}

/**
 * A uniform index in [0, n) per call: floor(u · n) from 32 random bits, without Rng.int's
 * rejection loop (its bias, n / 2^32, is far below a bootstrap's Monte Carlo error) — twice as fast.
 */
function indexer(seed: number): (n: number) => number {
  const rng = new Rng(seed);
  return (n) => Math.floor(rng.random() * n);
}

function checkStrata(strata: readonly (readonly number[])[], what: string): void {
  if (strata.length === 0) throw new Error(`${what}: no strata`);
  for (const s of strata) {
    if (s.length === 0) throw new Error(`${what}: a stratum without runs`);
    if (s.some((x) => !Number.isFinite(x))) throw new Error(`${what}: non-finite score ${s.find((x) => !Number.isFinite(x))}`);
  }
}

/** The statistic of runs grouped in strata: mean = mean over strata of the stratum means (rliable's aggregate_mean); iqm = IQM of all runs pooled (aggregate_iqm). */
export function aggregate(strata: readonly (readonly number[])[], statistic: Statistic): number {
  if (statistic === 'mean') return mean(strata.map((s) => mean(s)));
  return iqm(strata.flat());
}

function percentileInterval(replicates: Float64Array, estimate: number, n: number, confidence: number): Interval {
  replicates.sort();
  const alpha = (1 - confidence) / 2;
  return { estimate, low: quantileOfSorted(replicates, alpha), high: quantileOfSorted(replicates, 1 - alpha), n };
}

/**
 * Stratified percentile bootstrap interval of `statistic` over runs: every replicate redraws,
 * within each stratum independently, as many runs as the stratum has, with replacement.
 * One stratum = the plain bootstrap over runs.
 */
export function bootstrapInterval(strata: readonly (readonly number[])[], statistic: Statistic, opts: BootstrapOptions = {}): Interval {
  checkStrata(strata, 'bootstrapInterval');
  const samples = opts.samples ?? BOOTSTRAP_SAMPLES;
  const pick = indexer(opts.seed ?? 0);
  const total = strata.reduce((k, s) => k + s.length, 0);
  const pooled = new Float64Array(total);
  const reps = new Float64Array(samples);
  for (let r = 0; r < samples; r++) {
    if (statistic === 'mean') {
      let sum = 0;
      for (const s of strata) {
        let t = 0;
        for (let i = 0; i < s.length; i++) t += s[pick(s.length)]!;
        sum += t / s.length;
      }
      reps[r] = sum / strata.length;
    } else {
      let k = 0;
      for (const s of strata) for (let i = 0; i < s.length; i++) pooled[k++] = s[pick(s.length)]!;
      reps[r] = trimmedMeanOfSorted(pooled.sort());
    }
  }
  return percentileInterval(reps, aggregate(strata, statistic), total, opts.confidence ?? CONFIDENCE);
}

/** One run of a method: its score and the critic it was extracted from (the pairing key). */
export interface PairedRun {
  value: number;
  critic: string;
}

export interface DifferenceInterval extends Interval {
  nA: number;
  nB: number;
  /** Strata in which A and B were paired by critic (the same critic seeds on both sides). */
  pairedStrata: number;
  /** Distinct critics over all strata (the larger side's count where unpaired). */
  critics: number;
}

/**
 * Interval of mean(A) − mean(B), aggregated as the mean over strata of the per-stratum
 * differences. Within a stratum:
 *
 * - paired, when A and B were extracted from the same set of critics (same critic seeds): each
 *   replicate draws the critics with replacement — one draw for both methods, since both inherit
 *   that critic's errors — and then, inside every drawn critic, A's and B's actor seeds with
 *   replacement, independently. Keeping the pairing removes the critic-to-critic variation the two
 *   methods share from the difference; resampling the actor seeds keeps their noise in it. With a
 *   single critic this is the plain bootstrap over actor seeds, i.e. an interval conditional on
 *   that one critic (a two-stage bootstrap is slightly conservative: it counts actor noise at both
 *   levels).
 * - independent otherwise (different critics, or a method missing a critic): A's and B's runs
 *   are resampled separately, as rliable's StratifiedIndependentBootstrap does.
 */
export function differenceInterval(strata: readonly { a: readonly PairedRun[]; b: readonly PairedRun[] }[], opts: BootstrapOptions = {}): DifferenceInterval {
  if (strata.length === 0) throw new Error('differenceInterval: no strata');
  for (const s of strata) {
    checkStrata([s.a.map((r) => r.value), s.b.map((r) => r.value)], 'differenceInterval');
  }
  const samples = opts.samples ?? BOOTSTRAP_SAMPLES;
  const pick = indexer(opts.seed ?? 0);
  const plans = strata.map((s) => stratumPlan(s.a, s.b));
  const reps = new Float64Array(samples);
  for (let r = 0; r < samples; r++) {
    let sum = 0;
    for (const p of plans) sum += p.paired ? pairedReplicate(p, pick) : resampledMean(p.flatA, pick) - resampledMean(p.flatB, pick);
    reps[r] = sum / plans.length;
  }
  const estimate = mean(strata.map((s) => mean(s.a.map((r) => r.value)) - mean(s.b.map((r) => r.value))));
  const nA = strata.reduce((k, s) => k + s.a.length, 0);
  const nB = strata.reduce((k, s) => k + s.b.length, 0);
  return {
    ...percentileInterval(reps, estimate, nA + nB, opts.confidence ?? CONFIDENCE),
    nA, nB,
    pairedStrata: plans.filter((p) => p.paired).length,
    critics: plans.reduce((k, p) => k + Math.max(p.a.length, p.b.length), 0),
  };
}

/** A stratum's runs grouped by critic (a[k], b[k] = the runs of critic k; one group each side when unpaired). */
interface StratumPlan {
  paired: boolean;
  a: number[][];
  b: number[][];
  flatA: number[];
  flatB: number[];
}

function byCritic(runs: readonly PairedRun[]): Map<string, number[]> {
  const m = new Map<string, number[]>();
  for (const r of runs) {
    let g = m.get(r.critic);
    if (!g) m.set(r.critic, (g = []));
    g.push(r.value);
  }
  return m;
}

function stratumPlan(a: readonly PairedRun[], b: readonly PairedRun[]): StratumPlan {
  const ga = byCritic(a);
  const gb = byCritic(b);
  const critics = [...ga.keys()].sort();
  const same = critics.length === gb.size && critics.every((c) => gb.has(c));
  const plan = (paired: boolean, a: number[][], b: number[][]) => ({ paired, a, b, flatA: a.flat(), flatB: b.flat() });
  if (!same) return plan(false, [...ga.values()], [...gb.values()]);
  return plan(true, critics.map((c) => ga.get(c)!), critics.map((c) => gb.get(c)!));
}

function resampledMean(xs: readonly number[], pick: (n: number) => number): number {
  let t = 0;
  for (let i = 0; i < xs.length; i++) t += xs[pick(xs.length)]!;
  return t / xs.length;
}

/** mean(A) − mean(B) over a two-stage resample: critics (shared draw), then each side's actor seeds. */
function pairedReplicate(p: StratumPlan, pick: (n: number) => number): number {
  const k = p.a.length;
  let sa = 0, na = 0, sb = 0, nb = 0;
  for (let j = 0; j < k; j++) {
    const c = pick(k);
    const xa = p.a[c]!, xb = p.b[c]!;
    for (let i = 0; i < xa.length; i++) sa += xa[pick(xa.length)]!;
    for (let i = 0; i < xb.length; i++) sb += xb[pick(xb.length)]!;
    na += xa.length;
    nb += xb.length;
  }
  return sa / na - sb / nb;
}

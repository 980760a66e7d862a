/**
 * The research note's claims as data, and their verdicts computed from the runs — never written
 * by hand. A claim names a scope (maze2d envs, or datasets of dense / narrow action coverage), the
 * methods it compares and the metric; the report decides which of its settings fall in the scope
 * from the env ids and dataset names of its inputs.
 *
 * Verdicts (95 % bootstrap intervals, stats.ts):
 *  - order claim "A > B": interval of mean(A) − mean(B) entirely above 0 → supported, entirely
 *    below 0 → contradicted, containing 0 → inconclusive;
 *  - band claim "x ≈ v": interval of mean(x) inside the stated band → supported, disjoint from it
 *    → contradicted, overlapping its edge → inconclusive;
 *  - not measured: the inputs lack a setting in the scope, a method or the metric (the row says
 *    which); a single run has a value but no interval, so its verdict is inconclusive.
 * A claim that holds in several settings gets a row per setting and one stratified row over all
 * of them (mean over settings of the per-setting difference, runs resampled within each setting).
 */
import { formatInterval, INTERVAL_METRICS, type RunRow, type TextTable } from './comparison.js';
import { appliesTo } from './runs.js';
import { bootstrapInterval, differenceInterval, intervalSeed, mean, type BootstrapOptions } from './stats.js';

export type Coverage = 'dense' | 'narrow';
export type Verdict = 'supported' | 'contradicted' | 'inconclusive' | 'not measured';

export type Scope = { env: 'maze2d' } | { coverage: Coverage };

interface ClaimBase {
  id: string;
  /** The claim as the note states it. */
  claim: string;
  scope: Scope;
  /** Per-run value compared: 'score' (evaluate) or a diagnose summary key such as 'mean_std'. */
  metric: string;
}
/** "metric of `method` lies in [band]". */
export interface BandClaim extends ClaimBase {
  kind: 'band';
  method: string;
  band: [number, number];
}
/** "`a` scores higher than `b`". */
export interface OrderClaim extends ClaimBase {
  kind: 'greater';
  a: string;
  b: string;
}
export type Claim = BandClaim | OrderClaim;

/** The note's claims. Methods: awr = Gaussian AWR, awr-discrete = discretised AWR, ddpg = DDPG(+BC). */
export const NOTE_CLAIMS: readonly Claim[] = [
  { id: 'awr-std-maze2d', claim: 'Gaussian AWR policy std ≈ 0.4 on maze2d', kind: 'band', scope: { env: 'maze2d' }, method: 'awr', metric: 'mean_std', band: [0.3, 0.5] },
  { id: 'ddpg-over-awr-maze2d', claim: 'DDPG > Gaussian AWR on maze2d', kind: 'greater', scope: { env: 'maze2d' }, a: 'ddpg', b: 'awr', metric: 'score' },
  { id: 'discrete-over-awr-maze2d', claim: 'discretised AWR > Gaussian AWR on maze2d', kind: 'greater', scope: { env: 'maze2d' }, a: 'awr-discrete', b: 'awr', metric: 'score' },
  { id: 'ddpg-over-awr-dense', claim: 'DDPG > AWR on dense data', kind: 'greater', scope: { coverage: 'dense' }, a: 'ddpg', b: 'awr', metric: 'score' },
  { id: 'awr-over-ddpg-narrow', claim: 'AWR > DDPG on narrow data', kind: 'greater', scope: { coverage: 'narrow' }, a: 'awr', b: 'ddpg', metric: 'score' },
  // "Near zero" on the 0–100 normalised scale: within a tenth of the random-to-expert range.
  { id: 'ddpg-near-zero-narrow', claim: 'DDPG near zero on narrow data', kind: 'band', scope: { coverage: 'narrow' }, method: 'ddpg', metric: 'score', band: [-10, 10] },
];

/** How to read the claims table (shown above it in the report). */
export const CLAIMS_TEXT =
  'Each claim of the note, decided by the data of this pipeline. Order claims (A > B): the 95 % bootstrap interval of mean(A) − mean(B) over runs; supported when it lies entirely above 0, contradicted when entirely below, inconclusive when it contains 0. Band claims (x ≈ v): the 95 % interval of the mean of x; supported when it lies inside the stated band, contradicted when outside it, inconclusive when it straddles an edge. Not measured: the inputs lack the setting, method or metric the claim needs (the note says which).\n\n' +
  'Methods extracted from the same critics are paired by critic seed: each resample draws critics (the same draw for both methods, which share that critic\'s errors) and then actor seeds within each critic; otherwise the two methods are resampled independently. Where a claim covers several settings, the last row is stratified over them (runs resampled within each setting).\n\nThe scope of each setting comes from its env id (maze2d-*) and its dataset (narrow: CEM gait data; dense: exploration data).';

const METRIC_NAMES: Record<string, string> = { score: 'norm. score', mean_std: 'policy std', edge_fraction: 'on edge' };

/** What one upstream input says about the setting it was built for. */
export interface SettingSource {
  /** Matrix coordinates of its setting axes (a dataset input: its own axes). */
  coords: Record<string, string>;
  envId?: string;
  /** load-dataset's `dataset_name` (e.g. halfcheetah-v2-generated-cemgait-narrow). */
  datasetName?: string;
  /** load-dataset's `behaviour` and `source` parameters. */
  behaviour?: string;
  source?: string;
}

export interface SettingFacts {
  setting: string;
  coords: Record<string, string>;
  envId?: string;
  coverage?: Coverage;
  /** Why the coverage is what it is (shown in the report). */
  coverageFrom?: string;
}

/**
 * Dense or narrow action coverage of a dataset: from its name (load-dataset names generated
 * locomotion data `…-cemgait-narrow` / `…-mixed-exploration`), else from the behaviour that
 * generated it (gait → narrow, explore → dense), else ExoRL (buffers of exploration agents: the
 * note's dense data). Anything else is unknown unless the report's `data_coverage` says.
 */
export function classifyCoverage(s: Omit<SettingSource, 'coords'>): { coverage?: Coverage; from?: string } {
  const name = s.datasetName ?? '';
  if (/narrow/.test(name)) return { coverage: 'narrow', from: `dataset ${name}` };
  if (/exploration|dense/.test(name)) return { coverage: 'dense', from: `dataset ${name}` };
  if (s.behaviour === 'gait') return { coverage: 'narrow', from: 'behaviour gait (CEM gait + small noise)' };
  if (s.behaviour === 'explore') return { coverage: 'dense', from: 'behaviour explore (mixed exploration)' };
  if (s.source === 'exorl') return { coverage: 'dense', from: 'ExoRL exploration buffer' };
  return {};
}

/**
 * Facts per run setting from the inputs that apply to it (a dataset input applies to every setting
 * whose coordinates agree with its own). `overrides` maps a setting label or env id to a coverage.
 */
export function settingFacts(settings: readonly { setting: string; coords: Record<string, string> }[], sources: readonly SettingSource[], overrides: Record<string, Coverage> = {}): SettingFacts[] {
  return settings.map(({ setting, coords }) => {
    const applying = sources.filter((s) => appliesTo(s.coords, coords));
    const envId = applying.find((s) => s.envId)?.envId;
    const facts: SettingFacts = { setting, coords, envId };
    const declared = overrides[setting] ?? (envId !== undefined ? overrides[envId] : undefined);
    if (declared) return { ...facts, coverage: declared, coverageFrom: 'declared in the report parameters (data_coverage)' };
    for (const s of applying) {
      const c = classifyCoverage(s);
      if (c.coverage) return { ...facts, coverage: c.coverage, coverageFrom: c.from };
    }
    return facts;
  });
}

export interface ClaimRow {
  id: string;
  claim: string;
  metric: string;
  /** The setting, its env id when it has no matrix label, or "all N … settings (stratified)". */
  setting: string;
  /** What is measured and the rule: "mean(ddpg) − mean(awr) of norm. score > 0". */
  test: string;
  /** The difference (order claims) or the value (band claims). */
  measured: number;
  low: number;
  high: number;
  nA: number;
  /** Runs of B (0 for band claims). */
  nB: number;
  verdict: Verdict;
  /** How the interval was drawn: paired by critic / independent / runs. */
  interval: string;
  note: string;
}

function inScope(f: SettingFacts, scope: Scope): boolean {
  if ('env' in scope) return (f.envId ?? '').startsWith(`${scope.env}-`);
  return f.coverage === scope.coverage;
}

function scopeName(scope: Scope): string {
  return 'env' in scope ? scope.env : `${scope.coverage}-data`;
}

function testText(c: Claim): string {
  const m = METRIC_NAMES[c.metric] ?? c.metric;
  return c.kind === 'greater' ? `mean(${c.a}) − mean(${c.b}) of ${m} > 0` : `mean ${m} of ${c.method} in [${c.band[0]}, ${c.band[1]}]`;
}

function values(rows: readonly RunRow[], method: string, metric: string): RunRow[] {
  return rows.filter((r) => r.method === method && Number.isFinite(r.values[metric]));
}

function verdictOf(c: Claim, low: number, high: number): Verdict {
  if (c.kind === 'greater') return low > 0 ? 'supported' : high < 0 ? 'contradicted' : 'inconclusive';
  const [lo, hi] = c.band;
  return low >= lo && high <= hi ? 'supported' : high < lo || low > hi ? 'contradicted' : 'inconclusive';
}

function settingName(f: SettingFacts): string {
  return f.setting || f.envId || '(one setting)';
}

/** Runs of the claim's method(s) in one setting, or why they are missing. */
function sides(c: Claim, rows: readonly RunRow[]): { a: RunRow[]; b: RunRow[] } | string {
  const methods = c.kind === 'greater' ? [c.a, c.b] : [c.method];
  const present = [...new Set(rows.map((r) => r.method))];
  for (const m of methods) {
    if (!present.includes(m)) return `no ${m} runs (methods here: ${present.join(', ') || 'none'})`;
    if (values(rows, m, c.metric).length === 0) {
      return c.metric === 'score' ? `no ${m} scores (connect evaluate.episodes as evaluations)` : `no ${c.metric} for ${m} (connect diagnose.actions as diagnostics)`;
    }
  }
  return { a: values(rows, methods[0]!, c.metric), b: c.kind === 'greater' ? values(rows, c.b, c.metric) : [] };
}

function measure(c: Claim, strata: { a: RunRow[]; b: RunRow[] }[], opts: BootstrapOptions & { seed: number }, label: string): Omit<ClaimRow, 'id' | 'claim' | 'metric' | 'setting' | 'test'> {
  const nA = strata.reduce((k, s) => k + s.a.length, 0);
  const nB = strata.reduce((k, s) => k + s.b.length, 0);
  const v = (r: RunRow) => r.values[c.metric]!;
  const seed = intervalSeed(opts.seed, 'claim', c.id, label);
  const single = strata.some((s) => s.a.length < 2 || (c.kind === 'greater' && s.b.length < 2));
  const measured = c.kind === 'greater' ? mean(strata.map((s) => mean(s.a.map(v)) - mean(s.b.map(v)))) : mean(strata.map((s) => mean(s.a.map(v))));
  if (single) {
    return { measured, low: NaN, high: NaN, nA, nB, verdict: 'inconclusive', interval: '', note: 'one run on a side: a value without an interval (add critic or actor seeds)' };
  }
  if (c.kind === 'band') {
    const ci = bootstrapInterval(strata.map((s) => s.a.map(v)), 'mean', { samples: opts.samples, seed });
    return { measured: ci.estimate, low: ci.low, high: ci.high, nA, nB, verdict: verdictOf(c, ci.low, ci.high), interval: 'runs resampled (rliable)', note: '' };
  }
  const d = differenceInterval(strata.map((s) => ({ a: s.a.map((r) => ({ value: v(r), critic: r.critic })), b: s.b.map((r) => ({ value: v(r), critic: r.critic })) })), { samples: opts.samples, seed });
  const interval = d.pairedStrata === strata.length ? `paired by critic (${d.critics} critic${d.critics === 1 ? '' : 's'})` : d.pairedStrata === 0 ? 'independent' : `paired in ${d.pairedStrata} of ${strata.length} settings`;
  const note = d.pairedStrata === strata.length && d.critics === strata.length ? 'one critic per setting: the interval covers actor seeds only, conditional on that critic' : '';
  return { measured: d.estimate, low: d.low, high: d.high, nA, nB, verdict: verdictOf(c, d.low, d.high), interval, note };
}

/** One row per claim and setting in its scope (plus a stratified row when several), or one 'not measured' row. */
export function evaluateClaims(claims: readonly Claim[], rows: readonly RunRow[], facts: readonly SettingFacts[], opts: BootstrapOptions & { seed: number }): ClaimRow[] {
  const out: ClaimRow[] = [];
  for (const c of claims) {
    const base = { id: c.id, claim: c.claim, metric: c.metric, test: testText(c) };
    const notMeasured = (setting: string, note: string): ClaimRow => ({ ...base, setting, measured: NaN, low: NaN, high: NaN, nA: 0, nB: 0, verdict: 'not measured', interval: '', note });
    const scoped = facts.filter((f) => inScope(f, c.scope));
    if (scoped.length === 0) {
      const known = 'env' in c.scope
        ? `env ids here: ${[...new Set(facts.map((f) => f.envId ?? 'unknown'))].join(', ') || 'none'}`
        : `coverage here: ${facts.map((f) => `${settingName(f)} ${f.coverage ?? 'unknown'}`).join(', ') || 'no settings'}`;
      out.push(notMeasured('—', `no ${scopeName(c.scope)} setting among the inputs (${known})`));
      continue;
    }
    const measured: { a: RunRow[]; b: RunRow[] }[] = [];
    for (const f of scoped) {
      const s = sides(c, rows.filter((r) => r.setting === f.setting));
      if (typeof s === 'string') {
        out.push(notMeasured(settingName(f), s));
        continue;
      }
      measured.push(s);
      out.push({ ...base, setting: settingName(f), ...measure(c, [s], opts, f.setting) });
    }
    if (measured.length > 1) {
      out.push({ ...base, setting: `all ${measured.length} ${scopeName(c.scope)} settings (stratified)`, ...measure(c, measured, opts, '*') });
    }
  }
  return out;
}

/** "supported 3 / contradicted 1 / …": counts of the verdicts of the rows that decide each claim (the stratified row where there is one). */
export function verdictCounts(rows: readonly ClaimRow[]): Record<Verdict, number> {
  const deciding = new Map<string, ClaimRow>();
  for (const r of rows) {
    const prev = deciding.get(r.id);
    if (!prev || r.setting.startsWith('all ') || (prev.verdict === 'not measured' && r.verdict !== 'not measured')) deciding.set(r.id, r);
  }
  const counts: Record<Verdict, number> = { supported: 0, contradicted: 0, inconclusive: 0, 'not measured': 0 };
  for (const r of deciding.values()) counts[r.verdict]++;
  return counts;
}

/** The claims table for the HTML report and the terminal. */
export function claimsTable(rows: readonly ClaimRow[]): TextTable {
  const digits = (metric: string) => INTERVAL_METRICS.find((m) => m.key === metric)?.digits ?? 3;
  return {
    columns: ['claim', 'setting', 'test', 'measured [95% CI]', 'runs A / B', 'verdict', 'interval', 'note'],
    rows: rows.map((r) => [
      r.claim, r.setting, r.test,
      r.verdict === 'not measured' ? '—' : formatInterval({ estimate: r.measured, low: r.low, high: r.high, n: Number.isNaN(r.low) ? 1 : r.nA + r.nB }, digits(r.metric)),
      r.verdict === 'not measured' ? '—' : r.nB ? `${r.nA} / ${r.nB}` : String(r.nA),
      r.verdict, r.interval, r.note,
    ]),
  };
}

/** Columns of the Arrow `claims` output: one row per claim and setting. */
export function claimsColumns(rows: readonly ClaimRow[]): Record<string, string[] | Int32Array | Float64Array> {
  return {
    claim: rows.map((r) => r.claim),
    setting: rows.map((r) => r.setting),
    test: rows.map((r) => r.test),
    measured: Float64Array.from(rows, (r) => r.measured),
    ci_low: Float64Array.from(rows, (r) => r.low),
    ci_high: Float64Array.from(rows, (r) => r.high),
    n_a: Int32Array.from(rows, (r) => r.nA),
    n_b: Int32Array.from(rows, (r) => r.nB),
    verdict: rows.map((r) => r.verdict),
    interval: rows.map((r) => r.interval),
    note: rows.map((r) => r.note),
  };
}

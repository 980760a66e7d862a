/**
 * The comparison of methods over runs: one group per (setting, method), one run per
 * (critic seed, actor seed). Score, policy std and edge fraction get 95 % bootstrap intervals
 * (stats.ts) and the score its IQM; the other diagnostics are mean ± std over runs.
 * Builds the rows for the HTML table, the terminal table and the Arrow `comparison` output.
 */
import { compareGroups, type RunId } from './runs.js';
import { bootstrapInterval, intervalSeed, type Interval } from './stats.js';
import { aggregateBySeeds, stats, type AggregateResult } from './table.js';
import { formatNumber } from './text-table.js';

/** One run: its identity and its numbers (score from evaluate, diagnostics from diagnose). */
export interface RunRow extends RunId {
  values: Record<string, number>;
}

export interface MetricSpec {
  key: string;
  /** Column title (terminal tables fold ‖, π, − to ASCII: see formatTextTable). */
  label: string;
  digits: number;
}

/** Metrics shown with intervals: the score and the two policy properties the note is about. */
export const INTERVAL_METRICS: readonly MetricSpec[] = [
  { key: 'score', label: 'norm. score', digits: 2 },
  { key: 'mean_std', label: 'policy std', digits: 3 },
  { key: 'edge_fraction', label: 'on edge', digits: 3 },
];

/** The other per-run diagnostics: mean ± std over runs. */
export const DIAGNOSTIC_METRICS: readonly MetricSpec[] = [
  { key: 'success', label: 'success', digits: 3 },
  { key: 'cells_to_goal', label: 'cells to goal (end)', digits: 3 },
  { key: 'mean_norm', label: '‖a‖ mean', digits: 3 },
  { key: 'q_gap', label: 'Q(s,π)−Q(s,a)', digits: 3 },
  { key: 'nn_dist', label: 'dist. to data a', digits: 3 },
  { key: 'q_grid_gap', label: 'max_a Q − Q(s,π)', digits: 3 },
  { key: 'grid_edge_fraction', label: 'argmax_a Q on edge', digits: 3 },
];

export interface MetricSummary extends Interval {
  /** Sample std over runs. */
  std: number;
}

export interface GroupSummary {
  setting: string;
  method: string;
  runs: RunRow[];
  critics: number;
  actors: number;
  /** Per interval metric present in the group. */
  metrics: Record<string, MetricSummary>;
  /** IQM of the score with its interval. */
  scoreIqm?: Interval;
}

export interface SummaryOptions {
  samples?: number;
  seed?: number;
}

function finiteValues(runs: readonly RunRow[], key: string): number[] {
  return runs.map((r) => r.values[key]).filter((v): v is number => typeof v === 'number' && Number.isFinite(v));
}

/** Groups runs by (setting, method), in the study's order. */
export function groupRuns(rows: readonly RunRow[]): { setting: string; method: string; runs: RunRow[] }[] {
  const groups = new Map<string, { setting: string; method: string; runs: RunRow[] }>();
  for (const r of rows) {
    const k = JSON.stringify([r.setting, r.method]);
    let g = groups.get(k);
    if (!g) groups.set(k, (g = { setting: r.setting, method: r.method, runs: [] }));
    g.runs.push(r);
  }
  return [...groups.values()].sort(compareGroups);
}

/** Interval of one metric over the runs of one group (undefined when no run has it). */
export function metricInterval(runs: readonly RunRow[], key: string, statistic: 'mean' | 'iqm', opts: SummaryOptions, ...seedKeys: string[]): Interval | undefined {
  const xs = finiteValues(runs, key);
  if (xs.length === 0) return undefined;
  return bootstrapInterval([xs], statistic, { samples: opts.samples, seed: intervalSeed(opts.seed ?? 0, ...seedKeys, key, statistic) });
}

export function summariseGroups(rows: readonly RunRow[], opts: SummaryOptions = {}): GroupSummary[] {
  return groupRuns(rows).map((g) => {
    const metrics: Record<string, MetricSummary> = {};
    for (const m of INTERVAL_METRICS) {
      const ci = metricInterval(g.runs, m.key, 'mean', opts, g.setting, g.method);
      if (ci) metrics[m.key] = { ...ci, std: stats(finiteValues(g.runs, m.key)).std };
    }
    return {
      ...g,
      critics: new Set(g.runs.map((r) => r.critic)).size,
      actors: new Set(g.runs.map((r) => r.actor)).size,
      metrics,
      scoreIqm: metricInterval(g.runs, 'score', 'iqm', opts, g.setting, g.method),
    };
  });
}

/** "8.50 [7.21, 9.80]"; a lone run has no interval, just its value. */
export function formatInterval(ci: Interval | undefined, digits: number): string {
  if (!ci) return '—';
  const v = formatNumber(ci.estimate, digits);
  return ci.n < 2 ? v : `${v} [${formatNumber(ci.low, digits)}, ${formatNumber(ci.high, digits)}]`;
}

export interface TextTable {
  columns: string[];
  rows: string[][];
}

/** The comparison table: [setting,] method, runs, critics × actors, score mean and IQM, std, edge — each with its 95 % interval. */
export function comparisonTable(groups: readonly GroupSummary[]): TextTable {
  const withSetting = groups.some((g) => g.setting !== '');
  const shown = INTERVAL_METRICS.filter((m) => groups.some((g) => g.metrics[m.key]));
  const columns = [
    ...(withSetting ? ['setting'] : []), 'method', 'runs', 'critics × actors',
    ...shown.flatMap((m) => (m.key === 'score' ? [`${m.label} mean [95% CI]`, `${m.label} IQM [95% CI]`] : [`${m.label} [95% CI]`])),
  ];
  const rows = groups.map((g) => [
    ...(withSetting ? [g.setting] : []), g.method, String(g.runs.length), `${g.critics} × ${g.actors}`,
    ...shown.flatMap((m) => (m.key === 'score' ? [formatInterval(g.metrics[m.key], m.digits), formatInterval(g.scoreIqm, m.digits)] : [formatInterval(g.metrics[m.key], m.digits)])),
  ]);
  return { columns, rows };
}

/** Columns of the Arrow `comparison` output: one row per (setting, method). */
export function comparisonColumns(groups: readonly GroupSummary[]): Record<string, string[] | Int32Array | Float64Array> {
  const cols: Record<string, string[] | Int32Array | Float64Array> = {
    setting: groups.map((g) => g.setting),
    method: groups.map((g) => g.method),
    runs: Int32Array.from(groups, (g) => g.runs.length),
    critics: Int32Array.from(groups, (g) => g.critics),
    actors: Int32Array.from(groups, (g) => g.actors),
  };
  const f = (get: (g: GroupSummary) => number | undefined) => Float64Array.from(groups, (g) => get(g) ?? NaN);
  for (const m of INTERVAL_METRICS) {
    if (!groups.some((g) => g.metrics[m.key])) continue;
    cols[`${m.key}_mean`] = f((g) => g.metrics[m.key]?.estimate);
    cols[`${m.key}_std`] = f((g) => g.metrics[m.key]?.std);
    cols[`${m.key}_ci_low`] = f((g) => g.metrics[m.key]?.low);
    cols[`${m.key}_ci_high`] = f((g) => g.metrics[m.key]?.high);
    if (m.key === 'score') {
      cols['score_iqm'] = f((g) => g.scoreIqm?.estimate);
      cols['score_iqm_ci_low'] = f((g) => g.scoreIqm?.low);
      cols['score_iqm_ci_high'] = f((g) => g.scoreIqm?.high);
    }
  }
  return cols;
}

/** The other diagnostics, mean ± std over the runs of each group (columns present in some run only). */
export function diagnosticsTable(rows: readonly RunRow[]): AggregateResult | undefined {
  const shown = DIAGNOSTIC_METRICS.filter((m) => finiteValues(rows, m.key).length > 0);
  if (shown.length === 0) return undefined;
  const withSetting = rows.some((r) => r.setting !== '');
  const flat = rows.map((r) => ({ setting: r.setting, method: r.method, ...r.values }));
  return aggregateBySeeds(flat, withSetting ? ['setting', 'method'] : ['method'], shown.map((m) => m.key), {
    digits: 3,
    labels: Object.fromEntries(shown.map((m) => [m.key, m.label])),
    sort: (x, y) => compareGroups({ setting: x.key['setting'] ?? '', method: x.key['method']! }, { setting: y.key['setting'] ?? '', method: y.key['method']! }),
  });
}


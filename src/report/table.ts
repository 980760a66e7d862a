/**
 * Aggregation over seeds (for the HTML report and the terminal summary): mean ± std of each metric
 * per group, as numbers and as formatted cells. No Arrow here: rows are plain objects.
 */
import { formatNumber, formatTextTable } from './text-table.js';

export interface MetricStats {
  /** Mean over the finite values. NaN when there are none. */
  mean: number;
  /** Sample standard deviation (n − 1); 0 when n = 1, NaN when n = 0. */
  std: number;
  /** Number of finite values. */
  n: number;
  min: number;
  max: number;
  /** Values that were missing or not finite (skipped). */
  missing: number;
}

export interface AggregateGroup {
  /** The group's key values, by key name (stringified). */
  key: Record<string, string>;
  /** Number of rows in the group (seeds). */
  count: number;
  stats: Record<string, MetricStats>;
}

export interface AggregateResult {
  groups: AggregateGroup[];
  /** Column headers: the group keys, then one "mean ± std" column per metric, then `n`. */
  columns: string[];
  /** Formatted cells, one row per group. */
  rows: string[][];
  /** `formatTextTable(columns, rows)`. */
  text: string;
}

export interface AggregateOptions {
  /** Significant decimals for mean and std (default 2). */
  digits?: number;
  /** Order of the groups (default: first appearance). */
  sort?: (a: AggregateGroup, b: AggregateGroup) => number;
  /** Column titles for metrics (default: the metric name). */
  labels?: Record<string, string>;
}

/** Mean, sample std (ddof 1), min, max of the finite numbers in `values`. */
export function stats(values: Iterable<unknown>): MetricStats {
  let n = 0;
  let missing = 0;
  let sum = 0;
  let min = Infinity;
  let max = -Infinity;
  const xs: number[] = [];
  for (const v of values) {
    const x = typeof v === 'number' ? v : typeof v === 'bigint' ? Number(v) : NaN;
    if (!Number.isFinite(x)) {
      missing++;
      continue;
    }
    xs.push(x);
    n++;
    sum += x;
    if (x < min) min = x;
    if (x > max) max = x;
  }
  if (n === 0) return { mean: NaN, std: NaN, n, min: NaN, max: NaN, missing };
  const mean = sum / n;
  let ss = 0;
  for (const x of xs) ss += (x - mean) * (x - mean);
  const std = n > 1 ? Math.sqrt(ss / (n - 1)) : 0;
  return { mean, std, n, min, max, missing };
}

/** "mean ± std" (just the mean when n = 1). A std at rounding-error level (equal values) reads 0. */
export function formatMeanStd(s: MetricStats, digits = 2): string {
  if (s.n === 0) return '—';
  if (s.n === 1) return formatNumber(s.mean, digits);
  const std = s.std <= 1e-12 * Math.max(1, Math.abs(s.mean)) ? 0 : s.std;
  return `${formatNumber(s.mean, digits)} ± ${formatNumber(std, digits)}`;
}

/**
 * Group `rows` by `groupKey` (one key or several), and compute mean ± std of each metric
 * over the rows of each group (typically: the seeds of one method). Returns the numbers and
 * a formatted table.
 */
export function aggregateBySeeds<R extends Record<string, unknown>>(
  rows: readonly R[],
  groupKey: string | readonly string[],
  metrics: readonly string[],
  opts: AggregateOptions = {},
): AggregateResult {
  const keys = typeof groupKey === 'string' ? [groupKey] : [...groupKey];
  const digits = opts.digits ?? 2;
  const byKey = new Map<string, { key: Record<string, string>; rows: R[] }>();
  for (const r of rows) {
    const key: Record<string, string> = {};
    for (const k of keys) key[k] = String(r[k] ?? '');
    const id = JSON.stringify(keys.map((k) => key[k]));
    let g = byKey.get(id);
    if (!g) byKey.set(id, (g = { key, rows: [] }));
    g.rows.push(r);
  }
  const groups: AggregateGroup[] = [...byKey.values()].map((g) => {
    const s: Record<string, MetricStats> = {};
    for (const m of metrics) s[m] = stats(g.rows.map((r) => r[m]));
    return { key: g.key, count: g.rows.length, stats: s };
  });
  if (opts.sort) groups.sort(opts.sort);
  const columns = [...keys, ...metrics.map((m) => opts.labels?.[m] ?? m), 'n'];
  const table = groups.map((g) => [
    ...keys.map((k) => g.key[k]!),
    ...metrics.map((m) => formatMeanStd(g.stats[m]!, digits)),
    String(g.count),
  ]);
  return { groups, columns, rows: table, text: formatTextTable(columns, table) };
}

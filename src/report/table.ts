/**
 * Aggregation over seeds and plain-text tables (for the HTML report and the terminal summary).
 * No Arrow here: rows are plain objects.
 */

export type Cell = string | number | boolean | null | undefined;

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

/** Format a number for a table: fixed `digits` decimals, "—" for NaN/missing. */
export function formatNumber(x: number | null | undefined, digits = 2): string {
  if (x === null || x === undefined || Number.isNaN(x)) return '—';
  if (!Number.isFinite(x)) return x > 0 ? 'inf' : '-inf';
  const abs = Math.abs(x);
  if (abs !== 0 && (abs >= 1e6 || abs < 10 ** -digits)) return x.toExponential(Math.max(1, digits - 1));
  return x.toFixed(digits);
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

function cellText(c: Cell): string {
  if (c === null || c === undefined) return '—';
  if (typeof c === 'number') return Number.isInteger(c) ? String(c) : formatNumber(c, 3);
  return String(c);
}

const NUMBER = String.raw`[+-]?(?:\d[\d,]*(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?`;
/** A numeric cell: a number, "mean ± std", "estimate [low, high]", a percentage, ±inf. */
const NUMERIC_CELL = new RegExp(String.raw`^(?:${NUMBER}(?: ± ${NUMBER}| \[${NUMBER}, ${NUMBER}\])?%?|-?inf)$`);

/** Whether a formatted cell holds a number (right-aligned in text and HTML tables). */
export function isNumericCell(s: string): boolean {
  return NUMERIC_CELL.test(s.trim());
}

/**
 * Terminal tables keep to ASCII plus the rule (─), ± and the dash for missing values: terminals
 * and their fonts disagree on the width of ‖, π, −, ≈ and × (East Asian "ambiguous" characters),
 * so a header holding them ran past its rule.
 */
const TERMINAL_FOLD: Record<string, string> = { '‖': '|', 'π': 'pi', '−': '-', '≈': '~', '×': 'x', '≤': '<=', '≥': '>=', '·': '.' };
export function terminalText(s: string): string {
  return s.replace(/[‖π−≈×≤≥·]/g, (c) => TERMINAL_FOLD[c]!);
}

/** Width of a string in terminal columns (counts code points; good enough for our tables). */
function width(s: string): number {
  return [...s].length;
}

/**
 * A monospace text table: header, a rule, rows. Numeric columns are right-aligned, the others
 * left-aligned. Cells with newlines are flattened to spaces; non-ASCII symbols other than ─ ± —
 * are folded to ASCII (`terminalText`).
 */
export function formatTextTable(columns: readonly string[], rows: readonly (readonly Cell[])[]): string {
  const head = columns.map((c) => terminalText(String(c)));
  const body = rows.map((r) => columns.map((_, i) => terminalText(cellText(r[i]).replace(/\s*\n\s*/g, ' '))));
  const widths = head.map((h, i) => Math.max(width(h), ...body.map((r) => width(r[i]!))));
  const numeric = head.map((_, i) => body.length > 0 && body.every((r) => r[i] === '—' || isNumericCell(r[i]!)));
  const pad = (s: string, i: number) => {
    const fill = ' '.repeat(widths[i]! - width(s));
    return numeric[i] ? fill + s : s + fill;
  };
  const line = (cells: string[]) => cells.map(pad).join('  ').replace(/\s+$/, '');
  return [line(head), widths.map((w) => '─'.repeat(w)).join('  '), ...body.map(line)].join('\n') + '\n';
}

/**
 * Vega-Lite spec builders for the report figures. Each takes plain arrays of plain objects
 * (no Arrow) and returns a self-contained `TopLevelSpec` (data inlined, `THEME` as config);
 * render it with `renderChart` from ./render.ts.
 *
 * Colours: every builder colours by `method` with the fixed palette of render.ts
 * (`methodColorScale`), and facets/legends list methods in `sortMethods` order.
 *
 * Mark names (useful to find marks in the SVG: Vega writes `class="mark-<type> role-mark <name>_marks"`):
 * actionScatter: `policy_points`, `data_points`, `unit_circle`, `action_box`; stdHistogram:
 * `std_bars`, `std_mean`; trainingCurves: `curve_lines_<k>`, `curve_mean_<k>` (k = panel index); returnsChart: `seed_points`,
 * `mean_ticks`, `error_bars`, `ref_rules`; mazeTrajectories: `maze_walls`, `traj_lines`,
 * `traj_starts`, `goal`; edgeNormHistogram: `norm_bars`, `edge_rule`, `edge_text`.
 */
import type { TopLevelSpec } from 'vega-lite';
import { methodColorScale, SIZES, sortMethods, THEME } from './render.js';
import { stats } from './table.js';

// Vega-Lite's spec types are very wide unions; we build specs as plain JSON and cast once.
export type Json = Record<string, any>;

export interface ChartOptions {
  title?: string;
  subtitle?: string;
  /** Facets per row (default: all methods in one row, at most 4). */
  columns?: number;
}

export function finish(spec: Json, opts: ChartOptions): TopLevelSpec {
  const out: Json = { $schema: 'https://vega.github.io/schema/vega-lite/v6.json', ...spec, config: THEME };
  if (opts.title) out.title = opts.subtitle ? { text: opts.title, subtitle: opts.subtitle } : opts.title;
  return out as TopLevelSpec;
}

export function colorEnc(methods: string[], legend: boolean | Json = true): Json {
  const enc: Json = { field: 'method', type: 'nominal', scale: methodColorScale(methods), title: 'method' };
  if (legend === false) enc.legend = null;
  else enc.legend = { symbolOpacity: 1, ...(typeof legend === 'object' ? legend : {}) };
  return enc;
}

export function facetColumn(methods: string[], opts: ChartOptions): Json {
  return { field: 'method', type: 'nominal', sort: sortMethods(methods), title: null, header: { labelOrient: 'top' } };
}

export function defaultColumns(n: number, opts: ChartOptions): number {
  return opts.columns ?? Math.min(Math.max(n, 1), 4);
}

/** Keep at most `max` items, evenly strided (deterministic). */
function stride<T>(xs: readonly T[], max: number): T[] {
  if (!(max > 0) || xs.length <= max) return [...xs];
  const out: T[] = [];
  const step = xs.length / max;
  for (let i = 0; i < max; i++) out.push(xs[Math.floor(i * step)]!);
  return out;
}

export function groupBy<T>(xs: readonly T[], key: (x: T) => string): Map<string, T[]> {
  const m = new Map<string, T[]>();
  for (const x of xs) {
    const k = key(x);
    let g = m.get(k);
    if (!g) m.set(k, (g = []));
    g.push(x);
  }
  return m;
}

/** Axis labels for step counts: 0, 500, 20k, 1.5M. */
const STEP_LABEL =
  "abs(datum.value) >= 1e6 ? format(datum.value / 1e6, '~g') + 'M' : abs(datum.value) >= 1e3 ? format(datum.value / 1e3, '~g') + 'k' : format(datum.value, '~g')";

const finite = (x: unknown): x is number => typeof x === 'number' && Number.isFinite(x);

// ---------------------------------------------------------------------------------------------
// Action scatter
// ---------------------------------------------------------------------------------------------

export interface ActionPoint {
  method: string;
  a0: number;
  a1: number;
}

export interface ActionScatterOptions extends ChartOptions {
  /** Dataset actions drawn in light grey behind the policy actions in every facet. */
  dataActions?: { a0: number; a1: number }[];
  /** Subsample (evenly strided) to at most this many points per method (default 1500). */
  maxPointsPerMethod?: number;
  /** Same cap for `dataActions` (default 1000; drawn in every facet). */
  maxDataPoints?: number;
  /** Point area in px² (default 14) and opacity (default 0.55). */
  pointSize?: number;
  opacity?: number;
  /** Side of each square facet in px (default SIZES.cell). */
  size?: number;
}

/** Points of the unit circle, closed (k = 0..n). */
export function unitCircle(n = 180): { cx: number; cy: number; k: number }[] {
  return Array.from({ length: n + 1 }, (_, k) => ({ cx: Math.cos((2 * Math.PI * k) / n), cy: Math.sin((2 * Math.PI * k) / n), k }));
}

/**
 * Policy actions at dataset states in the 2-D action box, one square facet per method, both axes
 * fixed to [−1.1, 1.1] (equal aspect), the unit circle and the box [−1, 1]² drawn in each facet.
 */
export function actionScatter(points: readonly ActionPoint[], opts: ActionScatterOptions = {}): TopLevelSpec {
  const byMethod = groupBy(
    points.filter((p) => finite(p.a0) && finite(p.a1)),
    (p) => p.method,
  );
  const methods = sortMethods(byMethod.keys());
  const values = methods.flatMap((m) => stride(byMethod.get(m)!, opts.maxPointsPerMethod ?? 1500).map((p) => ({ method: m, a0: p.a0, a1: p.a1 })));
  const size = opts.size ?? SIZES.cell;
  const dom = [-1.1, 1.1];
  const axis = (title: string) => ({ title, values: [-1, -0.5, 0, 0.5, 1], grid: true, format: '.1f' });
  const x = (field: string, title = 'a[0]') => ({ field, type: 'quantitative', scale: { domain: dom, nice: false, zero: false }, axis: axis(title) });
  const y = (field: string, title = 'a[1]') => ({ field, type: 'quantitative', scale: { domain: dom, nice: false, zero: false }, axis: axis(title) });
  const layers: Json[] = [
    {
      name: 'action_box',
      data: { values: [{ x0: -1, x1: 1, y0: -1, y1: 1 }] },
      mark: { type: 'rect', fill: null, stroke: '#555555', strokeWidth: 1, strokeDash: [4, 3] },
      encoding: { x: x('x0'), x2: { field: 'x1' }, y: y('y0'), y2: { field: 'y1' } },
    },
    {
      name: 'unit_circle',
      data: { values: unitCircle() },
      mark: { type: 'line', color: '#222222', strokeWidth: 1, interpolate: 'linear' },
      encoding: { x: x('cx'), y: y('cy'), order: { field: 'k', type: 'quantitative' } },
    },
  ];
  if (opts.dataActions?.length) {
    const data = stride(
      opts.dataActions.filter((p) => finite(p.a0) && finite(p.a1)),
      opts.maxDataPoints ?? 1000,
    ).map((p) => ({ a0: p.a0, a1: p.a1 }));
    layers.push({
      name: 'data_points',
      data: { values: data },
      mark: { type: 'point', shape: 'circle', filled: true, size: 8, color: '#b5b5b5', opacity: 0.5 },
      encoding: { x: x('a0'), y: y('a1') },
    });
  }
  layers.push({
    name: 'policy_points',
    mark: { type: 'point', shape: 'circle', filled: true, size: opts.pointSize ?? 14, opacity: opts.opacity ?? 0.55 },
    encoding: { x: x('a0'), y: y('a1'), color: colorEnc(methods) },
  });
  return finish(
    {
      data: { values },
      facet: facetColumn(methods, opts),
      columns: defaultColumns(methods.length, opts),
      spec: { width: size, height: size, layer: layers },
      resolve: { scale: { x: 'shared', y: 'shared' } },
    },
    opts,
  );
}

// ---------------------------------------------------------------------------------------------
// Policy std histogram
// ---------------------------------------------------------------------------------------------

export interface StdValue {
  method: string;
  std: number;
}

export interface HistogramOptions extends ChartOptions {
  /** Approximate number of bins (default 30); ignored when `binWidth` is given. */
  maxbins?: number;
  /** Bin width (default: a 1-2-2.5-5 step near range / maxbins). */
  binWidth?: number;
  /** Upper end of the x axis (default: just above the largest value). */
  maxX?: number;
}

/** Smallest 1, 2, 2.5 or 5 × 10^k that is ≥ x. */
export function niceStep(x: number): number {
  if (!(x > 0) || !Number.isFinite(x)) return 1;
  const p = 10 ** Math.floor(Math.log10(x));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= x * (1 - 1e-9)) return m * p;
  return 10 * p;
}

export interface Bin {
  x0: number;
  x1: number;
  count: number;
}

/**
 * Fixed-width histogram: bins [origin + k·width, origin + (k+1)·width) covering [lo, hi]; values
 * outside are clamped into the first/last bin. `origin` (default lo) aligns the bin edges.
 */
export function histogram(values: readonly number[], lo: number, hi: number, width: number, origin = lo): Bin[] {
  const e0 = origin + Math.floor((lo - origin) / width + 1e-9) * width;
  const nb = Math.max(1, Math.ceil((hi - e0) / width - 1e-9));
  const counts = new Array<number>(nb).fill(0);
  for (const v of values) {
    if (!Number.isFinite(v)) continue;
    const k = Math.min(nb - 1, Math.max(0, Math.floor((v - e0) / width + 1e-9)));
    counts[k]!++;
  }
  return counts.map((count, k) => ({ x0: e0 + k * width, x1: e0 + (k + 1) * width, count }));
}

export function histLayers(methods: string[], xTitle: string, yTitle: string, hi: number, name: string): Json {
  return {
    name,
    transform: [{ filter: { field: 'kind', equal: 'bin' } }],
    mark: { type: 'bar', opacity: 0.85, clip: true },
    encoding: {
      x: { field: 'x0', type: 'quantitative', title: xTitle, scale: { domain: [0, hi], nice: false, zero: true }, axis: { tickCount: 6, format: '~g' } },
      x2: { field: 'x1' },
      y: { field: 'count', type: 'quantitative', title: yTitle, axis: { format: '~s', tickCount: 4 } },
      y2: { datum: 0 },
      color: colorEnc(methods),
      tooltip: [{ field: 'method' }, { field: 'x0', format: '.3f' }, { field: 'x1', format: '.3f' }, { field: 'count' }],
    },
  };
}

/**
 * Histogram of the policy std at dataset states, one facet per method (shared axes), with a
 * dashed rule at each method's mean std. Non-finite values are dropped.
 */
export function stdHistogram(values: readonly StdValue[], opts: HistogramOptions = {}): TopLevelSpec {
  const clean = values.filter((v) => finite(v.std));
  const byMethod = groupBy(clean, (v) => v.method);
  const methods = sortMethods(byMethod.keys());
  const max = Math.max(0.05, ...clean.map((v) => v.std));
  const width = opts.binWidth ?? niceStep((max * 1.05) / (opts.maxbins ?? 30));
  const hi = opts.maxX ?? (Math.floor(max / width) + 1) * width;
  const rows: Json[] = [];
  for (const m of methods) {
    const xs = byMethod.get(m)!.map((v) => v.std);
    for (const b of histogram(xs, 0, hi, width)) if (b.count > 0) rows.push({ kind: 'bin', method: m, ...b });
    rows.push({ kind: 'mean', method: m, mean: stats(xs).mean });
  }
  return facetedHistogram(rows, methods, [
    histLayers(methods, 'policy std', 'states', hi, 'std_bars'),
    {
      name: 'std_mean',
      transform: [{ filter: { field: 'kind', equal: 'mean' } }],
      mark: { type: 'rule', strokeDash: [4, 3], strokeWidth: 1.5, color: '#222222' },
      encoding: { x: { field: 'mean', type: 'quantitative' } },
    },
  ], opts);
}

/** Histogram facets, one per method: `rows` hold the bins (kind 'bin', see histLayers) and what the other layers filter on. */
export function facetedHistogram(rows: Json[], methods: string[], layers: Json[], opts: ChartOptions): TopLevelSpec {
  return finish(
    {
      data: { values: rows },
      facet: facetColumn(methods, opts),
      columns: defaultColumns(methods.length, opts),
      spec: { width: SIZES.histWidth, height: SIZES.histHeight, layer: layers },
    },
    opts,
  );
}

// ---------------------------------------------------------------------------------------------
// Training curves
// ---------------------------------------------------------------------------------------------

export interface CurvePoint {
  /** Method (or stage instance) the series belongs to; coloured with the method palette. */
  method: string;
  metric: string;
  step: number;
  value: number;
  /** Seed (or run) id; series with several seeds draw one thin line per seed plus the mean. */
  seed?: string | number;
}

export interface TrainingCurvesOptions extends ChartOptions {
  /** Metric order (default: order of first appearance). Others are appended. */
  metrics?: string[];
  /** Metrics drawn on a log y scale (non-positive values dropped). */
  logMetrics?: string[];
  /** Trailing moving-average window, in points (default 1 = none). */
  smooth?: number;
  /** Cap on points per (method, seed, metric) series, evenly strided (default 400). */
  maxPointsPerSeries?: number;
  /** Per-metric axis titles (default the metric name). */
  labels?: Record<string, string>;
}

/**
 * Small multiples, one per metric (Q/V/actor losses, policy std, …) with its own y scale,
 * step on x, colour by method. Several seeds: thin per-seed lines and a bold mean line.
 */
export function trainingCurves(series: readonly CurvePoint[], opts: TrainingCurvesOptions = {}): TopLevelSpec {
  const log = new Set(opts.logMetrics ?? []);
  const clean = series.filter((p) => finite(p.step) && finite(p.value) && (!log.has(p.metric) || p.value > 0));
  const seen = [...new Set(clean.map((p) => p.metric))];
  const metrics = [...(opts.metrics ?? []).filter((m) => seen.includes(m)), ...seen.filter((m) => !(opts.metrics ?? []).includes(m))];
  const methods = sortMethods(clean.map((p) => p.method));
  const bySeries = groupBy(clean, (p) => JSON.stringify([p.method, p.metric, String(p.seed ?? '')]));
  const rows: Json[] = [];
  let multiSeed = false;
  const seedsPer = new Map<string, Set<string>>();
  for (const pts of bySeries.values()) {
    const sorted = [...pts].sort((a, b) => a.step - b.step);
    for (const p of stride(sorted, opts.maxPointsPerSeries ?? 400)) rows.push({ method: p.method, metric: p.metric, step: p.step, value: p.value, seed: String(p.seed ?? '') });
    const k = `${pts[0]!.method}\u0000${pts[0]!.metric}`;
    const s = seedsPer.get(k) ?? new Set<string>();
    s.add(String(pts[0]!.seed ?? ''));
    seedsPer.set(k, s);
  }
  for (const s of seedsPer.values()) if (s.size > 1) multiSeed = true;
  const smooth = Math.max(1, Math.floor(opts.smooth ?? 1));
  const field = smooth > 1 ? 'smoothed' : 'value';
  const smoothing: Json[] =
    smooth > 1
      ? [{ window: [{ op: 'mean', field: 'value', as: 'smoothed' }], frame: [-(smooth - 1), 0], groupby: ['method', 'metric', 'seed'], sort: [{ field: 'step' }] }]
      : [];
  const panel = (metric: string, idx: number): Json => {
    const yScale: Json = log.has(metric) ? { type: 'log' } : { zero: false };
    const x = { field: 'step', type: 'quantitative', title: 'step', axis: { tickCount: 5, labelExpr: STEP_LABEL } };
    const y = (f: string) => ({ field: f, type: 'quantitative', title: null, scale: yScale, axis: { format: '~g', tickCount: 5 } });
    const layers: Json[] = [
      {
        name: `curve_lines_${idx}`,
        mark: { type: 'line', strokeWidth: multiSeed ? 0.8 : 1.5, opacity: multiSeed ? 0.35 : 1, clip: true },
        encoding: { x, y: y(field), color: colorEnc(methods), detail: { field: 'seed', type: 'nominal' } },
      },
    ];
    if (multiSeed)
      layers.push({
        name: `curve_mean_${idx}`,
        mark: { type: 'line', strokeWidth: 1.8, clip: true },
        encoding: { x, y: { ...y(field), aggregate: 'mean' }, color: colorEnc(methods) },
      });
    return {
      title: { text: opts.labels?.[metric] ?? metric, fontSize: 11, fontWeight: 'bold', anchor: 'middle', offset: 4 },
      width: SIZES.curveWidth,
      height: SIZES.curveHeight,
      transform: [{ filter: { field: 'metric', equal: metric } }, ...smoothing],
      layer: layers,
    };
  };
  return finish(
    {
      data: { values: rows },
      concat: metrics.map(panel),
      columns: opts.columns ?? Math.min(3, Math.max(1, metrics.length)),
      resolve: { scale: { color: 'shared', y: 'independent', x: 'independent' } },
    },
    opts,
  );
}

// ---------------------------------------------------------------------------------------------
// Returns / scores
// ---------------------------------------------------------------------------------------------

export interface ScoreRow {
  method: string;
  seed: string | number;
  score: number;
  /** Optional environment/dataset: one facet per env. */
  env?: string;
}

export interface ReturnsChartOptions extends ChartOptions {
  /** y axis title (default "normalised score"). */
  yTitle?: string;
  /** Horizontal reference lines, e.g. published numbers: {label:'IQL paper', value: 42.1, env?}. */
  references?: { label: string; value: number; env?: string }[];
  /**
   * Per (env, method) interval to draw as the bar (e.g. a 95 % bootstrap CI of the mean) and
   * estimate to draw as the tick; groups without one get mean ± std.
   */
  intervals?: ScoreInterval[];
}

export interface ScoreInterval {
  method: string;
  env?: string;
  estimate: number;
  low: number;
  high: number;
}

/**
 * Per-method bar and tick with one dot per run (`seed`): the bar is the group's interval from
 * `intervals` when given, else mean ± sample std; optional facet per `env`.
 */
export function returnsChart(rows: readonly ScoreRow[], opts: ReturnsChartOptions = {}): TopLevelSpec {
  const clean = rows.filter((r) => finite(r.score));
  const methods = sortMethods(clean.map((r) => r.method));
  const hasEnv = clean.some((r) => r.env !== undefined);
  const envOf = (r: { env?: string }) => (hasEnv ? (r.env ?? '') : '');
  const values: Json[] = [];
  for (const [, g] of groupBy(clean, (r) => JSON.stringify([envOf(r), r.method]))) {
    const s = stats(g.map((r) => r.score));
    const env = envOf(g[0]!);
    const ci = opts.intervals?.find((c) => c.method === g[0]!.method && (hasEnv ? (c.env ?? '') === env : true));
    values.push(ci
      ? { kind: 'agg', env, method: g[0]!.method, mean: ci.estimate, lo: ci.low, hi: ci.high, std: s.std, n: s.n }
      : { kind: 'agg', env, method: g[0]!.method, mean: s.mean, lo: s.mean - s.std, hi: s.mean + s.std, std: s.std, n: s.n });
    // Deterministic horizontal jitter of the seed dots within the band.
    const sorted = [...g].sort((a, b) => String(a.seed).localeCompare(String(b.seed), undefined, { numeric: true }));
    sorted.forEach((r, i) => {
      const jitter = sorted.length > 1 ? -0.22 + (0.44 * i) / (sorted.length - 1) : 0;
      values.push({ kind: 'seed', env, method: r.method, seed: String(r.seed), score: r.score, jitter });
    });
  }
  for (const ref of opts.references ?? []) {
    if (!finite(ref.value)) continue;
    const envs = ref.env !== undefined || !hasEnv ? [ref.env ?? ''] : [...new Set(clean.map(envOf))];
    for (const env of envs) values.push({ kind: 'ref', env, label: ref.label, value: ref.value });
  }
  const yTitle = opts.yTitle ?? 'normalised score';
  const longest = Math.max(0, ...methods.map((m) => m.length));
  const x = {
    field: 'method',
    type: 'nominal',
    sort: methods,
    title: null,
    axis: { labelAngle: longest > 8 ? -30 : 0, labelAlign: longest > 8 ? 'right' : 'center', labelFontSize: 11 },
    scale: { domain: methods },
  };
  const layers: Json[] = [
    {
      name: 'error_bars',
      transform: [{ filter: { field: 'kind', equal: 'agg' } }],
      mark: { type: 'rule', strokeWidth: 2.5, opacity: 0.45 },
      encoding: { x, y: { field: 'lo', type: 'quantitative', title: yTitle }, y2: { field: 'hi' }, color: colorEnc(methods, false) },
    },
    {
      name: 'mean_ticks',
      transform: [{ filter: { field: 'kind', equal: 'agg' } }],
      mark: { type: 'tick', thickness: 2.5, size: 26 },
      encoding: {
        x,
        y: { field: 'mean', type: 'quantitative', title: yTitle },
        color: colorEnc(methods, false),
        tooltip: [{ field: 'method' }, { field: 'mean', format: '.2f' }, { field: 'lo', format: '.2f' }, { field: 'hi', format: '.2f' }, { field: 'std', format: '.2f' }, { field: 'n' }],
      },
    },
    {
      name: 'seed_points',
      transform: [{ filter: { field: 'kind', equal: 'seed' } }],
      mark: { type: 'point', shape: 'circle', filled: true, size: 28, opacity: 0.9, stroke: 'white', strokeWidth: 0.5 },
      encoding: {
        x,
        xOffset: { field: 'jitter', type: 'quantitative', scale: { domain: [-0.5, 0.5] } },
        y: { field: 'score', type: 'quantitative', title: yTitle },
        color: colorEnc(methods, false),
      },
    },
  ];
  if (values.some((v) => v.kind === 'ref')) {
    layers.push(
      {
        name: 'ref_rules',
        transform: [{ filter: { field: 'kind', equal: 'ref' } }],
        mark: { type: 'rule', strokeDash: [5, 3], color: '#666666', strokeWidth: 1 },
        encoding: { y: { field: 'value', type: 'quantitative', title: yTitle } },
      },
      {
        name: 'ref_labels',
        transform: [{ filter: { field: 'kind', equal: 'ref' } }],
        mark: { type: 'text', align: 'right', baseline: 'bottom', dy: -2, fontSize: 9, color: '#555555' },
        encoding: { text: { field: 'label' }, y: { field: 'value', type: 'quantitative', title: yTitle }, x: { value: { expr: 'width' } } },
      },
    );
  }
  const inner: Json = { width: { step: SIZES.bandWidth }, height: SIZES.returnsHeight, layer: layers };
  if (!hasEnv) return finish({ data: { values }, ...inner }, opts);
  const envs = [...new Set(values.map((v) => v.env as string))];
  return finish(
    {
      data: { values },
      facet: { field: 'env', type: 'nominal', title: null, sort: envs },
      columns: opts.columns ?? Math.min(4, envs.length),
      spec: inner,
      resolve: { scale: { y: 'independent' } },
    },
    opts,
  );
}

// ---------------------------------------------------------------------------------------------
// Maze trajectories
// ---------------------------------------------------------------------------------------------

export interface TrajectoryPoint {
  method: string;
  episode: string | number;
  t: number;
  /** qpos[0] (the row coordinate; see `mazeTrajectories`). */
  x: number;
  /** qpos[1] (the column coordinate). */
  y: number;
}

export interface MazeOptions extends ChartOptions {
  /**
   * Frame of the trajectory and goal coordinates: 'qpos' (default; what observations hold) or
   * 'world' (MuJoCo body position = qpos + bodyOffset).
   */
  frame?: 'qpos' | 'world';
  /** World position of the particle body at qpos = 0 (D4RL maze2d: 1.2). */
  bodyOffset?: number;
  /** At most this many episodes per method (the first ones by id order; default 12). */
  maxEpisodesPerMethod?: number;
  /** Pixels per maze cell (default: SIZES.mazeCellPx, more for small mazes). */
  cellPx?: number;
  /** Mark each episode's first point with a hollow circle (default true). */
  showStarts?: boolean;
  /** Axis titles [vertical, horizontal] (default the maze2d qpos coordinates). */
  axisTitles?: [string, string];
}

/** Maze layout rows from an array, or one string with '\n' or '/' between rows. */
export function parseLayout(layout: string | readonly string[]): string[] {
  const rows = typeof layout === 'string' ? layout.split(/[\n/\\]+/) : [...layout];
  return rows.map((r) => r.trimEnd()).filter((r) => r.length > 0);
}

/**
 * Rollout trajectories over the maze walls, one facet per method.
 *
 * Coordinates (D4RL maze2d): cell (i, j) of the layout (i = row index, j = column index) is a 1×1
 * wall box centred at world (i + 1, j + 1); the particle body sits at world (1.2, 1.2) + qpos, and
 * D4RL resets/targets put qpos at cell indices, so qpos ≈ (i, j) for a ball in cell (i, j).
 * In the default 'qpos' frame walls are therefore drawn centred at (i − 0.2, j − 0.2) (their true
 * position relative to the ball) and the axis ticks are the integer cell indices.
 *
 * So that the picture looks like the layout string, the horizontal axis is qpos[1] (the column,
 * increasing to the right) and the vertical axis is qpos[0] (the row, increasing downwards):
 * a point `{x: qpos[0], y: qpos[1]}` is plotted at (horizontal = y, vertical = x). `goal` is in
 * the same frame as the trajectories; without one, the first `G` cell of the layout is used.
 */
export function mazeTrajectories(
  layout: string | readonly string[],
  trajectories: readonly TrajectoryPoint[],
  goal?: { x: number; y: number },
  opts: MazeOptions = {},
): TopLevelSpec {
  const canvas = mazeCanvas(layout, opts);
  const g = goal ?? canvas.layoutGoal;
  const clean = trajectories.filter((p) => finite(p.x) && finite(p.y) && finite(p.t));
  const byMethod = groupBy(clean, (p) => p.method);
  const methods = sortMethods(byMethod.keys());
  const maxEp = opts.maxEpisodesPerMethod ?? 12;
  const values: Json[] = [];
  const starts: Json[] = [];
  for (const m of methods) {
    const eps = groupBy(byMethod.get(m)!, (p) => String(p.episode));
    const ids = [...eps.keys()].sort((a, b) => a.localeCompare(b, undefined, { numeric: true })).slice(0, maxEp);
    for (const id of ids) {
      const pts = [...eps.get(id)!].sort((a, b) => a.t - b.t);
      for (const p of pts) values.push({ kind: 'traj', method: m, episode: id, t: p.t, h: p.y, v: p.x });
      starts.push({ kind: 'start', method: m, episode: id, h: pts[0]!.y, v: pts[0]!.x });
    }
  }
  const { H, V } = canvas;
  const layers: Json[] = [
    canvas.walls,
    {
      name: 'traj_lines',
      transform: [{ filter: { field: 'kind', equal: 'traj' } }],
      mark: { type: 'line', strokeWidth: 1.2, opacity: 0.75, clip: true },
      encoding: {
        x: H('h'),
        y: V('v'),
        order: { field: 't', type: 'quantitative' },
        detail: { field: 'episode', type: 'nominal' },
        color: colorEnc(methods),
      },
    },
  ];
  if (opts.showStarts !== false)
    layers.push({
      name: 'traj_starts',
      transform: [{ filter: { field: 'kind', equal: 'start' } }],
      mark: { type: 'point', shape: 'circle', filled: false, size: 22, strokeWidth: 1.2, clip: true },
      encoding: { x: H('h'), y: V('v'), color: colorEnc(methods, false) },
    });
  if (g && finite(g.x) && finite(g.y)) layers.push(canvas.goalMark(g));
  return finish(
    {
      data: { values: [...values, ...starts] },
      facet: facetColumn(methods, opts),
      columns: defaultColumns(methods.length, opts),
      spec: { width: canvas.width, height: canvas.height, layer: layers },
    },
    opts,
  );
}

/** What every maze figure draws on: scales, axes, the walls layer and the goal mark (see mazeTrajectories for the frame). */
export interface MazeCanvas {
  nRows: number;
  nCols: number;
  width: number;
  height: number;
  /** Encodings of a plot-frame coordinate: H for the horizontal axis (column, qpos[1]), V for the vertical one (row, qpos[0]). */
  H(field: string): Json;
  V(field: string): Json;
  /** The walls as a layer (`maze_walls`) with its own data, so it repeats in every facet. */
  walls: Json;
  /** The first `G` cell's ball position, if the layout has one. */
  layoutGoal?: { x: number; y: number };
  /** A red cross (`goal`) at a plot-frame point. */
  goalMark(g: { x: number; y: number }): Json;
}

export function mazeCanvas(layout: string | readonly string[], opts: MazeOptions = {}): MazeCanvas {
  const rows = parseLayout(layout);
  const nRows = rows.length;
  const nCols = Math.max(0, ...rows.map((r) => r.length));
  const body = opts.bodyOffset ?? 1.2;
  // Plot-frame centre of cell (i, j): world (i + 1, j + 1) minus the frame's origin.
  const origin = (opts.frame ?? 'qpos') === 'qpos' ? body : 0;
  const c = (k: number) => k + 1 - origin;
  // Where a ball "in" cell (i, j) sits (qpos = (i, j)): the default goal of a 'G' cell.
  const ball = (k: number) => k + body - origin;
  const walls: Json[] = [];
  let layoutGoal: { x: number; y: number } | undefined;
  rows.forEach((row, i) =>
    [...row].forEach((ch, j) => {
      if (ch === '#') walls.push({ v0: c(i) - 0.5, v1: c(i) + 0.5, h0: c(j) - 0.5, h1: c(j) + 0.5 });
      if ((ch === 'G' || ch === 'g') && !layoutGoal) layoutGoal = { x: ball(i), y: ball(j) };
    }),
  );
  // Small mazes get bigger cells so each facet is at least about SIZES.cell wide.
  const cellPx = opts.cellPx ?? Math.max(SIZES.mazeCellPx, Math.ceil(SIZES.cell / Math.max(1, nRows, nCols)));
  const hScale = { domain: [c(0) - 0.5, c(nCols - 1) + 0.5], nice: false, zero: false };
  const vScale = { domain: [c(0) - 0.5, c(nRows - 1) + 0.5], nice: false, zero: false, reverse: true };
  const ticks = (n: number) => Array.from({ length: n }, (_, k) => Math.round((origin === 0 ? c(k) : ball(k)) * 1000) / 1000);
  const hAxis = { title: opts.axisTitles?.[1] ?? 'qpos[1] (column)', values: ticks(nCols), grid: false, labelFontSize: 9, format: '~g' };
  const vAxis = { title: opts.axisTitles?.[0] ?? 'qpos[0] (row)', values: ticks(nRows), grid: false, labelFontSize: 9, format: '~g' };
  if (origin === 0) {
    hAxis.title = 'world y';
    vAxis.title = 'world x';
  }
  const H = (f: string) => ({ field: f, type: 'quantitative', scale: hScale, axis: hAxis });
  const V = (f: string) => ({ field: f, type: 'quantitative', scale: vScale, axis: vAxis });
  return {
    nRows,
    nCols,
    width: nCols * cellPx,
    height: nRows * cellPx,
    H,
    V,
    walls: {
      name: 'maze_walls',
      data: { values: walls },
      mark: { type: 'rect', color: '#5b5b5b', stroke: '#5b5b5b', strokeWidth: 0.3 },
      encoding: { x: H('h0'), x2: { field: 'h1' }, y: V('v0'), y2: { field: 'v1' } },
    },
    ...(layoutGoal ? { layoutGoal } : {}),
    goalMark: (g) => ({
      name: 'goal',
      data: { values: [{ h: g.y, v: g.x }] },
      mark: { type: 'point', shape: 'cross', filled: true, size: 120, color: '#c1121f', angle: 45 },
      encoding: { x: H('h'), y: V('v') },
    }),
  };
}

// ---------------------------------------------------------------------------------------------
// Edge / norm histogram
// ---------------------------------------------------------------------------------------------

export interface EdgeNormOptions extends HistogramOptions {
  /** 'l2' = ‖a‖₂ (the unit circle; default) or 'linf' = max|a_i| (the box edge). */
  norm?: 'l2' | 'linf';
  /** A point counts as "on the edge" when its norm ≥ 1 − tol (default 0.02). */
  tol?: number;
}

/** ‖a‖₂ or max|a_i| of an action given as {a0, a1, …} or {a: number[]}. */
export function actionNorm(p: Record<string, unknown>, norm: 'l2' | 'linf' = 'l2'): number {
  const comps: number[] = Array.isArray(p.a)
    ? (p.a as unknown[]).map(Number)
    : Object.keys(p)
        .filter((k) => /^a\d+$/.test(k))
        .sort((a, b) => Number(a.slice(1)) - Number(b.slice(1)))
        .map((k) => Number(p[k]));
  if (comps.length === 0) return NaN;
  return norm === 'l2' ? Math.sqrt(comps.reduce((s, c) => s + c * c, 0)) : Math.max(...comps.map(Math.abs));
}

/**
 * Distribution of ‖a‖ (or max|a_i|) of the policy actions, one facet per method, with a rule at 1
 * and the fraction of actions on the edge (≥ 1 − tol) written in each facet. Bins are aligned
 * so that one bin is centred on 1 (width 0.05 by default).
 */
export function edgeNormHistogram(points: readonly (ActionPoint & Record<string, unknown>)[], opts: EdgeNormOptions = {}): TopLevelSpec {
  const norm = opts.norm ?? 'l2';
  const tol = opts.tol ?? 0.02;
  const all = points.map((p) => ({ method: p.method, norm: actionNorm(p, norm) })).filter((r) => finite(r.norm));
  const byMethod = groupBy(all, (r) => r.method);
  const methods = sortMethods(byMethod.keys());
  const width = opts.binWidth ?? 0.05;
  const hi = opts.maxX ?? Math.max(norm === 'l2' ? 1.45 : 1.1, ...all.map((r) => r.norm + width));
  const rows: Json[] = [];
  for (const m of methods) {
    const xs = byMethod.get(m)!.map((r) => r.norm);
    for (const b of histogram(xs, 0, hi, width, 1 - width / 2)) if (b.count > 0) rows.push({ kind: 'bin', method: m, ...b });
    const frac = xs.filter((x) => x >= 1 - tol).length / Math.max(1, xs.length);
    rows.push({ kind: 'stat', method: m, label: `on edge: ${(100 * frac).toFixed(0)}%`, frac });
  }
  const title = norm === 'l2' ? '‖a‖₂' : 'max |aᵢ|';
  return facetedHistogram(rows, methods, [
    histLayers(methods, title, 'actions', hi, 'norm_bars'),
    {
      name: 'edge_rule',
      data: { values: [{ one: 1 }] },
      mark: { type: 'rule', strokeDash: [4, 3], strokeWidth: 1.5, color: '#222222' },
      encoding: { x: { field: 'one', type: 'quantitative' } },
    },
    {
      name: 'edge_text',
      transform: [{ filter: { field: 'kind', equal: 'stat' } }],
      mark: { type: 'text', align: 'left', baseline: 'top', fontSize: 10, color: '#333333' },
      encoding: { text: { field: 'label' }, x: { value: 4 }, y: { value: 4 } },
    },
  ], opts);
}

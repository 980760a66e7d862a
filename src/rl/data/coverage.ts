/**
 * Dataset coverage diagnostics: where the behaviour policy's actions fall in the action box,
 * how much of the action box edge is used, which maze cells the data visits, and per-episode
 * statistics. Returns scalars (for summaries/tracking) and Arrow tables (for reports/plots).
 *
 * Episodes are split after every row with terminals = 1 or timeouts = 1; trailing rows without
 * a flag form a last (partial) episode.
 */
import { Field, Float32, Float64, Int32, makeData, RecordBatch, Schema, Struct, Table, Uint8, type Data, type DataType } from 'apache-arrow';
import { physicalCell, type MazeLayout } from '../envs/maze2d/layout.js';
import type { Transitions } from './dataset.js';

export interface CoverageOptions {
  /** Bins per action dimension over [low, high]. Default 20. */
  bins?: number;
  /** |a_i| ≥ high − eps (or ≤ low + eps) counts as "on the edge". Default 1e-3. */
  edgeEps?: number;
  actionLow?: ArrayLike<number>;
  actionHigh?: ArrayLike<number>;
  /** Maze layout for cell occupancy (observations[0..1] = qpos x, y). */
  layout?: MazeLayout;
  /**
   * Bins per dimension of the coarse JOINT action histogram reported when the fine joint
   * histogram is too large (bins^actDim > 1e6, e.g. 6-D locomotion, where `action_hist` holds
   * per-dimension marginals). Default 4 (4^6 = 4096 cells).
   */
  coarseBins?: number;
}

export interface CoverageSummary {
  transitions: number;
  episodes: number;
  mean_return: number;
  std_return: number;
  min_return: number;
  max_return: number;
  mean_episode_length: number;
  reward_mean: number;
  /** Fraction of rows with reward ≠ 0. */
  reward_nonzero_fraction: number;
  terminal_fraction: number;
  /** Fraction of actions with any component on the edge of the action box. */
  action_edge_fraction: number;
  /** Fraction of actions with every component on the edge (corners). */
  action_corner_fraction: number;
  /** Fraction of action-histogram bins with at least one action. */
  action_bins_occupied_fraction: number;
  /** Entropy of the action histogram / log(#bins), in [0, 1]. */
  action_hist_entropy: number;
  action_mean_abs: number;
  /**
   * Only when the action histogram is per-dimension marginals (high actDim): occupancy and
   * normalised entropy of a coarse joint histogram (coarse_bins per dimension), and the mean over
   * dimensions of the per-dimension action std.
   */
  action_coarse_bins?: number;
  action_coarse_occupied_fraction?: number;
  action_coarse_entropy?: number;
  action_std_mean?: number;
  /** Maze only: fraction of free cells visited; counts of free cells and visited ones. */
  cells_visited_fraction?: number;
  cells_free?: number;
  cells_visited?: number;
  /** Maze only: min visits over free cells / mean visits over free cells. */
  cell_min_over_mean?: number;
}

export interface CoverageResult {
  summary: CoverageSummary;
  tables: {
    /** One row per bin: a0, a1, ... (bin centres), count, fraction. */
    action_hist: Table;
    /** Maze only: row, col, free (0/1), count, fraction. */
    cell_occupancy?: Table;
    /** One row per episode: episode, start, length, return. */
    episodes: Table;
  };
}

type Col = { name: string; type: DataType; data: Float32Array | Float64Array | Int32Array | Uint8Array };

function makeTable(cols: Col[], metadata: Record<string, string> = {}): Table {
  const n = cols.length ? cols[0]!.data.length : 0;
  const fields = cols.map((c) => new Field(c.name, c.type, false));
  const children: Data[] = cols.map((c) => makeData({ type: c.type as Float64, length: n, nullCount: 0, data: c.data as Float64Array }));
  const schema = new Schema(fields, new Map(Object.entries(metadata)));
  return new Table(schema, [new RecordBatch(schema, makeData({ type: new Struct(fields), length: n, nullCount: 0, children }))]);
}

/** Episode boundaries: [start, end) pairs. */
export function episodeRanges(t: Pick<Transitions, 'size' | 'terminals' | 'timeouts'>): Int32Array {
  const out: number[] = [];
  let start = 0;
  for (let i = 0; i < t.size; i++) {
    if (t.terminals[i] !== 0 || t.timeouts[i] !== 0) {
      out.push(start, i + 1);
      start = i + 1;
    }
  }
  if (start < t.size) out.push(start, t.size);
  return Int32Array.from(out);
}

export function computeCoverage(t: Transitions, opts: CoverageOptions = {}): CoverageResult {
  const bins = opts.bins ?? 20;
  if (!Number.isInteger(bins) || bins < 1) throw new Error(`coverage: bins must be a positive integer, got ${bins}`);
  const eps = opts.edgeEps ?? 1e-3;
  const d = t.actDim;
  const low = Array.from({ length: d }, (_, i) => opts.actionLow?.[i] ?? -1);
  const high = Array.from({ length: d }, (_, i) => opts.actionHigh?.[i] ?? 1);
  const n = t.size;

  // ---- action histogram (joint over all dims when ≤ 1e6 bins, else per-dimension marginals) ----
  const joint = Math.pow(bins, d) <= 1_000_000;
  const nBins = joint ? Math.pow(bins, d) : bins * d;
  const counts = new Float64Array(nBins);
  let edge = 0;
  let corner = 0;
  let absSum = 0;
  const a = t.actions;
  for (let r = 0; r < n; r++) {
    let idx = 0;
    let anyEdge = false;
    let allEdge = true;
    for (let k = 0; k < d; k++) {
      const x = a[r * d + k]!;
      absSum += Math.abs(x);
      const onEdge = x >= high[k]! - eps || x <= low[k]! + eps;
      anyEdge ||= onEdge;
      allEdge &&= onEdge;
      let b = Math.floor(((x - low[k]!) / (high[k]! - low[k]!)) * bins);
      b = b < 0 ? 0 : b >= bins ? bins - 1 : b;
      if (joint) idx = idx * bins + b;
      else counts[k * bins + b]! += 1;
    }
    if (joint) counts[idx]! += 1;
    if (anyEdge) edge++;
    if (allEdge && d > 0) corner++;
  }
  const histCols: Col[] = [];
  if (joint) {
    for (let k = 0; k < d; k++) {
      const c = new Float32Array(nBins);
      const stride = Math.pow(bins, d - 1 - k);
      const w = (high[k]! - low[k]!) / bins;
      for (let i = 0; i < nBins; i++) c[i] = low[k]! + (Math.floor(i / stride) % bins + 0.5) * w;
      histCols.push({ name: `a${k}`, type: new Float32(), data: c });
    }
  } else {
    const dimCol = new Int32Array(nBins);
    const centre = new Float32Array(nBins);
    for (let k = 0; k < d; k++) {
      const w = (high[k]! - low[k]!) / bins;
      for (let b = 0; b < bins; b++) {
        dimCol[k * bins + b] = k;
        centre[k * bins + b] = low[k]! + (b + 0.5) * w;
      }
    }
    histCols.push({ name: 'dim', type: new Int32(), data: dimCol }, { name: 'centre', type: new Float32(), data: centre });
  }
  const frac = new Float64Array(nBins);
  let occupied = 0;
  let entropy = 0;
  const denom = n; // marginals: each dimension's bins also sum to n
  for (let i = 0; i < nBins; i++) {
    const c = counts[i]!;
    frac[i] = denom ? c / denom : 0;
    if (c > 0) {
      occupied++;
      const p = c / n;
      entropy -= p * Math.log(p);
    }
  }
  const entropyNorm = joint ? (nBins > 1 ? entropy / Math.log(nBins) : 0) : nBins > 1 ? entropy / (d * Math.log(bins)) : 0;
  histCols.push({ name: 'count', type: new Int32(), data: Int32Array.from(counts) }, { name: 'fraction', type: new Float64(), data: frac });
  const action_hist = makeTable(histCols, { bins: String(bins), joint: String(joint), env_id: t.envId });

  // ---- coarse joint occupancy (marginal mode only, so that 2-D outputs are unchanged) ----
  let coarse: Pick<CoverageSummary, 'action_coarse_bins' | 'action_coarse_occupied_fraction' | 'action_coarse_entropy' | 'action_std_mean'> = {};
  if (!joint) {
    const cb = opts.coarseBins ?? 4;
    if (!Number.isInteger(cb) || cb < 1) throw new Error(`coverage: coarseBins must be a positive integer, got ${cb}`);
    const nCells = Math.pow(cb, d);
    if (nCells <= 16_777_216) {
      const cc = new Uint32Array(nCells);
      const sum = new Float64Array(d);
      const sq = new Float64Array(d);
      for (let r = 0; r < n; r++) {
        let idx = 0;
        for (let k = 0; k < d; k++) {
          const x = a[r * d + k]!;
          sum[k] += x;
          sq[k] += x * x;
          let b = Math.floor(((x - low[k]!) / (high[k]! - low[k]!)) * cb);
          b = b < 0 ? 0 : b >= cb ? cb - 1 : b;
          idx = idx * cb + b;
        }
        cc[idx]!++;
      }
      let occ = 0;
      let ent = 0;
      for (let i = 0; i < nCells; i++) {
        const c = cc[i]!;
        if (c > 0) {
          occ++;
          const p = c / n;
          ent -= p * Math.log(p);
        }
      }
      let stdSum = 0;
      for (let k = 0; k < d; k++) {
        const m = n ? sum[k]! / n : 0;
        stdSum += Math.sqrt(Math.max(0, (n ? sq[k]! / n : 0) - m * m));
      }
      coarse = {
        action_coarse_bins: cb,
        action_coarse_occupied_fraction: occ / nCells,
        action_coarse_entropy: nCells > 1 ? ent / Math.log(nCells) : 0,
        action_std_mean: d ? stdSum / d : NaN,
      };
    }
  }

  // ---- episodes ----
  const ranges = episodeRanges(t);
  const nEp = ranges.length / 2;
  const epIdx = new Int32Array(nEp);
  const epStart = new Int32Array(nEp);
  const epLen = new Int32Array(nEp);
  const epRet = new Float64Array(nEp);
  for (let e = 0; e < nEp; e++) {
    const s = ranges[2 * e]!;
    const en = ranges[2 * e + 1]!;
    let ret = 0;
    for (let i = s; i < en; i++) ret += t.rewards[i]!;
    epIdx[e] = e;
    epStart[e] = s;
    epLen[e] = en - s;
    epRet[e] = ret;
  }
  const episodes = makeTable([
    { name: 'episode', type: new Int32(), data: epIdx },
    { name: 'start', type: new Int32(), data: epStart },
    { name: 'length', type: new Int32(), data: epLen },
    { name: 'return', type: new Float64(), data: epRet },
  ]);
  let meanRet = 0;
  for (const r of epRet) meanRet += r;
  meanRet = nEp ? meanRet / nEp : NaN;
  let varRet = 0;
  for (const r of epRet) varRet += (r - meanRet) ** 2;
  let rewSum = 0;
  let rewNz = 0;
  let terms = 0;
  for (let i = 0; i < n; i++) {
    rewSum += t.rewards[i]!;
    if (t.rewards[i] !== 0) rewNz++;
    if (t.terminals[i] !== 0) terms++;
  }

  const summary: CoverageSummary = {
    transitions: n,
    episodes: nEp,
    mean_return: meanRet,
    std_return: nEp ? Math.sqrt(varRet / nEp) : NaN,
    min_return: nEp ? Math.min(...epRet) : NaN,
    max_return: nEp ? Math.max(...epRet) : NaN,
    mean_episode_length: nEp ? n / nEp : NaN,
    reward_mean: n ? rewSum / n : NaN,
    reward_nonzero_fraction: n ? rewNz / n : NaN,
    terminal_fraction: n ? terms / n : NaN,
    action_edge_fraction: n ? edge / n : NaN,
    action_corner_fraction: n ? corner / n : NaN,
    action_bins_occupied_fraction: occupied / nBins,
    action_hist_entropy: entropyNorm,
    action_mean_abs: n && d ? absSum / (n * d) : NaN,
    ...coarse,
  };

  // ---- maze cell occupancy ----
  let cell_occupancy: Table | undefined;
  const L = opts.layout;
  if (L) {
    if (t.obsDim < 2) throw new Error('coverage: cell occupancy needs observations with x, y first');
    const nc = L.nRows * L.nCols;
    const cnt = new Int32Array(nc);
    const o = t.observations;
    const od = t.obsDim;
    for (let r = 0; r < n; r++) {
      const i = physicalCell(o[r * od]!);
      const j = physicalCell(o[r * od + 1]!);
      if (i >= 0 && j >= 0 && i < L.nRows && j < L.nCols) cnt[i * L.nCols + j]!++;
    }
    const rowC = new Int32Array(nc);
    const colC = new Int32Array(nc);
    const free = new Uint8Array(nc);
    const fr = new Float64Array(nc);
    let nFree = 0;
    let visited = 0;
    let minFree = Infinity;
    let sumFree = 0;
    for (let k = 0; k < nc; k++) {
      rowC[k] = Math.floor(k / L.nCols);
      colC[k] = k % L.nCols;
      free[k] = L.wall[k] ? 0 : 1;
      fr[k] = n ? cnt[k]! / n : 0;
      if (free[k]) {
        nFree++;
        if (cnt[k]! > 0) visited++;
        minFree = Math.min(minFree, cnt[k]!);
        sumFree += cnt[k]!;
      }
    }
    cell_occupancy = makeTable(
      [
        { name: 'row', type: new Int32(), data: rowC },
        { name: 'col', type: new Int32(), data: colC },
        { name: 'free', type: new Uint8(), data: free },
        { name: 'count', type: new Int32(), data: cnt },
        { name: 'fraction', type: new Float64(), data: fr },
      ],
      { layout: L.name, n_rows: String(L.nRows), n_cols: String(L.nCols) },
    );
    summary.cells_free = nFree;
    summary.cells_visited = visited;
    summary.cells_visited_fraction = nFree ? visited / nFree : NaN;
    summary.cell_min_over_mean = sumFree > 0 ? minFree / (sumFree / nFree) : 0;
  }
  return { summary, tables: { action_hist, ...(cell_occupancy ? { cell_occupancy } : {}), episodes } };
}

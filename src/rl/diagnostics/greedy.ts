/**
 * The critic's own greedy action, found on a grid of the action box, and how a policy's action
 * compares with it. Tells a policy that failed to find the critic's maximum apart from a critic
 * whose maximum is itself wrong.
 *
 * Everything here goes through `QEvaluator`: the part of the public Critic API these measures need
 * (`Critic.evaluate` on RAW observations), so a hand-made critic can stand in for tests.
 */

/** What the diagnostics need of a critic: min over the twins and V, per row. `Critic` satisfies it. */
export interface QEvaluator {
  readonly obsDim: number;
  readonly actDim: number;
  evaluate(obs: Float32Array, act: Float32Array, n: number): { q1: Float32Array; q2: Float32Array; v: Float32Array };
}

/** What they need of a policy: its deterministic action (mean / argmax). `Policy` satisfies it. */
export interface ActionSource {
  act(obs: Float32Array, n: number): Float32Array;
}

/** Grids with more points than this are not searched (the search costs points × states critic calls). */
export const MAX_GRID_POINTS = 10_000;

/** Every point of a grid with `bins` values per dimension over [-1, 1]^actDim, row-major. */
export function actionGrid(bins: number, actDim: number): Float32Array {
  const count = bins ** actDim;
  const out = new Float32Array(count * actDim);
  for (let g = 0; g < count; g++) {
    let rest = g;
    for (let d = actDim - 1; d >= 0; d--) {
      out[g * actDim + d] = -1 + (2 * (rest % bins)) / (bins - 1);
      rest = Math.floor(rest / bins);
    }
  }
  return out;
}

/** The action grid to search, or null when `bins` is 0/1 or the grid is too large for actDim. */
export function searchableGrid(bins: number, actDim: number): Float32Array | null {
  return bins >= 2 && bins ** actDim <= MAX_GRID_POINTS ? actionGrid(bins, actDim) : null;
}

/**
 * For each of n states, the grid action with the largest min(Q1, Q2)(s, a) and that value. Ties
 * keep the first grid point. Calls the critic on at most `chunkRows` (state, action) rows at once.
 */
export function greedyOnGrid(critic: QEvaluator, obs: Float32Array, n: number, grid: Float32Array, chunkRows = 50_000): { action: Float32Array; q: Float32Array } {
  const { obsDim, actDim } = critic;
  const g = grid.length / actDim;
  const action = new Float32Array(n * actDim);
  const q = new Float32Array(n);
  const chunk = Math.max(1, Math.floor(chunkRows / g));
  for (let i0 = 0; i0 < n; i0 += chunk) {
    const m = Math.min(chunk, n - i0);
    const o = new Float32Array(m * g * obsDim);
    const a = new Float32Array(m * g * actDim);
    for (let i = 0; i < m; i++) {
      for (let k = 0; k < g; k++) o.set(obs.subarray((i0 + i) * obsDim, (i0 + i + 1) * obsDim), (i * g + k) * obsDim);
      a.set(grid, i * g * actDim);
    }
    const r = critic.evaluate(o, a, m * g);
    for (let i = 0; i < m; i++) {
      let bk = 0, bq = -Infinity;
      for (let k = 0; k < g; k++) {
        const v = Math.min(r.q1[i * g + k]!, r.q2[i * g + k]!);
        if (v > bq) { bq = v; bk = k; }
      }
      q[i0 + i] = bq;
      action.set(grid.subarray(bk * actDim, (bk + 1) * actDim), (i0 + i) * actDim);
    }
  }
  return { action, q };
}

/** Per-row Euclidean distance between two n × dim action arrays. */
export function rowDistances(a: Float32Array, b: Float32Array, dim: number): Float64Array {
  const n = a.length / dim;
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let d = 0; d < dim; d++) s += (a[i * dim + d]! - b[i * dim + d]!) ** 2;
    out[i] = Math.sqrt(s);
  }
  return out;
}

/** A policy measured against the critic at n states (columns of the diagnose tables). */
export interface PolicyVsCritic {
  /** The policy's action, n × actDim. */
  action: Float32Array;
  /** min(Q1, Q2)(s, π(s)) and V(s). */
  qPi: Float64Array;
  v: Float64Array;
  /** Present when an action grid was searched: the critic's greedy action (n × actDim), its value,
   *  max_a Q − Q(s, π(s)) (≥ 0 up to the grid's resolution) and ‖π(s) − argmax_a Q(s, a)‖. */
  greedy?: { action: Float32Array; q: Float32Array; qGap: Float64Array; dist: Float64Array };
}

/**
 * The policy's action at n states, its value under the critic, and (with a grid, or with the greedy
 * actions already found at these states) how far it is from the critic's greedy action.
 */
export function policyVsCritic(
  critic: QEvaluator,
  policy: ActionSource,
  obs: Float32Array,
  n: number,
  search: { grid: Float32Array } | { greedy: { action: Float32Array; q: Float32Array } } | null,
): PolicyVsCritic {
  const action = policy.act(obs, n);
  const r = critic.evaluate(obs, action, n);
  const qPi = Float64Array.from({ length: n }, (_, i) => Math.min(r.q1[i]!, r.q2[i]!));
  const out: PolicyVsCritic = { action, qPi, v: Float64Array.from(r.v) };
  if (search) {
    const g = 'grid' in search ? greedyOnGrid(critic, obs, n, search.grid) : search.greedy;
    out.greedy = {
      action: g.action,
      q: g.q,
      qGap: Float64Array.from({ length: n }, (_, i) => g.q[i]! - qPi[i]!),
      dist: rowDistances(action, g.action, critic.actDim),
    };
  }
  return out;
}

/** Mean of the finite values (NaN when none). */
export function finiteMean(x: ArrayLike<number>): number {
  let s = 0, c = 0;
  for (let i = 0; i < x.length; i++) if (Number.isFinite(x[i]!)) { s += x[i]!; c++; }
  return c ? s / c : NaN;
}

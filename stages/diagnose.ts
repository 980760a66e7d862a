/**
 * diagnose: why extraction methods differ. At sampled dataset states it measures the policy's std,
 * where its actions sit relative to the action box and unit circle, how far they are from the data
 * actions seen near that state, and how much better the critic thinks they are than the data action.
 */
import type { InputArtifact, StageKind } from '../src/engine/stage.js';
import { loadStageSchema } from '../src/engine/stage-schema.js';

interface Params { states: number; edge_tol: number; neighbour_pool: number; neighbours: number; grid_bins: number; backend: 'auto' | 'node' | 'wasm' | 'cpu' }

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

/** Summary numbers of a diagnosis; exported for tests. */
export function actionGeometry(actions: Float32Array, actDim: number, tol: number): { norms: Float64Array; onEdge: Uint8Array; onCircle: Uint8Array } {
  const n = actions.length / actDim;
  const norms = new Float64Array(n);
  const onEdge = new Uint8Array(n);
  const onCircle = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    let s = 0, m = 0;
    for (let d = 0; d < actDim; d++) {
      const a = actions[i * actDim + d]!;
      s += a * a;
      m = Math.max(m, Math.abs(a));
    }
    norms[i] = Math.sqrt(s);
    onEdge[i] = m >= 1 - tol ? 1 : 0;
    onCircle[i] = norms[i]! >= 1 - tol ? 1 : 0;
  }
  return { norms, onEdge, onCircle };
}

/** For each query state, the distance from its policy action to the nearest action taken at one of its k nearest pool states. */
export function distanceToNearbyData(queryObs: Float32Array, queryAct: Float32Array, poolObs: Float32Array, poolAct: Float32Array, obsDim: number, actDim: number, k: number): Float64Array {
  const nq = queryObs.length / obsDim;
  const np = poolObs.length / obsDim;
  const out = new Float64Array(nq);
  const bestD = new Float64Array(k);
  const bestI = new Int32Array(k);
  for (let q = 0; q < nq; q++) {
    bestD.fill(Infinity);
    bestI.fill(-1);
    for (let j = 0; j < np; j++) {
      let d = 0;
      for (let c = 0; c < obsDim; c++) {
        const t = queryObs[q * obsDim + c]! - poolObs[j * obsDim + c]!;
        d += t * t;
      }
      if (d >= bestD[k - 1]!) continue;
      let pos = k - 1;
      while (pos > 0 && bestD[pos - 1]! > d) { bestD[pos] = bestD[pos - 1]!; bestI[pos] = bestI[pos - 1]!; pos--; }
      bestD[pos] = d;
      bestI[pos] = j;
    }
    let best = Infinity;
    for (let m = 0; m < k; m++) {
      const j = bestI[m]!;
      if (j < 0) continue;
      let d = 0;
      for (let c = 0; c < actDim; c++) {
        const t = queryAct[q * actDim + c]! - poolAct[j * actDim + c]!;
        d += t * t;
      }
      best = Math.min(best, Math.sqrt(d));
    }
    out[q] = best;
  }
  return out;
}

const stage: StageKind<Params> = {
  kind: 'diagnose',
  version: '2',
  description: 'Policy std, edge/unit-circle fractions, distance to data actions and Q(s,π(s)) − Q(s,a) at dataset states.',
  params: loadStageSchema('diagnose'),
  inputs: {
    policy: { description: 'an extract-policy policy' },
    critic: { description: 'the fit-iql critic the policy was extracted from' },
    dataset: { description: 'the dataset' },
  },
  outputs: {
    actions: { description: 'per sampled state: policy action a0.., std, data action data_a0.., norm, q_pi, q_data, nn_dist; summary JSON in the metadata' },
  },
  async run(ctx) {
    const p = ctx.params;
    // The backend is chosen before any model code runs so the choice holds for the whole stage.
    await (await import('./lib/backend.js')).useBackend(ctx as never, p.backend);
    const { tableToTransitions } = await import('../src/rl/data/dataset.js');
    const { policyFromTable } = await import('../src/rl/algos/policy.js');
    const { criticFromTable } = await import('../src/rl/algos/critic.js');
    const { Rng } = await import('../src/rl/envs/rng.js');
    const { tableFromArrays } = await import('apache-arrow');
    const { withMetadata } = await import('./lib/train-loop.js');
    const data = tableToTransitions(await (ctx.inputs['dataset'] as InputArtifact).table());
    const policy = policyFromTable(await (ctx.inputs['policy'] as InputArtifact).table(), ctx.seed);
    const critic = criticFromTable(await (ctx.inputs['critic'] as InputArtifact).table());
    try {
      const { obsDim, actDim } = data;
      const rng = new Rng(ctx.seed, 11);
      const n = Math.min(p.states, data.size);
      const pick = (count: number) => {
        const idx = new Int32Array(count);
        for (let i = 0; i < count; i++) idx[i] = rng.int(data.size);
        return idx;
      };
      const gather = (src: Float32Array, dim: number, idx: Int32Array) => {
        const out = new Float32Array(idx.length * dim);
        idx.forEach((r, i) => out.set(src.subarray(r * dim, (r + 1) * dim), i * dim));
        return out;
      };
      const idx = pick(n);
      const obs = gather(data.observations, obsDim, idx);
      const dataAct = gather(data.actions, actDim, idx);
      ctx.progress(0, 3, 'policy');
      const stats = policy.stats(obs, n);
      const act = stats.mode;
      ctx.progress(1, 3, 'critic');
      const qPi = critic.evaluate(obs, act, n);
      const qData = critic.evaluate(obs, dataAct, n);
      ctx.progress(2, 3, 'nearest data actions');
      const poolIdx = pick(Math.min(p.neighbour_pool, data.size));
      const nn = distanceToNearbyData(obs, act, gather(data.observations, obsDim, poolIdx), gather(data.actions, actDim, poolIdx), obsDim, actDim, Math.min(p.neighbours, poolIdx.length));
      // The critic's own greedy action over a grid of the action box: tells a policy that failed to
      // find the critic's maximum apart from a critic whose maximum is itself wrong.
      const gridCols: Record<string, Float32Array> = {};
      let gridSummary: Record<string, number> = {};
      if (p.grid_bins >= 2 && p.grid_bins ** actDim <= 10_000) {
        const grid = actionGrid(p.grid_bins, actDim);
        const g = grid.length / actDim;
        const best = new Float32Array(n * actDim);
        const bestQ = new Float32Array(n);
        const chunk = Math.max(1, Math.floor(50_000 / g));
        for (let i0 = 0; i0 < n; i0 += chunk) {
          const m = Math.min(chunk, n - i0);
          const o = new Float32Array(m * g * obsDim);
          const a = new Float32Array(m * g * actDim);
          for (let i = 0; i < m; i++) {
            for (let k = 0; k < g; k++) o.set(obs.subarray((i0 + i) * obsDim, (i0 + i + 1) * obsDim), (i * g + k) * obsDim);
            a.set(grid, i * g * actDim);
          }
          const q = critic.evaluate(o, a, m * g);
          for (let i = 0; i < m; i++) {
            let bk = 0, bq = -Infinity;
            for (let k = 0; k < g; k++) {
              const v = Math.min(q.q1[i * g + k]!, q.q2[i * g + k]!);
              if (v > bq) { bq = v; bk = k; }
            }
            bestQ[i0 + i] = bq;
            best.set(grid.subarray(bk * actDim, (bk + 1) * actDim), (i0 + i) * actDim);
          }
        }
        for (let d = 0; d < actDim; d++) gridCols[`grid_a${d}`] = Float32Array.from({ length: n }, (_, i) => best[i * actDim + d]!);
        gridCols['q_grid_max'] = bestQ;
        const gridGeo = actionGeometry(best, actDim, p.edge_tol);
        let dist = 0;
        for (let i = 0; i < n; i++) {
          let s2 = 0;
          for (let d = 0; d < actDim; d++) s2 += (best[i * actDim + d]! - act[i * actDim + d]!) ** 2;
          dist += Math.sqrt(s2) / n;
        }
        let gap = 0;
        for (let i = 0; i < n; i++) gap += (bestQ[i]! - Math.min(qPi.q1[i]!, qPi.q2[i]!)) / n;
        gridSummary = { grid_edge_fraction: gridGeo.onEdge.reduce((x, y) => x + y, 0) / n, grid_dist: dist, q_grid_gap: gap };
      }
      const geo = actionGeometry(act, actDim, p.edge_tol);
      const dataGeo = actionGeometry(dataAct, actDim, p.edge_tol);
      const cols: Record<string, Float32Array | Float64Array | Int32Array> = { row: idx };
      for (let d = 0; d < actDim; d++) cols[`a${d}`] = Float32Array.from({ length: n }, (_, i) => act[i * actDim + d]!);
      for (let d = 0; d < actDim; d++) cols[`data_a${d}`] = Float32Array.from({ length: n }, (_, i) => dataAct[i * actDim + d]!);
      const qpi = Float64Array.from({ length: n }, (_, i) => Math.min(qPi.q1[i]!, qPi.q2[i]!));
      const qdata = Float64Array.from({ length: n }, (_, i) => Math.min(qData.q1[i]!, qData.q2[i]!));
      Object.assign(cols, gridCols, { std: stats.std, entropy: stats.entropy, norm: geo.norms, on_edge: Float64Array.from(geo.onEdge), q_pi: qpi, q_data: qdata, v: Float64Array.from(qPi.v), nn_dist: nn });
      const mean = (x: ArrayLike<number>) => { let s = 0, c = 0; for (let i = 0; i < x.length; i++) if (Number.isFinite(x[i]!)) { s += x[i]!; c++; } return c ? s / c : NaN; };
      const summary = {
        mean_std: mean(stats.std),
        mean_entropy: mean(stats.entropy),
        edge_fraction: mean(geo.onEdge),
        circle_fraction: mean(geo.onCircle),
        mean_norm: mean(geo.norms),
        data_edge_fraction: mean(dataGeo.onEdge),
        data_mean_norm: mean(dataGeo.norms),
        q_gap: mean(Float64Array.from(qpi, (v, i) => v - qdata[i]!)),
        q_pi: mean(qpi),
        q_data: mean(qdata),
        nn_dist: mean(nn),
        ...gridSummary,
      };
      ctx.progress(3, 3);
      const actions = await withMetadata(tableFromArrays(cols), { summary: JSON.stringify(summary) });
      return { outputs: { actions }, summary };
    } finally {
      policy.dispose();
      critic.dispose();
    }
  },
};
export default stage;

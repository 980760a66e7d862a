/**
 * diagnose: why extraction methods differ. At sampled dataset states it measures the policy's std,
 * where its actions sit relative to the action box and unit circle, how far they are from the data
 * actions seen near that state, and how much better the critic thinks they are than the data action.
 *
 * Where policies fail (src/rl/diagnostics/): in a maze, the critic's V and greedy action over a
 * dense grid of positions at rest (`value_map`) and the policy's action there (`action_field`);
 * given evaluate's `visited` states, the policy against the critic's greedy action on the states
 * its episodes reached (`visited_gaps`). These live here rather than in a stage of their own
 * because they need exactly this stage's pairing (one policy, the critic it was extracted from),
 * and pipelines then need no new stage block. The price: `value_map` depends on the critic only
 * and is recomputed for every policy of one critic (a few seconds); its metadata names the critic
 * by digest so the report draws each critic once. Locomotion has no maze: no maps.
 */
import type { InputArtifact, StageKind } from '../src/engine/stage.js';
import { diagnoseSchema, type DiagnoseParams } from './params/diagnose.js';

export { actionGrid } from '../src/rl/diagnostics/greedy.js';
type Columns = import('../src/rl/diagnostics/columns.js').Columns;

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

const stage: StageKind<DiagnoseParams> = {
  kind: 'diagnose',
  version: '3',
  description: 'Policy std, edge/unit-circle fractions, distance to data actions and Q(s,π(s)) − Q(s,a) at dataset states; value map, action fields and greedy gaps at visited states in mazes.',
  params: diagnoseSchema,
  inputs: {
    policy: { description: 'an extract-policy policy' },
    critic: { description: 'the fit-iql critic the policy was extracted from' },
    dataset: { description: 'the dataset' },
    visited: { description: "evaluate's visited states of this policy's episodes (episode, t, final, o0..)", optional: true },
  },
  outputs: {
    actions: { description: 'per sampled state: policy action a0.., std, data action data_a0.., norm, q_pi, q_data, nn_dist; summary JSON in the metadata' },
    value_map: { description: 'mazes: per grid position at rest (gi, gj, x, y): V, q_max = max over the action grid of min(Q1,Q2), greedy_a0..', optional: true },
    action_field: { description: 'mazes: per grid position: the policy action a0.., q_pi, v, and against the greedy action greedy_a0.., q_max, q_gap, greedy_dist', optional: true },
    visited_gaps: { description: 'per visited state (episode, t, final, x, y): a0.., q_pi, v, greedy_a0.., q_max, q_gap = q_max − q_pi, greedy_dist = ‖π(s) − argmax_a Q‖; summary JSON in the metadata', optional: true },
  },
  async run(ctx) {
    const p = ctx.params;
    // The backend is chosen before any model code runs so the choice holds for the whole stage.
    await (await import('./lib/backend.js')).useBackend(ctx, p.backend);
    const { tableToTransitions } = await import('../src/rl/data/dataset.js');
    const { policyFromTable } = await import('../src/rl/algos/policy.js');
    const { criticFromTable } = await import('../src/rl/algos/critic.js');
    const { Rng } = await import('../src/rl/rng.js');
    const { tableFromArrays } = await import('apache-arrow');
    const { withMetadata } = await import('./lib/train-loop.js');
    const { greedyOnGrid, rowDistances, searchableGrid, finiteMean: mean } = await import('../src/rl/diagnostics/greedy.js');
    const cols = await import('../src/rl/diagnostics/columns.js');
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
      ctx.progress(0, 5, 'policy');
      const stats = policy.stats(obs, n);
      const act = stats.mode;
      ctx.progress(1, 5, 'critic');
      const qPi = critic.evaluate(obs, act, n);
      const qData = critic.evaluate(obs, dataAct, n);
      ctx.progress(2, 5, 'nearest data actions');
      const poolIdx = pick(Math.min(p.neighbour_pool, data.size));
      const nn = distanceToNearbyData(obs, act, gather(data.observations, obsDim, poolIdx), gather(data.actions, actDim, poolIdx), obsDim, actDim, Math.min(p.neighbours, poolIdx.length));
      // The critic's own greedy action over a grid of the action box: tells a policy that failed to
      // find the critic's maximum apart from a critic whose maximum is itself wrong.
      const gridCols: Record<string, Float32Array> = {};
      let gridSummary: Record<string, number> = {};
      const grid = searchableGrid(p.grid_bins, actDim);
      if (grid) {
        const g = greedyOnGrid(critic, obs, n, grid);
        Object.assign(gridCols, cols.splitColumns('grid_a', g.action, actDim), { q_grid_max: g.q });
        const gridGeo = actionGeometry(g.action, actDim, p.edge_tol);
        const dist = rowDistances(g.action, act, actDim).reduce((s, x) => s + x / n, 0);
        let gap = 0;
        for (let i = 0; i < n; i++) gap += (g.q[i]! - Math.min(qPi.q1[i]!, qPi.q2[i]!)) / n;
        gridSummary = { grid_edge_fraction: gridGeo.onEdge.reduce((x, y) => x + y, 0) / n, grid_dist: dist, q_grid_gap: gap };
      }
      const geo = actionGeometry(act, actDim, p.edge_tol);
      const dataGeo = actionGeometry(dataAct, actDim, p.edge_tol);
      const actionCols: Columns = { row: idx, ...cols.splitColumns('a', act, actDim), ...cols.splitColumns('data_a', dataAct, actDim) };
      const qpi = Float64Array.from({ length: n }, (_, i) => Math.min(qPi.q1[i]!, qPi.q2[i]!));
      const qdata = Float64Array.from({ length: n }, (_, i) => Math.min(qData.q1[i]!, qData.q2[i]!));
      Object.assign(actionCols, gridCols, { std: stats.std, entropy: stats.entropy, norm: geo.norms, on_edge: Float64Array.from(geo.onEdge), q_pi: qpi, q_data: qdata, v: Float64Array.from(qPi.v), nn_dist: nn });
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
      const outputs: Record<string, import('apache-arrow').Table> = {};
      outputs['actions'] = await withMetadata(tableFromArrays(actionCols), { summary: JSON.stringify(summary) });
      ctx.progress(3, 5, 'maze maps');
      const { mazeFrameFor, positionsMetadata } = await import('../src/rl/diagnostics/maze-frame.js');
      const frame = mazeFrameFor(data.envId);
      if (frame && frame.obsDim !== obsDim) throw new Error(`diagnose: ${data.envId} observations have ${frame.obsDim} values, the dataset ${obsDim}`);
      // What the report needs to draw positions: the maze and its frame, the goal and its radius.
      const frameMeta = positionsMetadata(data.envId, frame);
      if (frame && p.map_per_cell > 0) {
        const { positionGrid, valueMap, actionField } = await import('../src/rl/diagnostics/maze-maps.js');
        const positions = positionGrid(frame, p.map_per_cell);
        const map = valueMap(critic, positions, searchableGrid(p.map_grid_bins, actDim));
        const mapMeta = { ...frameMeta, per_cell: String(p.map_per_cell), critic: (ctx.inputs['critic'] as InputArtifact).digest };
        outputs['value_map'] = await withMetadata(tableFromArrays(cols.valueMapColumns(positions, map, actDim)), mapMeta);
        const field = actionField(critic, policy, positions, map);
        outputs['action_field'] = await withMetadata(tableFromArrays(cols.actionFieldColumns(positions, field, actDim)), mapMeta);
      }
      ctx.progress(4, 5, 'visited states');
      const visitedInput = ctx.inputs['visited'] as InputArtifact | undefined;
      let visitedSummary: Record<string, number> = {};
      if (visitedInput) {
        const { visitedFromColumns } = await import('../src/rl/envs/shared/visited.js');
        const { policyVsCritic } = await import('../src/rl/diagnostics/greedy.js');
        const vt = await visitedInput.table();
        const visited = visitedFromColumns((name) => (vt.getChild(name)?.toArray() as ArrayLike<number> | undefined) ?? null);
        if (visited.obsDim !== obsDim) throw new Error(`diagnose: visited input ${visitedInput.instance} has ${visited.obsDim} observation columns, the dataset ${obsDim}`);
        const m = visited.episode.length;
        if (m > 0) {
          const r = policyVsCritic(critic, policy, visited.obs, m, grid ? { grid } : null);
          visitedSummary = cols.visitedGapSummary(visited, r);
          outputs['visited_gaps'] = await withMetadata(tableFromArrays(cols.visitedGapColumns(visited, r, actDim, frame !== null)), { ...frameMeta, summary: JSON.stringify(visitedSummary) });
        }
      }
      ctx.progress(5, 5);
      return { outputs, summary: { ...summary, ...visitedSummary } };
    } finally {
      policy.dispose();
      critic.dispose();
    }
  },
};
export default stage;

/**
 * evaluate → diagnose in-process on a tiny maze2d study (dataset → IQL → DDPG, a few dozen steps):
 * evaluate's `visited` sample and diagnose's value map, action field and visited-state gaps have
 * the documented columns, sizes and value ranges; the old outputs are unchanged by the new ones;
 * locomotion skips the maze outputs. And the stage's geometry helpers against hand-computed values.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tableToIPC, type Table } from 'apache-arrow';
import type { StageKind, StageResult } from '../src/engine/stage.js';
import { runStage, tableArtifact } from './lib/test-harness.js';
import loadDataset from './load-dataset.js';
import fitIql from './fit-iql.js';
import extractPolicy from './extract-policy.js';
import evaluate from './evaluate.js';
import diagnose, { actionGeometry, actionGrid, distanceToNearbyData } from './diagnose.js';
import { syntheticTransitions } from '../src/rl/algos/fixtures.js';
import { transitionsToTable } from '../src/rl/data/dataset.js';

/** Runs a stage kind with schema defaults filled in; inputs are in-memory tables. */
async function run(kind: StageKind, params: Record<string, unknown>, inputs: Record<string, Table> = {}, seed = 0): Promise<StageResult> {
  const artifacts = Object.fromEntries(Object.entries(inputs).map(([name, t]) => [name, tableArtifact(name, t)]));
  return (await runStage(kind, params, artifacts, { seed })).result;
}
const table = (r: StageResult, name: string) => r.outputs[name] as Table;
const columns = (t: Table) => t.schema.fields.map((f) => f.name);
const values = (t: Table, name: string) => Array.from(t.getChild(name)!.toArray() as ArrayLike<number>);
const tiny = { hidden: [16, 16], batch_size: 64, log_every: 20, checkpoint_every: 1000 };

/** Random transitions labelled with an env id → a 2-step critic and policy, evaluated with a visited sample. */
async function untrainedStudy(envId: string, obsDim: number, actDim: number, method: string, visitedStates: number) {
  const dataset = transitionsToTable({ ...syntheticTransitions(600, obsDim, actDim), envId }, { source: 'generate' });
  const critic = table(await run(fitIql, { ...tiny, steps: 2 }, { dataset }), 'critic');
  const policy = table(await run(extractPolicy, { ...tiny, method, steps: 2 }, { dataset, critic }), 'policy');
  const ev = await run(evaluate, { episodes: 2, visited_states: visitedStates }, { policy });
  return { dataset, critic, policy, ev, visited: table(ev, 'visited') };
}

test('maze2d: evaluate visited states → diagnose value map, action field, visited gaps', { timeout: 300_000 }, async () => {
  const dataset = table(await run(loadDataset, { env: 'maze2d-umaze-v1', size: 3000 }), 'dataset');
  const critic = table(await run(fitIql, { ...tiny, steps: 40 }, { dataset }), 'critic');
  const policy = table(await run(extractPolicy, { ...tiny, method: 'ddpg', steps: 40 }, { dataset, critic }), 'policy');

  const episodes = 4;
  const ev = await run(evaluate, { episodes, record_trajectories: 1, visited_states: 200 }, { policy }, 3);
  const visited = table(ev, 'visited');
  assert.deepEqual(columns(visited), ['episode', 't', 'final', 'o0', 'o1', 'o2', 'o3']);
  assert.ok(visited.numRows <= 200 + episodes && visited.numRows >= 150, `about 200 rows: ${visited.numRows}`);
  assert.equal(visited.schema.metadata.get('env_id'), 'maze2d-umaze-v1');
  assert.equal(visited.schema.metadata.get('layout'), table(ev, 'trajectories').schema.metadata.get('layout'));
  const final = values(visited, 'final');
  assert.equal(final.reduce((s, x) => s + x, 0), episodes, 'each episode ends once');
  // The last visited position of each episode is where evaluate measured its final goal distance.
  const endDist = values(table(ev, 'episodes'), 'final_goal_distance');
  final.forEach((f, r) => {
    if (f) assert.ok(Math.abs(Math.hypot(values(visited, 'o0')[r]! - 1, values(visited, 'o1')[r]! - 1) - endDist[values(visited, 'episode')[r]!]!) < 1e-5);
  });
  const noVisited = await run(evaluate, { episodes, record_trajectories: 1, visited_states: 0 }, { policy }, 3);
  assert.equal(noVisited.outputs['visited'], undefined);
  assert.deepEqual(tableToIPC(table(noVisited, 'episodes')), tableToIPC(table(ev, 'episodes')), 'episodes do not depend on recording');

  const params = { states: 50, neighbour_pool: 500, grid_bins: 5, map_per_cell: 2, map_grid_bins: 5 };
  const d = await run(diagnose, params, { policy, critic, dataset, visited });
  const map = table(d, 'value_map');
  assert.deepEqual(columns(map), ['gi', 'gj', 'x', 'y', 'v', 'q_max', 'greedy_a0', 'greedy_a1']);
  assert.equal(map.numRows, 7 * 4, '7 free cells × 2² positions');
  assert.equal(map.schema.metadata.get('critic'), 'critic-digest'.padEnd(64, '0'));
  assert.deepEqual([map.schema.metadata.get('goal'), map.schema.metadata.get('goal_radius'), map.schema.metadata.get('per_cell')], ['1,1', '0.5', '2']);
  for (const x of [...values(map, 'x'), ...values(map, 'y')]) assert.ok(x > -0.2 && x < 3.3, `position inside the maze: ${x}`);
  for (const a of [...values(map, 'greedy_a0'), ...values(map, 'greedy_a1')]) assert.ok([-1, -0.5, 0, 0.5, 1].includes(a), `greedy action on the 5-bin grid: ${a}`);
  assert.ok(values(map, 'v').every(Number.isFinite));
  const field = table(d, 'action_field');
  assert.deepEqual(columns(field), ['gi', 'gj', 'x', 'y', 'a0', 'a1', 'q_pi', 'v', 'greedy_a0', 'greedy_a1', 'q_max', 'q_gap', 'greedy_dist']);
  assert.deepEqual(values(field, 'q_max'), values(map, 'q_max'), 'the action field is measured against the value map\'s greedy field');
  const gaps = table(d, 'visited_gaps');
  assert.deepEqual(columns(gaps), ['episode', 't', 'final', 'x', 'y', 'a0', 'a1', 'q_pi', 'v', 'greedy_a0', 'greedy_a1', 'q_max', 'q_gap', 'greedy_dist']);
  assert.equal(gaps.numRows, visited.numRows);
  assert.deepEqual(values(gaps, 'x'), values(visited, 'o0'));
  for (const t of [field, gaps]) {
    for (const a of [...values(t, 'a0'), ...values(t, 'a1')]) assert.ok(Math.abs(a) <= 1, 'policy actions in the box');
    for (const g of values(t, 'greedy_dist')) assert.ok(g >= 0 && g <= 2 * Math.SQRT2 + 1e-6);
    values(t, 'q_gap').forEach((g, i) => assert.ok(Math.abs(g - (values(t, 'q_max')[i]! - values(t, 'q_pi')[i]!)) < 1e-4));
  }
  const summary = JSON.parse(gaps.schema.metadata.get('summary')!) as Record<string, number>;
  assert.equal(summary['visited_states'], visited.numRows);
  for (const k of ['visited_greedy_dist', 'visited_q_grid_gap', 'visited_q_pi_minus_v', 'final_greedy_dist', 'final_q_grid_gap']) {
    assert.ok(Number.isFinite(summary[k]), k);
    assert.equal(d.summary![k], summary[k], `${k} in the stage summary`);
  }
  // The dataset-state table is the same with or without the new outputs.
  const plain = await run(diagnose, { ...params, map_per_cell: 0 }, { policy, critic, dataset });
  assert.deepEqual(Object.keys(plain.outputs), ['actions']);
  assert.deepEqual(tableToIPC(table(plain, 'actions')), tableToIPC(table(d, 'actions')));
});

test('antmaze: V map at rest (no greedy search over 11^8 actions), visited gaps with world positions, the report section draws it', { timeout: 300_000 }, async () => {
  const { dataset, critic, policy, ev, visited } = await untrainedStudy('antmaze-umaze-v2', 29, 8, 'ddpg', 50);
  assert.equal(visited.schema.metadata.get('frame'), 'antmaze-world');
  const d = await run(diagnose, { states: 20, neighbour_pool: 100, grid_bins: 0, map_per_cell: 2 }, { policy, critic, dataset, visited });
  assert.deepEqual(columns(table(d, 'value_map')), ['gi', 'gj', 'x', 'y', 'v']);
  assert.equal(table(d, 'value_map').numRows, 7 * 4);
  assert.deepEqual(columns(table(d, 'visited_gaps')).slice(0, 5), ['episode', 't', 'final', 'x', 'y']);
  const { mazeDiagnosticsSection } = await import('../src/report/maze-section.js');
  const { renderChart } = await import('../src/report/render.js');
  const lt = (t: Table) => [{ label: 'ddpg', seed: '0', table: t }];
  const drawn: string[] = [];
  const section = await mazeDiagnosticsSection(
    { valueMaps: lt(table(d, 'value_map')), actionFields: lt(table(d, 'action_field')), visitedGaps: lt(table(d, 'visited_gaps')), visited: lt(visited), evaluations: lt(table(ev, 'episodes')) },
    async (name, spec) => {
      drawn.push(name);
      assert.ok((await renderChart(spec)).png.length > 2000, `${name} renders`);
      return { name };
    },
  );
  assert.ok(section);
  assert.deepEqual(drawn, ['fig_value_map', 'fig_visited_gaps', 'fig_episode_ends', 'fig_end_distance'], '8-D actions: no arrows');
});

test('locomotion: diagnose skips the maze outputs; visited gaps have no grid columns when the grid is too large', { timeout: 300_000 }, async () => {
  const { dataset, critic, policy, visited } = await untrainedStudy('halfcheetah-v2', 17, 6, 'awr', 20);
  assert.equal(columns(visited).length, 3 + 17);
  const d = await run(diagnose, { states: 20, neighbour_pool: 100 }, { policy, critic, dataset, visited });
  assert.deepEqual(Object.keys(d.outputs).sort(), ['actions', 'visited_gaps']);
  assert.deepEqual(columns(table(d, 'visited_gaps')), ['episode', 't', 'final', 'a0', 'a1', 'a2', 'a3', 'a4', 'a5', 'q_pi', 'v'], 'no positions, no greedy columns (21^6 grid)');
});

test('actionGeometry: norms, box edge and unit circle', () => {
  const g = actionGeometry(Float32Array.from([1, 0, 0.6, 0.8, 0.1, 0.1, -0.99, 0.5]), 2, 0.02);
  assert.deepEqual(Array.from(g.norms, (x) => +x.toFixed(4)), [1, 1, 0.1414, 1.1091]);
  assert.deepEqual(Array.from(g.onEdge), [1, 0, 0, 1]);
  assert.deepEqual(Array.from(g.onCircle), [1, 1, 0, 1]);
});

test('actionGrid: bins^d points covering the box, edges included', () => {
  const grid = actionGrid(3, 2);
  assert.deepEqual(Array.from(grid), [-1, -1, -1, 0, -1, 1, 0, -1, 0, 0, 0, 1, 1, -1, 1, 0, 1, 1]);
});

test('distanceToNearbyData: nearest action among the k nearest states', () => {
  // Pool: states 0, 1, 10 with actions 0.5, -0.5, 1; query at state 0.2 with action 0.4.
  const d1 = distanceToNearbyData(Float32Array.from([0.2]), Float32Array.from([0.4]), Float32Array.from([0, 1, 10]), Float32Array.from([0.5, -0.5, 1]), 1, 1, 1);
  assert.ok(Math.abs(d1[0]! - 0.1) < 1e-6, `k=1 uses only state 0: ${d1[0]}`);
  const d2 = distanceToNearbyData(Float32Array.from([0.9]), Float32Array.from([0.9]), Float32Array.from([0, 1, 10]), Float32Array.from([0.5, -0.5, 1]), 1, 1, 2);
  assert.ok(Math.abs(d2[0]! - 0.4) < 1e-6, `k=2 sees states 1 and 0, nearest action 0.5: ${d2[0]}`);
});

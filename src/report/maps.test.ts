/** Maze diagnostics figures rendered to SVG/PNG: marks, facets, arrow directions, frames; the report section. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tableFromArrays, RecordBatch, Schema, Table } from 'apache-arrow';
import { actionFieldChart, endDistanceHistogram, GREEDY_PANEL, mazePlotFrame, mazePointsChart, radiusCircle, thinArrows, valueMapChart, type FieldArrow } from './maps.js';
import { mazeDiagnosticsSection, type LabelledTable } from './maze-section.js';
import { METHOD_COLORS, pngSize, renderChart } from './render.js';
import { countInMark, markGroups, roleTexts } from './svg-test-helpers.js';

const UMAZE = '#####\n#GOO#\n###O#\n#OOO#\n#####';
const umaze = mazePlotFrame((k) => ({ layout: UMAZE, goal: '1,1', goal_radius: '0.5' })[k])!;

/** Screen direction (dx, dy) of each arrow shaft: Vega writes `<line transform="translate(x,y)" x2=… y2=…>`. */
function shafts(svg: string): [number, number][] {
  return [...markGroups(svg, 'arrow_shafts').join('').matchAll(/<line[^>]*x2="([-\d.e]+)" y2="([-\d.e]+)"/g)].map((m) => [Number(m[1]), Number(m[2])]);
}

test('mazePlotFrame: maze2d is the identity; AntMaze world metres map onto cells like the rollouts; goal and radius', () => {
  assert.deepEqual(umaze.toPlot(1.5, 2.5), { x: 1.5, y: 2.5 });
  assert.deepEqual([umaze.goal, umaze.goalRadius], [{ x: 1, y: 1 }, 0.5]);
  const ant = mazePlotFrame((k) => ({ layout: '#####\n#ROO#\n###O#\n#GOO#\n#####', frame: 'antmaze-world', cell_size: '4', origin: '4,4', goal: '0.75,8.75', goal_radius: '0.5' })[k])!;
  // Cell (3, 1) is centred at world (1·4 − 4, 3·4 − 4) = (0, 8): its plot-frame box centre is (3 − 0.2, 1 − 0.2).
  const c = ant.toPlot(0, 8);
  assert.ok(Math.abs(c.x - 2.8) < 1e-9 && Math.abs(c.y - 0.8) < 1e-9);
  assert.equal(ant.goalRadius, 0.125, 'the radius in cells');
  assert.ok(ant.axisTitles![0].includes('world y'));
  assert.equal(mazePlotFrame(() => undefined), null);
  const circle = radiusCircle({ x: 1, y: 2 }, 0.5, 8);
  assert.equal(circle.length, 9);
  for (const p of circle) assert.ok(Math.abs(Math.hypot(p.v - 1, p.h - 2) - 0.5) < 1e-12);
});

test('valueMapChart: a heat cell per position, greedy arrows pointing the way the action moves the ball, goal radius, 2x PNG', async () => {
  const cells = [0.8, 1.2].flatMap((x) => [2.8, 3.2].map((y) => ({ panel: 'critic', x, y, size: 0.4, value: x + y })));
  // a0 > 0 moves qpos[0] (the row) down the screen; a1 > 0 moves qpos[1] (the column) right.
  const arrows: FieldArrow[] = [{ panel: 'critic', x: 0.8, y: 2.8, a0: 1, a1: 0 }, { panel: 'critic', x: 1.2, y: 3.2, a0: 0, a1: -1 }];
  const r = await renderChart(valueMapChart(umaze, cells, arrows, { title: 'V' }));
  assert.equal(countInMark(r.svg, 'value_cells'), 4);
  const [down, left] = shafts(r.svg);
  assert.ok(down![1] > 5 && Math.abs(down![0]) < 1e-6, `a = (1, 0) points down: ${down}`);
  assert.ok(left![0] < -5 && Math.abs(left![1]) < 1e-6, `a = (0, −1) points left: ${left}`);
  assert.equal(countInMark(r.svg, 'arrow_heads'), 2);
  assert.equal(markGroups(r.svg, 'goal_radius').length, 1);
  assert.equal(countInMark(r.svg, 'maze_walls'), UMAZE.split('#').length - 1);
  assert.ok(roleTexts(r.svg, 'role-legend-title').includes('V(s)'));
  const { width, height } = pngSize(r.png);
  assert.deepEqual([width, height], [Math.round(r.width * r.scale), Math.round(r.height * r.scale)]);
});

test('actionFieldChart: the greedy panel first and black, then methods in order and colour', async () => {
  const at = (panel: string, a0: number, a1: number): FieldArrow => ({ panel, x: 3, y: 2, a0, a1 });
  const r = await renderChart(actionFieldChart(umaze, [at('ddpg', 1, 1), at(GREEDY_PANEL, 0, 1), at('awr', -0.2, 0)]));
  assert.deepEqual(roleTexts(r.svg, 'role-title-text').filter((t) => [GREEDY_PANEL, 'awr', 'ddpg'].includes(t)), [GREEDY_PANEL, 'awr', 'ddpg']);
  const groups = markGroups(r.svg, 'arrow_shafts');
  assert.equal(groups.length, 3);
  assert.match(groups[0]!, /stroke="#111111"/);
  assert.match(groups[1]!, new RegExp(`stroke="${METHOD_COLORS.awr}"`));
  assert.match(groups[2]!, new RegExp(`stroke="${METHOD_COLORS.ddpg}"`));
  assert.equal(markGroups(r.svg, 'goal_radius').length, 3, 'the reward radius in every facet');
});

test('mazePointsChart: coloured by value with a legend, or by method; endDistanceHistogram marks the radius', async () => {
  const pts = [{ panel: 'ddpg', x: 1.3, y: 1.4, value: 0.2 }, { panel: 'ddpg', x: 1, y: 1.2, value: 0.05 }, { panel: 'awr', x: 3, y: 1, value: NaN }];
  const byValue = await renderChart(mazePointsChart(umaze, pts, { colorTitle: 'gap', name: 'gap_points' }));
  assert.equal(countInMark(byValue.svg, 'gap_points'), 2, 'non-finite values dropped');
  assert.ok(roleTexts(byValue.svg, 'role-legend-title').includes('gap'));
  const ends = await renderChart(mazePointsChart(umaze, pts, { name: 'end_points' }));
  assert.equal(countInMark(ends.svg, 'end_points'), 3);
  assert.match(markGroups(ends.svg, 'end_points')[0]!, new RegExp(`fill="${METHOD_COLORS.awr}"`));
  const dist = [0.3, 0.6, 0.62, 0.7].map((d) => ({ method: 'ddpg', distance: d })).concat([{ method: 'awr', distance: 2.1 }]);
  const h = await renderChart(endDistanceHistogram(dist, 0.5));
  assert.equal(countInMark(h.svg, 'radius_rule', 'line'), 2);
  assert.deepEqual(roleTexts(h.svg, 'role-mark radius_text_marks'), ['ends within 0.5: 0%', 'ends within 0.5: 25%'], 'awr, ddpg');
});

function withMeta(t: Table, m: Record<string, string>): Table {
  const schema = new Schema(t.schema.fields, new Map(Object.entries(m)));
  return new Table(schema, t.batches.map((b) => new RecordBatch(schema, b.data)));
}

test('mazeDiagnosticsSection: every figure and the gap table from diagnose/evaluate-shaped tables', async () => {
  const maze = { layout: UMAZE, env_id: 'maze2d-umaze-v1', goal: '1,1', goal_radius: '0.5', per_cell: '2', critic: 'c1' };
  const grid = { gi: Int32Array.from([2, 2]), gj: Int32Array.from([2, 3]), x: Float32Array.from([0.55, 0.55]), y: Float32Array.from([0.55, 1.05]) };
  const valueMap = withMeta(tableFromArrays({ ...grid, v: Float32Array.from([1, 2]), q_max: Float32Array.from([1, 2]), greedy_a0: Float32Array.from([0, 1]), greedy_a1: Float32Array.from([1, 0]) }), maze);
  const field = withMeta(tableFromArrays({ ...grid, a0: Float32Array.from([1, 1]), a1: Float32Array.from([-1, 1]), greedy_a0: Float32Array.from([0, 1]), greedy_a1: Float32Array.from([1, 0]) }), maze);
  const summary = { visited_states: 2, visited_greedy_dist: 0.4, visited_q_grid_gap: 0.01, final_greedy_dist: 0.9, final_q_grid_gap: 0.02, visited_q_pi_minus_v: -0.1 };
  const gaps = withMeta(tableFromArrays({ episode: Int32Array.from([0, 0]), t: Int32Array.from([0, 300]), final: Int32Array.from([0, 1]), x: Float32Array.from([3, 1.2]), y: Float32Array.from([1, 1.3]), q_gap: Float64Array.from([0.1, 0.3]) }), { ...maze, summary: JSON.stringify(summary) });
  const visited = withMeta(tableFromArrays({ episode: Int32Array.from([0, 0]), t: Int32Array.from([0, 300]), final: Int32Array.from([0, 1]), o0: Float32Array.from([3, 1.2]), o1: Float32Array.from([1, 1.3]) }), maze);
  const episodes = tableFromArrays({ final_goal_distance: Float64Array.from([0.36]) });
  const lt = (label: string, seed: string, table: Table): LabelledTable => ({ label, seed, table });
  const rendered: string[] = [];
  const section = await mazeDiagnosticsSection(
    {
      valueMaps: [lt('ddpg', '0', valueMap), lt('awr', '0', valueMap)],
      actionFields: [lt('ddpg', '1', field), lt('ddpg', '0', field), lt('awr', '0', field)],
      visitedGaps: [lt('ddpg', '0', gaps), lt('ddpg', '1', gaps)],
      visited: [lt('ddpg', '0', visited)],
      evaluations: [lt('ddpg', '0', episodes)],
    },
    async (name, spec, caption) => {
      rendered.push(name);
      const r = await renderChart(spec);
      return { name, svg: r.svg, caption };
    },
  );
  assert.deepEqual(rendered, ['fig_value_map', 'fig_action_fields', 'fig_visited_gaps', 'fig_episode_ends', 'fig_end_distance']);
  assert.equal(section!.title, 'Where policies fail');
  const fields = section!.images!.find((i) => i.name === 'fig_action_fields')!.svg!;
  assert.equal(markGroups(fields, 'arrow_shafts').length, 3, 'greedy, awr, ddpg (first seed only)');
  assert.equal(countInMark(fields, 'arrow_shafts', 'line'), 6);
  assert.equal(countInMark(section!.images!.find((i) => i.name === 'fig_value_map')!.svg!, 'value_cells'), 2, 'one critic drawn once');
  assert.deepEqual(section!.table!.columns[0], 'method');
  assert.equal(section!.table!.rows.length, 1);
  assert.equal((section!.table!.rows[0] as string[]).at(-1), '2', 'two seeds');
  // Nothing maze-shaped: no section.
  assert.equal(await mazeDiagnosticsSection({ valueMaps: [], actionFields: [], visitedGaps: [], visited: [], evaluations: [lt('awr', '0', episodes)] }, async () => ({ name: 'x' })), null);
});

test('thinArrows: a small maze keeps every arrow; a large one keeps every k-th lattice point and a wider spacing', () => {
  const lattice = (nx: number, ny: number, spacing: number): FieldArrow[] =>
    Array.from({ length: nx * ny }, (_, i) => ({ panel: 'awr', x: 0.125 + (i % nx) * spacing, y: 0.125 + Math.floor(i / nx) * spacing, a0: 1, a1: 0 }));
  const umaze = lattice(12, 12, 0.25); // 3 × 3 cells at 4 per cell
  assert.deepEqual(thinArrows(umaze, 0.25), { arrows: umaze, spacing: 0.25 });
  const large = lattice(40, 30, 0.25); // 10 × 7.5 cells
  const thin = thinArrows(large, 0.25);
  assert.equal(thin.spacing, 0.5);
  assert.equal(thin.arrows.length, 20 * 15);
  assert.ok(thin.arrows.every((a) => Number.isInteger((a.x - 0.125) / 0.5) && Number.isInteger((a.y - 0.125) / 0.5)), 'on the coarser lattice');
  assert.deepEqual(thinArrows([], 0.25), { arrows: [], spacing: 0.25 });
});

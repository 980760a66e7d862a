/**
 * The report's "Where policies fail" section, from diagnose's value_map / action_field /
 * visited_gaps tables and evaluate's visited / episodes tables: the critic's V and greedy field,
 * each method's action field, the critic-argmax gap on visited states, and where episodes end
 * relative to the goal's reward radius, with a table of the gaps at visited vs final states.
 *
 * Tables come labelled by the report (`label` = its method label, `seed`); only tables drawn in
 * the same maze as the first one are used (one figure has one layout).
 */
import type { Table } from 'apache-arrow';
import type { TopLevelSpec } from 'vega-lite';
import type { ReportImage, ReportSection } from './html.js';
import { actionFieldChart, endDistanceHistogram, GREEDY_PANEL, mazePlotFrame, mazePointsChart, thinArrows, valueMapChart, type FieldArrow, type MapCell, type MazePlotFrame, type MazePoint } from './maps.js';
import { aggregateBySeeds } from './table.js';
import { sortMethods } from './render.js';

export interface LabelledTable {
  label: string;
  seed: string;
  table: Table;
}

export interface MazeSectionInput {
  valueMaps: LabelledTable[];
  actionFields: LabelledTable[];
  visitedGaps: LabelledTable[];
  visited: LabelledTable[];
  /** evaluate.episodes (final_goal_distance). */
  evaluations: LabelledTable[];
}

export const MAZE_FIGURES = ['fig_value_map', 'fig_action_fields', 'fig_visited_gaps', 'fig_episode_ends', 'fig_end_distance'] as const;
export type MazeFigure = (typeof MAZE_FIGURES)[number];
export type RenderFigure = (name: MazeFigure, spec: TopLevelSpec, caption: string) => Promise<ReportImage>;

/** Columns as numbers (null when absent). */
function col(t: Table, name: string): Float64Array | null {
  const c = t.getChild(name);
  if (!c) return null;
  return Float64Array.from(c.toArray() as ArrayLike<number>);
}
const meta = (t: Table) => (k: string) => t.schema.metadata.get(k);

/** Whether the table's actions are 2-D (arrows can show them). */
function planar(t: Table, prefix: string): boolean {
  return !!t.getChild(`${prefix}0`) && !!t.getChild(`${prefix}1`) && !t.getChild(`${prefix}2`);
}

/** The first seed's table per label, labels in method order. */
function firstSeedPerLabel(xs: readonly LabelledTable[]): LabelledTable[] {
  const bySeed = [...xs].sort((a, b) => a.seed.localeCompare(b.seed, undefined, { numeric: true }));
  const out = new Map<string, LabelledTable>();
  for (const x of bySeed) if (!out.has(x.label)) out.set(x.label, x);
  return sortMethods(out.keys()).map((k) => out.get(k)!);
}

function arrows(frame: MazePlotFrame, t: Table, prefix: string, panel: string): FieldArrow[] {
  const x = col(t, 'x')!, y = col(t, 'y')!, a0 = col(t, `${prefix}0`)!, a1 = col(t, `${prefix}1`)!;
  return Array.from(x, (xi, i) => ({ panel, ...frame.toPlot(xi, y[i]!), a0: a0[i]!, a1: a1[i]! }));
}

export async function mazeDiagnosticsSection(input: MazeSectionInput, render: RenderFigure): Promise<ReportSection | null> {
  const all = [...input.valueMaps, ...input.actionFields, ...input.visitedGaps, ...input.visited];
  const first = all.find((x) => meta(x.table)('layout'));
  if (!first) return null;
  const layout = meta(first.table)('layout');
  const sameMaze = (xs: LabelledTable[]) => xs.filter((x) => meta(x.table)('layout') === layout);
  const frame = mazePlotFrame(meta(first.table))!;
  const images: ReportImage[] = [];
  const texts: string[] = [];

  // Value map: one panel per critic (by digest, at most 4), the first critic's greedy field.
  const maps = sameMaze(input.valueMaps);
  const critics = [...new Set(maps.map((m) => meta(m.table)('critic') ?? ''))].slice(0, 4);
  if (maps.length) {
    const cells: MapCell[] = [];
    const greedy: FieldArrow[] = [];
    critics.forEach((c, k) => {
      const m = maps.find((x) => (meta(x.table)('critic') ?? '') === c)!;
      const panel = critics.length > 1 ? `critic ${k + 1}` : 'critic';
      const size = 1 / Number(meta(m.table)('per_cell') ?? 1);
      const x = col(m.table, 'x')!, y = col(m.table, 'y')!, v = col(m.table, 'v')!;
      x.forEach((xi, i) => cells.push({ panel, ...frame.toPlot(xi, y[i]!), size, value: v[i]! }));
      if (planar(m.table, 'greedy_a')) greedy.push(...arrows(frame, m.table, 'greedy_a', panel));
    });
    const drawn = thinArrows(greedy, cells[0]?.size ?? 1);
    images.push(await render('fig_value_map', valueMapChart(frame, cells, drawn.arrows, { title: 'Critic: V(s) at rest and its greedy action', spacing: drawn.spacing }),
      'V(s) at zero velocity over the maze (colour) and argmax over an action grid of min(Q1, Q2)(s, a) (arrows; length ∝ |a|); red: goal and reward radius'));
    texts.push('The critic, evaluated at rest (zero velocity) on a grid of positions: V(s) as colour and its greedy action as arrows. Where the arrows do not lead into the reward circle, a policy that maximises this critic cannot reach the goal either.');
  }

  // Action fields: the first critic's greedy field, then the first seed of each method on that critic.
  const fields = sameMaze(input.actionFields).filter((f) => (meta(f.table)('critic') ?? '') === (critics[0] ?? '') && planar(f.table, 'a'));
  if (fields.length) {
    const spacing = 1 / Number(meta(fields[0]!.table)('per_cell') ?? 1);
    const list: FieldArrow[] = [];
    if (planar(fields[0]!.table, 'greedy_a')) list.push(...arrows(frame, fields[0]!.table, 'greedy_a', GREEDY_PANEL));
    for (const f of firstSeedPerLabel(fields)) list.push(...arrows(frame, f.table, 'a', f.label));
    const drawn = thinArrows(list, spacing);
    images.push(await render('fig_action_fields', actionFieldChart(frame, drawn.arrows, { title: 'Action fields at rest', spacing: drawn.spacing }),
      `The critic's greedy action (${GREEDY_PANEL}) and each method's deterministic action (first seed) at the same positions, velocity 0`));
  }

  // Critic-argmax gap on visited states (first seed of each method).
  const gaps = sameMaze(input.visitedGaps).filter((g) => g.table.getChild('x'));
  if (gaps.length) {
    const withGrid = gaps.every((g) => g.table.getChild('q_gap'));
    const points: MazePoint[] = [];
    for (const g of firstSeedPerLabel(gaps)) {
      const x = col(g.table, 'x')!, y = col(g.table, 'y')!;
      const value = withGrid ? col(g.table, 'q_gap')! : Float64Array.from(col(g.table, 'q_pi')!, (q, i) => q - col(g.table, 'v')![i]!);
      x.forEach((xi, i) => points.push({ panel: g.label, ...frame.toPlot(xi, y[i]!), value: value[i]! }));
    }
    const what = withGrid ? 'max_a Q(s,a) − Q(s,π(s))' : 'Q(s,π(s)) − V(s)';
    images.push(await render('fig_visited_gaps', mazePointsChart(frame, points, { title: 'States visited in evaluation', colorTitle: what, name: 'gap_points' }),
      `States the evaluation episodes visited (first seed), coloured by ${what}: how much the critic thinks the policy leaves on the table there`));
  }

  // Where episodes end: final visited positions, and the distribution of final distances.
  const finals: MazePoint[] = [];
  for (const v of sameMaze(input.visited)) {
    const f = col(v.table, 'final'), x = col(v.table, 'o0'), y = col(v.table, 'o1');
    if (f && x && y) f.forEach((fi, i) => { if (fi === 1) finals.push({ panel: v.label, ...frame.toPlot(x[i]!, y[i]!) }); });
  }
  if (finals.length) {
    images.push(await render('fig_episode_ends', mazePointsChart(frame, finals, { title: 'Where episodes end', name: 'end_points', pointSize: 24 }),
      'Position at the last step of every evaluation episode (all seeds); red: goal and reward radius'));
  }
  const radius = Number(meta(first.table)('goal_radius'));
  const distances = input.evaluations.flatMap((e) => Array.from(col(e.table, 'final_goal_distance') ?? [], (d) => ({ method: e.label, distance: d })));
  if (Number.isFinite(radius) && distances.some((d) => Number.isFinite(d.distance))) {
    images.push(await render('fig_end_distance', endDistanceHistogram(distances, radius, { title: 'Distance to the goal at the end of each episode' }),
      `All seeds; dashed: the reward radius ${radius}`));
  }
  if (!images.length) return null;

  // Per method: the gaps at visited and at final states (mean ± std over seeds), from visited_gaps' summaries.
  const rows = sameMaze(input.visitedGaps).map((g) => ({ method: g.label, ...(JSON.parse(meta(g.table)('summary') ?? '{}') as Record<string, number>) }));
  const cols: [string, string][] = [
    ['visited_greedy_dist', '‖π − argmax Q‖ visited'], ['visited_q_grid_gap', 'max Q − Q(s,π) visited'],
    ['final_greedy_dist', '‖π − argmax Q‖ at end'], ['final_q_grid_gap', 'max Q − Q(s,π) at end'], ['visited_q_pi_minus_v', 'Q(s,π) − V visited'],
  ];
  const present = cols.filter(([k]) => rows.some((r) => Number.isFinite((r as Record<string, unknown>)[k])));
  const order = sortMethods(rows.map((r) => r.method));
  const agg = present.length
    ? aggregateBySeeds(rows, 'method', present.map(([k]) => k), { digits: 3, labels: Object.fromEntries(present), sort: (a, b) => order.indexOf(a.key['method']!) - order.indexOf(b.key['method']!) })
    : null;
  return {
    title: 'Where policies fail',
    text: [
      ...texts,
      'On the states evaluation episodes actually visit (not dataset states): the distance from each policy\'s action to the critic\'s greedy action on the action grid, and the value the critic gives up there; "at end" is the last step of each episode. Mean ± std over seeds.',
    ].join('\n\n'),
    images,
    ...(agg ? { table: { columns: agg.columns, rows: agg.rows } } : {}),
  };
}

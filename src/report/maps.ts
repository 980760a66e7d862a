/**
 * Maze figures of the diagnostics (Vega-Lite specs over the maze canvas of charts.ts): the critic's
 * V at rest with its greedy action field, each policy's action field, the critic-argmax gap on the
 * states evaluation episodes visited, and where episodes end relative to the goal's reward radius.
 *
 * All positions are in the maze plot frame of `mazeTrajectories` (D4RL maze2d qpos: x = row
 * coordinate, y = column coordinate; `mazePlotFrame` maps AntMaze world metres into it), and
 * actions (a0, a1) move the agent along (x, y), so an arrow for a0 > 0 points down the rows.
 *
 * Mark names: `value_cells`, `arrow_shafts`, `arrow_heads`, `goal_radius`, `goal`, `maze_walls`,
 * `gap_points`, `end_points`, `end_bars`, `radius_rule`, `radius_text`.
 */
import type { TopLevelSpec } from 'vega-lite';
import { colorEnc, defaultColumns, facetColumn, facetedHistogram, finish, groupBy, histogram, histLayers, mazeCanvas, niceStep, type ChartOptions, type Json, type MazeCanvas } from './charts.js';
import { methodColor, SIZES, sortMethods } from './render.js';

/** How to draw positions of one maze: the layout, its frame's mapping into the plot frame, the goal and its radius. */
export interface MazePlotFrame {
  layout: string;
  /** Observation (x, y) → plot frame. */
  toPlot(x: number, y: number): { x: number; y: number };
  /** In the plot frame (cells), when the table names one. */
  goal?: { x: number; y: number };
  goalRadius?: number;
  axisTitles?: [string, string];
}

/**
 * The plot frame described by a table's metadata (evaluate's trajectories/visited, diagnose's maps):
 * `layout`; AntMaze adds `frame: antmaze-world`, `cell_size`, `origin`; diagnose adds `goal` "x,y"
 * and `goal_radius` in observation units. Null without a layout.
 */
export function mazePlotFrame(meta: (key: string) => string | undefined): MazePlotFrame | null {
  const layout = meta('layout');
  if (!layout) return null;
  let toPlot = (x: number, y: number) => ({ x, y });
  let scale = 1;
  let axisTitles: [string, string] | undefined;
  if (meta('frame') === 'antmaze-world') {
    // World (x, y) → cells: cell (i, j) is centred at (j·s − x0, i·s − y0); the plot frame puts a
    // cell's box centre at (i − 0.2, j − 0.2), as maze2d's qpos.
    scale = Number(meta('cell_size'));
    const [x0, y0] = (meta('origin') ?? '0,0').split(',').map(Number) as [number, number];
    toPlot = (x, y) => ({ x: (y + y0) / scale - 0.2, y: (x + x0) / scale - 0.2 });
    axisTitles = [`row (world y / ${meta('cell_size')} m)`, `column (world x / ${meta('cell_size')} m)`];
  }
  const frame: MazePlotFrame = { layout, toPlot, ...(axisTitles ? { axisTitles } : {}) };
  const goal = meta('goal')?.split(',').map(Number);
  if (goal && goal.length === 2 && goal.every(Number.isFinite)) frame.goal = toPlot(goal[0]!, goal[1]!);
  const radius = Number(meta('goal_radius'));
  if (Number.isFinite(radius) && radius > 0) frame.goalRadius = radius / scale;
  return frame;
}

export interface MazeMapOptions extends ChartOptions {
  /** Pixels per maze cell (default: about 260 px per facet side). */
  cellPx?: number;
}

/** A position of a map grid (plot frame) with the side of its square (cells). */
export interface MapCell {
  panel: string;
  x: number;
  y: number;
  size: number;
  value: number;
}

/** An action (a0, a1) at a position (plot frame); `panel` is the facet (a method or a critic). */
export interface FieldArrow {
  panel: string;
  x: number;
  y: number;
  a0: number;
  a1: number;
}

export interface MazePoint {
  panel: string;
  x: number;
  y: number;
  value?: number;
}

const finite = (x: unknown): x is number => typeof x === 'number' && Number.isFinite(x);

function canvasFor(frame: MazePlotFrame, opts: MazeMapOptions): MazeCanvas {
  const rows = frame.layout.split(/[\n/\\]+/).filter((r) => r.trim().length > 0);
  const side = Math.max(1, rows.length, ...rows.map((r) => r.trimEnd().length));
  return mazeCanvas(frame.layout, { cellPx: opts.cellPx ?? Math.max(SIZES.mazeCellPx, Math.ceil(260 / side)), ...(frame.axisTitles ? { axisTitles: frame.axisTitles } : {}) });
}

/** Points of the goal's reward circle (closed polyline) in the plot frame. */
export function radiusCircle(goal: { x: number; y: number }, r: number, n = 96): { h: number; v: number; k: number }[] {
  return Array.from({ length: n + 1 }, (_, k) => ({ h: goal.y + r * Math.sin((2 * Math.PI * k) / n), v: goal.x + r * Math.cos((2 * Math.PI * k) / n), k }));
}

/** Walls first, then `middle`, then the goal's radius circle and cross on top. */
function mazeLayers(canvas: MazeCanvas, frame: MazePlotFrame, middle: Json[]): Json[] {
  const layers: Json[] = [canvas.walls, ...middle];
  const goal = frame.goal ?? canvas.layoutGoal;
  if (goal && finite(goal.x) && finite(goal.y)) {
    if (frame.goalRadius) {
      layers.push({
        name: 'goal_radius',
        data: { values: radiusCircle(goal, frame.goalRadius) },
        mark: { type: 'line', color: '#c1121f', strokeWidth: 1.4, strokeDash: [4, 2], clip: true },
        encoding: { x: canvas.H('h'), y: canvas.V('v'), order: { field: 'k', type: 'quantitative' } },
      });
    }
    layers.push(canvas.goalMark(goal));
  }
  return layers;
}

/**
 * Arrow layers (shaft `arrow_shafts` + head `arrow_heads`) for the rows of kind 'arrow': tail at the
 * position, head at position + `length` · (a0, a1). Vega rotates a shape clockwise by `angle`
 * degrees from pointing up; on screen the head points (right a1, down a0), i.e. atan2(a1, −a0).
 */
function arrowLayers(canvas: MazeCanvas, color: Json): Json[] {
  const only = [{ filter: { field: 'kind', equal: 'arrow' } }];
  return [
    { name: 'arrow_shafts', transform: only, mark: { type: 'rule', strokeWidth: 1.1, clip: true }, encoding: { x: canvas.H('h'), y: canvas.V('v'), x2: { field: 'h2' }, y2: { field: 'v2' }, color } },
    { name: 'arrow_heads', transform: only, mark: { type: 'point', shape: 'triangle-up', filled: true, size: 16, opacity: 1, clip: true }, encoding: { x: canvas.H('h2'), y: canvas.V('v2'), angle: { field: 'angle', type: 'quantitative', scale: null }, color } },
  ];
}

function arrowRow(a: FieldArrow, length: number): Json {
  return { kind: 'arrow', panel: a.panel, h: a.y, v: a.x, h2: a.y + length * a.a1, v2: a.x + length * a.a0, angle: (Math.atan2(a.a1, -a.a0) * 180) / Math.PI };
}

function panelFacet(panels: string[]): Json {
  return { field: 'panel', type: 'nominal', sort: panels, title: null, header: { labelOrient: 'top' } };
}

export interface ArrowOptions {
  /** Arrow length for |a| = 1, in cells (default 0.6 × the spacing of the arrows drawn, so a corner action, |a| = √2, stays within one step). */
  length?: number;
  /** Lattice step of the arrows drawn, in cells (default: the map's cell size). */
  spacing?: number;
}

/**
 * The critic's V over the maze at rest (a heat map, one facet per critic `panel`) with its greedy
 * action max_a min(Q1, Q2)(s, a) as black arrows, the walls, the goal and its reward radius.
 */
export function valueMapChart(frame: MazePlotFrame, cells: readonly MapCell[], arrows: readonly FieldArrow[], opts: MazeMapOptions & ArrowOptions = {}): TopLevelSpec {
  const canvas = canvasFor(frame, opts);
  const clean = cells.filter((c) => finite(c.x) && finite(c.y) && finite(c.value));
  const panels = [...new Set(clean.map((c) => c.panel))];
  const spacing = opts.spacing ?? clean[0]?.size ?? 1;
  const values: Json[] = clean.map((c) => ({ kind: 'cell', panel: c.panel, h0: c.y - c.size / 2, h1: c.y + c.size / 2, v0: c.x - c.size / 2, v1: c.x + c.size / 2, value: c.value }));
  for (const a of arrows) if (finite(a.a0) && finite(a.a1)) values.push(arrowRow(a, opts.length ?? 0.6 * spacing));
  const heat: Json = {
    name: 'value_cells',
    transform: [{ filter: { field: 'kind', equal: 'cell' } }],
    mark: { type: 'rect', stroke: null },
    encoding: {
      x: canvas.H('h0'), x2: { field: 'h1' }, y: canvas.V('v0'), y2: { field: 'v1' },
      color: { field: 'value', type: 'quantitative', title: 'V(s)', scale: { scheme: 'viridis' }, legend: { format: '.3~g' } },
    },
  };
  return finish(
    {
      data: { values },
      facet: panelFacet(panels),
      columns: defaultColumns(panels.length, opts),
      spec: { width: canvas.width, height: canvas.height, layer: mazeLayers(canvas, frame, [heat, ...arrowLayers(canvas, { value: '#111111' })]) },
      resolve: { scale: { color: 'shared' } },
    },
    opts,
  );
}

/**
 * Every k-th point of an arrow lattice (spacing `spacing`, in cells) so that at most `maxAcross`
 * arrows run along the longer side: a large maze's field stays readable at the panel's size. The
 * arrows kept and the spacing they now stand at (for their length); unchanged when they fit.
 */
export function thinArrows(arrows: readonly FieldArrow[], spacing: number, maxAcross = 28): { arrows: FieldArrow[]; spacing: number } {
  let x0 = Infinity, x1 = -Infinity, y0 = Infinity, y1 = -Infinity;
  for (const a of arrows) {
    x0 = Math.min(x0, a.x);
    x1 = Math.max(x1, a.x);
    y0 = Math.min(y0, a.y);
    y1 = Math.max(y1, a.y);
  }
  const across = arrows.length ? Math.round(Math.max(x1 - x0, y1 - y0) / spacing) + 1 : 0;
  const k = Math.max(1, Math.ceil(across / maxAcross));
  if (k === 1) return { arrows: [...arrows], spacing };
  const onLattice = (v: number, v0: number) => Math.round((v - v0) / spacing) % k === 0;
  return { arrows: arrows.filter((a) => onLattice(a.x, x0) && onLattice(a.y, y0)), spacing: spacing * k };
}

/** The panel of the critic's greedy field in `actionFieldChart`, drawn first and in black. */
export const GREEDY_PANEL = 'argmax_a Q';

/**
 * Action fields as arrows over the maze, one facet per panel: the critic's greedy field
 * (`GREEDY_PANEL`, black) and each method's deterministic action in its colour.
 */
export function actionFieldChart(frame: MazePlotFrame, arrows: readonly FieldArrow[], opts: MazeMapOptions & ArrowOptions = {}): TopLevelSpec {
  const canvas = canvasFor(frame, opts);
  const clean = arrows.filter((a) => finite(a.x) && finite(a.y) && finite(a.a0) && finite(a.a1));
  const methods = sortMethods(new Set(clean.map((a) => a.panel).filter((p) => p !== GREEDY_PANEL)));
  const panels = clean.some((a) => a.panel === GREEDY_PANEL) ? [GREEDY_PANEL, ...methods] : methods;
  const spacing = opts.spacing ?? 0.25;
  const values = clean.map((a) => arrowRow(a, opts.length ?? 0.6 * spacing));
  const color = { field: 'panel', type: 'nominal', scale: { domain: panels, range: panels.map((p) => (p === GREEDY_PANEL ? '#111111' : methodColor(p))) }, legend: null };
  return finish(
    {
      data: { values },
      facet: panelFacet(panels),
      columns: defaultColumns(panels.length, opts),
      spec: { width: canvas.width, height: canvas.height, layer: mazeLayers(canvas, frame, arrowLayers(canvas, color)) },
    },
    opts,
  );
}

/**
 * Points over the maze, one facet per method: with `colorTitle`, coloured by their `value` on a
 * shared sequential scale (e.g. the critic-argmax gap at visited states); without, in the method's
 * colour (e.g. where episodes end).
 */
export function mazePointsChart(frame: MazePlotFrame, points: readonly MazePoint[], opts: MazeMapOptions & { colorTitle?: string; name?: string; pointSize?: number } = {}): TopLevelSpec {
  const canvas = canvasFor(frame, opts);
  const byValue = opts.colorTitle !== undefined;
  const clean = points.filter((p) => finite(p.x) && finite(p.y) && (!byValue || finite(p.value)));
  const methods = sortMethods(groupBy(clean, (p) => p.panel).keys());
  const values = clean.map((p) => ({ method: p.panel, h: p.y, v: p.x, value: p.value ?? null }));
  const color = byValue
    ? { field: 'value', type: 'quantitative', title: opts.colorTitle, scale: { scheme: 'plasma' }, legend: { format: '.2~g' } }
    : colorEnc(methods, false);
  const layer: Json = {
    name: opts.name ?? 'maze_points',
    mark: { type: 'point', shape: 'circle', filled: true, size: opts.pointSize ?? 18, opacity: 0.8, stroke: '#ffffff', strokeWidth: 0.3, clip: true },
    encoding: { x: canvas.H('h'), y: canvas.V('v'), color },
  };
  return finish(
    {
      data: { values },
      facet: facetColumn(methods, opts),
      columns: defaultColumns(methods.length, opts),
      spec: { width: canvas.width, height: canvas.height, layer: mazeLayers(canvas, frame, [layer]) },
    },
    opts,
  );
}

/**
 * Distribution of the distance to the goal at the end of each episode, one facet per method, with
 * a dashed rule at the reward radius and the fraction of episodes ending inside it.
 */
export function endDistanceHistogram(rows: readonly { method: string; distance: number }[], radius: number, opts: ChartOptions & { binWidth?: number } = {}): TopLevelSpec {
  const clean = rows.filter((r) => finite(r.distance));
  const byMethod = groupBy(clean, (r) => r.method);
  const methods = sortMethods(byMethod.keys());
  const max = Math.max(radius * 1.5, ...clean.map((r) => r.distance));
  const width = opts.binWidth ?? niceStep(max / 30);
  const hi = (Math.floor(max / width) + 1) * width;
  const values: Json[] = [];
  for (const m of methods) {
    const xs = byMethod.get(m)!.map((r) => r.distance);
    for (const b of histogram(xs, 0, hi, width)) if (b.count > 0) values.push({ kind: 'bin', method: m, ...b });
    const inside = xs.filter((x) => x <= radius).length / Math.max(1, xs.length);
    values.push({ kind: 'stat', method: m, label: `ends within ${radius}: ${(100 * inside).toFixed(0)}%` });
  }
  return facetedHistogram(values, methods, [
    histLayers(methods, 'distance to goal at the end', 'episodes', hi, 'end_bars'),
    {
      name: 'radius_rule',
      data: { values: [{ r: radius }] },
      mark: { type: 'rule', strokeDash: [4, 3], strokeWidth: 1.5, color: '#c1121f' },
      encoding: { x: { field: 'r', type: 'quantitative' } },
    },
    {
      name: 'radius_text',
      transform: [{ filter: { field: 'kind', equal: 'stat' } }],
      mark: { type: 'text', align: 'right', baseline: 'top', fontSize: 10, color: '#333333' },
      encoding: { text: { field: 'label' }, x: { value: SIZES.histWidth - 4 }, y: { value: 4 } },
    },
  ], opts);
}

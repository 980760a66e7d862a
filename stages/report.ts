/**
 * Turns upstream tables into the research note's figures and one self-contained HTML report:
 * per extraction method, policy actions scattered over the action box with the unit circle, policy
 * std histograms, ‖a‖ distributions, training curves, scores over seeds and maze rollouts, plus the
 * comparison table (score / std / edge fraction, mean ± std over seeds).
 *
 * Inputs are matched by convention, not by stage kind: the method of an input is its matrix value
 * `method` (else its `method` parameter, else its instance name) and its seed the matrix `seed`.
 */
import type { InputArtifact, OutputValue, StageKind } from '../src/engine/stage.js';
import { loadStageSchema } from '../src/engine/stage-schema.js';

interface Params {
  title: string;
  max_points_per_method: number;
  trajectories_per_method: number;
  curve_metrics: string[];
  notes: string;
}

const FIGURES = ['fig_actions', 'fig_std', 'fig_edge', 'fig_curves', 'fig_scores', 'fig_maze'] as const;

/** Matrix values other than method and seed (e.g. the dataset of a coverage study), as one label. */
function settingOf(a: InputArtifact): string {
  return Object.entries(a.matrix).filter(([k]) => k !== 'method' && k !== 'seed').map(([k, v]) => `${k}=${v}`).join(',');
}
/** "setting · method" → [setting, method]. */
function splitLabel(label: string): [string, string] {
  const i = label.lastIndexOf(' · ');
  return i < 0 ? ['', label] : [label.slice(0, i), label.slice(i + 3)];
}
function methodOf(a: InputArtifact): string {
  const method = String(a.matrix['method'] ?? a.params['method'] ?? a.instance);
  const setting = settingOf(a);
  return setting ? `${setting} · ${method}` : method;
}
function seedOf(a: InputArtifact): string {
  return String(a.matrix['seed'] ?? 0);
}
function list(v: InputArtifact | InputArtifact[] | undefined): InputArtifact[] {
  return v === undefined ? [] : Array.isArray(v) ? v : [v];
}
function num(table: import('apache-arrow').Table, name: string): Float64Array | null {
  const col = table.getChild(name);
  if (!col) return null;
  const out = new Float64Array(col.length);
  let i = 0;
  for (const v of col) out[i++] = v === null ? NaN : Number(v);
  return out;
}
function meta(table: import('apache-arrow').Table, key: string): string | undefined {
  return table.schema.metadata.get(key);
}

const stage: StageKind<Params> = {
  kind: 'report',
  version: '5',
  description: 'Figures (Vega-Lite → SVG/PNG) and a self-contained HTML report from evaluation, diagnostic and training tables.',
  params: loadStageSchema('report'),
  inputs: {
    evaluations: { description: 'evaluate.episodes tables (score, return, success per episode)', many: true, optional: true },
    trajectories: { description: 'evaluate.trajectories tables (episode, t, x, y)', many: true, optional: true },
    diagnostics: { description: 'diagnose.actions tables (policy and data actions, std, Q values at dataset states)', many: true, optional: true },
    curves: { description: 'training curves in long format (step, metric, value)', many: true, optional: true },
    coverage: { description: 'load-dataset.action_hist tables: their coverage_summary metadata gives one row per dataset', many: true, optional: true },
  },
  outputs: {
    html: { description: 'the self-contained HTML report' },
    summary: { description: 'the comparison table as text (printed at the end of a run)' },
    comparison: { description: 'the comparison table: one row per method, mean and std over seeds' },
    fig_actions: { description: 'policy actions at dataset states with the unit circle (PNG)', optional: true },
    fig_std: { description: 'policy std histograms (PNG)', optional: true },
    fig_edge: { description: 'distribution of ‖a‖ of policy actions (PNG)', optional: true },
    fig_curves: { description: 'training curves (PNG)', optional: true },
    fig_scores: { description: 'normalised scores over seeds (PNG)', optional: true },
    fig_maze: { description: 'evaluation rollouts over the maze (PNG)', optional: true },
  },
  async run(ctx) {
    const r = await import('../src/report/index.js');
    const { tableFromArrays } = await import('apache-arrow');
    const p = ctx.params;
    const outputs: Record<string, OutputValue> = {};
    const sections: import('../src/report/html.js').ReportSection[] = [];
    type Fig = (typeof FIGURES)[number];
    const figure = async (name: Fig, spec: import('vega-lite').TopLevelSpec, caption: string) => {
      const chart = await r.renderChart(spec);
      outputs[name] = { bytes: chart.png, ext: 'png', mediaType: 'image/png' };
      return { name, svg: chart.svg, png: chart.png, caption };
    };

    // Per (method, seed) rows for the comparison table.
    const rows = new Map<string, Record<string, unknown>>();
    const row = (method: string, seed: string) => {
      const k = `${method}\u0000${seed}`;
      if (!rows.has(k)) rows.set(k, { method, seed });
      return rows.get(k)!;
    };
    // Several settings (datasets, environments) sort by setting, then by method.

    // Evaluations → scores.
    const scoreRows: { method: string; seed: string; score: number }[] = [];
    for (const a of list(ctx.inputs['evaluations'])) {
      const t = await a.table();
      const score = num(t, 'score');
      const success = num(t, 'success');
      const ret = num(t, 'return');
      if (!score) throw new Error(`evaluations input ${a.instance} has no 'score' column`);
      const mean = (x: Float64Array | null) => (x && x.length ? x.reduce((s, v) => s + v, 0) / x.length : NaN);
      const rw = row(methodOf(a), seedOf(a));
      rw['score'] = mean(score);
      rw['return'] = mean(ret);
      rw['success'] = mean(success);
      rw['cells_to_goal'] = mean(num(t, 'final_cells_to_goal'));
      scoreRows.push({ method: methodOf(a), seed: seedOf(a), score: mean(score) });
    }

    // Diagnostics → action scatter, std and norm histograms.
    const points: { method: string; a0: number; a1: number }[] = [];
    const stds: { method: string; std: number }[] = [];
    let dataActions: { a0: number; a1: number }[] | undefined;
    for (const a of list(ctx.inputs['diagnostics'])) {
      const t = await a.table();
      const method = methodOf(a);
      const a0 = num(t, 'a0'), a1 = num(t, 'a1'), std = num(t, 'std');
      if (!a0 || !a1) throw new Error(`diagnostics input ${a.instance} needs columns a0 and a1`);
      const onlyFirstSeed = !points.some((q) => q.method === method);
      for (let i = 0; i < a0.length; i++) {
        if (onlyFirstSeed) points.push({ method, a0: a0[i]!, a1: a1[i]! });
        if (std) stds.push({ method, std: std[i]! });
      }
      if (!dataActions) {
        const d0 = num(t, 'data_a0'), d1 = num(t, 'data_a1');
        if (d0 && d1) dataActions = Array.from(d0, (v, i) => ({ a0: v, a1: d1[i]! }));
      }
      const summary = meta(t, 'summary');
      if (summary) Object.assign(row(method, seedOf(a)), JSON.parse(summary) as Record<string, number>);
    }

    // Comparison table (mean ± std over seeds).
    const metricCols: [string, string][] = [
      ['score', 'norm. score'], ['success', 'success'], ['cells_to_goal', 'cells to goal (end)'], ['mean_std', 'policy std'], ['edge_fraction', 'on edge'],
      ['mean_norm', '‖a‖ mean'], ['q_gap', 'Q(s,π)−Q(s,a)'], ['nn_dist', 'dist. to data a'],
      ['q_grid_gap', 'max_a Q − Q(s,π)'], ['grid_edge_fraction', 'argmax_a Q on edge'],
    ];
    const present = metricCols.filter(([k]) => [...rows.values()].some((x) => typeof x[k] === 'number' && Number.isFinite(x[k] as number)));
    const agg = r.aggregateBySeeds([...rows.values()], 'method', present.map(([k]) => k), {
      digits: 3, labels: Object.fromEntries(present),
      sort: (x, y) => {
        const [sx, mx] = splitLabel(String(x.key['method']));
        const [sy, my] = splitLabel(String(y.key['method']));
        if (sx !== sy) return sx.localeCompare(sy);
        return mx === my ? 0 : r.sortMethods([mx, my])[0] === mx ? -1 : 1;
      },
    });
    const comparison: Record<string, unknown[]> = { method: [], seeds: [] };
    for (const [k] of present) { comparison[`${k}_mean`] = []; comparison[`${k}_std`] = []; }
    for (const g of agg.groups) {
      comparison['method']!.push(g.key['method']);
      comparison['seeds']!.push(g.count);
      for (const [k] of present) { comparison[`${k}_mean`]!.push(g.stats[k]!.mean); comparison[`${k}_std`]!.push(g.stats[k]!.std); }
    }
    const arrowCols: Record<string, unknown> = { method: comparison['method'], seeds: Int32Array.from(comparison['seeds'] as number[]) };
    for (const [k, v] of Object.entries(comparison)) if (k !== 'method' && k !== 'seeds') arrowCols[k] = Float64Array.from(v as number[]);
    outputs['comparison'] = tableFromArrays(arrowCols as Record<string, Float64Array>) as unknown as OutputValue;
    // Dataset coverage: one row per dataset (setting), from the load-dataset stages' figures.
    const covCols: [string, string][] = [
      ['transitions', 'transitions'], ['action_coarse_occupied_fraction', 'coarse occupancy'], ['action_coarse_entropy', 'coarse entropy'],
      ['action_hist_entropy', 'marginal entropy'], ['action_edge_fraction', 'on edge'], ['action_std_mean', 'action std'], ['cells_visited_fraction', 'cells visited'],
    ];
    const covRows: Record<string, unknown>[] = [];
    for (const a of list(ctx.inputs['coverage'])) {
      const t = await a.table();
      const js = meta(t, 'coverage_summary');
      if (!js) throw new Error(`coverage input ${a.instance} has no coverage_summary metadata (connect load-dataset's action_hist output)`);
      covRows.push({ dataset: settingOf(a) || meta(t, 'env_id') || a.instance, ...(JSON.parse(js) as Record<string, number>) });
    }
    let covText = '';
    if (covRows.length) {
      const cols = covCols.filter(([k]) => covRows.some((x) => typeof x[k] === 'number'));
      const fmt = (v: unknown) => (typeof v === 'number' ? (Number.isInteger(v) ? String(v) : v.toFixed(3)) : '');
      const header = ['dataset', ...cols.map(([, l]) => l)];
      const body = covRows.map((x) => [String(x['dataset']), ...cols.map(([k]) => fmt(x[k]))]);
      sections.push({
        title: 'Dataset coverage',
        text: 'Action coverage of each dataset (load-dataset): coarse occupancy = fraction of the 4^d cells of the action box that hold data; entropies are normalised to [0, 1]; on edge = fraction of action components at the box bound.',
        table: { columns: header, rows: body },
      });
      const w = header.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
      const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(w[i]!) : c.padStart(w[i]!))).join('  ');
      covText = `\nDataset coverage\n${line(header)}\n${w.map((n) => '─'.repeat(n)).join('  ')}\n${body.map(line).join('\n')}\n`;
    }
    const text = `${p.title}\n${agg.text}${covText}`;
    outputs['summary'] = { bytes: new TextEncoder().encode(text + '\n'), ext: 'txt', mediaType: 'text/plain' };
    sections.push({
      title: 'Comparison',
      text: 'Mean ± std over seeds. Score: D4RL-normalised return of deterministic (mean / argmax) evaluation episodes. Policy std and edge fraction are measured at dataset states.',
      table: { columns: agg.columns, rows: agg.rows },
    });

    if (points.length) {
      sections.push({
        title: 'Policy actions at dataset states',
        text: 'Each dot is the action a policy takes (mean / argmax) at a dataset state; grey dots are the dataset actions at the same states. The dashed square is the action box and the line the unit circle. Mean-matching shows as a cloud inside the circle; mode-seeking extraction puts actions on the edge.',
        images: [
          await figure('fig_actions', r.actionScatter(points, { title: 'Policy actions', dataActions, maxPointsPerMethod: p.max_points_per_method }), 'Policy actions per method'),
          await figure('fig_edge', r.edgeNormHistogram(points, { title: 'Action norm ‖a‖' }), 'Distribution of ‖a‖ with the unit circle at 1'),
        ],
      });
    }
    if (stds.length) {
      sections.push({
        title: 'Policy standard deviation',
        text: 'Gaussian AWR: exp(log std) of the head (state-independent, so one value per dimension, averaged); discretised AWR: std of the categorical over bin centres; DDPG is deterministic (0).',
        images: [await figure('fig_std', r.stdHistogram(stds, { title: 'Policy std at dataset states' }), 'Policy std histograms')],
      });
    }
    const curvePoints: { method: string; metric: string; step: number; value: number; seed: string }[] = [];
    for (const a of list(ctx.inputs['curves'])) {
      const t = await a.table();
      const step = num(t, 'step'), value = num(t, 'value');
      const metric = t.getChild('metric');
      if (!step || !value || !metric) throw new Error(`curves input ${a.instance} needs columns step, metric, value`);
      const method = a.matrix['method'] !== undefined || a.params['method'] !== undefined ? methodOf(a) : a.instance.replace(/\[.*$/, '');
      for (let i = 0; i < step.length; i++) {
        const m = String(metric.get(i));
        if (p.curve_metrics.length === 0 || p.curve_metrics.includes(m)) curvePoints.push({ method, metric: m, step: step[i]!, value: value[i]!, seed: seedOf(a) });
      }
    }
    if (curvePoints.length) {
      sections.push({ title: 'Training curves', images: [await figure('fig_curves', r.trainingCurves(curvePoints, { title: 'Training curves' }), 'Critic and actor training metrics')] });
    }
    if (scoreRows.length) {
      sections.push({ title: 'Scores', images: [await figure('fig_scores', r.returnsChart(scoreRows, { title: 'Normalised score' }), 'Mean ± std over seeds; dots are seeds')] });
    }
    const traj: { method: string; episode: string; t: number; x: number; y: number }[] = [];
    let layout: string | undefined;
    let axisTitles: [string, string] | undefined;
    for (const a of list(ctx.inputs['trajectories'])) {
      const t = await a.table();
      layout ??= meta(t, 'layout');
      if (meta(t, 'frame') === 'antmaze-world') axisTitles ??= [`row (world y / ${meta(t, 'cell_size')} m)`, `column (world x / ${meta(t, 'cell_size')} m)`];
      const ep = num(t, 'episode'), tt = num(t, 't'), x = num(t, 'x'), y = num(t, 'y');
      if (!ep || !tt || !x || !y) throw new Error(`trajectories input ${a.instance} needs columns episode, t, x, y`);
      const method = methodOf(a);
      const seed = seedOf(a);
      const toPlot = plotFrame(t);
      for (let i = 0; i < ep.length; i++) if (ep[i]! < p.trajectories_per_method) traj.push({ method, episode: `${seed}/${ep[i]}`, t: tt[i]!, ...toPlot(x[i]!, y[i]!) });
    }
    if (traj.length && layout) {
      sections.push({ title: 'Evaluation rollouts', images: [await figure('fig_maze', r.mazeTrajectories(layout, traj, undefined, { title: 'Rollouts', maxEpisodesPerMethod: p.trajectories_per_method, axisTitles }), 'Deterministic evaluation rollouts over the maze')] });
    }
    if (p.notes) sections.unshift({ title: 'Notes', text: p.notes });

    const inputsUsed: Record<string, string> = {};
    for (const [name, v] of Object.entries(ctx.inputs)) for (const a of list(v)) inputsUsed[`${name}: ${a.instance}.${a.output}`] = a.digest.slice(0, 16);
    const html = r.buildHtmlReport({
      title: p.title,
      subtitle: `report ${ctx.instance} · cache key ${ctx.cacheKey.slice(0, 12)}`,
      sections,
      params: { report: p, inputs: Object.fromEntries(Object.entries(ctx.inputs).flatMap(([, v]) => list(v).map((a) => [a.instance, a.params]))) },
      cacheKeys: inputsUsed,
      generatedAt: new Date(0).toISOString(), // fixed: the report is a pure function of its inputs (cacheable, reproducible bytes)
    });
    outputs['html'] = { bytes: new TextEncoder().encode(html), ext: 'html', mediaType: 'text/html' };
    return { outputs, summary: { methods: agg.groups.length, figures: FIGURES.filter((f) => f in outputs).length } };
  },
};
/**
 * Maps a trajectories table's (x, y) into the maze chart's frame (D4RL maze2d qpos: x = row, y =
 * column, a cell's walls centred at index − 0.2). maze2d tables are already in it; AntMaze tables
 * (`frame: antmaze-world`) hold the torso's world position, cell (i, j) centred at
 * (j·s − x0, i·s − y0).
 */
function plotFrame(t: import('apache-arrow').Table): (x: number, y: number) => { x: number; y: number } {
  if (meta(t, 'frame') !== 'antmaze-world') return (x, y) => ({ x, y });
  const s = Number(meta(t, 'cell_size'));
  const [x0, y0] = (meta(t, 'origin') ?? '0,0').split(',').map(Number) as [number, number];
  return (x, y) => ({ x: (y + y0) / s - 0.2, y: (x + x0) / s - 0.2 });
}

export default stage;

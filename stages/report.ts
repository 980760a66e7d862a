/**
 * Turns upstream tables into the research note's figures and one self-contained HTML report:
 * the note's claims with verdicts, the comparison of methods with 95 % bootstrap intervals over
 * runs, per extraction method policy actions scattered over the action box with the unit circle,
 * policy std histograms, ‖a‖ distributions, training curves, scores per run and maze rollouts.
 *
 * Inputs are matched by convention, not by stage kind (src/report/runs.ts): the method of an input
 * is its matrix value `method` (else its `method` parameter, else its instance name); a run is one
 * (critic seed, actor seed) pair, the matrix axes `critic_seed_axis` and `actor_seed_axis`; the
 * other matrix axes form the setting. This file is wiring: the tables and statistics live in
 * src/report/.
 */
import type { InputArtifact, OutputValue, StageKind } from '../src/engine/stage.js';
import { reportSchema, type ReportParams } from './params/report.js';

const FIGURES = ['fig_actions', 'fig_std', 'fig_edge', 'fig_curves', 'fig_scores', 'fig_maze', 'fig_value_map', 'fig_action_fields', 'fig_visited_gaps', 'fig_episode_ends', 'fig_end_distance'] as const;

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
const mean = (x: Float64Array | null) => (x && x.length ? x.reduce((s, v) => s + v, 0) / x.length : NaN);

const stage: StageKind<ReportParams> = {
  kind: 'report',
  version: '6',
  description: 'Figures (Vega-Lite → SVG/PNG), the note\'s claims with verdicts, the comparison with bootstrap intervals, and a self-contained HTML report from evaluation, diagnostic and training tables.',
  params: reportSchema,
  inputs: {
    evaluations: { description: 'evaluate.episodes tables (score, return, success per episode)', many: true, optional: true },
    trajectories: { description: 'evaluate.trajectories tables (episode, t, x, y)', many: true, optional: true },
    diagnostics: { description: 'diagnose.actions tables (policy and data actions, std, Q values at dataset states)', many: true, optional: true },
    curves: { description: 'training curves in long format (step, metric, value)', many: true, optional: true },
    value_maps: { description: "diagnose.value_map tables (the critic's V and greedy action over the maze at rest)", many: true, optional: true },
    action_fields: { description: "diagnose.action_field tables (each policy's action over the maze at rest)", many: true, optional: true },
    visited_gaps: { description: "diagnose.visited_gaps tables (policy vs the critic's greedy action at states evaluation visited)", many: true, optional: true },
    visited: { description: 'evaluate.visited tables (observations of the evaluation episodes; where they end)', many: true, optional: true },
    coverage: { description: 'load-dataset.action_hist tables: their coverage_summary metadata gives one row per dataset, their env id and behaviour the claims\' scope', many: true, optional: true },
  },
  outputs: {
    html: { description: 'the self-contained HTML report' },
    summary: { description: 'the claims and comparison tables as text (printed at the end of a run)' },
    comparison: { description: 'one row per (setting, method): runs, critics, actors; per metric mean, std, 95% CI; score IQM with CI' },
    claims: { description: "one row per claim of the note and setting: claim, setting, test, measured, ci_low, ci_high, n_a, n_b, verdict, interval, note" },
    fig_actions: { description: 'policy actions at dataset states with the unit circle (PNG)', optional: true },
    fig_std: { description: 'policy std histograms (PNG)', optional: true },
    fig_edge: { description: 'distribution of ‖a‖ of policy actions (PNG)', optional: true },
    fig_curves: { description: 'training curves (PNG)', optional: true },
    fig_scores: { description: 'normalised score of every run with 95% bootstrap intervals (PNG)', optional: true },
    fig_maze: { description: 'evaluation rollouts over the maze (PNG)', optional: true },
    fig_value_map: { description: "the critic's V at rest over the maze with its greedy action field (PNG)", optional: true },
    fig_action_fields: { description: "the critic's greedy action field and each method's action field (PNG)", optional: true },
    fig_visited_gaps: { description: "states evaluation visited, coloured by the critic's greedy gap (PNG)", optional: true },
    fig_episode_ends: { description: 'where evaluation episodes end, with the goal and its reward radius (PNG)', optional: true },
    fig_end_distance: { description: 'distance to the goal at the end of each episode, with the reward radius (PNG)', optional: true },
  },
  async run(ctx) {
    const r = await import('../src/report/index.js');
    const { runOf, runLabel } = await import('../src/report/runs.js');
    const cmp = await import('../src/report/comparison.js');
    const cl = await import('../src/report/claims.js');
    const { summaryTables, summaryText } = await import('../src/report/summary-tables.js');
    const { tableFromArrays } = await import('apache-arrow');
    const p = ctx.params;
    const axes = { critic: p.critic_seed_axis, actor: p.actor_seed_axis };
    const boot = { samples: p.bootstrap_samples, seed: p.bootstrap_seed };
    const outputs: Record<string, OutputValue> = {};
    const sections: import('../src/report/html.js').ReportSection[] = [];
    type Fig = (typeof FIGURES)[number];
    const figure = async (name: Fig, spec: import('vega-lite').TopLevelSpec, caption: string) => {
      const chart = await r.renderChart(spec);
      outputs[name] = { bytes: chart.png, ext: 'png', mediaType: 'image/png' };
      return { name, svg: chart.svg, png: chart.png, caption };
    };
    /** Charts without a setting facet label methods "setting · method". */
    const chartLabel = (a: InputArtifact) => {
      const id = runOf(a, axes);
      return id.setting ? `${id.setting} · ${id.method}` : id.method;
    };

    // One row per run (setting, method, critic seed, actor seed).
    const runs = new Map<string, import('../src/report/comparison.js').RunRow>();
    const runRow = (a: InputArtifact) => {
      const id = runOf(a, axes);
      const k = JSON.stringify([id.setting, id.method, id.critic, id.actor]);
      if (!runs.has(k)) runs.set(k, { ...id, values: {} });
      return runs.get(k)!;
    };
    // What the inputs say about each setting's env and dataset (the claims' scope).
    const settingSources: import('../src/report/claims.js').SettingSource[] = [];

    // Evaluations → scores.
    for (const a of list(ctx.inputs['evaluations'])) {
      const t = await a.table();
      const score = num(t, 'score');
      if (!score) throw new Error(`evaluations input ${a.instance} has no 'score' column`);
      Object.assign(runRow(a).values, { score: mean(score), return: mean(num(t, 'return')), success: mean(num(t, 'success')), cells_to_goal: mean(num(t, 'final_cells_to_goal')) });
      const envId = meta(t, 'env_id') ?? (a.params['env'] ? String(a.params['env']) : undefined);
      if (envId) settingSources.push({ coords: runOf(a, axes).settingCoords, envId });
    }

    // Diagnostics → action scatter, std and norm histograms, per-run summaries.
    const points: { method: string; a0: number; a1: number }[] = [];
    const stds: { method: string; std: number }[] = [];
    let dataActions: { a0: number; a1: number }[] | undefined;
    for (const a of list(ctx.inputs['diagnostics'])) {
      const t = await a.table();
      const method = chartLabel(a);
      const a0 = num(t, 'a0'), a1 = num(t, 'a1'), std = num(t, 'std');
      if (!a0 || !a1) throw new Error(`diagnostics input ${a.instance} needs columns a0 and a1`);
      const onlyFirstRun = !points.some((q) => q.method === method);
      for (let i = 0; i < a0.length; i++) {
        if (onlyFirstRun) points.push({ method, a0: a0[i]!, a1: a1[i]! });
        if (std) stds.push({ method, std: std[i]! });
      }
      if (!dataActions) {
        const d0 = num(t, 'data_a0'), d1 = num(t, 'data_a1');
        if (d0 && d1) dataActions = Array.from(d0, (v, i) => ({ a0: v, a1: d1[i]! }));
      }
      const summary = meta(t, 'summary');
      if (summary) Object.assign(runRow(a).values, JSON.parse(summary) as Record<string, number>);
    }

    // Dataset coverage: one row per dataset; each also tells its setting's env and coverage.
    const covRows: import('../src/report/coverage-table.js').CoverageRow[] = [];
    for (const a of list(ctx.inputs['coverage'])) {
      const t = await a.table();
      const js = meta(t, 'coverage_summary');
      if (!js) throw new Error(`coverage input ${a.instance} has no coverage_summary metadata (connect load-dataset's action_hist output)`);
      const coords = runOf(a, axes).settingCoords;
      const envId = meta(t, 'env_id') ?? (a.params['env'] ? String(a.params['env']) : undefined);
      covRows.push({ dataset: runOf(a, axes).setting || envId || a.instance, summary: JSON.parse(js) as Record<string, number> });
      const str = (v: unknown) => (typeof v === 'string' ? v : undefined);
      settingSources.push({ coords, envId, datasetName: meta(t, 'dataset_name'), behaviour: str(a.params['behaviour']), source: str(a.params['source']) });
    }

    // Trajectories: the maze figure, and their env id.
    const traj: { method: string; episode: string; t: number; x: number; y: number }[] = [];
    let layout: string | undefined;
    let axisTitles: [string, string] | undefined;
    for (const a of list(ctx.inputs['trajectories'])) {
      const t = await a.table();
      layout ??= meta(t, 'layout');
      const envId = meta(t, 'env_id');
      if (envId) settingSources.push({ coords: runOf(a, axes).settingCoords, envId });
      const frame = r.mazePlotFrame((k) => meta(t, k));
      axisTitles ??= frame?.axisTitles;
      const ep = num(t, 'episode'), tt = num(t, 't'), x = num(t, 'x'), y = num(t, 'y');
      if (!ep || !tt || !x || !y) throw new Error(`trajectories input ${a.instance} needs columns episode, t, x, y`);
      const method = chartLabel(a);
      const run = runLabel(runOf(a, axes));
      const toPlot = frame?.toPlot ?? ((x: number, y: number) => ({ x, y }));
      for (let i = 0; i < ep.length; i++) if (ep[i]! < p.trajectories_per_method) traj.push({ method, episode: `${run}/${ep[i]}`, t: tt[i]!, ...toPlot(x[i]!, y[i]!) });
    }

    // Comparison with intervals, the claims, the other diagnostics, coverage.
    const runRows = [...runs.values()];
    const groups = cmp.summariseGroups(runRows, boot);
    outputs['comparison'] = tableFromArrays(cmp.comparisonColumns(groups) as Record<string, Float64Array>) as unknown as OutputValue;
    const settings = [...new Map(runRows.map((x) => [x.setting, { setting: x.setting, coords: x.settingCoords }])).values()].sort((x, y) => (x.setting < y.setting ? -1 : x.setting > y.setting ? 1 : 0));
    const facts = cl.settingFacts(settings, settingSources, p.data_coverage);
    const claimRows = cl.evaluateClaims(cl.NOTE_CLAIMS, runRows, facts, boot);
    outputs['claims'] = tableFromArrays(cl.claimsColumns(claimRows) as Record<string, Float64Array>) as unknown as OutputValue;
    const tables = summaryTables({ runs: runRows, groups, claims: claimRows, facts, coverage: covRows, bootstrap: boot });
    outputs['summary'] = { bytes: new TextEncoder().encode(summaryText(p.title, tables)), ext: 'txt', mediaType: 'text/plain' };
    sections.push(...tables.map((t) => t.section));

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
      const method = a.matrix['method'] !== undefined || a.params['method'] !== undefined ? chartLabel(a) : a.instance.replace(/\[.*$/, '');
      const seed = runLabel(runOf(a, axes));
      for (let i = 0; i < step.length; i++) {
        const m = String(metric.get(i));
        if (p.curve_metrics.length === 0 || p.curve_metrics.includes(m)) curvePoints.push({ method, metric: m, step: step[i]!, value: value[i]!, seed });
      }
    }
    if (curvePoints.length) {
      sections.push({ title: 'Training curves', images: [await figure('fig_curves', r.trainingCurves(curvePoints, { title: 'Training curves' }), 'Critic and actor training metrics')] });
    }
    const scored = runRows.filter((x) => Number.isFinite(x.values['score']));
    if (scored.length) {
      const faceted = scored.some((x) => x.setting !== '');
      const scoreRows = scored.map((x) => ({ method: x.method, seed: runLabel(x), score: x.values['score']!, ...(faceted ? { env: x.setting } : {}) }));
      const intervals = groups.filter((g) => g.metrics['score'] && g.metrics['score'].n > 1).map((g) => ({ method: g.method, env: g.setting, ...g.metrics['score']! }));
      sections.push({ title: 'Scores', images: [await figure('fig_scores', r.returnsChart(scoreRows, { title: 'Normalised score', intervals }), 'Dots: runs (critic seed × actor seed); bar: 95% bootstrap CI of the mean; tick: the mean')] });
    }
    if (traj.length && layout) {
      sections.push({ title: 'Evaluation rollouts', images: [await figure('fig_maze', r.mazeTrajectories(layout, traj, undefined, { title: 'Rollouts', maxEpisodesPerMethod: p.trajectories_per_method, axisTitles }), 'Deterministic evaluation rollouts over the maze')] });
    }
    // Where policies fail (mazes): value map, action fields, visited-state gaps, episode ends.
    const labelled = async (k: string) => Promise.all(list(ctx.inputs[k]).map(async (a) => ({ label: chartLabel(a), seed: runLabel(runOf(a, axes)), table: await a.table() })));
    const mazeSection = await r.mazeDiagnosticsSection(
      { valueMaps: await labelled('value_maps'), actionFields: await labelled('action_fields'), visitedGaps: await labelled('visited_gaps'), visited: await labelled('visited'), evaluations: await labelled('evaluations') },
      figure,
    );
    if (mazeSection) sections.push(mazeSection);
    if (p.notes) sections.unshift({ title: 'Notes', text: p.notes });

    const inputsUsed: Record<string, string> = {};
    for (const [name, v] of Object.entries(ctx.inputs)) for (const a of list(v)) inputsUsed[`${name}: ${a.instance}.${a.output}`] = a.digest.slice(0, 16);
    const html = r.buildHtmlReport({
      title: p.title,
      // No clock time: the report is a pure function of its inputs (cacheable, reproducible bytes).
      subtitle: `${ctx.instance === 'report' ? '' : `stage ${ctx.instance} · `}cache key ${ctx.cacheKey.slice(0, 12)} · from ${Object.keys(inputsUsed).length} upstream artifacts (see Cache keys)`,
      sections,
      params: { report: p, inputs: Object.fromEntries(Object.entries(ctx.inputs).flatMap(([, v]) => list(v).map((a) => [a.instance, a.params]))) },
      cacheKeys: inputsUsed,
    });
    outputs['html'] = { bytes: new TextEncoder().encode(html), ext: 'html', mediaType: 'text/html' };
    const verdicts = cl.verdictCounts(claimRows);
    return {
      outputs,
      summary: {
        methods: groups.length, runs: runRows.length, figures: FIGURES.filter((f) => f in outputs).length,
        claims_supported: verdicts.supported, claims_contradicted: verdicts.contradicted, claims_inconclusive: verdicts.inconclusive, claims_not_measured: verdicts['not measured'],
      },
    };
  },
};
export default stage;

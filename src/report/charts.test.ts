import assert from 'node:assert/strict';
import { test } from 'node:test';
import { actionScatter, edgeNormHistogram, histogram, mazeTrajectories, niceStep, parseLayout, returnsChart, stdHistogram, trainingCurves } from './charts.js';
import { METHOD_COLORS, methodColor, methodColorScale, pngSize, renderChart, renderSvg, svgToPng } from './render.js';
import { actionPoints, curves, scores, stdValues, trajectories, UMAZE } from './test-fixtures.js';
import { countInMark, markGroups, roleTexts } from './svg-test-helpers.js';

function checkPng(r: { png: Uint8Array; width: number; height: number; scale: number }) {
  const { width, height } = pngSize(r.png);
  assert.equal(width, Math.round(r.width * r.scale));
  assert.equal(height, Math.round(r.height * r.scale));
  assert.ok(r.png.length > 2000, 'PNG has content');
}

test('palette: fixed colours for the study methods, stable fallback, sorted domain', () => {
  assert.equal(methodColor('awr'), METHOD_COLORS.awr);
  assert.equal(methodColor('ddpg'), METHOD_COLORS.ddpg);
  assert.equal(methodColor('awr-discrete'), METHOD_COLORS['awr-discrete']);
  assert.equal(new Set([methodColor('awr'), methodColor('ddpg'), methodColor('awr-discrete')]).size, 3);
  assert.equal(methodColor('my-method'), methodColor('my-method'));
  const s = methodColorScale(['zeta', 'ddpg', 'awr', 'ddpg', 'awr-discrete']);
  assert.deepEqual(s.domain, ['awr', 'awr-discrete', 'ddpg', 'zeta']);
  assert.deepEqual(s.range.slice(0, 3), [METHOD_COLORS.awr, METHOD_COLORS['awr-discrete'], METHOD_COLORS.ddpg]);
});

test('actionScatter: one symbol per point, unit circle + box per facet, legend per method, 2x PNG', async () => {
  const pts = actionPoints(25);
  const data = actionPoints(10).map((p) => ({ a0: p.a0 * 0.9, a1: p.a1 * 0.9 }));
  const r = await renderChart(actionScatter(pts, { title: 'Policy actions', dataActions: data }));
  assert.equal(countInMark(r.svg, 'policy_points'), pts.length);
  assert.equal(countInMark(r.svg, 'data_points'), data.length * 3, 'dataset actions repeated in each facet');
  assert.equal(markGroups(r.svg, 'policy_points').length, 3, 'one facet per method');
  assert.equal(countInMark(r.svg, 'unit_circle'), 3);
  assert.equal(countInMark(r.svg, 'action_box'), 3);
  assert.deepEqual(roleTexts(r.svg, 'role-legend-label'), ['awr', 'awr-discrete', 'ddpg']);
  const titles = roleTexts(r.svg, 'role-axis-title');
  assert.ok(titles.includes('a[0]') && titles.includes('a[1]'), `axis titles: ${titles}`);
  assert.deepEqual(roleTexts(r.svg, 'role-title-text').filter((t) => ['awr', 'awr-discrete', 'ddpg'].includes(t)), ['awr', 'awr-discrete', 'ddpg']);
  // Fixed colours: each method's points are filled with its palette colour.
  for (const [i, m] of ['awr', 'awr-discrete', 'ddpg'].entries()) assert.match(markGroups(r.svg, 'policy_points')[i]!, new RegExp(`fill="${METHOD_COLORS[m]}"`));
  checkPng(r);
});

test('actionScatter: subsamples to maxPointsPerMethod and drops non-finite points', async () => {
  const pts = [...actionPoints(30), { method: 'awr', a0: NaN, a1: 0 }];
  const svg = await renderSvg(actionScatter(pts, { maxPointsPerMethod: 10 }));
  assert.equal(countInMark(svg, 'policy_points'), 30);
});

test('stdHistogram: bars per method, mean rule, axis titles', async () => {
  const vals = stdValues(50);
  const r = await renderChart(stdHistogram(vals));
  assert.equal(markGroups(r.svg, 'std_bars').length, 2);
  assert.equal(countInMark(r.svg, 'std_mean', 'line'), 2);
  assert.ok(countInMark(r.svg, 'std_bars') >= 4);
  const titles = roleTexts(r.svg, 'role-axis-title');
  assert.ok(titles.includes('policy std') && titles.includes('states'));
  assert.deepEqual(roleTexts(r.svg, 'role-legend-label'), ['awr', 'awr-discrete']);
  checkPng(r);
});

test('histogram / niceStep helpers', () => {
  assert.equal(niceStep(0.017), 0.02);
  assert.equal(niceStep(0.3), 0.5);
  assert.equal(niceStep(7), 10);
  const bins = histogram([0, 0.1, 0.95, 1, 1.04, 2], 0, 1.45, 0.05, 0.975);
  assert.equal(bins.reduce((s, b) => s + b.count, 0), 6);
  const centre = bins.find((b) => b.x0 < 1 && b.x1 > 1)!;
  assert.ok(Math.abs((centre.x0 + centre.x1) / 2 - 1) < 1e-9, 'a bin is centred on 1');
  assert.equal(centre.count, 1); // [0.975, 1.025) holds 1 only; 1.04 is in the next bin
  assert.equal(bins[bins.length - 1]!.count, 1, 'values above hi are clamped into the last bin');
});

test('trainingCurves: a panel per metric, a line per (method, seed), mean lines, log scale option', async () => {
  const series = curves();
  const r = await renderChart(trainingCurves(series, { smooth: 3, logMetrics: ['q_loss'], title: 'Training' }));
  const panels = roleTexts(r.svg, 'role-title-text');
  for (const m of ['actor_loss', 'policy_std', 'q_loss']) assert.ok(panels.includes(m), `panel ${m}`);
  assert.equal(markGroups(r.svg, 'curve_lines_0').length, 6); // 3 methods x 2 seeds
  assert.equal(markGroups(r.svg, 'curve_lines_1').length, 4); // ddpg has no std
  assert.equal(markGroups(r.svg, 'curve_mean_0').length, 3);
  assert.deepEqual(roleTexts(r.svg, 'role-legend-label'), ['awr', 'awr-discrete', 'ddpg']);
  assert.ok(roleTexts(r.svg, 'role-axis-title').includes('step'));
  checkPng(r);
});

test('returnsChart: one dot per seed, one mean tick and error bar per method, reference line', async () => {
  const rows = scores();
  const r = await renderChart(returnsChart(rows, { references: [{ label: 'IQL (CORL)', value: 42.1 }] }));
  assert.equal(countInMark(r.svg, 'seed_points'), rows.length);
  assert.equal(countInMark(r.svg, 'mean_ticks'), 3);
  assert.equal(countInMark(r.svg, 'error_bars', 'line'), 3);
  assert.equal(countInMark(r.svg, 'ref_rules', 'line'), 1);
  assert.ok(roleTexts(r.svg, 'role-axis-title').includes('normalised score'));
  const labels = roleTexts(r.svg, 'role-axis-label');
  for (const m of ['awr', 'awr-discrete', 'ddpg']) assert.ok(labels.includes(m), `x label ${m}`);
  checkPng(r);
});

test('returnsChart: given intervals (bootstrap CIs) are the bars and ticks; groups without one keep mean ± std', async () => {
  const rows = scores();
  const spec = returnsChart(rows, { intervals: [{ method: 'ddpg', estimate: 81, low: 70, high: 95 }] }) as any;
  const agg = (spec.data.values as any[]).filter((v) => v.kind === 'agg');
  assert.deepEqual(agg.filter((v) => v.method === 'ddpg').map((v) => [v.mean, v.lo, v.hi]), [[81, 70, 95]]);
  const awr = agg.find((v) => v.method === 'awr');
  assert.ok(Math.abs(awr.hi - awr.mean - awr.std) < 1e-9, 'awr: mean + std');
  const r = await renderChart(spec);
  assert.equal(countInMark(r.svg, 'error_bars', 'line'), 3);
  assert.equal(countInMark(r.svg, 'seed_points'), rows.length, 'every run a dot');
});

test('renderSvg: the same chart twice in one process gives the same bytes (Vega clip ids renumbered per chart)', async () => {
  const spec = stdHistogram(stdValues(20));
  const a = await renderSvg(spec);
  await renderSvg(edgeNormHistogram(actionPoints(10)));
  assert.equal(await renderSvg(spec), a);
  assert.match(a, /id="clip1"/);
});

test('returnsChart: facets per env', async () => {
  const rows = [...scores().map((r) => ({ ...r, env: 'umaze' })), ...scores().map((r) => ({ ...r, env: 'medium', score: r.score / 2 }))];
  const svg = await renderSvg(returnsChart(rows));
  assert.equal(markGroups(svg, 'seed_points').length, 2);
  assert.equal(countInMark(svg, 'seed_points'), rows.length);
});

test('mazeTrajectories: walls as rects, a line per episode, goal from the layout, picture oriented like the layout', async () => {
  const traj = trajectories(3);
  const spec = mazeTrajectories(UMAZE, traj, undefined, { title: 'umaze' });
  const r = await renderChart(spec);
  const nWalls = UMAZE.join('').split('#').length - 1;
  assert.equal(countInMark(r.svg, 'maze_walls'), 2 * nWalls);
  assert.equal(markGroups(r.svg, 'traj_lines').length, 6);
  assert.equal(countInMark(r.svg, 'goal'), 2);
  const titles = roleTexts(r.svg, 'role-axis-title');
  assert.ok(titles.includes('qpos[1] (column)') && titles.includes('qpos[0] (row)'));
  // 5 x 5 maze: facet cells are square.
  const s = spec as any;
  assert.equal(s.spec.width, s.spec.height);
  // Orientation: wall rect of cell (i, j) spans qpos [i-0.7, i+0.3] vertically (row axis reversed: row 0 on top).
  const walls = s.spec.layer[0].data.values as { v0: number; h0: number }[];
  assert.ok(walls.some((w) => Math.abs(w.v0 - -0.7) < 1e-9 && Math.abs(w.h0 - -0.7) < 1e-9));
  assert.equal(s.spec.layer[0].encoding.y.scale.reverse, true);
  checkPng(r);
  // AntMaze: positions are world metres mapped onto cells; the axes say so.
  const ant = await renderSvg(mazeTrajectories(UMAZE, traj, undefined, { axisTitles: ['row (world y / 4 m)', 'column (world x / 4 m)'] }));
  assert.ok(roleTexts(ant, 'role-axis-title').includes('row (world y / 4 m)'));
});

test('parseLayout accepts arrays, / and newline separated strings', () => {
  assert.deepEqual(parseLayout('#####/#GOO#/###O#/#OOO#/#####'), UMAZE);
  assert.deepEqual(parseLayout(UMAZE.join('\n') + '\n'), UMAZE);
});

test('edgeNormHistogram: rule at 1 in every facet, edge fraction text', async () => {
  const pts = actionPoints(20);
  const r = await renderChart(edgeNormHistogram(pts));
  assert.equal(countInMark(r.svg, 'edge_rule', 'line'), 3);
  const texts = roleTexts(r.svg, 'role-mark edge_text_marks');
  assert.deepEqual(texts.length, 3);
  assert.ok(texts.includes('on edge: 100%'), texts.join());
  const inf = await renderSvg(edgeNormHistogram(pts, { norm: 'linf' }));
  assert.ok(roleTexts(inf, 'role-axis-title').includes('max |aᵢ|'));
  checkPng(r);
});

test('svgToPng: text is drawn with the loaded font (PNG differs from a text-free render)', async () => {
  const withText = '<svg xmlns="http://www.w3.org/2000/svg" width="80" height="20"><text x="2" y="15" font-family="DejaVu Sans" font-size="14">Ag</text></svg>';
  const noText = '<svg xmlns="http://www.w3.org/2000/svg" width="80" height="20"></svg>';
  const a = svgToPng(withText);
  const b = svgToPng(noText);
  assert.deepEqual(pngSize(a), { width: 160, height: 40 });
  assert.ok(a.length > b.length + 100, `text rendered (${a.length} vs ${b.length} bytes)`);
});

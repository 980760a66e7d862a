import assert from 'node:assert/strict';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { actionScatter, edgeNormHistogram, mazeTrajectories, returnsChart, stdHistogram, trainingCurves } from '../../src/report/charts.js';
import { buildHtmlReport, flattenParams, inlineSvg, type HtmlReportInput } from '../../src/report/html.js';
import { renderChart } from '../../src/report/render.js';
import { aggregateBySeeds } from '../../src/report/table.js';
import { actionPoints, curves, scores, stdValues, trajectories, UMAZE } from './fixtures.js';
import { launchChromium } from '../browser.js';

const OUT = resolve(process.cwd(), 'test-output');

async function sampleReport(): Promise<{ html: string; figures: number }> {
  const sc = scores();
  const agg = aggregateBySeeds(sc, 'method', ['score'], { labels: { score: 'normalised score' } });
  const charts = {
    actions: await renderChart(actionScatter(actionPoints(30))),
    norms: await renderChart(edgeNormHistogram(actionPoints(30))),
    std: await renderChart(stdHistogram(stdValues(40))),
    curves: await renderChart(trainingCurves(curves(), { logMetrics: ['q_loss'] })),
    returns: await renderChart(returnsChart(sc)),
    maze: await renderChart(mazeTrajectories(UMAZE, trajectories(2))),
  };
  const input: HtmlReportInput = {
    title: 'maze2d-umaze: policy extraction <compare>',
    subtitle: 'IQL critic, three extraction methods',
    generatedAt: new Date('2025-01-02T03:04:05Z'),
    sections: [
      {
        title: 'Scores',
        text: 'Normalised score over seeds (mean ± sample std).\n\nComputed with `evaluate`.',
        table: { columns: agg.columns, rows: agg.rows },
        images: [{ name: 'returns', svg: charts.returns.svg, png: charts.returns.png, caption: 'Per-seed scores, mean and std.' }],
      },
      {
        title: 'Policy actions',
        images: [
          { name: 'actions', svg: charts.actions.svg, caption: 'Policy actions at dataset states; unit circle and action box drawn.' },
          { name: 'norms', svg: charts.norms.svg, caption: '‖a‖ per method.' },
          { name: 'std-png-only', png: charts.std.png, caption: 'Policy std (PNG only).' },
        ],
      },
      { title: 'Training', images: [{ name: 'curves', svg: charts.curves.svg, caption: 'Losses.' }] },
      { title: 'Rollouts', images: [{ name: 'maze', svg: charts.maze.svg, caption: 'Trajectories.' }, { name: 'missing' }] },
    ],
    params: { dataset: { env: 'maze2d-umaze-v1', n: 1000000 }, iql: { tau: 0.7, beta: 3, hidden: [256, 256] }, methods: ['awr', 'ddpg', 'awr-discrete'], note: '<b>not html</b>' },
    cacheKeys: { 'fit-iql[seed=0]': 'a'.repeat(64), 'load-dataset': 'b'.repeat(64) },
  };
  return { html: buildHtmlReport(input), figures: 6 };
}

test('inlineSvg prefixes ids and their references', () => {
  const svg = '<?xml version="1.0"?><svg width="1" height="1"><defs><clipPath id="clip1"><rect/></clipPath></defs><g clip-path="url(#clip1)"><use href="#clip1"/></g></svg>';
  const s = inlineSvg(svg, 'f0-', 'a "label"');
  assert.ok(!s.includes('<?xml'));
  assert.match(s, /id="f0-clip1"/);
  assert.match(s, /url\(#f0-clip1\)/);
  assert.match(s, /href="#f0-clip1"/);
  assert.match(s, /^<svg role="img" focusable="false" aria-label="a &quot;label&quot;"/);
});

test('flattenParams', () => {
  assert.deepEqual(flattenParams({ a: { b: 1, c: [1, 2] }, d: 'x', e: [{ f: true }] }), [
    ['a.b', '1'],
    ['a.c', '[1,2]'],
    ['d', 'x'],
    ['e[0].f', 'true'],
  ]);
});

test('buildHtmlReport: self-contained, escaped, unique ids, tables and params', async () => {
  const { html, figures } = await sampleReport();
  mkdirSync(OUT, { recursive: true });
  writeFileSync(resolve(OUT, 'report.html'), html);
  assert.ok(html.startsWith('<!DOCTYPE html>'));
  assert.ok(!/<script/i.test(html), 'no scripts');
  assert.ok(!/(src|href)="(https?:)?\/\//i.test(html), 'no external resources');
  assert.ok(html.includes('maze2d-umaze: policy extraction &lt;compare&gt;'));
  assert.ok(html.includes('&lt;b&gt;not html&lt;/b&gt;'));
  assert.equal((html.match(/<svg\b/g) ?? []).length, figures - 1, 'SVG figures inlined');
  assert.equal((html.match(/<img src="data:image\/png;base64,/g) ?? []).length, 1);
  assert.equal((html.match(/<a class="dl" download="returns.png" href="data:image\/png;base64,/g) ?? []).length, 1);
  assert.ok(html.includes('<code>evaluate</code>'));
  assert.ok(html.includes('42.') || html.includes('±'), 'comparison table');
  assert.ok(html.includes('iql.tau') && html.includes('fit-iql[seed=0]') && html.includes('a'.repeat(64)));
  // Every id is unique, and every url(#…) reference points to an existing id.
  const ids = [...html.matchAll(/\sid="([^"]+)"/g)].map((m) => m[1]!);
  assert.equal(new Set(ids).size, ids.length, 'ids unique');
  for (const m of html.matchAll(/url\(#([^)]+)\)/g)) assert.ok(ids.includes(m[1]!), `dangling ref ${m[1]}`);
});

test('HTML report opens in headless Chromium without console errors', { timeout: 60_000 }, async () => {
  const { html, figures } = await sampleReport();
  mkdirSync(OUT, { recursive: true });
  const file = resolve(OUT, 'report.html');
  writeFileSync(file, html);
  const browser = await launchChromium();
  try {
    const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
    const errors: string[] = [];
    const requests: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warning') errors.push(`${m.type()}: ${m.text()}`);
    });
    page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
    page.on('request', (r) => requests.push(r.url()));
    page.on('requestfailed', (r) => errors.push(`requestfailed: ${r.url()}`));
    await page.goto(pathToFileURL(file).href, { waitUntil: 'load' });
    assert.deepEqual(errors, []);
    assert.deepEqual(
      requests.filter((u) => !u.startsWith('file:') && !u.startsWith('data:')),
      [],
      'no network requests',
    );
    const info = await page.evaluate(() => ({
      svgs: document.querySelectorAll('figure svg').length,
      imgsLoaded: [...document.querySelectorAll('img')].every((i) => i.complete && i.naturalWidth > 0),
      svgWidths: [...document.querySelectorAll('figure svg')].map((s) => s.getBoundingClientRect().width),
      title: document.title,
      rows: document.querySelectorAll('table tbody tr').length,
    }));
    assert.equal(info.svgs, figures - 1);
    assert.ok(info.imgsLoaded, 'PNG data URIs decode');
    assert.ok(info.svgWidths.every((w) => w > 100), `svgs laid out: ${info.svgWidths}`);
    assert.equal(info.title, 'maze2d-umaze: policy extraction <compare>');
    assert.ok(info.rows >= 3 + 2);
    await page.screenshot({ path: resolve(OUT, 'report.png'), fullPage: true });
    assert.ok(existsSync(resolve(OUT, 'report.png')));
  } finally {
    await browser.close();
  }
});

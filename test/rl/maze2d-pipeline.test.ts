/**
 * The whole study, shrunk: dataset → IQL → three extractions → evaluate → diagnose → report, run
 * through the real CLI on real MuJoCo physics and tfjs. Checks the artifacts, the report and that a
 * second run is all cache hits. Tiny networks and step counts: the numbers are not the finding;
 * only properties that hold from the first steps are asserted (DDPG and discretised AWR act on the
 * edge of the action box, the Gaussian AWR head has a large std and acts inside it).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { join } from 'node:path';
import { cached, ROOT, runCli, started, tempDir, writePipeline } from '../helpers.js';
import { launchChromium } from '../browser.js';
import { readTableFile } from '../../src/store/arrow-io.js';

const PIPELINE = `name: tiny-maze2d
params: { env: maze2d-umaze-v1 }
stages:
  dataset:
    uses: load-dataset
    with: { env: "\${{ params.env }}", size: 20000 }
  iql:
    uses: fit-iql
    inputs: { dataset: dataset.dataset }
    with: { steps: 300, hidden: [64, 64], batch_size: 128, log_every: 50, checkpoint_every: 100 }
  policy:
    uses: extract-policy
    matrix: { method: [awr, ddpg, awr-discrete] }
    inputs: { dataset: dataset.dataset, critic: iql.critic }
    with: { method: "\${{ matrix.method }}", steps: 300, hidden: [64, 64], batch_size: 128, log_every: 50 }
  evaluate:
    uses: evaluate
    foreach: policy
    inputs: { policy: policy.policy }
    with: { episodes: 8, record_trajectories: 2 }
  diagnose:
    uses: diagnose
    foreach: policy
    inputs: { policy: policy.policy, critic: iql.critic, dataset: dataset.dataset }
    with: { states: 300, neighbour_pool: 2000 }
  report:
    uses: report
    inputs:
      evaluations: evaluate.episodes
      trajectories: evaluate.trajectories
      diagnostics: diagnose.actions
      curves: [iql.curve, policy.curve]
`;

test('tiny maze2d study end to end: artifacts, report, cache hits', { timeout: 600_000 }, async () => {
  const dir = tempDir();
  const file = writePipeline(dir, 'tiny.yaml', PIPELINE);
  const r = await runCli(['run', file], dir);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.equal(started(r.stdout).length, 12);
  // The terminal summary: one row per method.
  for (const m of ['awr', 'ddpg', 'awr-discrete']) assert.match(r.stdout, new RegExp(`^${m} +-?\\d`, 'm'));
  const reportPath = /^report: (.+\.html)$/m.exec(r.stdout)?.[1];
  assert.ok(reportPath && existsSync(reportPath), 'the run prints the path of the HTML report');
  const html = readFileSync(reportPath, 'utf8');
  for (const title of ['Comparison', 'Policy actions at dataset states', 'Policy standard deviation', 'Training curves', 'Scores', 'Evaluation rollouts']) {
    assert.ok(html.includes(title), `report section ${title}`);
  }

  const manifest = async (stage: string) => JSON.parse((await runCli(['show', file, stage, '--json'], dir)).stdout) as { key: string; outputs: Record<string, { file: string }>; summary: Record<string, number>; recorded: Record<string, unknown> };
  const entry = (m: { key: string }) => join(dir, 'artifacts', 'entries', m.key.slice(0, 2), m.key);
  const iql = await manifest('iql');
  assert.ok(['tensorflow', 'wasm', 'cpu'].includes((iql.recorded['backend'] as { name: string }).name));
  const curve = await readTableFile(join(entry(iql), iql.outputs['curve']!.file));
  assert.equal(curve.numRows, 8 * 6, 'eight IQL metrics logged at steps 50..300');

  const diag: Record<string, Record<string, number>> = {};
  for (const m of ['awr', 'ddpg', 'awr-discrete']) diag[m] = (await manifest(`diagnose[method=${m}]`)).summary;
  assert.ok(diag['awr']!['mean_std']! > 0.2, `Gaussian AWR head keeps a large std early (${diag['awr']!['mean_std']})`);
  assert.equal(diag['ddpg']!['mean_std'], 0, 'DDPG is deterministic');
  assert.ok(diag['ddpg']!['edge_fraction']! > diag['awr']!['edge_fraction']!, 'DDPG acts on the box edge more than Gaussian AWR');
  assert.ok(diag['awr-discrete']!['edge_fraction']! > diag['awr']!['edge_fraction']!, 'discretised AWR acts on the edge more than Gaussian AWR');

  const ev = await manifest('evaluate[method=ddpg]');
  const episodes = await readTableFile(join(entry(ev), ev.outputs['episodes']!.file));
  assert.equal(episodes.numRows, 8);
  assert.ok(Number.isFinite(ev.summary['score_mean']));

  // The report opens in a browser without errors and shows every figure.
  const browser = await launchChromium();
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const errors: string[] = [];
    page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(pathToFileURL(reportPath).href, { waitUntil: 'load' });
    assert.deepEqual(errors, []);
    assert.equal(await page.locator('figure svg').count(), 6);
    mkdirSync(join(ROOT, 'test-output'), { recursive: true });
    await page.screenshot({ path: join(ROOT, 'test-output', 'maze2d-report.png'), fullPage: true });
  } finally {
    await browser.close();
  }

  const again = await runCli(['run', file], dir);
  assert.equal(again.code, 0);
  assert.deepEqual(started(again.stdout), []);
  assert.equal(cached(again.stdout).length, 12);
});

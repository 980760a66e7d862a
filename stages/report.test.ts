/**
 * The report stage on synthetic upstream tables shaped like the real stages' outputs: runs of
 * critic seed × actor seed, the claims table and its scope, the item-8 report debts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { coverage, diagnostics, episodes, runReport } from './lib/report-inputs.js';
import type { InputArtifact } from '../src/engine/stage.js';

const FAST = { bootstrap_samples: 2000 };

/** maze2d-compare with `critic_seed` on fit-iql: 2 critics × 3 actor seeds per method. */
function mazeStudy(): Record<string, InputArtifact[]> {
  const evaluations: InputArtifact[] = [];
  const diags: InputArtifact[] = [];
  const base: Record<string, number> = { awr: 8, ddpg: -14, 'awr-discrete': 19 };
  for (const method of ['awr', 'ddpg', 'awr-discrete']) {
    for (const critic_seed of [0, 1]) {
      for (const seed of [0, 1, 2]) {
        const m = { critic_seed, method, seed };
        const s = base[method]! + 4 * critic_seed + seed;
        evaluations.push(episodes(m, [s - 1, s + 1]));
        diags.push(diagnostics(m, { mean_std: method === 'awr' ? 0.38 + 0.01 * seed : 0, edge_fraction: method === 'awr' ? 0.05 : 0.9, mean_norm: 0.5, q_gap: -0.1 }));
      }
    }
  }
  return { evaluations, diagnostics: diags, coverage: [coverage({}, 'maze2d-umaze-v1', { transitions: 1_000_000, action_hist_entropy: 0.8, action_edge_fraction: 0.3, cells_visited_fraction: 1, cells_visited: 7, cells_free: 7 }, { source: 'generate' })] };
}

test('report: a run is critic seed × actor seed; comparison has n runs, mean and IQM with 95% CIs', async () => {
  const r = await runReport(mazeStudy(), FAST);
  const t = r.table('comparison');
  assert.deepEqual(t.getChild('method')!.toArray(), ['awr', 'awr-discrete', 'ddpg']);
  assert.deepEqual([...t.getChild('runs')!.toArray()], [6, 6, 6]);
  assert.deepEqual([...t.getChild('critics')!.toArray()], [2, 2, 2]);
  assert.deepEqual([...t.getChild('actors')!.toArray()], [3, 3, 3]);
  // awr run scores: 8 + 4c + a for c in {0,1}, a in {0,1,2} → mean 11, IQM (drop one each end) 11.
  const row = (k: string) => t.getChild(k)!.get(0) as number;
  assert.equal(row('score_mean'), 11);
  assert.equal(row('score_iqm'), 11);
  assert.ok(row('score_ci_low') < 11 && 11 < row('score_ci_high'));
  assert.ok(row('score_iqm_ci_low') <= 11 && 11 <= row('score_iqm_ci_high'));
  assert.ok(Math.abs(row('mean_std_mean') - 0.39) < 1e-12);
  assert.match(r.text, /^awr +6 +2 x 3 +11\.00 \[\d+\.\d+, \d+\.\d+\] +11\.00 \[/m);
  assert.match(r.html, /norm\. score mean \[95% CI\]/);
  assert.equal(r.result.summary!['runs'], 18);
});

test('report: the claims table decides the maze2d claims and says which need other data', async () => {
  const r = await runReport(mazeStudy(), FAST);
  const c = r.table('claims');
  assert.deepEqual(c.schema.fields.map((f) => f.name), ['claim', 'setting', 'test', 'measured', 'ci_low', 'ci_high', 'n_a', 'n_b', 'verdict', 'interval', 'note']);
  const rows = c.toArray().map((x) => x.toJSON() as Record<string, unknown>);
  const by = (claim: string) => rows.find((x) => x['claim'] === claim)!;
  assert.equal(by('Gaussian AWR policy std ≈ 0.4 on maze2d')['verdict'], 'supported');
  const ddpg = by('DDPG > Gaussian AWR on maze2d');
  assert.deepEqual([ddpg['verdict'], ddpg['measured'], ddpg['n_a'], ddpg['n_b'], ddpg['setting']], ['contradicted', -22, 6, 6, 'maze2d-umaze-v1']);
  assert.match(String(ddpg['interval']), /paired by critic \(2 critics\)/);
  assert.equal(by('discretised AWR > Gaussian AWR on maze2d')['verdict'], 'supported');
  for (const claim of ['DDPG > AWR on dense data', 'AWR > DDPG on narrow data', 'DDPG near zero on narrow data']) {
    assert.equal(by(claim)['verdict'], 'not measured');
    assert.match(String(by(claim)['note']), /no (dense|narrow)-data setting/);
  }
  // In the HTML near the top (the first section), and in the terminal summary.
  const sections = [...r.html.matchAll(/<h2>([^<]+)<\/h2>/g)].map((m) => m[1]);
  assert.equal(sections[0], 'Claims of the note');
  assert.match(r.text, /^DDPG > Gaussian AWR on maze2d +maze2d-umaze-v1 +-22\.00 \[-?\d+\.\d+, -?\d+\.\d+\] +6 \/ 6 +contradicted/m);
  assert.deepEqual(
    ['claims_supported', 'claims_contradicted', 'claims_not_measured'].map((k) => r.result.summary![k]),
    [2, 1, 3],
  );
});

test('report: coverage-compare settings are scoped dense / narrow from the datasets, stratified over envs', async () => {
  const evaluations: InputArtifact[] = [];
  const cov: InputArtifact[] = [];
  // Dense data: DDPG ahead of AWR by 10; narrow: AWR ahead and DDPG near 0.
  const score = (behaviour: string, method: string) => (behaviour === 'explore' ? { awr: 30, ddpg: 40 } : { awr: 35, ddpg: 1 })[method as 'awr' | 'ddpg']!;
  for (const env of ['halfcheetah-v2', 'cheetah-run']) {
    for (const behaviour of ['gait', 'explore']) {
      cov.push(coverage({ env, behaviour }, env, { transitions: 200_000, action_coarse_occupied_fraction: behaviour === 'gait' ? 0.05 : 0.6 }, { behaviour, source: 'generate' }));
      for (const method of ['awr', 'ddpg']) for (const seed of [0, 1, 2]) evaluations.push(episodes({ env, behaviour, method, seed }, [score(behaviour, method) + seed - 1]));
    }
  }
  const r = await runReport({ evaluations, coverage: cov }, FAST);
  const rows = r.table('claims').toArray().map((x) => x.toJSON() as Record<string, unknown>);
  const of = (claim: string) => rows.filter((x) => x['claim'] === claim).map((x) => [x['setting'], x['verdict']]);
  assert.deepEqual(of('DDPG > AWR on dense data'), [
    ['behaviour=explore,env=cheetah-run', 'supported'],
    ['behaviour=explore,env=halfcheetah-v2', 'supported'],
    ['all 2 dense-data settings (stratified)', 'supported'],
  ]);
  assert.deepEqual(of('AWR > DDPG on narrow data').at(-1), ['all 2 narrow-data settings (stratified)', 'supported']);
  assert.deepEqual(of('DDPG near zero on narrow data').at(-1), ['all 2 narrow-data settings (stratified)', 'supported']);
  assert.match(String(rows.find((x) => x['claim'] === 'DDPG > Gaussian AWR on maze2d')!['note']), /no maze2d setting among the inputs \(env ids here: cheetah-run, halfcheetah-v2\)/);
  // The comparison gets a setting column; the score chart one facet per setting.
  assert.match(r.text, /^setting +method +runs/m);
  assert.match(r.html, /behaviour=explore,env=cheetah-run/);
});

test('report: one run per method shows values without intervals; verdicts inconclusive, not invented', async () => {
  const evaluations = ['awr', 'ddpg'].map((method) => episodes({ method }, [method === 'awr' ? 5 : 9]));
  const r = await runReport({ evaluations, coverage: [coverage({}, 'maze2d-umaze-v1', { transitions: 1000 })] }, FAST);
  assert.match(r.text, /^awr +1 +1 x 1 +5\.00 +5\.00$/m);
  const rows = r.table('claims').toArray().map((x) => x.toJSON() as Record<string, unknown>);
  const ddpg = rows.find((x) => x['claim'] === 'DDPG > Gaussian AWR on maze2d')!;
  assert.deepEqual([ddpg['verdict'], ddpg['measured']], ['inconclusive', 4]);
  assert.ok(Number.isNaN(ddpg['ci_low']));
});

test('report: deterministic bytes (the bootstrap is seeded; no clock in the HTML)', async () => {
  const a = await runReport(mazeStudy(), FAST);
  const b = await runReport(mazeStudy(), FAST);
  assert.equal(a.html, b.html);
  assert.equal(a.text, b.text);
  const c = await runReport(mazeStudy(), { ...FAST, bootstrap_seed: 1 });
  assert.notEqual(c.text, a.text, 'another bootstrap seed draws other resamples');
});

// Item 8's report debts.

test('terminal summary: every rule line spans its header, in characters every terminal draws one column wide', async () => {
  const r = await runReport(mazeStudy(), FAST);
  assert.doesNotMatch(r.text, /[^\x20-\x7e\n─±—]/u, 'only ASCII plus ─ ± —: ‖, π, −, ≈, × are drawn two columns wide by some terminals');
  const lines = r.text.split('\n');
  let rules = 0;
  lines.forEach((l, i) => {
    if (!/^─/.test(l)) return;
    rules++;
    // Each header title sits inside its own rule segment, and there is one segment per title.
    const segments = [...l.matchAll(/─+/g)].map((m) => [m.index!, m.index! + m[0].length]);
    const titles = [...lines[i - 1]!.matchAll(/\S+(?: \S+)*/g)].map((m) => [m.index!, m.index! + m[0].length]);
    assert.equal(segments.length, titles.length, `one rule segment per column under "${lines[i - 1]}"`);
    titles.forEach(([a, b], k) => assert.ok(segments[k]![0]! <= a! && b! <= segments[k]![1]!, `column ${k} of "${lines[i - 1]}" over its rule`));
  });
  assert.equal(rules, 4, 'claims, comparison, diagnostics, coverage');
});

test('coverage table: fractions read as fractions, visited cells as visited/free', async () => {
  const r = await runReport({ coverage: [coverage({}, 'maze2d-umaze-v1', { transitions: 1_000_000, action_edge_fraction: 1, cells_visited_fraction: 1, cells_visited: 7, cells_free: 7 })] }, FAST);
  assert.match(r.text, /^dataset +transitions +on edge +cells visited$/m);
  assert.match(r.text, /^maze2d-umaze-v1 +1000000 +1\.000 +7\/7$/m);
  const noCounts = await runReport({ coverage: [coverage({}, 'antmaze-umaze-v2', { transitions: 5000, cells_visited_fraction: 1 })] }, FAST);
  assert.match(noCounts.text, /^antmaze-umaze-v2 +5000 +1\.000$/m);
});

test('HTML: no epoch "Generated" line and no "report report" subtitle', async () => {
  const r = await runReport(mazeStudy(), FAST);
  assert.doesNotMatch(r.html, /1970-01-01/);
  assert.doesNotMatch(r.html, /Generated/);
  const sub = /<p class="sub">([^<]*)<\/p>/.exec(r.html)?.[1] ?? '';
  assert.doesNotMatch(sub, /report report/);
  assert.match(sub, /^cache key c{12} · from 37 upstream artifacts/);
  const named = await runReport(mazeStudy(), FAST, 'report-large');
  assert.match(/<p class="sub">([^<]*)<\/p>/.exec(named.html)![1]!, /^stage report-large · cache key/);
});

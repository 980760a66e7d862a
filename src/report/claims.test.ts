import { test } from 'node:test';
import assert from 'node:assert/strict';
import { claimsColumns, classifyCoverage, evaluateClaims, NOTE_CLAIMS, settingFacts, verdictCounts, type Claim, type SettingFacts } from './claims.js';
import type { RunRow } from './comparison.js';

const OPTS = { samples: 4000, seed: 0 };

/** Runs of one method in one setting: values[c][a] = metric of critic c, actor a. */
function runsOf(setting: string, method: string, metric: string, values: number[][]): RunRow[] {
  return values.flatMap((vs, c) => vs.map((v, a) => ({ setting, settingCoords: {}, method, critic: String(c), actor: String(a), values: { [metric]: v } })));
}
const maze: SettingFacts[] = [{ setting: '', coords: {}, envId: 'maze2d-umaze-v1' }];
const claim = (id: string) => NOTE_CLAIMS.find((c) => c.id === id)!;

test('classifyCoverage: dataset names first, then the generating behaviour, then ExoRL', () => {
  assert.equal(classifyCoverage({ datasetName: 'halfcheetah-v2-generated-cemgait-narrow' }).coverage, 'narrow');
  assert.equal(classifyCoverage({ datasetName: 'cheetah-run-generated-mixed-exploration' }).coverage, 'dense');
  assert.equal(classifyCoverage({ behaviour: 'gait' }).coverage, 'narrow');
  assert.equal(classifyCoverage({ behaviour: 'explore' }).coverage, 'dense');
  assert.equal(classifyCoverage({ source: 'exorl' }).coverage, 'dense');
  assert.equal(classifyCoverage({ source: 'generate' }).coverage, undefined, 'maze2d data: no coverage class');
});

test('settingFacts: env id and coverage from the dataset input that applies; data_coverage overrides', () => {
  const settings = [
    { setting: 'behaviour=gait,env=halfcheetah-v2', coords: { behaviour: 'gait', env: 'halfcheetah-v2' } },
    { setting: 'behaviour=explore,env=halfcheetah-v2', coords: { behaviour: 'explore', env: 'halfcheetah-v2' } },
  ];
  const sources = settings.map((s) => ({ coords: s.coords, envId: 'halfcheetah-v2', behaviour: s.coords.behaviour }));
  const f = settingFacts(settings, sources);
  assert.deepEqual(f.map((x) => [x.envId, x.coverage]), [['halfcheetah-v2', 'narrow'], ['halfcheetah-v2', 'dense']]);
  const o = settingFacts(settings, sources, { 'behaviour=gait,env=halfcheetah-v2': 'dense' });
  assert.equal(o[0]!.coverage, 'dense');
  assert.match(o[0]!.coverageFrom!, /data_coverage/);
});

test('order claim: supported / contradicted / inconclusive from the side of 0 the interval lies on', () => {
  const awr = runsOf('', 'awr', 'score', [[8, 9, 10], [7, 8, 9], [9, 10, 11]]);
  const verdict = (ddpg: number[][]) => evaluateClaims([claim('ddpg-over-awr-maze2d')], [...awr, ...runsOf('', 'ddpg', 'score', ddpg)], maze, OPTS)[0]!;
  const up = verdict([[20, 21, 22], [19, 20, 21], [21, 22, 23]]);
  assert.deepEqual([up.verdict, up.measured, up.nA, up.nB], ['supported', 12, 9, 9]);
  assert.ok(up.low > 0 && up.low <= 12 && up.high >= 12);
  assert.match(up.interval, /paired by critic \(3 critics\)/);
  assert.equal(verdict([[-15, -14, -13], [-16, -15, -14], [-14, -13, -12]]).verdict, 'contradicted');
  assert.equal(verdict([[0, 10, 25], [2, 9, 16], [-5, 8, 20]]).verdict, 'inconclusive');
});

test('band claim: inside the band → supported, outside → contradicted, across an edge → inconclusive; the band is in the test text', () => {
  const c = claim('awr-std-maze2d');
  const verdict = (std: number[][]) => evaluateClaims([c], runsOf('', 'awr', 'mean_std', std), maze, OPTS)[0]!;
  const inside = verdict([[0.39, 0.4], [0.41, 0.4]]);
  assert.equal(inside.verdict, 'supported');
  assert.equal(inside.test, 'mean policy std of awr in [0.3, 0.5]');
  assert.equal(inside.nB, 0);
  assert.equal(verdict([[0.1, 0.12], [0.11, 0.1]]).verdict, 'contradicted');
  assert.equal(verdict([[0.2, 0.45], [0.3, 0.6]]).verdict, 'inconclusive');
});

test('not measured: names the missing scope, method or metric; one run gives a value but no interval', () => {
  const rows = runsOf('', 'awr', 'score', [[1, 2]]);
  const [noDdpg] = evaluateClaims([claim('ddpg-over-awr-maze2d')], rows, maze, OPTS);
  assert.equal(noDdpg!.verdict, 'not measured');
  assert.match(noDdpg!.note, /no ddpg runs \(methods here: awr\)/);
  const [noStd] = evaluateClaims([claim('awr-std-maze2d')], rows, maze, OPTS);
  assert.match(noStd!.note, /no mean_std for awr \(connect diagnose.actions as diagnostics\)/);
  const [noScope] = evaluateClaims([claim('ddpg-over-awr-dense')], rows, maze, OPTS);
  assert.match(noScope!.note, /no dense-data setting among the inputs \(coverage here: maze2d-umaze-v1 unknown\)/);
  const [noMaze] = evaluateClaims([claim('ddpg-over-awr-maze2d')], rows, [{ setting: '', coords: {}, envId: 'cheetah-run' }], OPTS);
  assert.match(noMaze!.note, /no maze2d setting among the inputs \(env ids here: cheetah-run\)/);
  const [single] = evaluateClaims([claim('ddpg-over-awr-maze2d')], [...rows.slice(0, 1), ...runsOf('', 'ddpg', 'score', [[5]])], maze, OPTS);
  assert.deepEqual([single!.verdict, single!.measured, Number.isNaN(single!.low)], ['inconclusive', 4, true]);
  assert.match(single!.note, /one run/);
});

test('several settings in scope: a row each and a stratified row that decides the claim', () => {
  const c: Claim = claim('ddpg-over-awr-dense');
  const facts: SettingFacts[] = [
    { setting: 'env=a', coords: { env: 'a' }, envId: 'halfcheetah-v2', coverage: 'dense' },
    { setting: 'env=b', coords: { env: 'b' }, envId: 'cheetah-run', coverage: 'dense' },
  ];
  const rows = [
    ...runsOf('env=a', 'awr', 'score', [[10, 11, 12]]), ...runsOf('env=a', 'ddpg', 'score', [[20, 21, 22]]),
    ...runsOf('env=b', 'awr', 'score', [[30, 31, 32]]), ...runsOf('env=b', 'ddpg', 'score', [[32, 33, 34]]),
  ];
  const out = evaluateClaims([c], rows, facts, OPTS);
  assert.deepEqual(out.map((r) => r.setting), ['env=a', 'env=b', 'all 2 dense-data settings (stratified)']);
  assert.equal(out[2]!.measured, (10 + 2) / 2);
  assert.equal(out[2]!.verdict, 'supported');
  assert.deepEqual(verdictCounts(out), { supported: 1, contradicted: 0, inconclusive: 0, 'not measured': 0 });
  const cols = claimsColumns(out);
  assert.deepEqual(Object.keys(cols), ['claim', 'setting', 'test', 'measured', 'ci_low', 'ci_high', 'n_a', 'n_b', 'verdict', 'interval', 'note']);
  assert.deepEqual([...cols['n_a'] as Int32Array], [3, 3, 6]);
});

test('evaluateClaims is deterministic under the seed', () => {
  const rows = [...runsOf('', 'awr', 'score', [[1, 5, 2], [3, 9, 4]]), ...runsOf('', 'ddpg', 'score', [[2, 8, 3], [6, 1, 7]])];
  const a = evaluateClaims(NOTE_CLAIMS, rows, maze, OPTS);
  assert.deepEqual(a, evaluateClaims(NOTE_CLAIMS, rows, maze, OPTS));
  assert.equal(a.length, NOTE_CLAIMS.length);
});

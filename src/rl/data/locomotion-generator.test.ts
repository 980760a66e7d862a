import { test } from 'node:test';
import assert from 'node:assert/strict';
import AjvModule from 'ajv';
import { tableToIPC, type Table } from 'apache-arrow';
import { generateLocomotionDataset } from './locomotion-generator.js';
import { computeCoverage } from './coverage.js';
import { datasetMetadata, tableToTransitions, validateTransitions } from './dataset.js';
import stage from '../../../stages/load-dataset.js';
import type { StageContext, StageResult } from '../../engine/stage.js';

// Tiny gait optimisation budget: these tests check plumbing, not gait quality.
const TINY = { gaitIterations: 1, gaitPopulation: 4, gaitEpisodes: 1 };

test('locomotion generator: shapes, episode flags, continuity, determinism, coverage gait vs explore', async () => {
  const g = await generateLocomotionDataset({ env: 'halfcheetah-v2', size: 2500, seed: 3, behaviour: 'gait', ...TINY });
  const t = g.transitions;
  validateTransitions(t, 'gait');
  assert.equal(t.obsDim, 17);
  assert.equal(t.actDim, 6);
  assert.equal(t.size, 2500);
  assert.equal(g.infos.qpos.length, 9 * 2500);
  assert.deepEqual([...t.timeouts.keys()].filter((i) => t.timeouts[i] === 1), [999, 1999]);
  assert.ok(t.terminals.every((x) => x === 0));
  assert.equal(g.episodes, 3);
  for (const k of [0, 500, 998, 1000, 2400]) {
    for (let j = 0; j < 17; j++) assert.equal(t.nextObservations[17 * k + j], t.observations[17 * (k + 1) + j], `next_obs continuity at ${k}`);
  }
  assert.equal(t.observations[0], g.infos.qpos[1], 'obs = qpos[1:] ++ qvel');
  assert.equal(g.params.procedure, 'cem-cpg-gait+gaussian');
  assert.equal(g.params.actionNoise, 0.1);
  assert.equal(g.gait.theta.length, 31);
  const again = await generateLocomotionDataset({ env: 'halfcheetah-v2', size: 2500, seed: 3, behaviour: 'gait', ...TINY });
  assert.deepEqual(again.transitions.actions, t.actions);
  assert.deepEqual(again.transitions.rewards, t.rewards);

  const e = await generateLocomotionDataset({ env: 'cheetah-run', size: 3000, seed: 3, behaviour: 'explore', ...TINY });
  validateTransitions(e.transitions, 'explore');
  assert.equal(e.params.procedure, 'mixed-exploration');
  assert.ok(e.transitions.rewards.every((r) => r >= 0 && r <= 1), 'dm_control reward in [0, 1]');
  const gc = computeCoverage(t).summary;
  const ec = computeCoverage(e.transitions).summary;
  assert.equal(gc.action_coarse_bins, 4);
  assert.ok(ec.action_coarse_occupied_fraction! > 2 * gc.action_coarse_occupied_fraction!, `${ec.action_coarse_occupied_fraction} vs ${gc.action_coarse_occupied_fraction}`);
  assert.ok(ec.action_std_mean! > gc.action_std_mean!);
  await assert.rejects(generateLocomotionDataset({ env: 'halfcheetah-v2', size: 10, seed: 0, behaviour: 'nope' as never }), /behaviour must be/);
  await assert.rejects(generateLocomotionDataset({ env: 'maze2d-umaze-v1', size: 10, seed: 0, behaviour: 'gait' }), /unknown locomotion environment/);
});

const Ajv = (AjvModule as unknown as { default?: typeof AjvModule }).default ?? AjvModule;
const ajv = new (Ajv as unknown as new (o: object) => { compile(s: object): ((d: unknown) => boolean) & { errors?: unknown[] } })({ allErrors: true, useDefaults: true, strict: false });
const validate = ajv.compile(stage.params);

async function run(p: Record<string, unknown>, seed = 0): Promise<{ res: StageResult; progress: string[] }> {
  const q = { ...p };
  assert.ok(validate(q), JSON.stringify(validate.errors));
  const progress: string[] = [];
  const ctx: StageContext<any> = {
    params: q, seed, inputs: {}, instance: 'data', cacheKey: 'k', signal: new AbortController().signal,
    checkpoint: { latest: async () => null, save: async () => {} },
    progress: (_s, _t, what) => progress.push(String(what)), metric: () => {}, log: () => {}, record: () => {}, scratchDir: '/tmp',
  };
  return { res: await stage.run(ctx), progress };
}

test('load-dataset stage: locomotion generate (gait / explore), metadata, outputs; maze2d rejects locomotion options', async () => {
  const base = { env: 'halfcheetah-v2', size: 1200, behaviour: 'gait', gait_iterations: 1, gait_population: 4, gait_episodes: 1 };
  const a = await run(base, 2);
  const ta = a.res.outputs.dataset as Table;
  const meta = datasetMetadata(ta);
  assert.equal(meta.envId, 'halfcheetah-v2');
  assert.equal(meta.obsDim, 17);
  assert.equal(meta.actDim, 6);
  const gen = meta.generator as Record<string, unknown>;
  assert.equal(gen.procedure, 'cem-cpg-gait+gaussian');
  assert.equal(gen.behaviour, 'gait');
  assert.equal(gen.seed, 2);
  assert.equal((gen.gait as { theta: number[] }).theta.length, 31);
  assert.equal(ta.schema.metadata.get('dataset_name'), 'halfcheetah-v2-generated-cemgait-narrow');
  assert.equal((a.res.outputs.cell_occupancy as Table).numRows, 0);
  assert.equal((a.res.outputs.action_hist as Table).numRows, 6 * 20, 'per-dimension marginals');
  const s = a.res.summary!;
  for (const k of ['action_edge_fraction', 'action_coarse_occupied_fraction', 'behaviour_gait_return', 'dataset_episode_return']) assert.ok(Number.isFinite(s[k]), k);
  assert.ok(a.progress.includes('gait CEM iterations') && a.progress.includes('transitions'));
  const b = await run(base, 2);
  assert.deepEqual(tableToIPC(b.res.outputs.dataset as Table), tableToIPC(ta));
  const x = await run({ ...base, env: 'cheetah-run', behaviour: 'explore' }, 2);
  assert.equal((x.res.outputs.dataset as Table).schema.metadata.get('dataset_name'), 'cheetah-run-generated-mixed-exploration');
  assert.equal(tableToTransitions(x.res.outputs.dataset as Table).size, 1200);

  await assert.rejects(run({ env: 'halfcheetah-v2', size: 10 }), /needs behaviour: gait/);
  await assert.rejects(run({ env: 'maze2d-umaze-v1', size: 10, behaviour: 'gait' }), /behaviour do not apply to maze2d-umaze-v1/);
  assert.equal(validate({ env: 'halfcheetah-v2', behaviour: 'expert' }), false);
});

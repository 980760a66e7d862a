import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { tableToIPC, type Table } from 'apache-arrow';
import stage from './load-dataset.js';
import type { StageResult } from '../src/engine/stage.js';
import { paramsValidator, runStage, withDefaults } from './lib/test-harness.js';
import { tableToTransitions, datasetMetadata } from '../src/rl/data/dataset.js';
import { writeD4rlHdf5 } from '../src/rl/data/hdf5.js';
import { listEnvIds } from '../src/rl/envs/registry.js';

const validate = paramsValidator(stage);
const dir = mkdtempSync(join(tmpdir(), 'iql-load-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

function params(p: Record<string, unknown>): Record<string, unknown> {
  return withDefaults(stage, p);
}

async function run(p: Record<string, unknown>, seed = 0): Promise<{ res: StageResult; progress: number[]; records: Record<string, unknown> }> {
  const r = await runStage(stage, p, {}, { seed, instance: 'data', cacheKey: 'k', scratchDir: dir });
  return { res: r.result, progress: r.progress, records: r.records };
}

test('schema: defaults, required env, path required for files, env ids match the registry', () => {
  const p = params({ env: 'maze2d-umaze-v1' });
  assert.deepEqual(p, {
    env: 'maze2d-umaze-v1', source: 'generate', path: '', size: 1_000_000, noise: 0.5, reward_on: 'next',
    hdf5_format: 'auto', coverage_bins: 20, coverage_edge_eps: 0.001,
  });
  assert.equal(validate({}), false);
  assert.equal(validate({ env: 'maze2d-umaze-v1', source: 'hdf5' }), false, 'hdf5 needs a path');
  assert.equal(validate({ env: 'maze2d-umaze-v1', sise: 3 }), false, 'additionalProperties: false');
  assert.equal(validate({ env: 'maze2d-nope-v1' }), false);
  const envEnum = ((stage.params.properties as Record<string, { enum?: string[] }>).env!.enum ?? []).slice().sort();
  assert.deepEqual(envEnum, listEnvIds().slice().sort());
  assert.equal(stage.kind, 'load-dataset');
});

test('generate: deterministic dataset table + coverage outputs + summary', async () => {
  const a = await run({ env: 'maze2d-umaze-v1', size: 20_000 }, 5);
  const b = await run({ env: 'maze2d-umaze-v1', size: 20_000 }, 5);
  const c = await run({ env: 'maze2d-umaze-v1', size: 20_000 }, 6);
  const ta = a.res.outputs.dataset as Table;
  assert.equal(ta.numRows, 20_000);
  const meta = datasetMetadata(ta);
  assert.equal(meta.source, 'generate');
  assert.equal(meta.envId, 'maze2d-umaze-v1');
  assert.deepEqual(meta.generator, { procedure: 'd4rl-maze2d-waypoint', env: 'maze2d-umaze-v1', size: 20_000, seed: 5, noise: 0.5, rewardOn: 'next', maxEpisodeSteps: 300 });
  assert.deepEqual(tableToIPC(b.res.outputs.dataset as Table), tableToIPC(ta));
  assert.notDeepEqual(tableToTransitions(c.res.outputs.dataset as Table).actions, tableToTransitions(ta).actions);
  for (const k of ['action_hist', 'cell_occupancy', 'episodes']) assert.ok((a.res.outputs[k] as Table).numRows > 0, k);
  const s = a.res.summary!;
  assert.equal(s.cells_visited_fraction, 1);
  assert.ok(s.action_edge_fraction! > 0.4);
  assert.ok(Object.values(s).every((v) => Number.isFinite(v)));
  assert.equal(a.progress.at(-1), 20_000);
  assert.ok(typeof a.records.transitions_per_second === 'number');
});

test('hdf5 and arrow sources (relative paths against the cwd), with clear errors', async () => {
  const gen = await run({ env: 'maze2d-umaze-v1', size: 3000, reward_on: 'obs' }, 1);
  const t = tableToTransitions(gen.res.outputs.dataset as Table);
  const h5 = join(dir, 'umaze.hdf5');
  await writeD4rlHdf5(h5, t);
  const fromH5 = await run({ env: 'maze2d-umaze-v1', source: 'hdf5', path: relative(process.cwd(), h5) });
  const th = tableToTransitions(fromH5.res.outputs.dataset as Table);
  assert.equal(datasetMetadata(fromH5.res.outputs.dataset as Table).source, 'hdf5');
  assert.equal(th.size, 3000 - 1 - t.timeouts.slice(0, 2999).reduce((x, y) => x + y, 0));
  assert.match(String(fromH5.records.input_file_sha256), /^[0-9a-f]{64}$/);

  const arrowFile = join(dir, 'umaze.arrow');
  writeFileSync(arrowFile, tableToIPC(gen.res.outputs.dataset as Table, 'file'));
  const fromArrow = await run({ env: 'maze2d-umaze-v1', source: 'arrow', path: arrowFile });
  const ta = tableToTransitions(fromArrow.res.outputs.dataset as Table);
  assert.deepEqual(ta.observations, t.observations);
  assert.deepEqual(ta.timeouts, t.timeouts);
  assert.equal(datasetMetadata(fromArrow.res.outputs.dataset as Table).source, 'arrow');
  assert.deepEqual(fromArrow.res.summary, gen.res.summary);

  await assert.rejects(run({ env: 'maze2d-medium-v1', source: 'arrow', path: arrowFile }), /holds a dataset for 'maze2d-umaze-v1', but env is 'maze2d-medium-v1'/);
  await assert.rejects(run({ env: 'maze2d-umaze-v1', source: 'arrow', path: h5 }), /is not an Arrow IPC file/);
  await assert.rejects(run({ env: 'maze2d-umaze-v1', source: 'hdf5', path: join(dir, 'nope.hdf5') }), /cannot read hdf5 file .*nope\.hdf5/);
});

test('generate antmaze-umaze-v2: the goal-reaching ant data with D4RL terminals, its options checked per env', async () => {
  const { res, records } = await run({ env: 'antmaze-umaze-v2', size: 1500, action_noise: 0.2 }, 3);
  const t = tableToTransitions(res.outputs['dataset'] as Table);
  assert.equal(t.obsDim, 29);
  assert.equal(t.actDim, 8);
  assert.equal(t.size, 1500);
  assert.equal(datasetMetadata(res.outputs['dataset'] as Table).envId, 'antmaze-umaze-v2');
  assert.equal((res.outputs['dataset'] as Table).schema.metadata.get('dataset_name'), 'antmaze-umaze-v2-generated-gait-waypoint');
  // terminals = sparse rewards (the released D4RL antmaze files); timeouts close each 1000-step episode
  assert.ok(t.rewards.some((r) => r === 1), 'the controller reaches the goal within the first episode');
  assert.deepEqual(Array.from(t.terminals), Array.from(t.rewards));
  assert.equal(t.timeouts[999], 1);
  assert.equal((records['controller'] as { source: string }).source !== undefined, true);
  assert.ok(res.summary!['behaviour_success_rate']! > 0);
  const noTerm = await run({ env: 'antmaze-umaze-v2', size: 300, terminals_on_goal: false }, 3);
  assert.ok(tableToTransitions(noTerm.res.outputs['dataset'] as Table).terminals.every((x) => x === 0));
  await assert.rejects(run({ env: 'antmaze-umaze-v2', size: 300, behaviour: 'gait' }), /behaviour do not apply to antmaze-umaze-v2/);
  await assert.rejects(run({ env: 'halfcheetah-v2', size: 300, behaviour: 'gait', terminals_on_goal: true }), /terminals_on_goal only applies to antmaze/);
});

test('source exorl: a directory of episode .npz files recorded on cheetah-run; rewards relabelled from physics match the env', async () => {
  const { makeLocoVecEnv } = await import('../src/rl/envs/locomotion/vec-env.js');
  const { writeNpz } = await import('../src/rl/data/npz.js');
  const { Rng } = await import('../src/rl/rng.js');
  const buf = join(dir, 'exorl-buffer');
  const { mkdirSync } = await import('node:fs');
  mkdirSync(buf, { recursive: true });
  const T = 30;
  const envRewards: number[] = [];
  for (let ep = 0; ep < 2; ep++) {
    const env = await makeLocoVecEnv('cheetah-run', 1, 10 + ep);
    const rng = new Rng(ep);
    const obs: number[] = [], act: number[] = [0, 0, 0, 0, 0, 0], rew: number[] = [0], phys: number[] = [];
    const snap = () => { obs.push(...env.observations()); phys.push(...env.sim.qpos.subarray(0, 9), ...env.sim.qvel.subarray(0, 9)); };
    env.reset();
    snap();
    for (let t = 0; t < T; t++) {
      const a = Float32Array.from({ length: 6 }, () => rng.uniform(-1, 1));
      const r = env.step(a).rewards[0]!;
      act.push(...a);
      rew.push(0.123); // what an exploration agent stored, not the task reward
      envRewards.push(r);
      snap();
    }
    env.close();
    const bytes = writeNpz({
      observation: { shape: [T + 1, 17], data: obs }, action: { shape: [T + 1, 6], data: act }, reward: { shape: [T + 1, 1], data: rew },
      discount: { shape: [T + 1, 1], data: new Array(T + 1).fill(1) }, physics: { shape: [T + 1, 18], data: phys },
    }, { compress: true });
    writeFileSync(join(buf, `episode_${ep}.npz`), bytes);
  }
  const { res } = await run({ env: 'cheetah-run', source: 'exorl', path: relative(process.cwd(), buf) });
  const t = tableToTransitions(res.outputs['dataset'] as Table);
  assert.equal(t.size, 2 * T);
  assert.equal(datasetMetadata(res.outputs['dataset'] as Table).source, 'exorl');
  t.rewards.forEach((r, i) => assert.ok(Math.abs(r - envRewards[i]!) < 1e-5, `row ${i}: relabelled ${r} vs env ${envRewards[i]}`));
  assert.ok(envRewards.some((r) => r > 0), 'the random actions move the cheetah at some step');
  assert.equal(t.timeouts[T - 1], 1);
  const stored = await run({ env: 'cheetah-run', source: 'exorl', path: relative(process.cwd(), buf), exorl_reward: 'stored' });
  assert.ok(tableToTransitions(stored.res.outputs['dataset'] as Table).rewards.every((r) => Math.abs(r - 0.123) < 1e-6));
  await assert.rejects(run({ env: 'cheetah-run', source: 'exorl', path: relative(process.cwd(), join(dir, 'nope')) }), /cannot read the ExoRL buffer/);
});

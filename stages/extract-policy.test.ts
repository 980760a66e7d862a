/**
 * fit-iql and extract-policy as stages (in-process, schema defaults filled in by ajv): the
 * defaults are today's networks and objective, and the new parameters reach the learners and
 * their artifacts (architecture and observation statistics in the critic's and policy's metadata,
 * the policy acting on raw observations).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Table } from 'apache-arrow';
import type { StageKind, StageResult } from '../src/engine/stage.js';
import { paramsValidator, runStage, tableArtifact, withDefaults } from './lib/test-harness.js';
import fitIql from './fit-iql.js';
import extractPolicy, { paramsThatMatter } from './extract-policy.js';
import { encodeTable } from '../src/store/arrow-io.js';
import type { ExtractPolicyParams } from './params/extract-policy.js';
import { transitionsToTable } from '../src/rl/data/dataset.js';
import { readMetadata, tableToWeights } from '../src/rl/nn/serialize.js';
import { criticFromTable } from '../src/rl/algos/critic.js';
import { maxStateDiff, syntheticTransitions } from '../src/rl/algos/fixtures.js';
import { computeObsNorm } from '../src/rl/algos/obs-norm.js';
import { policyFromTable } from '../src/rl/algos/policy.js';
import { extractKernelStatus, kernelStatus } from '../src/rl/algos/iql-kernel.js';

/** Runs a stage kind with its schema defaults (seed 1); inputs are in-memory tables. */
async function run(
  kind: StageKind,
  params: Record<string, unknown>,
  inputs: Record<string, Table>,
  inputParams: Record<string, Record<string, unknown>> = {},
): Promise<StageResult> {
  const artifacts = Object.fromEntries(Object.entries(inputs).map(([name, t]) => [name, tableArtifact(name, t, inputParams[name])]));
  return (await runStage(kind, params, artifacts, { seed: 1 })).result;
}

/** The training stages report the process's peak RSS (MiB) sampled during their loop. */
function assertPeakRss(r: StageResult): void {
  const mb = r.summary?.['peak_rss_mb'];
  // At most the process's high-water mark so far (getrusage's maxrss, KiB), plus rounding.
  const maxMb = process.resourceUsage().maxRSS / 1024;
  assert.ok(typeof mb === 'number' && mb > 10 && mb <= maxMb + 0.1, `peak_rss_mb ${mb} (process max ${maxMb.toFixed(1)})`);
}

test('stage defaults are today\'s networks and objective: relu, no LayerNorm, raw observations, unnormalised DDPG', () => {
  const iql = withDefaults(fitIql, {});
  assert.deepEqual([iql['hidden'], iql['activation'], iql['layer_norm'], iql['normalize_observations']], [[256, 256], 'relu', false, false]);
  const ex = withDefaults(extractPolicy, { method: 'ddpg' });
  assert.deepEqual([ex['activation'], ex['layer_norm'], ex['q_normalize'], ex['bc_alpha']], ['relu', false, false, 0]);
  assert.equal(iql['compute'], 'auto');
  assert.equal(ex['compute'], 'auto');
  assert.equal(paramsValidator(extractPolicy)({ method: 'awr', compute: 'gpu' }), false);
  const validate = paramsValidator(fitIql);
  assert.equal(validate({ compute: 'gpu' }), false);
  assert.equal(validate({ activation: 'tanh' }), false);
  assert.equal(validate({ layer_norm: 1 }), false);
});

test('fit-iql → extract-policy with LayerNorm, mish/gelu, normalised observations and Q-normalised DDPG+BC: artifacts record all of it', { timeout: 120_000 }, async () => {
  const data = syntheticTransitions(2000, 4, 2, 3);
  const dataset = transitionsToTable(data, { source: 'generate' });
  const tiny = { hidden: [16, 16, 16], batch_size: 32, log_every: 10, checkpoint_every: 1000, backend: 'wasm' };
  const fit = await run(fitIql, { ...tiny, steps: 20, activation: 'mish', layer_norm: true, normalize_observations: true }, { dataset });
  const criticTable = fit.outputs['critic'] as Table;
  assertPeakRss(fit);
  const cm = readMetadata(criticTable);
  assert.deepEqual([cm['activation'], cm['layerNorm'], cm['hidden']], ['mish', true, [16, 16, 16]]);
  const expected = computeObsNorm(data.observations, 4);
  assert.deepEqual((cm['obsNorm'] as { mean: number[] }).mean, Array.from(expected.mean));
  const critic = criticFromTable(criticTable);
  assert.deepEqual(critic.arch, { activation: 'mish', layerNorm: true });
  // compute: auto → the native kernel where it is built; the critic says which path trained it.
  assert.equal(cm['compute'], kernelStatus().available ? 'kernel' : 'tfjs');
  const onTfjs = await run(fitIql, { ...tiny, steps: 20, activation: 'mish', layer_norm: true, normalize_observations: true, compute: 'tfjs' }, { dataset });
  assert.equal(readMetadata(onTfjs.outputs['critic'] as Table)['compute'], 'tfjs');

  const ex = await run(extractPolicy, { ...tiny, method: 'ddpg', steps: 20, activation: 'gelu', layer_norm: true, q_normalize: true, bc_alpha: 0.2 }, { dataset, critic: criticTable });
  const policyTable = ex.outputs['policy'] as Table;
  assertPeakRss(ex);
  const pm = readMetadata(policyTable);
  assert.deepEqual([pm['activation'], pm['layerNorm'], pm['method']], ['gelu', true, 'ddpg']);
  assert.deepEqual(pm['obsNorm'], cm['obsNorm'], 'the policy carries the critic\'s statistics');
  // compute: auto → the native extraction kernel where it is built; the policy says which path trained it.
  assert.equal(pm['compute'], extractKernelStatus().available ? 'kernel' : 'tfjs');
  const policy = policyFromTable(policyTable);
  const a = policy.act(data.observations.subarray(0, 40), 10);
  assert.ok(a.every((x) => Number.isFinite(x) && Math.abs(x) <= 1));
  // q_normalize reaches the objective: the same run without it trains another actor.
  const plain = await run(extractPolicy, { ...tiny, method: 'ddpg', steps: 20, activation: 'gelu', layer_norm: true, q_normalize: false, bc_alpha: 0.2 }, { dataset, critic: criticTable });
  const other = policyFromTable(plain.outputs['policy'] as Table);
  const exTfjs = await run(extractPolicy, { ...tiny, method: 'ddpg', steps: 20, activation: 'gelu', layer_norm: true, q_normalize: true, bc_alpha: 0.2, compute: 'tfjs' }, { dataset, critic: criticTable });
  assert.equal(readMetadata(exTfjs.outputs['policy'] as Table)['compute'], 'tfjs');
  assert.notDeepEqual(other.act(data.observations.subarray(0, 40), 10), a);
  other.dispose();
  policy.dispose();
  critic.dispose();
});

test('extract-policy protocol joint retrains the upstream critic (same weights) and trains the actor beside it', { timeout: 120_000 }, async () => {
  const data = syntheticTransitions(1000, 4, 2, 5);
  const dataset = transitionsToTable(data, { source: 'generate' });
  const fitParams = withDefaults(fitIql, { hidden: [16, 16], batch_size: 32, steps: 30, log_every: 10, checkpoint_every: 1000, backend: 'cpu', layer_norm: true, normalize_observations: true });
  const fit = await run(fitIql, fitParams, { dataset });
  const critic = fit.outputs['critic'] as Table;
  const actor = { method: 'awr', hidden: [16], batch_size: 32, log_every: 10, checkpoint_every: 1000, backend: 'cpu' };
  const joint = await run(extractPolicy, { ...actor, protocol: 'joint' }, { dataset, critic }, { critic: fitParams });
  assert.equal(joint.summary?.['critic_matches_input'], 1);
  assertPeakRss(joint);
  const policy = joint.outputs['policy'] as Table;
  const meta = readMetadata(policy);
  assert.equal(meta['protocol'], 'joint');
  assert.equal(meta['critic_steps'], 30, 'the actor took one step per critic step');
  assert.equal(meta['step'], 30);
  // compute: auto runs the joint actor on the native kernel too (it takes each new critic's weights);
  // the tfjs path takes the same steps to float rounding.
  assert.equal(meta['compute'], extractKernelStatus().available ? 'kernel' : 'tfjs');
  const onTfjs = await run(extractPolicy, { ...actor, protocol: 'joint', compute: 'tfjs' }, { dataset, critic }, { critic: fitParams });
  const weights = tableToWeights(policy);
  assert.ok(weights.has('pi/l0/W'), [...weights.keys()].join(', '));
  const d = maxStateDiff(weights, tableToWeights(onTfjs.outputs['policy'] as Table));
  assert.ok(d.diff < 1e-4, `joint actor: kernel and tfjs differ by ${d.diff} at ${d.at}`);
  const frozen = await run(extractPolicy, { ...actor, steps: 30 }, { dataset, critic }, { critic: fitParams });
  assert.equal(readMetadata(frozen.outputs['policy'] as Table)['protocol'], 'frozen');
  // A critic trained with other parameters than the input's is detected, not silently used.
  const other = await run(extractPolicy, { ...actor, protocol: 'joint' }, { dataset, critic }, { critic: { ...fitParams, expectile: 0.9 } });
  assert.equal(other.summary?.['critic_matches_input'], 0);
});

test('extract-policy keys only the parameters its method and protocol read, and the ignored ones change no output byte', { timeout: 120_000 }, async () => {
  const keyed = (p: Record<string, unknown>) => Object.keys(paramsThatMatter(withDefaults(extractPolicy, p) as ExtractPolicyParams));
  assert.ok(!keyed({ method: 'awr' }).some((k) => ['bc_alpha', 'q_normalize', 'q_reduce'].includes(k)));
  assert.ok(keyed({ method: 'awr' }).includes('beta') && keyed({ method: 'awr' }).includes('steps'));
  assert.ok(!keyed({ method: 'ddpg' }).some((k) => ['beta', 'max_weight'].includes(k)));
  assert.ok(keyed({ method: 'ddpg' }).includes('bc_alpha'));
  assert.ok(!keyed({ method: 'awr-discrete', protocol: 'joint' }).includes('steps'));

  const data = syntheticTransitions(1000, 4, 2, 5);
  const dataset = transitionsToTable(data, { source: 'generate' });
  const fitParams = withDefaults(fitIql, { hidden: [16, 16], batch_size: 32, steps: 20, log_every: 10, checkpoint_every: 1000, backend: 'cpu' });
  const critic = (await run(fitIql, fitParams, { dataset })).outputs['critic'] as Table;
  const base = { hidden: [16], batch_size: 32, steps: 20, log_every: 5, checkpoint_every: 1000, backend: 'cpu' };
  const bytes = (r: StageResult) => ['policy', 'curve'].map((o) => Buffer.from(encodeTable(r.outputs[o] as Table)).toString('hex'));
  const same = async (a: Record<string, unknown>, b: Record<string, unknown>) =>
    assert.deepEqual(bytes(await run(extractPolicy, a, { dataset, critic }, { critic: fitParams })), bytes(await run(extractPolicy, b, { dataset, critic }, { critic: fitParams })));
  await same({ ...base, method: 'awr' }, { ...base, method: 'awr', bc_alpha: 0.7, q_normalize: true, q_reduce: 'q1' });
  await same({ ...base, method: 'awr-discrete' }, { ...base, method: 'awr-discrete', bc_alpha: 0.7, q_normalize: true, q_reduce: 'mean' });
  await same({ ...base, method: 'ddpg' }, { ...base, method: 'ddpg', beta: 10, max_weight: 2 });
  await same({ ...base, method: 'awr', protocol: 'joint' }, { ...base, method: 'awr', protocol: 'joint', steps: 999 });
});

import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { initBackend } from '../nn/backend.js';
import { tableToWeights } from '../nn/serialize.js';
import { createExtractor } from './extract.js';
import { bimodalBandit, syntheticTransitions } from './fixtures.js';
import { createIQL, type IQLConfig } from './iql.js';
import { createJointLearner } from './joint.js';

const data = syntheticTransitions(600, 3, 2, 4);
const criticCfg: Partial<IQLConfig> = { hidden: [16, 16], batchSize: 32, criticLr: 1e-3, valueLr: 1e-3 };
const actorCfg = { method: 'ddpg' as const, hidden: [16], batchSize: 32, lr: 1e-3, steps: 40 };

before(async () => {
  await initBackend('cpu');
});

function weightsOf(t: import('apache-arrow').Table): Map<string, Float32Array> {
  const w = new Map([...tableToWeights(t)].map(([k, v]) => [k, v.values]));
  assert.ok(w.size > 0, 'a weights table with no rows');
  return w;
}

test('the jointly trained critic is the critic fit-iql trains alone (IQL ignores the actor)', () => {
  const alone = createIQL(data, criticCfg, 7);
  alone.step(40);
  const joint = createJointLearner(data, criticCfg, 7, actorCfg, 3);
  joint.step(25);
  joint.step(15);
  assert.equal(joint.stepCount, 40);
  assert.equal(joint.extractor.stepCount, 40);
  assert.deepEqual(weightsOf(joint.iql.exportCritic()), weightsOf(alone.exportCritic()));
  alone.dispose();
  joint.dispose();
});

test('the joint actor sees a moving critic: it differs from an actor extracted from the final critic', () => {
  const cfg = { ...actorCfg, method: 'awr' as const };
  const joint = createJointLearner(data, criticCfg, 7, cfg, 3);
  joint.step(40);
  const final = joint.iql.critic();
  const frozen = createExtractor(final, data, { ...cfg, precomputeWeights: 'never' }, 3);
  frozen.step(40);
  const a = weightsOf(joint.extractor.exportPolicy());
  const b = weightsOf(frozen.exportPolicy());
  const differs = [...a].some(([k, v]) => v.some((x, i) => x !== b.get(k)![i]));
  assert.ok(differs, 'a joint actor equal to the frozen one would mean the critic never moved under it');
  frozen.dispose();
  final.dispose();
  joint.dispose();
});

test('a joint run resumed from its checkpoint ends bit-identical to an uninterrupted one', () => {
  const cfg = { ...actorCfg, method: 'awr' as const };
  const straight = createJointLearner(data, criticCfg, 2, cfg, 5);
  straight.step(30);
  const first = createJointLearner(data, criticCfg, 2, cfg, 5);
  first.step(12);
  const state = first.exportState();
  first.dispose();
  const resumed = createJointLearner(data, criticCfg, 2, cfg, 5);
  resumed.importState(state);
  resumed.step(18);
  assert.deepEqual(weightsOf(resumed.extractor.exportPolicy()), weightsOf(straight.extractor.exportPolicy()));
  assert.deepEqual(weightsOf(resumed.iql.exportCritic()), weightsOf(straight.iql.exportCritic()));
  straight.dispose();
  resumed.dispose();
});

test('setCritic is refused once AWR weights were precomputed from the first critic', () => {
  const bandit = bimodalBandit(200);
  const iql = createIQL(bandit, { hidden: [8], batchSize: 16 }, 0);
  const c0 = iql.critic();
  const ex = createExtractor(c0, bandit, { method: 'awr', hidden: [8], batchSize: 16, precomputeWeights: 'always' }, 0);
  iql.step(2);
  const c1 = iql.critic();
  assert.throws(() => ex.setCritic(c1), /precomputed/);
  for (const d of [ex, c0, c1, iql]) d.dispose();
});

test("criticWeights() is critic()'s parameters, in its order, on each critic compute path", async () => {
  const { kernelStatus } = await import('./iql-kernel.js');
  for (const compute of kernelStatus().available ? (['tfjs', 'kernel'] as const) : (['tfjs'] as const)) {
    const iql = createIQL(data, { ...criticCfg, layerNorm: true, activation: 'mish', normalizeObservations: true, compute }, 2);
    iql.step(12);
    const c = iql.critic();
    const expected = [...c.q1.params, ...c.q2.params, ...c.v.params].map((t) => t.dataSync() as Float32Array);
    const got = iql.criticWeights();
    assert.equal(got.length, expected.length, compute);
    got.forEach((w, i) => assert.deepEqual(w, expected[i], `${compute}: parameter ${i}`));
    c.dispose();
    iql.dispose();
  }
});

test('setCriticWeights: the extraction kernel takes a critic without tensors; tfjs refuses it', async () => {
  const { extractKernelStatus } = await import('./iql-kernel.js');
  const iql = createIQL(data, criticCfg, 5);
  iql.step(10);
  const first = iql.critic();
  iql.step(30);
  const second = iql.critic();
  const onTfjs = createExtractor(first, data, { ...actorCfg, precomputeWeights: 'never', compute: 'tfjs' }, 1);
  assert.throws(() => onTfjs.setCriticWeights(iql.criticWeights()), /compute 'kernel' only/);
  onTfjs.dispose();
  if (extractKernelStatus().available) {
    const a = createExtractor(first, data, { ...actorCfg, precomputeWeights: 'never', compute: 'kernel' }, 1);
    const b = createExtractor(first, data, { ...actorCfg, precomputeWeights: 'never', compute: 'kernel' }, 1);
    a.step(3);
    b.step(3);
    a.setCritic(second);
    b.setCriticWeights(iql.criticWeights());
    assert.deepEqual(a.step(5), b.step(5), 'the same critic either way: the same steps, bit for bit');
    assert.throws(() => b.setCriticWeights(iql.criticWeights().slice(1)), /expected \d+ arrays/);
    a.dispose();
    b.dispose();
  }
  for (const x of [first, second, iql]) x.dispose();
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appliesTo, compareGroups, runLabel, runOf } from './runs.js';

test('runOf: critic seed × actor seed from the matrix, the other axes form the setting (sorted)', () => {
  const id = runOf({ instance: 'evaluate[env=cheetah-run,behaviour=gait,critic_seed=2,method=ddpg,seed=1]', matrix: { env: 'cheetah-run', behaviour: 'gait', critic_seed: 2, method: 'ddpg', seed: 1 }, params: {} });
  assert.deepEqual(id, { setting: 'behaviour=gait,env=cheetah-run', settingCoords: { behaviour: 'gait', env: 'cheetah-run' }, method: 'ddpg', critic: '2', actor: '1' });
  assert.equal(runLabel(id), 'c2/a1');
});

test('runOf: one critic and one actor seed when the axes are absent; method from params or the instance name', () => {
  assert.deepEqual(runOf({ instance: 'evaluate', matrix: {}, params: { method: 'awr' } }), { setting: '', settingCoords: {}, method: 'awr', critic: '0', actor: '0' });
  assert.equal(runOf({ instance: 'iql', matrix: {}, params: {} }).method, 'iql');
});

test('runOf: axes are configurable (a fit-iql matrix `seed` and an `actor_seed` on the policy)', () => {
  const id = runOf({ instance: 'x', matrix: { seed: 4, actor_seed: 7, method: 'awr', expectile: 0.9 } , params: {} }, { critic: 'seed', actor: 'actor_seed' });
  assert.deepEqual([id.critic, id.actor, id.setting], ['4', '7', 'expectile=0.9']);
});

test('appliesTo: a dataset input applies to the runs whose coordinates agree with its own', () => {
  assert.ok(appliesTo({}, { env: 'a' }), 'a single dataset applies everywhere');
  assert.ok(appliesTo({ env: 'a' }, { env: 'a', expectile: '0.9' }));
  assert.ok(!appliesTo({ env: 'a' }, { env: 'b' }));
});

test('compareGroups: settings alphabetically, then the study order of methods', () => {
  const g = [{ setting: 'b', method: 'awr' }, { setting: 'a', method: 'ddpg' }, { setting: 'a', method: 'awr' }, { setting: 'a', method: 'awr-discrete' }];
  assert.deepEqual(g.sort(compareGroups).map((x) => `${x.setting}:${x.method}`), ['a:awr', 'a:awr-discrete', 'a:ddpg', 'b:awr']);
});

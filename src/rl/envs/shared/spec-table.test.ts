import { test } from 'node:test';
import assert from 'node:assert/strict';
import { getEnvSpec } from '../registry.js';
import { specTable } from './spec-table.js';

test('specTable: ids in table order, membership, one spec per id, an unknown id names the family and the known ids', () => {
  let builds = 0;
  const t = specTable('toy', [{ id: 'b-v0', n: 2 }, { id: 'a-v0', n: 1 }], (r) => {
    builds++;
    return { id: r.id, twice: 2 * r.n };
  });
  assert.deepEqual(t.ids(), ['b-v0', 'a-v0']);
  assert.equal(t.has('a-v0'), true);
  assert.equal(t.has('c-v0'), false);
  assert.equal(t.get('a-v0').twice, 2);
  assert.equal(t.get('a-v0'), t.get('a-v0'));
  assert.equal(builds, 1);
  assert.throws(() => t.get('c-v0'), /unknown toy environment 'c-v0' \(known: b-v0, a-v0\)/);
});

test('every family resolves through its table (maze2d, antmaze, locomotion)', () => {
  assert.equal(getEnvSpec('maze2d-umaze-v1').id, 'maze2d-umaze-v1');
  assert.equal(getEnvSpec('antmaze-umaze-v2').id, 'antmaze-umaze-v2');
  assert.equal(getEnvSpec('halfcheetah-v2').id, 'halfcheetah-v2');
  assert.throws(() => getEnvSpec('maze2d-nowhere-v1'), /unknown/);
});

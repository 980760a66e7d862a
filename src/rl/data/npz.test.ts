import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { projectRoot } from '../../engine/stage-schema.js';
import { parseNpy, readNpz, writeNpz } from './npz.js';
import { exorlToTransitions } from './exorl.js';

const FIX = join(projectRoot(), 'test', 'fixtures', 'numpy');

test('reads .npz archives and .npy arrays written by NumPy itself (stored, deflated, Fortran order, int64)', () => {
  for (const f of ['exorl-episode-stored.npz', 'exorl-episode-compressed.npz']) {
    const m = readNpz(readFileSync(join(FIX, f)), f);
    assert.deepEqual([...m.keys()].sort(), ['action', 'discount', 'observation', 'physics', 'reward']);
    const obs = m.get('observation')!;
    assert.equal(obs.descr, '<f4');
    assert.deepEqual(obs.shape, [4, 17]);
    assert.ok(Math.abs(obs.data[18]! - 1.8) < 1e-6, 'row 1, column 1 = 18/10');
    assert.deepEqual(m.get('physics')!.shape, [4, 18]);
    assert.equal(m.get('physics')!.descr, '<f8');
    assert.equal(m.get('physics')!.data[71], 71);
  }
  const f = parseNpy(readFileSync(join(FIX, 'fortran-int64.npy')));
  assert.equal(f.descr, '<i8');
  assert.deepEqual(f.shape, [2, 3]);
  assert.deepEqual(Array.from(f.data), [0, 1, 2, 3, 4, 5], 'Fortran order converted to C order');
});

test('writeNpz round-trips through readNpz; bad files get named errors', () => {
  for (const compress of [false, true]) {
    const bytes = writeNpz({ x: { shape: [2, 3], data: [1, 2, 3, 4, 5, 6] }, y: { shape: [3], data: [7, 8, 9] } }, { compress });
    const m = readNpz(bytes, 'mem.npz');
    assert.deepEqual(m.get('x')!.shape, [2, 3]);
    assert.deepEqual(Array.from(m.get('y')!.data), [7, 8, 9]);
  }
  assert.throws(() => readNpz(new Uint8Array(40), 'junk.npz'), /junk\.npz: not an \.npz/);
  assert.throws(() => parseNpy(new Uint8Array(40), 'junk.npy'), /junk\.npy: not a \.npy/);
  const good = writeNpz({ x: { shape: [100], data: new Float32Array(100) } });
  assert.throws(() => readNpz(good.subarray(0, 200), 'cut.npz'), /cut\.npz/);
});

test('ExoRL episode layout → transitions: (s_t, action[t+1], reward[t+1], s_{t+1}), timeout on the last row', () => {
  const bytes = readFileSync(join(FIX, 'exorl-episode-compressed.npz'));
  const r = exorlToTransitions([{ name: 'ep.npz', bytes }, { name: 'ep2.npz', bytes }], { envId: 'cheetah-run', obsDim: 17, actDim: 6, reward: 'stored' });
  const t = r.transitions;
  assert.equal(t.size, 6);
  assert.equal(r.episodes, 2);
  assert.equal(r.physicsDim, 18);
  assert.ok(Math.abs(t.observations[17]! - 1.7) < 1e-6, 'second transition starts at observation row 1');
  assert.ok(Math.abs(t.nextObservations[0]! - 1.7) < 1e-6, 'next observation of transition 0 = observation row 1');
  assert.ok(Math.abs(t.actions[0]! - 0.06) < 1e-6, 'the action of transition 0 is action row 1 (row 0 is the dummy)');
  assert.deepEqual(Array.from(t.rewards, (x) => +x.toFixed(4)), [0.1, 0.2, 0.3, 0.1, 0.2, 0.3]);
  assert.deepEqual(Array.from(t.timeouts), [0, 0, 1, 0, 0, 1]);
  assert.deepEqual(Array.from(t.terminals), [0, 0, 0, 0, 0, 0]);
  assert.throws(() => exorlToTransitions([{ name: 'ep.npz', bytes }], { envId: 'halfcheetah-v2', obsDim: 11, actDim: 6, reward: 'stored' }), /ep\.npz: 'observation' has 17 columns per row, expected 11/);
  assert.throws(() => exorlToTransitions([], { envId: 'cheetah-run', obsDim: 17, actDim: 6, reward: 'stored' }), /no episode files/);
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng, deriveSeed } from './rng.js';

test('same seed gives the same stream; different seeds/streams differ', () => {
  const a = new Rng(42);
  const b = new Rng(42);
  const xs = Array.from({ length: 100 }, () => a.nextUint32());
  const ys = Array.from({ length: 100 }, () => b.nextUint32());
  assert.deepEqual(xs, ys);
  const c = new Rng(43);
  const d = new Rng(42, 1);
  assert.notDeepEqual(Array.from({ length: 100 }, () => c.nextUint32()), xs);
  assert.notDeepEqual(Array.from({ length: 100 }, () => d.nextUint32()), xs);
  assert.notEqual(deriveSeed(1, 'a'), deriveSeed(1, 'b'));
  assert.notEqual(deriveSeed(1.5), deriveSeed(1));
  assert.notEqual(deriveSeed(2 ** 40), deriveSeed(0));
});

test('uniform, int and normal have the right moments', () => {
  const r = new Rng(7);
  const n = 200_000;
  let su = 0;
  let sn = 0;
  let sn2 = 0;
  const counts = new Array(5).fill(0);
  for (let i = 0; i < n; i++) {
    const u = r.random();
    assert.ok(u >= 0 && u < 1);
    su += u;
    const z = r.normal(1, 2);
    sn += z;
    sn2 += z * z;
    counts[r.int(5)]++;
  }
  assert.ok(Math.abs(su / n - 0.5) < 0.005);
  const mean = sn / n;
  const std = Math.sqrt(sn2 / n - mean * mean);
  assert.ok(Math.abs(mean - 1) < 0.02, `normal mean ${mean}`);
  assert.ok(Math.abs(std - 2) < 0.02, `normal std ${std}`);
  for (const c of counts) assert.ok(Math.abs(c / n - 0.2) < 0.005);
});

test('state save/restore continues the same stream (JSON-safe)', () => {
  const r = new Rng(3);
  r.normal();
  const s = JSON.parse(JSON.stringify(r.getState()));
  const a = [r.normal(), r.nextUint32(), r.random()];
  const r2 = Rng.fromState(s);
  assert.deepEqual([r2.normal(), r2.nextUint32(), r2.random()], a);
});

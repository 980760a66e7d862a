import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as arrow from 'apache-arrow';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from './backend.js';
import { FrozenMlp, initMlp, mlpBackward, mlpForward, mlpShapes, ParamLayout } from './dense.js';
import { cosineLr, FlatAdam, polyak } from './adam.js';
import { readMetadata, tableToWeights, weightsToTable } from './serialize.js';
import { Rng } from '../envs/rng.js';

function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tol: number, label: string): void {
  assert.equal(actual.length, expected.length, `${label}: length`);
  for (let i = 0; i < actual.length; i++) {
    const a = actual[i]!;
    const e = expected[i]!;
    assert.ok(Math.abs(a - e) <= tol * Math.max(1, Math.abs(e)), `${label}[${i}]: ${a} vs ${e} (tol ${tol})`);
  }
}

/** Plain-op MLP for autograd comparisons. */
function plainMlp(x: tf.Tensor2D, ps: tf.Tensor[]): tf.Tensor2D {
  let h = x;
  for (let l = 0; l < ps.length / 2; l++) {
    h = tf.add(tf.matMul(h, ps[2 * l] as tf.Tensor2D), ps[2 * l + 1]!);
    if (l < ps.length / 2 - 1) h = tf.relu(h);
  }
  return h;
}

test('initBackend picks a backend, is idempotent, and can switch', async () => {
  const a = await initBackend();
  const b = await initBackend();
  assert.equal(a, b);
  assert.ok(['tensorflow', 'wasm', 'cpu'].includes(a.name));
  assert.match(a.version, /tfjs 4\./);
  const c = await initBackend('cpu');
  assert.equal(c.name, 'cpu');
  assert.equal(tf.getBackend(), 'cpu');
  const w = await initBackend('wasm');
  assert.equal(w.name, 'wasm');
  assert.equal(w.simd, true);
});

test('wasm contiguous Slice/SplitV fast path matches the cpu backend', async () => {
  const rng = new Rng(3);
  const x = Float32Array.from({ length: 4 * 5 * 6 }, () => rng.normal());
  const run = () =>
    tf.tidy(() => {
      const t = tf.tensor3d(x, [4, 5, 6]);
      const flat = tf.reshape(t, [-1]);
      return [
        ...tf.split(flat, [7, 0, 100, 13]),
        tf.slice(t, [1, 0, 0], [2, 5, 6]), // contiguous
        tf.slice(t, [1, 2, 1], [2, 2, 3]), // strided: falls back to the original kernel
        ...tf.split(t, [2, 3], 1),
        tf.slice(tf.tensor1d([1, 2, 3], 'int32'), [1], [2]),
      ].map((r) => Array.from(r.dataSync()));
    });
  await initBackend('wasm');
  const w = run();
  await initBackend('cpu');
  const c = run();
  await initBackend('wasm');
  assert.deepEqual(w, c);
});

test('mlpBackward matches tfjs autograd of the plain MLP and finite differences, on cpu and wasm; FrozenMlp input gradients; no leaks', async () => {
  const rng = new Rng(2);
  const sizes = [3, 8, 6, 2];
  const init = initMlp(sizes, rng);
  const xv = Float32Array.from({ length: 7 * 3 }, () => rng.normal());
  const Rv = Float32Array.from({ length: 7 * 2 }, () => rng.normal());
  for (const backend of ['cpu', 'wasm'] as const) {
    await initBackend(backend);
    const ps = init.map((a, i) => tf.tensor(a, mlpShapes(sizes)[i]!));
    const x = tf.tensor2d(xv, [7, 3]);
    const R = tf.tensor2d(Rv, [7, 2]);
    // L = Σ R ⊙ MLP(x): dL/d(out) = R.
    const handGrads = () =>
      tf.tidy(() => {
        const pass = mlpForward(x, ps);
        const { grads, dx } = mlpBackward(R, pass, ps, { inputGrad: true });
        return [dx!, ...grads].map((g) => Array.from(g.dataSync()));
      });
    handGrads(); // first use caches a ones row for this batch size (wasm)
    const before = tf.memory().numTensors;
    const hand = handGrads();
    const plain = tf.tidy(() =>
      tf.grads((xx: tf.Tensor, ...p: tf.Tensor[]) => tf.sum(tf.mul(plainMlp(xx as tf.Tensor2D, p), R)))([x, ...ps]).map((g) => Array.from(g.dataSync())),
    );
    hand.forEach((g, i) => assertClose(g, plain[i]!, 1e-5, `${backend} grad ${i}`));
    assertClose(tf.tidy(() => mlpForward(x, ps).out.dataSync()), tf.tidy(() => plainMlp(x, ps).dataSync()), 1e-5, `${backend} forward`);
    // Without inputGrad nothing is computed for x.
    assert.equal(tf.tidy(() => (mlpBackward(R, mlpForward(x, ps), ps).dx === null ? 1 : 0)), 1);

    // Central finite differences on every entry of the first weight matrix (float32 forward:
    // eps 1e-3, loose tolerance; with this seed no ReLU pre-activation is within eps of its kink).
    const eps = 1e-3;
    const W0 = init[0]!;
    const fd = new Float32Array(W0.length);
    for (let i = 0; i < W0.length; i++) {
      const f = (d: number) =>
        tf.tidy(() => {
          const Wp = Float32Array.from(W0);
          Wp[i] = Wp[i]! + d;
          return tf.sum(tf.mul(mlpForward(x, [tf.tensor2d(Wp, [3, 8]), ...ps.slice(1)]).out, R)).dataSync()[0]!;
        });
      fd[i] = (f(eps) - f(-eps)) / (2 * eps);
    }
    assertClose(hand[1]!, fd, 2e-2, `${backend} finite-difference dW0`);
    // A wrong backward must be detectable: the transposed gradient differs.
    assert.ok(Math.abs(hand[1]![1]! - hand[1]![8]!) > 1e-3);

    // Frozen: input gradient through the cached transposed weights, no parameter gradients.
    const frozen = new FrozenMlp(ps);
    const gx = tf.tidy(() => {
      const r = mlpBackward(R, mlpForward(x, frozen.params), frozen.params, { paramGrads: false, inputGrad: true, Wt: frozen.Wt });
      assert.ok(r.grads.every((g) => g === undefined));
      return Array.from(r.dx!.dataSync());
    });
    assertClose(gx, plain[0]!, 1e-5, `${backend} frozen dx`);
    frozen.dispose();
    assert.equal(tf.memory().numTensors, before, `${backend}: no tensors leak`);
    tf.dispose([...ps, x, R]);
  }
  await initBackend('wasm');
});

test('ParamLayout packs, unpacks and splits differentiably', async () => {
  await initBackend('wasm');
  const lay = ParamLayout.ofMlps([{ prefix: 'a', sizes: [2, 3, 1] }], [{ name: 'log_std', shape: [2] }]);
  assert.deepEqual(lay.names, ['a/l0/W', 'a/l0/b', 'a/l1/W', 'a/l1/b', 'log_std']);
  assert.equal(lay.total, 6 + 3 + 3 + 1 + 2);
  const flat = Float32Array.from({ length: lay.total }, (_, i) => i);
  const parts = lay.unpackArrays(flat);
  assert.deepEqual(Array.from(parts[4]!), [13, 14]);
  assert.deepEqual(lay.packArrays(parts), flat);
  assert.deepEqual(lay.range('a/'), [0, 13]);
  const g = tf.tidy(() => Array.from(tf.grad((t: tf.Tensor) => tf.sum(lay.unpack(t as tf.Tensor1D)[2]!))(tf.tensor1d(flat)).dataSync()));
  assert.deepEqual(g, [0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 0, 0, 0]);
});

test('FlatAdam matches the torch Adam formula; polyak and cosine schedule', async () => {
  await initBackend('wasm');
  const theta = [0.5, -1, 2];
  const grads = [
    [0.1, -0.2, 0.3],
    [-0.4, 0.5, 0.0],
  ];
  const adam = new FlatAdam(Float32Array.from(theta), { lr: 0.01 });
  const m = [0, 0, 0];
  const v = [0, 0, 0];
  const th = theta.slice();
  grads.forEach((g, t) => {
    tf.tidy(() => adam.step(tf.tensor1d(g)));
    for (let i = 0; i < 3; i++) {
      m[i] = 0.9 * m[i]! + 0.1 * g[i]!;
      v[i] = 0.999 * v[i]! + 0.001 * g[i]! * g[i]!;
      const mh = m[i]! / (1 - 0.9 ** (t + 1));
      const vh = v[i]! / (1 - 0.999 ** (t + 1));
      th[i] = th[i]! - (0.01 * mh) / (Math.sqrt(vh) + 1e-8);
    }
  });
  assertClose(adam.theta.dataSync(), th, 1e-6, 'adam theta');
  assertClose(adam.m.dataSync(), m, 1e-6, 'adam m');
  assert.equal(adam.t, 2);
  adam.dispose();
  const p = tf.tidy(() => polyak(tf.tensor1d([1, 2]), tf.tensor1d([3, -2]), 0.25).dataSync());
  assertClose(p, [1.5, 1], 1e-7, 'polyak');
  assert.equal(cosineLr(1, 0, 10), 1);
  assert.ok(Math.abs(cosineLr(1, 5, 10) - 0.5) < 1e-12);
  assert.ok(Math.abs(cosineLr(1, 10, 10)) < 1e-12);
});

test('weights <-> Arrow table round trip through IPC, with metadata', async () => {
  await initBackend('wasm');
  const t = tf.tensor2d([1, 2, 3, 4, 5, 6], [2, 3]);
  const table = weightsToTable(
    { 'q1/l0/W': t, bias: { shape: [2], values: new Float32Array([7, 8]) }, scalar: { shape: [], values: new Float32Array([9]) } },
    { format: 'test', step: 12, hidden: [256, 256], note: 'plain' },
  );
  t.dispose();
  const back = arrow.tableFromIPC(arrow.tableToIPC(table));
  assert.deepEqual(back.schema.fields.map((f) => f.name), ['name', 'shape', 'values']);
  const w = tableToWeights(back);
  assert.deepEqual([...w.keys()], ['q1/l0/W', 'bias', 'scalar']);
  assert.deepEqual(w.get('q1/l0/W')!.shape, [2, 3]);
  assert.deepEqual(Array.from(w.get('q1/l0/W')!.values), [1, 2, 3, 4, 5, 6]);
  assert.deepEqual(w.get('scalar')!.shape, []);
  const meta = readMetadata(back);
  assert.equal(meta['step'], 12);
  assert.deepEqual(meta['hidden'], [256, 256]);
  assert.equal(meta['note'], 'plain');
  assert.throws(() => weightsToTable({ bad: { shape: [3], values: new Float32Array(2) } }), /needs 3 values/);
  // shape as a JSON string column is accepted
  const listF32 = new arrow.List(new arrow.Field('item', new arrow.Float32(), true));
  const jsonShape = new arrow.Table({
    name: arrow.vectorFromArray(['x']),
    shape: arrow.vectorFromArray(['[2]']),
    values: arrow.vectorFromArray([[1.5, 2.5]], listF32),
  });
  assert.deepEqual(tableToWeights(jsonShape).get('x'), { shape: [2], values: new Float32Array([1.5, 2.5]) });
});

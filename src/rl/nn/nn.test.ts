import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as arrow from 'apache-arrow';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from './backend.js';
import { archFromMetadata, FrozenMlp, initMlp, mlpBackward, mlpForward, mlpNames, mlpShapes, ParamLayout, PLAIN_RELU, type MlpArch } from './dense.js';
import { referenceMlp } from './reference-mlp.js';
import { cosineLr, FlatAdam, polyak } from './adam.js';
import { readMetadata, tableToWeights, weightsToTable } from './serialize.js';
import { Rng } from '../rng.js';

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

const ARCHS: MlpArch[] = [
  { activation: 'relu', layerNorm: true },
  { activation: 'mish', layerNorm: false },
  { activation: 'mish', layerNorm: true },
  { activation: 'gelu', layerNorm: false },
  { activation: 'gelu', layerNorm: true },
];

/** Backends to check: cpu, wasm and (when tfjs-node loads) native; returns the names initialised. */
async function eachBackend(f: (name: string) => void | Promise<void>): Promise<string[]> {
  const seen: string[] = [];
  for (const pref of ['cpu', 'wasm', 'node'] as const) {
    const info = await initBackend(pref);
    if (seen.includes(info.name)) continue; // 'node' fell back to wasm: tfjs-node not installed
    seen.push(info.name);
    await f(info.name);
  }
  await initBackend('wasm');
  return seen;
}

/**
 * LayerNorm and each activation, 3 hidden layers: the hand-written backward against tfjs autograd
 * of the plainly written net (reference-mlp.ts), for one net and for two nets stacked as batched
 * matmuls ([2, in, out], as the native twin-Q path), plus the frozen input gradient through cached
 * transposes. Weights are scaled up and the LayerNorm gains/biases moved off 1/0 so that every
 * term of each backward matters.
 */
test('mlpBackward with LayerNorm and mish/gelu/relu matches tfjs autograd on every backend (single and stacked nets)', async () => {
  const sizes = [3, 8, 6, 5, 2];
  const B = 7;
  const rng = new Rng(21);
  const xv = Float32Array.from({ length: B * 3 }, () => rng.normal());
  const Rv = Float32Array.from({ length: B * 2 }, () => rng.normal());
  const R2v = Float32Array.from({ length: 2 * B * 2 }, () => rng.normal());
  const backends = await eachBackend((backend) => {
    for (const arch of ARCHS) {
      const label = `${backend} ${arch.activation}${arch.layerNorm ? '+LN' : ''}`;
      const shapes = mlpShapes(sizes, arch);
      const names = mlpNames(sizes, arch);
      const nets = [0, 1].map((k) =>
        initMlp(sizes, new Rng(5 + k), 1, arch).map((a, i) => {
          const n = names[i]!;
          const v = n.endsWith('ln_scale') || n.endsWith('ln_bias') ? a.map((x) => x + rng.uniform(-0.5, 0.5)) : a.map((x) => 2 * x);
          return tf.tensor(v, shapes[i]!);
        }),
      );
      const ps = nets[0]!;
      const x = tf.tensor2d(xv, [B, 3]);
      const R = tf.tensor2d(Rv, [B, 2]);
      const L = sizes.length - 1;
      const hand = tf.tidy(() => {
        const { grads, dx } = mlpBackward(R, mlpForward(x, ps, arch), ps, { inputGrad: true });
        return [dx!, ...grads].map((g) => Array.from(g.dataSync()));
      });
      const ref = tf.tidy(() =>
        tf.grads((xx: tf.Tensor, ...p: tf.Tensor[]) => tf.sum(tf.mul(referenceMlp(xx, p, L, arch), R)))([x, ...ps]).map((g) => Array.from(g.dataSync())),
      );
      assert.equal(hand.length, ref.length);
      hand.forEach((g, i) => assertClose(g, ref[i]!, 2e-5, `${label} ${i === 0 ? 'dx' : names[i - 1]}`));
      assertClose(
        tf.tidy(() => mlpForward(x, ps, arch).out.dataSync()),
        tf.tidy(() => referenceMlp(x, ps, L, arch).dataSync()),
        1e-5,
        `${label} forward`,
      );

      // Stacked: W [2, in, out], vectors [2, 1, out]; x shared; output and gradients per net.
      const stacked = ps.map((p, i) => tf.keep(p.rank === 2 ? tf.stack([p, nets[1]![i]!]) : tf.reshape(tf.stack([p, nets[1]![i]!]), [2, 1, p.shape[0]!])));
      const R2 = tf.tensor3d(R2v, [2, B, 2]);
      const st = tf.tidy(() => {
        const pass = mlpForward(x, stacked, arch);
        const { grads, dx } = mlpBackward(R2, pass, stacked, { inputGrad: true });
        return { out: Array.from(pass.out.dataSync()), grads: grads.map((g) => Array.from(g.dataSync())), dx: Array.from(dx!.dataSync()) };
      });
      [0, 1].forEach((k) => {
        const Rk = tf.tidy(() => tf.keep(tf.squeeze(tf.slice(R2, [k, 0, 0], [1, B, 2]), [0])));
        const refK = tf.tidy(() =>
          tf.grads((xx: tf.Tensor, ...p: tf.Tensor[]) => tf.sum(tf.mul(referenceMlp(xx, p, L, arch), Rk)))([x, ...nets[k]!]).map((g) => Array.from(g.dataSync())),
        );
        const outK = tf.tidy(() => Array.from(referenceMlp(x, nets[k]!, L, arch).dataSync()));
        const n = B * 2;
        assertClose(st.out.slice(k * n, (k + 1) * n), outK, 1e-5, `${label} stacked out ${k}`);
        const nx = B * 3;
        assertClose(st.dx.slice(k * nx, (k + 1) * nx), refK[0]!, 2e-5, `${label} stacked dx ${k}`);
        st.grads.forEach((g, i) => {
          const len = g.length / 2;
          assertClose(g.slice(k * len, (k + 1) * len), refK[i + 1]!, 2e-5, `${label} stacked ${names[i]} ${k}`);
        });
        Rk.dispose();
      });

      // Frozen: input gradient through the cached transposes, no parameter gradients.
      const frozen = new FrozenMlp(ps, arch);
      const gx = tf.tidy(() => {
        const r = mlpBackward(R, mlpForward(x, frozen.params, arch), frozen.params, { paramGrads: false, inputGrad: true, Wt: frozen.Wt });
        assert.ok(r.grads.every((g) => g === undefined), `${label}: frozen nets get no parameter gradients`);
        return Array.from(r.dx!.dataSync());
      });
      assertClose(gx, ref[0]!, 2e-5, `${label} frozen dx`);
      assertClose(tf.tidy(() => frozen.infer(x).dataSync()), tf.tidy(() => referenceMlp(x, ps, L, arch).dataSync()), 1e-5, `${label} frozen infer`);
      frozen.dispose();
      tf.dispose([...nets.flat(), ...stacked, x, R, R2]);
    }
  });
  assert.ok(backends.includes('cpu') && backends.includes('wasm'));
});

test('initMlp with LayerNorm: same linear layers as without (same stream), gains 1 and biases 0; architecture metadata', () => {
  const sizes = [4, 16, 16, 1];
  const arch: MlpArch = { activation: 'mish', layerNorm: true };
  const plain = initMlp(sizes, new Rng(9));
  const ln = initMlp(sizes, new Rng(9), 1, arch);
  assert.deepEqual(mlpNames(sizes, arch), ['l0/W', 'l0/b', 'l0/ln_scale', 'l0/ln_bias', 'l1/W', 'l1/b', 'l1/ln_scale', 'l1/ln_bias', 'l2/W', 'l2/b']);
  assert.deepEqual(mlpShapes(sizes, arch).map((s) => s.join('x')), ['4x16', '16', '16', '16', '16x16', '16', '16', '16', '16x1', '1']);
  const linear = ln.filter((_, i) => !mlpNames(sizes, arch)[i]!.includes('/ln_'));
  assert.deepEqual(linear, plain);
  assert.ok(ln[2]!.every((x) => x === 1) && ln[3]!.every((x) => x === 0));
  assert.deepEqual(archFromMetadata({}, 't'), PLAIN_RELU);
  assert.deepEqual(archFromMetadata({ activation: 'gelu', layerNorm: true }, 't'), { activation: 'gelu', layerNorm: true });
  assert.throws(() => archFromMetadata({ activation: 'tanh' }, 'critic table'), /critic table: metadata 'activation' is "tanh"/);
  assert.throws(() => archFromMetadata({ layerNorm: 'yes' }, 't'), /layerNorm/);
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

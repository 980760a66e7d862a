import { test } from 'node:test';
import { createHash } from 'node:crypto';
import assert from 'node:assert/strict';
import * as arrow from 'apache-arrow';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../nn/backend.js';
import { readMetadata, tableToWeights, weightsToTable, type NamedArray } from '../nn/serialize.js';
import { normalizeObs } from './obs-norm.js';
import { createIQL, type IQLConfig } from './iql.js';
import { criticFromTable } from './critic.js';
import { adamMismatch, chainMdp, iqlStepCase, referenceIqlStep, syntheticTransitions } from './fixtures.js';

/** float64 MLP forward from exported weights: rows of x → outputs [n]. */
function jsMlp(w: Map<string, NamedArray>, prefix: string, x: number[][]): number[] {
  let h = x;
  for (let l = 0; w.has(`${prefix}/l${l}/W`); l++) {
    const W = w.get(`${prefix}/l${l}/W`)!;
    const b = w.get(`${prefix}/l${l}/b`)!.values;
    const [nin, nout] = W.shape as [number, number];
    const last = !w.has(`${prefix}/l${l + 1}/W`);
    h = h.map((row) =>
      Array.from({ length: nout }, (_, j) => {
        let z = b[j]!;
        for (let i = 0; i < nin; i++) z += row[i]! * W.values[i * nout + j]!;
        return last ? z : Math.max(0, z);
      }),
    );
  }
  return h.map((r) => r[0]!);
}

const mean = (a: number[]) => a.reduce((s, x) => s + x, 0) / a.length;

test('one IQL step reports the losses computed by hand from its weights; target is Polyak-updated', async () => {
  await initBackend('wasm');
  const data = syntheticTransitions(6, 2, 1, 5);
  data.terminals[4] = 1;
  const cfg: Partial<IQLConfig> = { hidden: [4], batchSize: 3, discount: 0.9, expectile: 0.8, targetTau: 0.1, rewardTransform: 'antmaze' };
  const iql = createIQL(data, cfg, 11);
  // Make target ≠ online first, so that using the wrong net would show.
  iql.step(3);
  const w0 = tableToWeights(iql.exportState());
  const idx = Int32Array.from([4, 0, 4]);
  const m = iql.step(1, { indices: idx });
  const w1 = tableToWeights(iql.exportState());

  const rows = Array.from(idx);
  const s = rows.map((i) => Array.from(data.observations.subarray(i * 2, i * 2 + 2)));
  const sa = rows.map((i, k) => [...s[k]!, data.actions[i]!]);
  const s2 = rows.map((i) => Array.from(data.nextObservations.subarray(i * 2, i * 2 + 2)));
  const y = rows.map((i, k) => data.rewards[i]! - 1 + 0.9 * (1 - data.terminals[i]!) * jsMlp(w0, 'v', [s2[k]!])[0]!);
  const q1 = jsMlp(w0, 'q1', sa);
  const q2 = jsMlp(w0, 'q2', sa);
  const v = jsMlp(w0, 'v', s);
  const qt = jsMlp(w0, 'target/q1', sa).map((a, k) => Math.min(a, jsMlp(w0, 'target/q2', [sa[k]!])[0]!));
  const adv = qt.map((q, k) => q - v[k]!);
  const expected = {
    q1Loss: mean(q1.map((q, k) => (q - y[k]!) ** 2)),
    q2Loss: mean(q2.map((q, k) => (q - y[k]!) ** 2)),
    vLoss: mean(adv.map((d) => (d > 0 ? 0.8 : 0.2) * d * d)),
    meanQ: mean(q1.map((q, k) => Math.min(q, q2[k]!))),
    meanV: mean(v),
    advMean: mean(adv),
    advStd: Math.sqrt(mean(adv.map((d) => (d - mean(adv)) ** 2))),
    advMax: Math.max(...adv),
  };
  for (const [k, e] of Object.entries(expected)) {
    const got = m[k as keyof typeof m];
    assert.ok(Math.abs(got - e) < 1e-4 * Math.max(1, Math.abs(e)), `${k}: ${got} vs ${e}`);
  }
  // θ' ← θ' + τ(θ − θ') with the updated online θ.
  for (const name of ['q1/l0/W', 'q2/l1/b']) {
    const t0 = w0.get(`target/${name}`)!.values;
    const on = w1.get(name)!.values;
    const t1 = w1.get(`target/${name}`)!.values;
    t1.forEach((x, i) => assert.ok(Math.abs(x - (t0[i]! + 0.1 * (on[i]! - t0[i]!))) < 1e-6, name));
  }
  // V and Q parameters moved; Adam moments are non-zero; step counted.
  assert.ok(w1.get('v/l0/W')!.values.some((x, i) => x !== w0.get('v/l0/W')!.values[i]));
  assert.ok(w1.get('adam/v/q1/l0/W')!.values.some((x) => x > 0));
  assert.equal(iql.stepCount, 4);
  iql.dispose();
});

test('IQL on a 5-state chain learns V increasing towards the goal', async () => {
  await initBackend('wasm');
  const data = chainMdp(2000, 5, 1);
  const iql = createIQL(data, { hidden: [32, 32], batchSize: 64, discount: 0.9, criticLr: 1e-3, valueLr: 1e-3, targetTau: 0.01 }, 0);
  iql.step(800);
  const critic = iql.critic();
  const onehots = new Float32Array(20);
  for (let i = 0; i < 4; i++) onehots[i * 5 + i] = 1;
  const { v, q1 } = critic.evaluate(onehots, Float32Array.from([1, 1, 1, 1]), 4);
  for (let i = 0; i < 3; i++) assert.ok(v[i]! < v[i + 1]!, `V not increasing: ${Array.from(v)}`);
  // Moving right from state 3 reaches the goal: Q ≈ 1.
  assert.ok(Math.abs(q1[3]! - 1) < 0.15, `Q(3, right) = ${q1[3]}`);
  critic.dispose();
  iql.dispose();
});

test('export/import resumes exactly; no tensors leak per step', async () => {
  await initBackend('wasm');
  const data = syntheticTransitions(500, 3, 2, 2);
  const cfg = { hidden: [16, 16], batchSize: 32 };
  const a = createIQL(data, cfg, 3);
  a.step(5);
  const before = tf.memory().numTensors;
  a.step(7);
  a.step(1);
  assert.equal(tf.memory().numTensors, before, 'tensor count must stay flat');
  const ckpt = arrow.tableFromIPC(arrow.tableToIPC(a.exportState()));
  const ma = a.step(6);
  const b = createIQL(data, cfg, 999); // different seed: everything must come from the checkpoint
  b.importState(ckpt);
  assert.equal(b.stepCount, 13);
  const mb = b.step(6);
  assert.deepEqual(mb, ma);
  const wa = tableToWeights(a.exportState());
  const wb = tableToWeights(b.exportState());
  for (const [k, x] of wa) assert.deepEqual(wb.get(k)!.values, x.values, k);
  assert.throws(() => createIQL(data, { hidden: [8] }, 0).importState(ckpt), /sizes differ/);

  // Critic round trip: exported critic and state tables give the same values as critic().
  const c0 = a.critic();
  const c1 = criticFromTable(arrow.tableFromIPC(arrow.tableToIPC(a.exportCritic())));
  const c2 = criticFromTable(a.exportState());
  const obs = data.observations.subarray(0, 30);
  const act = data.actions.subarray(0, 20);
  const e0 = c0.evaluate(obs, act, 10);
  for (const c of [c1, c2]) {
    const e = c.evaluate(obs, act, 10);
    assert.deepEqual(e, e0);
  }
  for (const x of [a, b, c0, c1, c2]) x.dispose();
});

/** The same table with some metadata keys removed (as a table written before they existed). */
function withoutMetadata(table: arrow.Table, keys: string[]): arrow.Table {
  const meta = readMetadata(table);
  for (const k of keys) delete meta[k];
  return weightsToTable(Object.fromEntries(tableToWeights(table)), meta);
}

test('LayerNorm + mish + normalised observations: resume is exact, critic and state tables rebuild the critic, raw observations are normalised once; old tables load as relu', async () => {
  await initBackend('wasm');
  const data = syntheticTransitions(500, 3, 2, 2);
  const cfg: Partial<IQLConfig> = { hidden: [16, 16, 16], batchSize: 32, activation: 'mish', layerNorm: true, normalizeObservations: true };
  const a = createIQL(data, cfg, 3);
  a.step(5);
  const before = tf.memory().numTensors;
  a.step(3);
  assert.equal(tf.memory().numTensors, before, 'tensor count must stay flat');
  const ckpt = arrow.tableFromIPC(arrow.tableToIPC(a.exportState()));
  const ma = a.step(4);
  const b = createIQL(data, cfg, 999);
  b.importState(ckpt);
  assert.deepEqual(b.step(4), ma);
  assert.throws(() => createIQL(data, { ...cfg, activation: 'gelu' }, 0).importState(ckpt), /architecture/);
  assert.throws(() => createIQL(data, { ...cfg, normalizeObservations: false }, 0).importState(ckpt), /observation statistics/);

  const c0 = a.critic();
  const table = arrow.tableFromIPC(arrow.tableToIPC(a.exportCritic()));
  const meta = readMetadata(table);
  assert.deepEqual([meta['activation'], meta['layerNorm'], meta['hidden']], ['mish', true, [16, 16, 16]]);
  assert.equal((meta['obsNorm'] as { std: number[] }).std.length, 3);
  const c1 = criticFromTable(table);
  const c2 = criticFromTable(a.exportState());
  const obs = data.observations.subarray(0, 30);
  const act = data.actions.subarray(0, 20);
  const e0 = c0.evaluate(obs, act, 10);
  for (const c of [c1, c2]) assert.deepEqual(c.evaluate(obs, act, 10), e0);
  // The same weights without the statistics, fed normalised observations, give the same values.
  const bare = criticFromTable(withoutMetadata(table, ['obsNorm']));
  assert.equal(bare.obsNorm, null);
  assert.deepEqual(bare.evaluate(normalizeObs(obs, c1.obsNorm), act, 10), e0);
  assert.notDeepEqual(bare.evaluate(obs, act, 10).v, e0.v);
  // Tensor methods: raw observations vs the caller's own normalisation.
  tf.tidy(() => {
    const o = tf.tensor2d(obs, [10, 3]);
    const on = tf.tensor2d(normalizeObs(obs, c1.obsNorm), [10, 3]);
    const ac = tf.tensor2d(act, [10, 2]);
    const raw = c1.qWithActionGrad(o, ac);
    const pre = c1.qWithActionGrad(on, ac, 'min', { normalizedObs: true });
    const q1 = e0.q1.map((x, i) => Math.min(x, e0.q2[i]!));
    assertAllClose(raw.q.dataSync(), q1, 1e-5, 'q raw');
    assertAllClose(pre.q.dataSync(), q1, 1e-5, 'q normalised');
    assertAllClose(raw.dqda.dataSync(), pre.dqda.dataSync(), 1e-5, 'dq/da');
    const adv = q1.map((x, i) => x - e0.v[i]!);
    assertAllClose(c1.advantage(tf.concat([o, ac], 1), o).dataSync(), adv, 1e-5, 'advantage raw');
    assertAllClose(c1.advantage(tf.concat([on, ac], 1), on, { normalizedObs: true }).dataSync(), adv, 1e-5, 'advantage normalised');
  });

  // A table written before the architecture metadata existed: relu, no LayerNorm, no statistics.
  const plain = createIQL(data, { hidden: [8, 8], batchSize: 32 }, 1);
  plain.step(2);
  const cp = plain.critic();
  const old = criticFromTable(withoutMetadata(plain.exportCritic(), ['activation', 'layerNorm', 'obsNorm']));
  assert.deepEqual(old.arch, { activation: 'relu', layerNorm: false });
  assert.deepEqual(old.evaluate(obs, act, 10), cp.evaluate(obs, act, 10));
  assert.throws(() => criticFromTable(withoutMetadata(table, ['layerNorm'])), /criticFromTable: rows q1\/l0\/ln_scale, .* do not belong to a \{"activation":"mish","layerNorm":false\} net/);
  for (const x of [a, b, c0, c1, c2, bare, plain, cp, old]) x.dispose();
});

function assertAllClose(a: ArrayLike<number>, b: ArrayLike<number>, tol: number, label: string): void {
  assert.equal(a.length, b.length, label);
  for (let i = 0; i < a.length; i++) assert.ok(Math.abs(a[i]! - b[i]!) <= tol * Math.max(1, Math.abs(b[i]!)), `${label}[${i}]: ${a[i]} vs ${b[i]}`);
}

/**
 * The default network is pinned bit for bit: a digest of every weight and Adam moment after a few
 * steps on the cpu backend (pure JS float32 kernels, deterministic), produced by the code before
 * LayerNorm/mish/gelu and observation normalisation existed (commit 6ba4ac3). Same init stream,
 * same kernels, same numerics; checked by hand on wasm and native too when the change was made.
 */
test('the default relu network trains bit-identically to the code before the architecture options', async () => {
  await initBackend('cpu');
  const data = syntheticTransitions(500, 4, 2, 1);
  const iql = createIQL(data, { hidden: [16, 16], batchSize: 16 }, 3);
  iql.step(6);
  const h = createHash('sha256');
  for (const [k, v] of tableToWeights(iql.exportState())) h.update(k).update(new Uint8Array(v.values.buffer, v.values.byteOffset, v.values.byteLength));
  iql.dispose();
  await initBackend('wasm');
  assert.equal(h.digest('hex').slice(0, 24), 'a699636b7fb7237ece0735c0');
});

test('cpu and wasm backends give the same IQL steps', async () => {
  const data = syntheticTransitions(300, 4, 2, 4);
  const cfg = { hidden: [16, 16], batchSize: 16 };
  const run = async (backend: 'cpu' | 'wasm') => {
    await initBackend(backend);
    const iql = createIQL(data, cfg, 7);
    const m = [iql.step(1), iql.step(2)];
    const w = tableToWeights(iql.exportState());
    iql.dispose();
    return { m, w };
  };
  const c = await run('cpu');
  const w = await run('wasm');
  c.m.forEach((mc, i) => {
    for (const [k, x] of Object.entries(mc)) {
      const y = w.m[i]![k as keyof typeof mc];
      assert.ok(Math.abs(x - y) < 1e-4 * Math.max(1, Math.abs(x)), `step ${i} ${k}: cpu ${x} wasm ${y}`);
    }
  });
  for (const [k, x] of c.w) {
    const y = w.w.get(k)!.values;
    x.values.forEach((v, i) => assert.ok(Math.abs(v - y[i]!) < 1e-4 * Math.max(1e-2, Math.abs(v)) + 1e-7, `${k}[${i}]: ${v} vs ${y[i]}`));
  }
});

/**
 * The step's hand-written backward (and, on tfjs-node, the twin Q nets batched per layer) against
 * a reference: tfjs autograd of the plain losses L_Q1 + L_Q2 + L_V (losses.ts, beside the
 * gradients the step runs) over per-tensor weights read from the exported state, and the torch
 * Adam formula in float64. Checked on every backend that initialises here,
 * for the default net, LayerNorm with each activation, and observation normalisation (whose
 * statistics the reference computes itself: population std + 1e-3, as CORL's compute_mean_std).
 */
test('optimised IQL step equals an autograd + Adam reference step on each backend (relu, LayerNorm, mish, gelu, obs normalisation)', async () => {
  const { data, base, variants, obsStats, idx } = iqlStepCase();
  const { mean: mu, std: sd } = obsStats;
  const seen = new Set<string>();
  for (const pref of ['cpu', 'wasm', 'node'] as const) {
    const info = await initBackend(pref);
    if (seen.has(info.name)) continue; // 'node' fell back to wasm: tfjs-node not installed
    seen.add(info.name);
    for (const v of variants) {
      const label = `${info.name} ${JSON.stringify(v)}`;
      const cfg: Partial<IQLConfig> = { ...base, ...v };
      const arch = { activation: cfg.activation ?? 'relu', layerNorm: cfg.layerNorm ?? false };
      const iql = createIQL(data, cfg, 5);
      iql.step(4); // target ≠ online, Adam t > 0
      const state0 = iql.exportState();
      const w0 = tableToWeights(state0);
      const m = iql.step(1, { indices: idx });
      const w1 = tableToWeights(iql.exportState());
      const meta = readMetadata(state0);
      assert.equal(meta['activation'], arch.activation, label);
      assert.equal(meta['layerNorm'], arch.layerNorm, label);
      const norm = cfg.normalizeObservations;
      if (norm) {
        const o = meta['obsNorm'] as { mean: number[]; std: number[] };
        o.mean.forEach((x, k) => assert.ok(Math.abs(x - mu[k]!) < 1e-6 * Math.abs(mu[k]!), `${label}: obs mean ${x} vs ${mu[k]}`));
        o.std.forEach((x, k) => assert.ok(Math.abs(x - sd[k]!) < 1e-6 * sd[k]!, `${label}: obs std ${x} vs ${sd[k]}`));
      } else assert.equal(meta['obsNorm'], null, label);

      const ref = referenceIqlStep(data, w0, idx, { discount: 0.95, expectile: 0.7, arch, layers: 3, obsNorm: norm ? { mean: mu, std: sd } : null });
      const names = ref.names;
      if (arch.layerNorm) assert.ok(names.includes('q1/l0/ln_scale') && names.includes('v/l1/ln_bias'), `${label}: LayerNorm parameters are trained`);
      assert.ok(Math.abs(m.q1Loss + m.q2Loss + m.vLoss - ref.loss) < 1e-5 * Math.max(1, ref.loss), `${label}: loss ${m.q1Loss + m.q2Loss + m.vLoss} vs ${ref.loss}`);
      const bad = adamMismatch(names, ref.grads, w0, w1, { t: 5, lr: 1e-3 }); // t: Adam step index of this update
      assert.equal(bad, null, `${label}: ${bad}`);
      iql.dispose();
    }
  }
  await initBackend('wasm');
});

test('valueLr ≠ criticLr: each parameter group moves at its own rate (Adam’s first step ≈ lr per element)', async () => {
  await initBackend('wasm');
  const data = syntheticTransitions(64, 3, 2, 2);
  const iql = createIQL(data, { hidden: [8, 8], batchSize: 16, criticLr: 1e-3, valueLr: 1e-2 }, 3);
  const w0 = tableToWeights(iql.exportState());
  iql.step(1);
  const w1 = tableToWeights(iql.exportState());
  const maxMove = (prefix: string) => {
    let mx = 0;
    for (const [k, a] of w0) {
      if (!k.startsWith(prefix)) continue;
      const b = w1.get(k)!.values;
      a.values.forEach((x, i) => (mx = Math.max(mx, Math.abs(b[i]! - x))));
    }
    return mx;
  };
  // At t = 1 Adam's step is lr · g/(|g| + ε) ≈ lr for every element with a gradient.
  assert.ok(Math.abs(maxMove('q1/') - 1e-3) < 1e-5, `Q moved ${maxMove('q1/')}`);
  assert.ok(Math.abs(maxMove('v/') - 1e-2) < 1e-4, `V moved ${maxMove('v/')}`);
  iql.dispose();
});

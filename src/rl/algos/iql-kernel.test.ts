import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as arrow from 'apache-arrow';
import { initBackend } from '../nn/backend.js';
import { readMetadata, tableToWeights } from '../nn/serialize.js';
import { createIQL, type IQLConfig } from './iql.js';
import { kernelStatus } from './iql-kernel.js';
import { criticFromTable } from './critic.js';
import { adamMismatch, iqlStepCase, maxStateDiff, referenceIqlStep, syntheticTransitions } from './fixtures.js';

const st = kernelStatus();
const skip = st.available ? false : `native IQL kernel not available: ${st.reason}`;

/**
 * The kernel's step against the same reference as iql.test.ts's step test: tfjs autograd of the
 * plain losses over the exported weights, and the torch Adam formula in float64, within the same
 * tolerances; for relu, mish, gelu, with and without LayerNorm, depth 1–3, normalised observations,
 * and valueLr ≠ criticLr.
 */
test('kernel IQL step equals the autograd + Adam reference step (relu, mish, gelu, LayerNorm, depth 1–3, obs normalisation, two learning rates)', { skip }, async () => {
  await initBackend('cpu'); // the reference's tfjs ops: deterministic float32
  const c = iqlStepCase();
  const { data, idx } = c;
  const base: Partial<IQLConfig> = { ...c.base, compute: 'kernel' };
  const variants: Array<Partial<IQLConfig>> = [
    ...c.variants,
    { hidden: [8] },
    { hidden: [8], activation: 'gelu', layerNorm: true },
    { hidden: [8, 6, 8], activation: 'mish', layerNorm: true },
    { hidden: [8, 6, 8] },
    { valueLr: 3e-3 },
  ];
  for (const v of variants) {
    const label = JSON.stringify(v);
    const cfg = { ...base, ...v };
    const arch = { activation: cfg.activation ?? 'relu', layerNorm: cfg.layerNorm ?? false };
    const iql = createIQL(data, cfg, 5);
    assert.equal(iql.compute, 'kernel');
    iql.step(4); // target ≠ online, Adam t > 0
    const w0 = tableToWeights(iql.exportState());
    const m = iql.step(1, { indices: idx });
    const w1 = tableToWeights(iql.exportState());
    const ref = referenceIqlStep(data, w0, idx, {
      discount: 0.95, expectile: 0.7, arch, layers: cfg.hidden!.length + 1, obsNorm: cfg.normalizeObservations ? c.obsStats : null,
    });
    assert.ok(Math.abs(m.q1Loss + m.q2Loss + m.vLoss - ref.loss) < 1e-5 * Math.max(1, ref.loss), `${label}: loss ${m.q1Loss + m.q2Loss + m.vLoss} vs ${ref.loss}`);
    // t: Adam step index of this update; V at its own rate
    const isV = ref.names.map((n) => n.startsWith('v/'));
    const pick = <T>(a: T[], want: boolean) => a.filter((_, i) => isV[i] === want);
    for (const [want, lr] of [[false, cfg.criticLr!], [true, cfg.valueLr!]] as const) {
      const bad = adamMismatch(pick(ref.names, want), pick(ref.grads, want), w0, w1, { t: 5, lr });
      assert.equal(bad, null, `${label}: ${bad}`);
    }
    // Polyak: θ' ← θ' + τ(θ − θ') with the updated online θ
    for (const n of ref.names.filter((k) => !k.startsWith('v/'))) {
      const t0 = w0.get(`target/${n}`)!.values;
      const on = w1.get(n)!.values;
      w1.get(`target/${n}`)!.values.forEach((x, i) => assert.ok(Math.abs(x - (t0[i]! + 0.05 * (on[i]! - t0[i]!))) < 1e-6, `${label}: target ${n}[${i}]`));
    }
    iql.dispose();
  }
  await initBackend('wasm');
});

/**
 * Kernel vs the tfjs path on the default backend (tfjs-node where provisioned) over 50 steps from the
 * same seed, hence the same init and minibatches: per-step metrics within 1e-4 relative, every
 * weight, target and Adam moment within 2e-5 absolute (measured: ≤ 2e-6; float rounding differs:
 * OpenBLAS vs Eigen GEMM blocking, fused multiply-adds, float64 metric sums).
 */
test('kernel and tfjs agree over 50 steps (relu 2×64, LayerNorm + mish 3×32)', { skip }, async () => {
  const info = await initBackend();
  const data = syntheticTransitions(2000, 4, 2, 1);
  for (const v of [{ hidden: [64, 64] }, { hidden: [32, 32, 32], activation: 'mish' as const, layerNorm: true }]) {
    const cfg: Partial<IQLConfig> = { ...v, batchSize: 32 };
    const a = createIQL(data, { ...cfg, compute: 'tfjs' }, 3);
    const b = createIQL(data, { ...cfg, compute: 'kernel' }, 3);
    const label = `${info.name} ${JSON.stringify(v)}`;
    for (const n of [1, 9, 40]) {
      const ma = a.step(n);
      const mb = b.step(n);
      for (const [k, x] of Object.entries(ma)) {
        const y = mb[k as keyof typeof mb];
        assert.ok(Math.abs(x - y) <= 1e-4 * Math.max(1, Math.abs(x)), `${label} after ${a.stepCount} steps, ${k}: tfjs ${x} kernel ${y}`);
      }
    }
    const d = maxStateDiff(tableToWeights(a.exportState()), tableToWeights(b.exportState()));
    assert.ok(d.diff < 2e-5, `${label}: state differs by ${d.diff} at ${d.at}`);
    a.dispose();
    b.dispose();
  }
});

test('kernel: same seed twice → bit-identical states and metrics; resume is exact; state hands over between kernel and tfjs', { skip }, async () => {
  await initBackend('wasm');
  const data = syntheticTransitions(500, 3, 2, 2);
  const cfg: Partial<IQLConfig> = { hidden: [16, 16], batchSize: 32, activation: 'gelu', layerNorm: true, normalizeObservations: true, compute: 'kernel' };
  const a = createIQL(data, cfg, 3);
  const b = createIQL(data, cfg, 3);
  assert.deepEqual(a.step(7), b.step(7));
  assert.deepEqual(a.step(13), b.step(13));
  const wa = tableToWeights(a.exportState());
  for (const [k, x] of tableToWeights(b.exportState())) assert.deepEqual(x.values, wa.get(k)!.values, k);

  // Resume kernel → kernel: exact.
  const ckpt = arrow.tableFromIPC(arrow.tableToIPC(a.exportState()));
  const meta = readMetadata(ckpt);
  assert.equal(meta['compute'], 'kernel');
  assert.equal(meta['adamT'], 20);
  const ma = a.step(6);
  const c = createIQL(data, cfg, 999);
  c.importState(ckpt);
  assert.deepEqual(c.step(6), ma);

  // Kernel checkpoint → tfjs, and tfjs checkpoint → kernel: the same state continues (to rounding).
  const t = createIQL(data, { ...cfg, compute: 'tfjs' }, 999);
  t.importState(ckpt);
  const mt = t.step(6);
  for (const [k, x] of Object.entries(ma)) assert.ok(Math.abs(x - mt[k as keyof typeof mt]) <= 1e-4 * Math.max(1, Math.abs(x)), `kernel→tfjs ${k}`);
  assert.equal(readMetadata(t.exportState())['compute'], 'tfjs');
  const k2 = createIQL(data, cfg, 1);
  k2.importState(t.exportState());
  const t2 = t.step(3);
  const mk = k2.step(3);
  for (const [k, x] of Object.entries(t2)) assert.ok(Math.abs(x - mk[k as keyof typeof mk]) <= 1e-4 * Math.max(1, Math.abs(x)), `tfjs→kernel ${k}`);

  // The exported critic records the path and rebuilds to the same values as critic().
  const table = arrow.tableFromIPC(arrow.tableToIPC(a.exportCritic()));
  assert.equal(readMetadata(table)['compute'], 'kernel');
  const c0 = a.critic();
  const c1 = criticFromTable(table);
  const obs = data.observations.subarray(0, 30);
  const act = data.actions.subarray(0, 20);
  assert.deepEqual(c1.evaluate(obs, act, 10), c0.evaluate(obs, act, 10));
  // critic() is a snapshot: later steps do not move it.
  const before = c0.evaluate(obs, act, 10);
  a.step(2);
  assert.deepEqual(c0.evaluate(obs, act, 10), before);
  for (const x of [a, b, c, t, k2, c0, c1]) x.dispose();
});

test('kernel: bad minibatch indices are rejected; no steps after dispose', { skip }, () => {
  const data = syntheticTransitions(50, 3, 2, 2);
  const iql = createIQL(data, { hidden: [8], batchSize: 4, compute: 'kernel' }, 0);
  assert.throws(() => iql.step(1, { indices: Int32Array.from([0, 1, 2, 50]) }), /index out of range/);
  assert.throws(() => iql.step(1, { indices: Int32Array.from([0, -1, 2, 3]) }), /index out of range/);
  iql.dispose();
  assert.throws(() => iql.step(1), /disposed/);
});

test('without the kernel (IQLP_KERNEL=off): auto runs on tfjs and says why once; kernel throws with the reason', async () => {
  const script = `
    const { createIQL } = await import(${JSON.stringify(new URL('./iql.js', import.meta.url).href)});
    const { syntheticTransitions } = await import(${JSON.stringify(new URL('./fixtures.js', import.meta.url).href)});
    const data = syntheticTransitions(50, 3, 2, 2);
    const a = createIQL(data, { hidden: [8], batchSize: 4, compute: 'auto' }, 0);
    const b = createIQL(data, { hidden: [8], batchSize: 4, compute: 'auto' }, 0);
    let err = '';
    try { createIQL(data, { hidden: [8], batchSize: 4, compute: 'kernel' }, 0); } catch (e) { err = e.message; }
    console.log(JSON.stringify({ a: a.compute, b: b.compute, err }));
  `;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
    env: { ...process.env, IQLP_KERNEL: 'off' },
    encoding: 'utf8',
  });
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout.trim().split('\n').pop()!), {
    a: 'tfjs',
    b: 'tfjs',
    err: "IQL compute 'kernel': the native kernel is unavailable (disabled by IQLP_KERNEL=off)",
  });
  const warnings = r.stderr.split('\n').filter((l) => l.includes('native IQL critic kernel unavailable'));
  assert.equal(warnings.length, 1, r.stderr);
  assert.match(warnings[0]!, /disabled by IQLP_KERNEL=off.*runs on tfjs/);
});

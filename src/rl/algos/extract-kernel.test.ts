/**
 * The native extraction step (iql-kernel.ts createExtractKernel, native/iql-kernel/iql_kernel.cc):
 * each method against the autograd + float64 Adam reference of extract.test.ts, against the tfjs
 * path over 50 steps, determinism, resume and hand-over between the two paths, bad input, and the
 * fallback when the kernel is not there. Skips with the reason when the kernel is not built.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as arrow from 'apache-arrow';
import { initBackend } from '../nn/backend.js';
import { readMetadata, tableToWeights } from '../nn/serialize.js';
import type { Activation } from '../nn/dense.js';
import { createIQL, type IQLConfig } from './iql.js';
import type { Critic } from './critic.js';
import { createExtractor, EXTRACT_METHODS, policyFromTable, type ExtractConfig, type ExtractMethod, type ExtractMetrics } from './extract.js';
import { extractKernelStatus } from './iql-kernel.js';
import { adamMismatch, maxStateDiff, referenceExtractStep, syntheticTransitions } from './fixtures.js';

const st = extractKernelStatus();
const skip = st.available ? false : `native extraction kernel not available: ${st.reason}`;

/** Asserts every metric within rel (relative, absolute below 1); returns the largest such gap. */
function closeMetrics(x: ExtractMetrics, y: ExtractMetrics, rel: number, label: string): number {
  let worst = 0;
  for (const [k, a] of Object.entries(x)) {
    const b = y[k as keyof ExtractMetrics];
    if (Number.isNaN(a)) assert.ok(Number.isNaN(b), `${label} ${k}: ${a} vs ${b}`);
    else {
      const gap = Math.abs(a - b) / Math.max(1, Math.abs(a));
      assert.ok(gap <= rel, `${label} ${k}: ${a} vs ${b}`);
      worst = Math.max(worst, gap);
    }
  }
  return worst;
}

/**
 * The kernel's step against the reference of extract.test.ts: tfjs autograd of the plain loss
 * (losses.ts) over per-tensor weights read from the exported state, and the torch Adam formula in
 * float64, with the same tolerances; two critics (plain relu; LayerNorm + mish on normalised
 * observations), actors relu / mish / gelu, LayerNorm, depth 1–2, AWR weights precomputed and per
 * batch and clipped, log σ outside its clip, DDPG with min / mean / q1, bc_alpha and q_normalize.
 */
test('kernel extraction step equals the autograd + Adam reference step (each method, architectures, obs normalisation, DDPG reductions, bc_alpha, q_normalize)', { skip }, async () => {
  await initBackend('cpu'); // the reference's tfjs ops: deterministic float32
  const data = syntheticTransitions(40, 3, 2, 6);
  const idx = Int32Array.from([7, 3, 3, 21, 39]);
  const B = idx.length;
  const variants: Array<Partial<ExtractConfig> & { method: ExtractMethod }> = [
    { method: 'awr' },
    { method: 'awr', precomputeWeights: 'never' },
    { method: 'awr', logStdMax: -0.5 }, // log σ starts at 0, outside the clip: no gradient reaches it
    { method: 'awr', maxWeight: 1.2 }, // some weights at the clip
    { method: 'awr', activation: 'mish', layerNorm: true },
    { method: 'awr', hidden: [8], activation: 'gelu' },
    { method: 'ddpg' },
    { method: 'ddpg', hidden: [8], activation: 'mish' },
    { method: 'ddpg', qReduce: 'q1', bcAlpha: 0.3 },
    { method: 'ddpg', qReduce: 'mean', bcAlpha: 1 },
    { method: 'ddpg', qNormalize: true },
    { method: 'ddpg', qNormalize: true, bcAlpha: 0.4, layerNorm: true },
    { method: 'ddpg', qNormalize: true, qReduce: 'q1', bcAlpha: 2.5, activation: 'gelu', layerNorm: true },
    { method: 'awr-discrete', bins: 5 },
    { method: 'awr-discrete', bins: 5, precomputeWeights: 'never', maxWeight: 1.2 },
    { method: 'awr-discrete', bins: 5, activation: 'gelu', layerNorm: true, hidden: [8] },
  ];
  const critics: Array<{ name: string; cfg: Partial<IQLConfig> }> = [
    { name: 'relu critic', cfg: {} },
    { name: 'LN+mish critic, normalised obs', cfg: { activation: 'mish', layerNorm: true, normalizeObservations: true } },
  ];
  for (const cr of critics) {
    const iql = createIQL(data, { hidden: [8, 8], batchSize: 8, ...cr.cfg }, 1);
    iql.step(20);
    const c = iql.critic();
    const ctable = c.toTable();
    const cw = tableToWeights(ctable);
    const stats = readMetadata(ctable)['obsNorm'] as { mean: number[]; std: number[] } | null;
    const carch = { activation: (cr.cfg.activation ?? 'relu') as Activation, layerNorm: cr.cfg.layerNorm ?? false };
    iql.dispose();
    for (const v of variants) {
      const label = `${cr.name} ${JSON.stringify(v)}`;
      const hidden = v.hidden ?? [8, 8];
      const aarch = { activation: v.activation ?? 'relu', layerNorm: v.layerNorm ?? false };
      const cfg: Partial<ExtractConfig> & { method: ExtractMethod } = { hidden, batchSize: B, lr: 1e-2, lrSchedule: 'constant', steps: 10, beta: 2, ...v, compute: 'kernel' };
      const ex = createExtractor(c, data, cfg, 4);
      assert.equal(ex.compute, 'kernel');
      ex.step(3, { indices: Int32Array.from({ length: 3 * B }, (_, i) => (i * 7) % 40) }); // Adam t > 0
      const w0 = tableToWeights(ex.exportState());
      const m = ex.step(1, { indices: idx });
      const w1 = tableToWeights(ex.exportState());
      const ref = referenceExtractStep(data, cw, w0, idx, { ...v, actorArch: aarch, criticArch: carch, actorLayers: hidden.length + 1, stats, beta: 2 });
      assert.ok(Math.abs(m.loss - ref.loss) < 1e-5 * Math.max(1, Math.abs(ref.loss)), `${label}: loss ${m.loss} vs ${ref.loss}`);
      if (v.method !== 'ddpg') assert.ok(Math.abs(m.clippedFrac - ref.clipped) < 1e-6, `${label}: clippedFrac ${m.clippedFrac} vs ${ref.clipped}`);
      const bad = adamMismatch(ref.names, ref.grads, w0, w1, { t: 4, lr: 1e-2, thetaTol: 1e-5 });
      assert.equal(bad, null, `${label}: ${bad}`);
      ex.dispose();
    }
    c.dispose();
  }
  await initBackend('wasm');
});

/** A critic trained a little on `data` (LayerNorm + mish on normalised observations, or plain relu). */
function trainedCritic(data: ReturnType<typeof syntheticTransitions>, cfg: Partial<IQLConfig>, seed = 0, steps = 40): Critic {
  const iql = createIQL(data, { hidden: [32, 32], batchSize: 32, ...cfg }, seed);
  iql.step(steps);
  const c = iql.critic();
  iql.dispose();
  return c;
}

/**
 * Kernel vs the tfjs path on the default backend (tfjs-node where provisioned) over 50 steps from
 * the same seed (same init, minibatches and learning rates): per-call metrics within 1e-4 relative,
 * every weight and Adam moment within 1e-5 absolute (measured on tfjs-node: metrics ≤ 3e-7 relative, state ≤ 3e-7), precomputed AWR weights within 1e-5 relative.
 */
test('kernel and tfjs extraction agree over 50 steps (each method; relu 2×64 and LayerNorm + gelu 2×32 actors)', { skip }, async (t) => {
  const info = await initBackend();
  const data = syntheticTransitions(2000, 4, 2, 1);
  const critic = trainedCritic(data, { activation: 'mish', layerNorm: true, normalizeObservations: true });
  const variants: Array<Partial<ExtractConfig> & { method: ExtractMethod }> = [
    { method: 'awr', hidden: [64, 64] },
    { method: 'awr', hidden: [32, 32], activation: 'gelu', layerNorm: true, precomputeWeights: 'never', maxWeight: 1.05 },
    { method: 'ddpg', hidden: [64, 64] },
    { method: 'ddpg', hidden: [32, 32], activation: 'gelu', layerNorm: true, qNormalize: true, bcAlpha: 0.2, qReduce: 'mean' },
    { method: 'awr-discrete', hidden: [64, 64], bins: 9 },
    { method: 'awr-discrete', hidden: [32, 32], activation: 'mish', bins: 5, maxWeight: 1.05, precomputeWeights: 'never' },
  ];
  for (const v of variants) {
    const cfg: Partial<ExtractConfig> & { method: ExtractMethod } = { batchSize: 32, steps: 60, lr: 1e-3, ...v };
    const a = createExtractor(critic, data, { ...cfg, compute: 'tfjs' }, 3);
    const b = createExtractor(critic, data, { ...cfg, compute: 'kernel' }, 3);
    const label = `${info.name} ${JSON.stringify(v)}`;
    const wa = a.datasetWeights();
    const wb = b.datasetWeights();
    assert.equal(wa === null, wb === null, `${label}: precomputed on one path only`);
    if (wa && wb) wa.forEach((x, i) => assert.ok(Math.abs(x - wb[i]!) <= 1e-5 * Math.max(1, x), `${label}: weight[${i}] tfjs ${x} kernel ${wb[i]}`));
    let gap = 0;
    for (const n of [1, 9, 40]) gap = Math.max(gap, closeMetrics(a.step(n), b.step(n), 1e-4, `${label} after ${a.stepCount} steps`));
    const d = maxStateDiff(tableToWeights(a.exportState()), tableToWeights(b.exportState()));
    assert.ok(d.diff < 1e-5, `${label}: state differs by ${d.diff} at ${d.at}`);
    t.diagnostic(`${label}: metrics ≤ ${gap.toExponential(1)} relative, state ≤ ${d.diff.toExponential(1)} absolute`);
    a.dispose();
    b.dispose();
  }
  critic.dispose();
});

test('kernel extraction: same seed twice → bit-identical; resume is exact; state hands over between kernel and tfjs; policy tables record the path', { skip }, async () => {
  await initBackend('wasm');
  const data = syntheticTransitions(500, 3, 2, 2);
  const critic = trainedCritic(data, { activation: 'gelu', layerNorm: true, normalizeObservations: true });
  const obs = data.observations.subarray(0, 3 * 8);
  for (const method of EXTRACT_METHODS) {
    const cfg: Partial<ExtractConfig> & { method: ExtractMethod } = { method, hidden: [16, 16], batchSize: 32, activation: 'mish', layerNorm: true, steps: 40, bins: 5, compute: 'kernel' };
    const a = createExtractor(critic, data, cfg, 3);
    const b = createExtractor(critic, data, cfg, 3);
    assert.deepEqual(a.step(7), b.step(7), method);
    assert.deepEqual(a.step(13), b.step(13), method);
    const wa = tableToWeights(a.exportState());
    for (const [k, x] of tableToWeights(b.exportState())) assert.deepEqual(x.values, wa.get(k)!.values, `${method} ${k}`);

    // Resume kernel → kernel: exact.
    const ckpt = arrow.tableFromIPC(arrow.tableToIPC(a.exportState()));
    const meta = readMetadata(ckpt);
    assert.equal(meta['compute'], 'kernel');
    assert.equal(meta['adamT'], 20);
    const ma = a.step(6);
    const c = createExtractor(critic, data, cfg, 999);
    c.importState(ckpt);
    assert.deepEqual(c.step(6), ma, `${method} resume`);

    // Kernel checkpoint → tfjs, and tfjs checkpoint → kernel: the same state continues (to rounding).
    const t = createExtractor(critic, data, { ...cfg, compute: 'tfjs' }, 999);
    t.importState(ckpt);
    closeMetrics(ma, t.step(6), 1e-4, `${method} kernel→tfjs`);
    assert.equal(readMetadata(t.exportState())['compute'], 'tfjs');
    const k2 = createExtractor(critic, data, cfg, 1);
    k2.importState(t.exportState());
    closeMetrics(t.step(3), k2.step(3), 1e-4, `${method} tfjs→kernel`);

    // The policy table records the path and rebuilds to the same actions as the extractor.
    const table = arrow.tableFromIPC(arrow.tableToIPC(a.exportPolicy()));
    assert.equal(readMetadata(table)['compute'], 'kernel');
    const p = policyFromTable(table);
    assert.deepEqual(p.act(obs, 8), a.act(obs, 8));
    for (const x of [a, b, c, t, k2, p]) x.dispose();
  }
  critic.dispose();
});

test('kernel extraction under a moving critic (joint training): setCritic takes effect and matches tfjs step for step', { skip }, async (t) => {
  const info = await initBackend();
  const data = syntheticTransitions(600, 4, 2, 3);
  const iqlCfg: Partial<IQLConfig> = { activation: 'mish', layerNorm: true, normalizeObservations: true };
  const first = trainedCritic(data, iqlCfg, 0, 20);
  const second = trainedCritic(data, iqlCfg, 1, 80);
  for (const method of EXTRACT_METHODS) {
    const cfg: Partial<ExtractConfig> & { method: ExtractMethod } = { method, hidden: [16, 16], batchSize: 32, steps: 30, lr: 1e-3, bins: 5, precomputeWeights: 'never' };
    const a = createExtractor(first, data, { ...cfg, compute: 'tfjs' }, 4);
    const b = createExtractor(first, data, { ...cfg, compute: 'kernel' }, 4);
    const stay = createExtractor(first, data, { ...cfg, compute: 'kernel' }, 4);
    const label = `${info.name} ${method}`;
    closeMetrics(a.step(5), b.step(5), 1e-4, `${label} before the switch`);
    stay.step(5);
    a.setCritic(second);
    b.setCritic(second);
    const gap = closeMetrics(a.step(10), b.step(10), 1e-4, `${label} after the switch`);
    stay.step(10);
    const d = maxStateDiff(tableToWeights(a.exportState()), tableToWeights(b.exportState()));
    assert.ok(d.diff < 1e-5, `${label}: state differs by ${d.diff} at ${d.at}`);
    const moved = maxStateDiff(tableToWeights(b.exportState()), tableToWeights(stay.exportState()));
    assert.ok(moved.diff > 1e-4, `${label}: the kernel ignored the new critic (state differs from the unswitched run by only ${moved.diff})`);
    t.diagnostic(`${label}: metrics ≤ ${gap.toExponential(1)} relative, state ≤ ${d.diff.toExponential(1)}; switching moved it by ${moved.diff.toExponential(1)}`);
    for (const x of [a, b, stay]) x.dispose();
  }
  // Refusals: weights precomputed from the first critic; another architecture.
  const pre = createExtractor(first, data, { method: 'awr', hidden: [8], batchSize: 32, precomputeWeights: 'always', compute: 'kernel' }, 0);
  assert.throws(() => pre.setCritic(second), /precomputed/);
  pre.dispose();
  const other = trainedCritic(data, { ...iqlCfg, hidden: [16, 16] });
  const ex = createExtractor(first, data, { method: 'ddpg', hidden: [8], batchSize: 32, compute: 'kernel' }, 0);
  assert.throws(() => ex.setCritic(other), /architecture differs/);
  for (const x of [ex, other, first, second]) x.dispose();
});

test('kernel extraction: bad minibatch indices are rejected; no steps after dispose', { skip }, () => {
  const data = syntheticTransitions(50, 3, 2, 2);
  const critic = trainedCritic(data, {});
  const ex = createExtractor(critic, data, { method: 'awr', hidden: [8], batchSize: 4, compute: 'kernel' }, 0);
  assert.throws(() => ex.step(1, { indices: Int32Array.from([0, 1, 2, 50]) }), /index out of range/);
  assert.throws(() => ex.step(1, { indices: Int32Array.from([0, -1, 2, 3]) }), /index out of range/);
  ex.dispose();
  assert.throws(() => ex.step(1), /disposed/);
  critic.dispose();
});

test('without the kernel (IQLP_KERNEL=off): extraction auto runs on tfjs and says why once; kernel throws with the reason', () => {
  const script = `
    const { createIQL } = await import(${JSON.stringify(new URL('./iql.js', import.meta.url).href)});
    const { createExtractor } = await import(${JSON.stringify(new URL('./extract.js', import.meta.url).href)});
    const { syntheticTransitions } = await import(${JSON.stringify(new URL('./fixtures.js', import.meta.url).href)});
    const data = syntheticTransitions(50, 3, 2, 2);
    const iql = createIQL(data, { hidden: [8], batchSize: 4 }, 0);
    const critic = iql.critic();
    const a = createExtractor(critic, data, { method: 'awr', hidden: [8], batchSize: 4, compute: 'auto' }, 0);
    const b = createExtractor(critic, data, { method: 'ddpg', hidden: [8], batchSize: 4, compute: 'auto' }, 0);
    let err = '';
    try { createExtractor(critic, data, { method: 'awr', hidden: [8], batchSize: 4, compute: 'kernel' }, 0); } catch (e) { err = e.message; }
    console.log(JSON.stringify({ a: a.compute, b: b.compute, err }));
  `;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { env: { ...process.env, IQLP_KERNEL: 'off' }, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout.trim().split('\n').pop()!), {
    a: 'tfjs',
    b: 'tfjs',
    err: "extraction compute 'kernel': the native kernel is unavailable (disabled by IQLP_KERNEL=off)",
  });
  const warnings = r.stderr.split('\n').filter((l) => l.includes('native extraction kernel unavailable'));
  assert.equal(warnings.length, 1, r.stderr);
  assert.match(warnings[0]!, /disabled by IQLP_KERNEL=off.*runs on tfjs/);
});

import { before, after, test } from 'node:test';
import assert from 'node:assert/strict';
import * as arrow from 'apache-arrow';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../nn/backend.js';
import { readMetadata, tableToWeights, weightsToTable } from '../nn/serialize.js';
import { normalizeObs } from './obs-norm.js';
import type { Activation } from '../nn/dense.js';
import { createIQL, type IQLConfig } from './iql.js';
import { Critic, criticFromTable } from './critic.js';
import { createExtractor, EXTRACT_METHODS, policyFromTable, type ExtractConfig, type ExtractMethod } from './extract.js';
import { adamMismatch, bimodalBandit, referenceExtractStep, syntheticTransitions } from './fixtures.js';

// One-state bandit, actions near −0.9 (reward 0.5) and +0.9 (reward 1): a bimodal dataset
// whose best mode is +0.9. The critic is trained by IQL on it (every step terminal: Q = r).
const bandit = bimodalBandit(2000);
let critic: Critic;
const small: Partial<ExtractConfig> = { hidden: [32, 32], batchSize: 64, lr: 3e-3, lrSchedule: 'constant', steps: 400 };
const ONE = new Float32Array([1]);

before(async () => {
  await initBackend('wasm');
  const iql = createIQL(bandit, { hidden: [32, 32], batchSize: 64, criticLr: 1e-3, valueLr: 1e-3 }, 0);
  iql.step(600);
  critic = iql.critic();
  iql.dispose();
  const { q1, q2 } = critic.evaluate(new Float32Array([1, 1]), new Float32Array([-0.9, 0.9]), 2);
  assert.ok(Math.min(q1[1]!, q2[1]!) - Math.min(q1[0]!, q2[0]!) > 0.3, 'critic must rank +0.9 above −0.9');
});

after(() => critic.dispose());

function trained(method: ExtractMethod, steps = 400) {
  const ex = createExtractor(critic, bandit, { ...small, method }, 0);
  ex.step(steps);
  return ex;
}

test('Gaussian AWR mean-matches: mean between the modes, large std', () => {
  const ex = trained('awr');
  const st = ex.stats(ONE, 1);
  const mean = st.mode[0]!;
  assert.ok(mean > 0.1 && mean < 0.8, `AWR mean ${mean} should sit between the modes`);
  assert.ok(st.std[0]! > 0.4, `AWR std ${st.std[0]} should stay large`);
  assert.ok(Math.abs(ex.metrics().policyStd - st.std[0]!) < 0.05);
  // Samples cover the gap between the modes.
  const samples = ex.act(new Float32Array(400).fill(1), 400, { deterministic: false });
  assert.ok(samples.filter((a) => Math.abs(a) < 0.4).length > 60, 'Gaussian samples fall between the modes');
  ex.dispose();
});

test('DDPG picks the best mode (or the edge beyond it)', () => {
  const ex = trained('ddpg');
  const a = ex.act(ONE, 1)[0]!;
  assert.ok(a > 0.85, `DDPG action ${a}`);
  const m = ex.metrics();
  assert.equal(m.policyStd, 0);
  assert.ok(m.meanQ > 0.8, `Q(s, π(s)) = ${m.meanQ}`);
  ex.dispose();
});

test('discretised AWR picks the best mode and keeps a multimodal distribution', () => {
  const ex = trained('awr-discrete');
  const a = ex.act(ONE, 1)[0]!;
  assert.ok(Math.abs(a - 0.9) < 0.051, `discrete AWR argmax ${a}`);
  const samples = ex.act(new Float32Array(400).fill(1), 400, { deterministic: false });
  const pos = samples.filter((x) => x > 0.7).length;
  const neg = samples.filter((x) => x < -0.7).length;
  assert.ok(pos > neg && neg > 10, `both modes sampled, best more often (pos ${pos}, neg ${neg})`);
  assert.ok(pos + neg > 340, 'little mass between the modes');
  ex.dispose();
});

test('AWR step loss equals −mean(w · log π) computed by hand from the exported weights', () => {
  const ex = createExtractor(critic, bandit, { ...small, method: 'awr', batchSize: 4 }, 5);
  ex.step(3);
  const w = tableToWeights(ex.exportState());
  const idx = Int32Array.from([0, 1, 2, 7]);
  const m = ex.step(1, { indices: idx });
  // policy: mean = tanh(MLP(1)), log σ clipped
  const W = (n: string) => w.get(n)!.values;
  const h0 = Array.from({ length: 32 }, (_, j) => Math.max(0, W('pi/l0/W')[j]! + W('pi/l0/b')[j]!));
  const h1 = Array.from({ length: 32 }, (_, j) => Math.max(0, h0.reduce((s, x, i) => s + x * W('pi/l1/W')[i * 32 + j]!, W('pi/l1/b')[j]!)));
  const mu = Math.tanh(h1.reduce((s, x, i) => s + x * W('pi/l2/W')[i]!, W('pi/l2/b')[0]!));
  const ls = Math.min(2, Math.max(-5, W('log_std')[0]!));
  const acts = Array.from(idx, (i) => bandit.actions[i]!);
  const e = critic.evaluate(new Float32Array(4).fill(1), Float32Array.from(acts), 4);
  let loss = 0;
  acts.forEach((a, k) => {
    const wt = Math.min(Math.exp(3 * (Math.min(e.q1[k]!, e.q2[k]!) - e.v[k]!)), 100);
    const logp = -0.5 * ((a - mu) / Math.exp(ls)) ** 2 - ls - 0.5 * Math.log(2 * Math.PI);
    loss -= (wt * logp) / 4;
  });
  assert.ok(Math.abs(m.loss - loss) < 1e-4 * Math.max(1, Math.abs(loss)), `loss ${m.loss} vs ${loss}`);
  ex.dispose();
});

test('precomputed and on-the-fly AWR weights give the same steps', () => {
  for (const method of ['awr', 'awr-discrete'] as const) {
    const a = createExtractor(critic, bandit, { ...small, method, precomputeWeights: 'always' }, 1);
    const b = createExtractor(critic, bandit, { ...small, method, precomputeWeights: 'never' }, 1);
    assert.ok(a.datasetWeights() !== null && b.datasetWeights() === null);
    const ma = a.step(3);
    const mb = b.step(3);
    for (const k of ['loss', 'meanWeight', 'entropy'] as const) assert.ok(Math.abs(ma[k] - mb[k]) < 1e-5 * Math.max(1, Math.abs(ma[k])), `${method} ${k}`);
    a.dispose();
    b.dispose();
  }
});

test('each method: resumes exactly from its checkpoint, rebuilds from its policy table, no leaks', () => {
  const obs = new Float32Array(8).fill(1);
  for (const method of EXTRACT_METHODS) {
    const a = createExtractor(critic, bandit, { ...small, method, steps: 50, lrSchedule: 'cosine' }, 2);
    a.step(4);
    const n0 = tf.memory().numTensors;
    a.step(3);
    assert.equal(tf.memory().numTensors, n0, `${method}: tensor count must stay flat`);
    const ckpt = arrow.tableFromIPC(arrow.tableToIPC(a.exportState()));
    const ma = a.step(5);
    const b = createExtractor(critic, bandit, { ...small, method, steps: 50, lrSchedule: 'cosine' }, 77);
    b.importState(ckpt);
    assert.deepEqual(b.step(5), ma, method);
    assert.ok(ma.lr < small.lr!, 'cosine schedule lowers the rate');

    const table = arrow.tableFromIPC(arrow.tableToIPC(a.exportPolicy()));
    const p = policyFromTable(table);
    assert.equal(p.method, method);
    assert.deepEqual(p.act(obs, 8), a.act(obs, 8));
    assert.deepEqual(p.stats(obs, 8), a.stats(obs, 8));
    assert.throws(() => b.importState(createExtractor(critic, bandit, { ...small, method: method === 'ddpg' ? 'awr' : 'ddpg' }, 0).exportState()));
    for (const x of [a, b, p]) x.dispose();
  }
});

test('policies from a LayerNorm + mish critic on normalised observations: tables carry architecture and statistics, act on raw observations, resume exactly; old tables load as relu', async () => {
  await initBackend('wasm');
  const data = syntheticTransitions(300, 3, 2, 8);
  const iql = createIQL(data, { hidden: [16, 16], batchSize: 32, activation: 'mish', layerNorm: true, normalizeObservations: true }, 2);
  iql.step(10);
  const c = criticFromTable(iql.exportCritic());
  iql.dispose();
  const obs = data.observations.subarray(0, 3 * 8);
  const cfg = { ...small, hidden: [16, 16], activation: 'gelu' as const, layerNorm: true, steps: 40, lrSchedule: 'cosine' as const };
  for (const method of EXTRACT_METHODS) {
    const a = createExtractor(c, data, { ...cfg, method, bins: 5 }, 2);
    a.step(4);
    const ckpt = arrow.tableFromIPC(arrow.tableToIPC(a.exportState()));
    const ma = a.step(3);
    const b = createExtractor(c, data, { ...cfg, method, bins: 5 }, 9);
    b.importState(ckpt);
    assert.deepEqual(b.step(3), ma, method);
    assert.throws(() => createExtractor(c, data, { ...cfg, method, bins: 5, layerNorm: false }, 0).importState(ckpt), /architecture/);

    const table = arrow.tableFromIPC(arrow.tableToIPC(a.exportPolicy()));
    const meta = readMetadata(table);
    assert.deepEqual([meta['activation'], meta['layerNorm']], ['gelu', true]);
    assert.deepEqual(meta['obsNorm'], readMetadata(c.toTable())['obsNorm']);
    const p = policyFromTable(table);
    assert.deepEqual(p.act(obs, 8), a.act(obs, 8));
    assert.deepEqual(p.stats(obs, 8), a.stats(obs, 8));
    // The same weights without the statistics, given normalised observations, act the same.
    const meta2 = { ...meta, obsNorm: null };
    const bare = policyFromTable(weightsToTable(Object.fromEntries(tableToWeights(table)), meta2));
    assert.deepEqual(bare.act(normalizeObs(obs, c.obsNorm), 8), p.act(obs, 8));
    assert.notDeepEqual(bare.act(obs, 8), p.act(obs, 8));
    const { activation: _a, layerNorm: _l, ...noArch } = meta;
    assert.throws(() => policyFromTable(weightsToTable(Object.fromEntries(tableToWeights(table)), noArch)), /policyFromTable: rows pi\/l0\/ln_scale/);
    for (const x of [a, b, p, bare]) x.dispose();
  }
  // A policy table written before the architecture was recorded: relu, raw observations.
  const ex = createExtractor(critic, bandit, { ...small, method: 'ddpg' }, 1);
  ex.step(2);
  const { activation: _a, layerNorm: _l, obsNorm: _o, ...oldMeta } = readMetadata(ex.exportPolicy());
  const old = policyFromTable(weightsToTable(Object.fromEntries(tableToWeights(ex.exportPolicy())), oldMeta));
  assert.deepEqual(old.spec.arch, { activation: 'relu', layerNorm: false });
  assert.equal(old.spec.obsNorm, null);
  assert.deepEqual(old.act(ONE, 1), ex.act(ONE, 1));
  for (const x of [ex, old, c]) x.dispose();
});

test('cpu and wasm give the same extraction steps (DDPG through the critic, discrete head)', async () => {
  const data = syntheticTransitions(200, 3, 2, 9);
  const cfg = { hidden: [8, 8], batchSize: 16, steps: 10 };
  const run = async (backend: 'cpu' | 'wasm') => {
    await initBackend(backend);
    const iql = createIQL(data, cfg, 1);
    iql.step(2);
    const criticTable = iql.exportCritic();
    iql.dispose();
    const c = criticFromTable(criticTable);
    const out = EXTRACT_METHODS.map((method) => {
      const ex = createExtractor(c, data, { ...cfg, method, bins: 5 }, 3);
      const m = [ex.step(1), ex.step(2)];
      const act = ex.act(data.observations.subarray(0, 9), 3);
      ex.dispose();
      return { m, act };
    });
    c.dispose();
    return out;
  };
  const cpu = await run('cpu');
  const wasm = await run('wasm');
  cpu.forEach((r, j) => {
    r.m.forEach((mc, i) => {
      for (const [k, x] of Object.entries(mc)) {
        const y = wasm[j]!.m[i]![k as keyof typeof mc];
        if (Number.isNaN(x)) assert.ok(Number.isNaN(y));
        else assert.ok(Math.abs(x - y) < 1e-4 * Math.max(1, Math.abs(x)), `${EXTRACT_METHODS[j]} step ${i} ${k}: cpu ${x} wasm ${y}`);
      }
    });
    r.act.forEach((a, i) => assert.ok(Math.abs(a - wasm[j]!.act[i]!) < 1e-4, `${EXTRACT_METHODS[j]} act`));
  });
  await initBackend('wasm');
});

/**
 * Each method's tape-free step (hand-written head gradients, mlpBackward through the actor, the
 * critic's action gradient for DDPG) against a reference: tfjs autograd of the plain loss
 * (losses.ts, beside the gradient the step runs; reference-mlp.ts nets) over per-tensor weights read from the
 * exported state, and the torch Adam formula in float64. On every backend that initialises here,
 * with two critics: the default ReLU one and a LayerNorm + mish critic trained on normalised
 * observations (the actor then sees the same normalised inputs); actors with LayerNorm, mish and
 * gelu; DDPG with and without Q normalisation (λ = 1/mean|Q| of the batch, computed outside the
 * gradient: stop-gradient).
 */
test('optimised extraction steps equal an autograd + Adam reference step on each backend (architectures, obs normalisation, Q-normalised DDPG+BC)', async () => {
  const data = syntheticTransitions(40, 3, 2, 6);
  const hidden = [8, 8];
  const idx = Int32Array.from([7, 3, 3, 21, 39]);
  const B = idx.length;
  const variants: Array<Partial<ExtractConfig> & { method: ExtractMethod }> = [
    { method: 'awr' },
    { method: 'awr', logStdMax: -0.5 }, // log σ starts at 0, outside the clip: no gradient reaches it
    { method: 'awr', activation: 'mish', layerNorm: true },
    { method: 'ddpg' },
    { method: 'ddpg', qReduce: 'q1', bcAlpha: 0.3 },
    { method: 'ddpg', qReduce: 'mean', bcAlpha: 1 },
    { method: 'ddpg', qNormalize: true },
    { method: 'ddpg', qNormalize: true, bcAlpha: 0.4 },
    { method: 'ddpg', qNormalize: true, qReduce: 'q1', bcAlpha: 2.5, activation: 'gelu', layerNorm: true },
    { method: 'awr-discrete', bins: 5 },
    { method: 'awr-discrete', bins: 5, activation: 'gelu' },
  ];
  const critics: Array<{ name: string; cfg: Partial<IQLConfig> }> = [
    { name: 'relu critic', cfg: {} },
    { name: 'LN+mish critic, normalised obs', cfg: { activation: 'mish', layerNorm: true, normalizeObservations: true } },
  ];
  const seen = new Set<string>();
  for (const pref of ['cpu', 'wasm', 'node'] as const) {
    const info = await initBackend(pref);
    if (seen.has(info.name)) continue; // 'node' fell back to wasm: tfjs-node not installed
    seen.add(info.name);
    for (const cr of critics) {
      const iql = createIQL(data, { hidden, batchSize: 8, ...cr.cfg }, 1);
      iql.step(20);
      const c = iql.critic();
      const ctable = c.toTable();
      const cw = tableToWeights(ctable);
      const cmeta = readMetadata(ctable);
      const carch = { activation: (cr.cfg.activation ?? 'relu') as Activation, layerNorm: cr.cfg.layerNorm ?? false };
      const stats = cmeta['obsNorm'] as { mean: number[]; std: number[] } | null;
      assert.equal(stats !== null, cr.cfg.normalizeObservations === true);
      iql.dispose();
      for (const v of variants) {
        const label = `${info.name} ${cr.name} ${JSON.stringify(v)}`;
        const aarch = { activation: v.activation ?? 'relu', layerNorm: v.layerNorm ?? false };
        const cfg: Partial<ExtractConfig> & { method: ExtractMethod } = { hidden, batchSize: B, lr: 1e-2, lrSchedule: 'constant', steps: 10, beta: 2, ...v };
        const ex = createExtractor(c, data, cfg, 4);
        ex.step(3, { indices: Int32Array.from({ length: 3 * B }, (_, i) => (i * 7) % 40) }); // Adam t > 0
        const w0 = tableToWeights(ex.exportState());
        const m = ex.step(1, { indices: idx });
        const w1 = tableToWeights(ex.exportState());
        const ref = referenceExtractStep(data, cw, w0, idx, { ...v, actorArch: aarch, criticArch: carch, stats, beta: 2 });
        assert.ok(Math.abs(m.loss - ref.loss) < 1e-5 * Math.max(1, Math.abs(ref.loss)), `${label}: loss ${m.loss} vs ${ref.loss}`);
        const bad = adamMismatch(ref.names, ref.grads, w0, w1, { t: 4, lr: 1e-2, thetaTol: 1e-5 });
        assert.equal(bad, null, `${label}: ${bad}`);
        ex.dispose();
      }
      c.dispose();
    }
  }
  await initBackend('wasm');
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { getLocomotionSpec, runTolerance } from './spec.js';
import { CheetahSim } from './sim.js';
import { makeLocoVecEnv } from './vec-env.js';
import { evaluateGaits, gaitAction, optimiseGait, GAIT_PARAM_DIM } from './gait.js';
import { rollout } from '../rollout.js';
import { getEnvSpec, listEnvIds, hasEnv } from '../registry.js';
import { getMaze2dSpec } from '../maze2d/spec.js';
import { Rng } from '../../rng.js';

/** θ found by optimiseGait (seed 0, 40 iterations × 32 candidates × 2 episodes): held-out return ≈ 4240. */
const HC_GAIT = [4.183, 0.908, 1.145, 0.573, 0.648, 0.938, 0.403, -1.597, 0.07, -2.372, 0.841, 0.758, -2.475, -0.033, -0.078, 0.065, -0.186, -0.075, -0.638, 0.075, 0.034, 0.287, 0.222, 0.251, 0.357, 1.72, 0.155, 1.729, -0.389, 1.14, -0.838];

test('registry: locomotion ids, normalisation, dm_control tolerance', () => {
  assert.ok(listEnvIds().includes('halfcheetah-v2') && listEnvIds().includes('cheetah-run'));
  assert.ok(hasEnv('cheetah-run'));
  const hc = getLocomotionSpec('halfcheetah-v2');
  assert.equal(hc.obsDim, 17);
  assert.equal(hc.actDim, 6);
  assert.equal(hc.maxEpisodeSteps, 1000);
  assert.ok(Math.abs(hc.normalizedScore(-280.178953)) < 1e-9);
  assert.ok(Math.abs(hc.normalizedScore(12135) - 100) < 1e-9);
  assert.equal(getLocomotionSpec('cheetah-run').normalizedScore(500), 50);
  assert.equal(getEnvSpec('cheetah-run').kind, 'locomotion');
  assert.equal(getEnvSpec('maze2d-umaze-v1').kind, 'maze2d');
  assert.throws(() => getMaze2dSpec('halfcheetah-v2'), /unknown maze2d environment 'halfcheetah-v2'/);
  assert.equal(runTolerance(12), 1);
  assert.equal(runTolerance(10), 1);
  assert.equal(runTolerance(5), 0.5);
  assert.equal(runTolerance(0), 0);
  assert.equal(runTolerance(-3), 0);
});

async function randomReturns(family: 'halfcheetah' | 'cheetah-run', seed: number, episodes: number): Promise<number[]> {
  const sim = await CheetahSim.create(family, 1);
  const rng = new Rng(seed);
  const a = new Float64Array(6);
  const out: number[] = [];
  try {
    for (let e = 0; e < episodes; e++) {
      sim.reset(0, rng);
      let R = 0;
      for (let t = 0; t < 1000; t++) {
        for (let k = 0; k < 6; k++) a[k] = rng.uniform(-1, 1);
        sim.step(0, a, 0);
        R += sim.rewards[0]!;
      }
      out.push(R);
    }
  } finally {
    sim.close();
  }
  return out;
}

test('physics: random-action returns in the D4RL random range; deterministic; gait clearly better', async () => {
  const r1 = await randomReturns('halfcheetah', 3, 3);
  const r2 = await randomReturns('halfcheetah', 3, 3);
  assert.deepEqual(r1, r2, 'deterministic given the seed');
  const mean = r1.reduce((x, y) => x + y) / r1.length;
  console.log(`halfcheetah random returns ${r1.map((r) => r.toFixed(0)).join(', ')} (D4RL random reference −280)`);
  assert.ok(mean > -600 && mean < -50, `random mean ${mean}`);
  const run = await randomReturns('cheetah-run', 3, 2);
  assert.ok(run.every((r) => r >= 0 && r < 60), `cheetah-run random returns ${run}`);
  // The optimised gait (hard-coded θ) runs: return ≫ random.
  const g = await evaluateGaits(getLocomotionSpec('halfcheetah-v2'), [HC_GAIT], { episodes: 2, steps: 1000, seed: 7 });
  console.log(`halfcheetah CEM gait return ${g[0]!.toFixed(0)}`);
  assert.ok(g[0]! > 3000, `gait return ${g[0]}`);
  // Reset distributions: gym noise around qpos0; dm_control joints within range after settling.
  const sim = await CheetahSim.create('halfcheetah', 1);
  sim.reset(0, new Rng(1));
  assert.ok(Array.from(sim.qpos).every((q) => Math.abs(q) <= 0.1));
  sim.close();
  const dmc = await CheetahSim.create('cheetah-run', 2);
  dmc.reset(0, new Rng(1));
  dmc.reset(1, new Rng(2));
  assert.notEqual(dmc.qpos[3], dmc.qpos[12]);
  const obs = new Float32Array(17);
  dmc.writeObs(0, obs, 0);
  assert.equal(obs[0], Math.fround(dmc.qpos[1]!));
  assert.equal(obs[8], Math.fround(dmc.qvel[0]!));
  dmc.close();
});

test('gait: action in the box; tiny CEM run is deterministic', async () => {
  const a = new Float32Array(6);
  for (let t = 0; t < 50; t++) {
    gaitAction(HC_GAIT, t, 0.05, a);
    assert.ok(a.every((x) => x >= -1 && x <= 1));
  }
  const spec = getLocomotionSpec('halfcheetah-v2');
  const p = { seed: 1, iterations: 2, population: 6, elite: 0.5, episodes: 1, steps: 200, finalEpisodes: 1 };
  const x = await optimiseGait(spec, p);
  const y = await optimiseGait(spec, p);
  assert.equal(x.theta.length, GAIT_PARAM_DIM);
  assert.deepEqual(x.theta, y.theta);
  assert.equal(x.selectionReturn, y.selectionReturn);
  assert.equal(x.history.length, 2);
  assert.ok(Number.isFinite(x.selectionReturn));
});

test('vec env + rollout on locomotion ids: one batched policy call per step, deterministic, no success', async () => {
  const env = await makeLocoVecEnv('cheetah-run', 3, 0, { autoReset: true, maxEpisodeSteps: 5 });
  const o = env.reset();
  assert.equal(o.length, 51);
  let last;
  for (let t = 0; t < 5; t++) last = env.step(new Float32Array(18).fill(0.5));
  assert.deepEqual(Array.from(last!.dones), [1, 1, 1]);
  assert.ok(Array.from(env.t).every((t) => t === 0), 'auto-reset');
  assert.throws(() => env.step(new Float32Array(5)), /expected 18 action values/);
  env.close();

  for (const id of ['halfcheetah-v2', 'cheetah-run']) {
    let calls = 0;
    const sizes = new Set<number>();
    const pol = (obs: Float32Array, n: number) => {
      calls++;
      sizes.add(n);
      assert.equal(obs.length, 17 * n);
      const a = new Float32Array(6 * n);
      for (let i = 0; i < n; i++) for (let k = 0; k < 6; k++) a[6 * i + k] = Math.tanh(obs[17 * i + 8 + k]!);
      return a;
    };
    const r1 = await rollout(id, pol, { episodes: 5, seed: 1, maxParallel: 3, maxSteps: 100, recordTrajectories: 2 });
    assert.equal(calls, 2 * 100);
    assert.deepEqual([...sizes].sort(), [2, 3]);
    const r2 = await rollout(id, pol, { episodes: 5, seed: 1, maxParallel: 3, maxSteps: 100 });
    assert.deepEqual(r2.returns, r1.returns);
    assert.ok(Number.isNaN(r1.successRate));
    assert.ok(r1.success.every((s) => s === 0));
    assert.deepEqual(r1.trajectories, []);
    assert.ok(r1.lengths.every((l) => l === 100));
    const spec = getLocomotionSpec(id);
    for (let i = 0; i < 5; i++) assert.equal(r1.normalizedScores[i], spec.normalizedScore(r1.returns[i]!));
    await assert.rejects(rollout(id, () => new Float32Array(3), { episodes: 1, seed: 0, maxSteps: 2 }), /policy must return a Float32Array of 6 values/);
  }
});

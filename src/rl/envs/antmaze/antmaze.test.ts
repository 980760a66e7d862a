import { test } from 'node:test';
import assert from 'node:assert/strict';
import { antMazeXml, cellCentre, cellOf, getAntMazeLayout } from './model.js';
import { AntMazeSim, ANT_NQ, torsoUpZ, torsoYaw } from './sim.js';
import { getAntMazeSpec, isAntMazeEnv, listAntMazeEnvIds } from './spec.js';
import { makeAntMazeVecEnv } from './vec-env.js';
import { Rng } from '../../rng.js';

const QPOS0 = [0, 0, 0.75, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
const at = (x: number, y: number, z = 0.6): number[] => [x, y, z, ...QPOS0.slice(3)];

test('spec and layout: D4RL antmaze-umaze-v2 facts', () => {
  assert.deepEqual(listAntMazeEnvIds(), ['antmaze-umaze-v2']);
  assert.ok(isAntMazeEnv('antmaze-umaze-v2') && !isAntMazeEnv('maze2d-umaze-v1'));
  const s = getAntMazeSpec('antmaze-umaze-v2');
  assert.equal(s.obsDim, 29);
  assert.equal(s.actDim, 8);
  assert.equal(s.maxEpisodeSteps, 700);
  assert.equal(s.dt, 0.1);
  assert.equal(s.normalizedScore(1), 100);
  assert.equal(s.normalizedScore(0), 0);
  assert.throws(() => getAntMazeSpec('antmaze-large-v2'), /unknown antmaze environment/);
  const L = getAntMazeLayout('umaze');
  assert.deepEqual(L.start, [1, 1]);
  assert.deepEqual(L.goal, [3, 1]);
  assert.deepEqual(cellCentre(L, 1, 1), [0, 0], 'origin at the start cell centre');
  assert.deepEqual(cellCentre(L, 3, 1), [0, 8]);
  assert.deepEqual(cellCentre(L, 1, 3), [8, 0]);
  assert.deepEqual(cellOf(L, 7.9, 1.5), [1, 3]);
  const xml = antMazeXml(L);
  assert.equal((xml.match(/name="block_/g) ?? []).length, 18, '16 border + 2 inner wall cells');
  assert.match(xml, /timestep="0.02" integrator="RK4"/);
});

test('sim: dims, reset noise, obs layout, stands under zero action', async () => {
  const sim = await AntMazeSim.create('umaze', 2);
  const rng = new Rng(1);
  sim.reset(0, rng);
  const q = Array.from(sim.qpos.subarray(0, 15));
  for (let k = 0; k < 15; k++) assert.ok(Math.abs(q[k]! - QPOS0[k]!) <= 0.1, `qpos[${k}] within ±0.1 of qpos0`);
  const obs = new Float32Array(29);
  sim.writeObs(0, obs, 0);
  assert.equal(obs[0], Math.fround(sim.qpos[0]!));
  assert.equal(obs[14], Math.fround(sim.qpos[14]!));
  assert.equal(obs[15], Math.fround(sim.qvel[0]!));
  assert.equal(obs[28], Math.fround(sim.qvel[13]!));
  const zero = new Float64Array(8);
  let minZ = Infinity;
  for (let t = 0; t < 100; t++) {
    sim.step(0, zero, 0);
    minZ = Math.min(minZ, sim.qpos[2]!);
  }
  console.log(`zero action: torso z after 10 s ${sim.qpos[2]!.toFixed(3)}, min ${minZ.toFixed(3)}, up_z ${torsoUpZ(sim.qpos).toFixed(3)}`);
  assert.ok(minZ > 0.25 && sim.qpos[2]! < 0.8, 'torso rests on its legs');
  assert.ok(torsoUpZ(sim.qpos) > 0.9, 'upright');
  assert.ok(Math.hypot(sim.qpos[0]!, sim.qpos[1]!) < 0.5, 'does not wander');
  sim.close();
});

test('walls block the ant', async () => {
  const sim = await AntMazeSim.create('umaze', 3);
  const v = (vx: number, vy: number): number[] => [vx, vy, ...Array(12).fill(0)];
  // Thrown at 6 m/s into the border wall (cell (0, 1): y ∈ [−6, −2]), the inner wall (cells (2, 1),
  // (2, 2): y ∈ [2, 6] for x < 6) and the border wall at x = −2.
  sim.setState(0, at(0, -1), v(0, -6));
  sim.setState(1, at(2, 1), v(0, 6));
  sim.setState(2, at(-1, 0), v(-6, 0));
  const zero = new Float64Array(8);
  let y0 = Infinity;
  let y1 = -Infinity;
  let x2 = Infinity;
  for (let t = 0; t < 30; t++) {
    for (let i = 0; i < 3; i++) sim.step(i, zero, 0);
    y0 = Math.min(y0, sim.qpos[1]!);
    y1 = Math.max(y1, sim.qpos[ANT_NQ + 1]!);
    x2 = Math.min(x2, sim.qpos[2 * ANT_NQ]!);
  }
  assert.ok(y0 > -2, `border wall: min y ${y0}`);
  assert.ok(y1 < 2, `inner wall: max y ${y1}`);
  assert.ok(x2 > -2, `border wall: min x ${x2}`);
  sim.close();
  // Control: without walls the same throw carries the ant past y = −2.
  const free = await AntMazeSim.create('free', 1);
  free.setState(0, at(0, -1), v(0, -6));
  for (let t = 0; t < 30; t++) free.step(0, zero, 0);
  assert.ok(free.qpos[1]! < -2.5, `free floor: y ${free.qpos[1]}`);
  free.close();
});

test('reward: 1 only within 0.5 of the goal; episode terminates on success', async () => {
  const sim = await AntMazeSim.create('umaze', 2);
  const zero = new Float64Array(8);
  sim.setGoal(0, 0, 8);
  sim.setGoal(1, 0, 8);
  sim.setState(0, at(0, 7.7), Array(14).fill(0));
  sim.setState(1, at(0, 7.3), Array(14).fill(0));
  sim.step(0, zero, 0);
  sim.step(1, zero, 0);
  assert.equal(sim.rewards[0], 1);
  assert.equal(sim.rewards[1], 0);
  sim.close();

  const env = await makeAntMazeVecEnv('antmaze-umaze-v2', 2, 0);
  env.reset();
  for (let i = 0; i < 2; i++) {
    const gx = env.goals[2 * i]!;
    const gy = env.goals[2 * i + 1]!;
    assert.ok(gx >= 0 && gx <= 1.5 && gy >= 8 && gy <= 9.5, `goal (${gx}, ${gy}) in D4RL's goal box`);
  }
  env.sim.setState(1, at(env.goals[2]!, env.goals[3]! - 0.2), Array(14).fill(0));
  const r = env.step(new Float32Array(16));
  assert.deepEqual(Array.from(r.rewards), [0, 1]);
  assert.deepEqual(Array.from(r.terminals), [0, 1]);
  assert.deepEqual(Array.from(r.dones), [0, 1]);
  assert.throws(() => env.step(new Float32Array(16)), /env 1 is done/);
  env.close();
});

test('vec env: dims, determinism given the seed, time-limit truncation, auto-reset', async () => {
  const run = async (seed: number): Promise<Float32Array> => {
    const env = await makeAntMazeVecEnv('antmaze-umaze-v2', 3, seed, { autoReset: true, maxEpisodeSteps: 20 });
    const o = env.reset();
    assert.equal(o.length, 87);
    const rng = new Rng(5);
    const a = new Float32Array(24);
    let last;
    for (let t = 0; t < 20; t++) {
      for (let k = 0; k < 24; k++) a[k] = rng.uniform(-1, 1);
      last = env.step(a);
    }
    assert.deepEqual(Array.from(last!.dones), [1, 1, 1]);
    assert.deepEqual(Array.from(last!.terminals), [0, 0, 0], 'truncation, not a terminal');
    assert.ok(Array.from(env.t).every((t) => t === 0), 'auto-reset');
    assert.throws(() => env.step(new Float32Array(5)), /expected 24 action values/);
    const out = Float32Array.from(last!.finalObs);
    env.close();
    return out;
  };
  const a = await run(3);
  const b = await run(3);
  const c = await run(4);
  assert.deepEqual(a, b);
  assert.notDeepEqual(a, c);
  assert.ok(Number.isFinite(torsoYaw(Array.from(a.subarray(0, 15)))));
});

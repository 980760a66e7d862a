import { test } from 'node:test';
import assert from 'node:assert/strict';
import { makeMaze2dVecEnv } from './vec-env.js';
import { getMaze2dSpec } from './spec.js';
import { isWall } from '../shared/grid.js';
import { distanceToWalls, physicalCell, BALL_RADIUS } from './layout.js';
import { Rng } from '../../rng.js';

test('the ball never enters a wall over long random rollouts (all layouts)', async () => {
  // Bang-bang actions held for random durations drive the ball into walls at full speed.
  const n = 32;
  const steps = 2500;
  for (const id of ['maze2d-open-v0', 'maze2d-umaze-v1', 'maze2d-medium-v1', 'maze2d-large-v1']) {
    const spec = getMaze2dSpec(id);
    const env = await makeMaze2dVecEnv(id, n, 11, { autoReset: true });
    const rng = new Rng(5);
    const acts = new Float32Array(2 * n);
    const hold = new Int32Array(n);
    env.reset();
    let minDist = Infinity;
    let maxSpeed = 0;
    const visited = new Set<number>();
    for (let t = 0; t < steps; t++) {
      for (let i = 0; i < n; i++) {
        if (hold[i]-- <= 0) {
          hold[i] = rng.int(60);
          const mode = rng.int(3);
          for (let k = 0; k < 2; k++) acts[2 * i + k] = mode === 0 ? rng.uniform(-1, 1) : mode === 1 ? (rng.random() < 0.5 ? -1 : 1) : rng.uniform(-3, 3);
        }
      }
      const { obs } = env.step(acts);
      for (let i = 0; i < n; i++) {
        const x = obs[4 * i]!;
        const y = obs[4 * i + 1]!;
        const ci = physicalCell(x);
        const cj = physicalCell(y);
        assert.ok(!isWall(spec.layout, ci, cj), `${id}: ball centre in wall cell (${ci}, ${cj}) at step ${t}`);
        visited.add(ci * spec.layout.nCols + cj);
        minDist = Math.min(minDist, distanceToWalls(spec.layout, x, y));
        maxSpeed = Math.max(maxSpeed, Math.abs(obs[4 * i + 2]!), Math.abs(obs[4 * i + 3]!));
      }
    }
    env.close();
    console.log(`${id}: ${n * steps} random steps, min distance centre→wall ${minDist.toFixed(4)} (radius ${BALL_RADIUS}), max |v| ${maxSpeed.toFixed(2)}, cells visited ${visited.size}/${spec.layout.freeCells.length}`);
    // Contacts are resolved at the start of a step, so the sphere can sink about one step's
    // travel into a wall before being pushed back (|v| after a step reaches ~6.7 near corners,
    // i.e. ~0.07 per step); D4RL's model has the same property. The centre stays ≥ 0.02 outside
    // every wall box, i.e. the ball never passes into or through a wall.
    assert.ok(minDist > 0.02, `${id}: min distance ${minDist}`);
    assert.ok(minDist < BALL_RADIUS + 0.01, `${id}: the ball never touched a wall (test too weak)`);
    assert.ok(maxSpeed > 4, 'the random policy should reach high speeds');
  }
});

test('dynamics: force, damping and the velocity clip behave like D4RL', async () => {
  const env = await makeMaze2dVecEnv('maze2d-open-v0', 2, 0);
  env.reset();
  // Env 0 at rest in the open maze pushed along +x for one step: a = F/m = 100 / (1000 · 4/3 π 0.1³) ≈ 23.87.
  env.setState(0, 2, 2, 0, 0);
  // Env 1 moving far faster than the clip: the step starts from |v| = 5.
  env.setState(1, 2, 3, 50, 0);
  const { obs, rewards, dones } = env.step(new Float32Array([5, 0, 0, 0])); // action 5 is clipped to 1
  const mass = 1000 * (4 / 3) * Math.PI * 0.001;
  assert.ok(Math.abs(obs[2]! - 0.01 * (100 / mass)) < 1e-3, `vx after one step ${obs[2]}`);
  assert.ok(Math.abs(obs[0]! - (2 + 0.01 * obs[2]!)) < 1e-6, 'Euler: x += dt · v_new (semi-implicit)');
  assert.ok(obs[6]! <= 5 && obs[6]! > 4.9, `clipped velocity ${obs[6]}`);
  assert.ok(Math.abs(obs[5]! - 3) < 1e-6);
  // Rewards: sparse, goal (2, 3) of the open maze.
  assert.equal(rewards[0], 0);
  assert.equal(rewards[1], 1);
  assert.equal(dones[0], 0);
  env.close();
});

test('reset distribution, determinism and the time limit', async () => {
  const id = 'maze2d-umaze-v1';
  const spec = getMaze2dSpec(id);
  const a = await makeMaze2dVecEnv(id, 200, 123);
  const b = await makeMaze2dVecEnv(id, 200, 123);
  const c = await makeMaze2dVecEnv(id, 200, 124);
  const oa = Float32Array.from(a.reset());
  assert.deepEqual(Float32Array.from(b.reset()), oa);
  assert.notDeepEqual(Float32Array.from(c.reset()), oa);
  const cells = new Set<string>();
  for (let i = 0; i < 200; i++) {
    const x = oa[4 * i]!;
    const y = oa[4 * i + 1]!;
    const ci = Math.round(x);
    const cj = Math.round(y);
    assert.ok(Math.abs(x - ci) <= 0.1 && Math.abs(y - cj) <= 0.1, 'start within ±0.1 of a cell');
    assert.ok(!isWall(spec.layout, ci, cj));
    cells.add(`${ci},${cj}`);
    assert.ok(Math.abs(oa[4 * i + 2]!) < 0.6 && Math.abs(oa[4 * i + 3]!) < 0.6);
  }
  assert.equal(cells.size, spec.layout.freeCells.length, 'every free cell is a start');
  const acts = new Float32Array(400).fill(0.3);
  let last;
  for (let t = 0; t < spec.maxEpisodeSteps; t++) {
    last = a.step(acts);
    const lb = b.step(acts);
    assert.deepEqual(lb.obs, last.obs);
    assert.equal(last.dones[0], t === spec.maxEpisodeSteps - 1 ? 1 : 0);
  }
  assert.throws(() => a.step(acts), /is done/);
  assert.throws(() => a.step(new Float32Array(3)), /expected 400 action values/);
  for (const e of [a, b, c]) e.close();
});

test('autoReset starts a new episode and keeps the final observation', async () => {
  const env = await makeMaze2dVecEnv('maze2d-open-v0', 3, 9, { autoReset: true });
  env.reset();
  const acts = new Float32Array(6).fill(1);
  let r;
  for (let t = 0; t < 150; t++) r = env.step(acts);
  assert.ok(r);
  assert.deepEqual(Array.from(r.dones), [1, 1, 1]);
  assert.deepEqual(Array.from(env.t), [0, 0, 0]);
  // Pushed to +x, +y for 150 steps: the final obs sits in the far corner, the new obs near a cell centre.
  assert.ok(r.finalObs[0]! > 2.9 && r.finalObs[1]! > 4.9, `final ${r.finalObs.slice(0, 2)}`);
  assert.ok(Math.abs(r.obs[2]!) < 0.6);
  env.step(acts);
  env.close();
});

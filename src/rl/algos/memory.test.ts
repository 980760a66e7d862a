/**
 * Memory stays flat over many training steps: after a warm-up, a few hundred more steps of IQL, of
 * each policy extractor (Gaussian AWR, DDPG, discretised AWR) and of the joint learner leave
 * tfjs's tensor count and bytes exactly where they were (on native also libtensorflow's own count
 * of tensor handles held by the binding, which a kernel called past tfjs's engine could leak), and
 * the process's resident set size within a loose bound (measured growth here: under 1 MB; the bound
 * leaves room for the allocator and the garbage collector's slack).
 *
 * Runs on wasm (always there) and on native libtensorflow when tfjs-node is installed; small nets.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initBackend, type BackendPreference } from '../nn/backend.js';
import { createIQL } from './iql.js';
import { createExtractor, EXTRACT_METHODS } from './extract.js';
import { createJointLearner } from './joint.js';
import { syntheticTransitions } from './fixtures.js';

const WARMUP = 50;
const STEPS = 200;
/** RSS growth allowed over STEPS steps after the warm-up. */
const RSS_BOUND_MB = 16;

const data = syntheticTransitions(4000, 4, 2, 7);
const net = { hidden: [32, 32], batchSize: 64 };

/** Backends to run on: wasm, and native when tfjs-node loads. */
async function backends(): Promise<BackendPreference[]> {
  const out: BackendPreference[] = ['wasm'];
  if ((await initBackend('node')).name === 'tensorflow') out.push('node');
  return out;
}

/** Tensor handles alive in tfjs-node's binding (null on other backends). */
function nativeHandles(): number | null {
  if (tf.getBackend() !== 'tensorflow') return null;
  return (tf.backend() as unknown as { getNumOfTFTensors(): number }).getNumOfTFTensors();
}

/** Steps a learner in chunks (as the training loop does) and checks that memory stays flat. */
function flat(what: string, step: (n: number) => unknown): string {
  step(WARMUP);
  const before = tf.memory();
  const handles0 = nativeHandles();
  const rss0 = process.memoryUsage.rss();
  let peak = rss0;
  for (let done = 0; done < STEPS; done += 50) {
    step(50);
    peak = Math.max(peak, process.memoryUsage.rss());
  }
  const after = tf.memory();
  assert.equal(after.numTensors, before.numTensors, `${what}: tensor count after ${STEPS} more steps`);
  assert.equal(after.numBytes, before.numBytes, `${what}: tensor bytes after ${STEPS} more steps`);
  assert.equal(nativeHandles(), handles0, `${what}: libtensorflow tensor handles after ${STEPS} more steps`);
  const grownMb = (peak - rss0) / 2 ** 20;
  assert.ok(grownMb < RSS_BOUND_MB, `${what}: RSS grew by ${grownMb.toFixed(1)} MB over ${STEPS} steps (bound ${RSS_BOUND_MB})`);
  return `${what}: RSS +${grownMb.toFixed(1)} MB`;
}

test('IQL, each extractor and the joint learner: tensors and RSS stay flat over hundreds of steps', { timeout: 300_000 }, async (t) => {
  const seen: string[] = [];
  const assertFlat = (what: string, step: (n: number) => unknown) => seen.push(flat(what, step));
  for (const backend of await backends()) {
    await initBackend(backend);
    const iql = createIQL(data, { ...net, layerNorm: true, activation: 'mish' }, 0);
    assertFlat(`${backend} IQL (LayerNorm + mish)`, (n) => iql.step(n));
    const plain = createIQL(data, net, 1);
    assertFlat(`${backend} IQL (relu)`, (n) => plain.step(n));
    const critic = plain.critic();
    plain.dispose();
    iql.dispose();
    for (const method of EXTRACT_METHODS) {
      for (const precomputeWeights of method === 'ddpg' ? (['never'] as const) : (['always', 'never'] as const)) {
        const ex = createExtractor(critic, data, { ...net, method, steps: WARMUP + STEPS, precomputeWeights }, 0);
        assertFlat(`${backend} ${method} (precompute ${precomputeWeights})`, (n) => ex.step(n));
        ex.dispose();
      }
    }
    critic.dispose();
    const joint = createJointLearner(data, net, 0, { ...net, method: 'awr' }, 0);
    assertFlat(`${backend} joint IQL + AWR`, (n) => joint.step(n));
    joint.dispose();
  }
  t.diagnostic(seen.join('; '));
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../nn/backend.js';
import { actionsToBins, binCenters, categoricalStats } from './policy.js';

test('action bins: centres include the edges, nearest-bin assignment, categorical stats', async () => {
  assert.deepEqual(Array.from(binCenters(5, -1, 1)), [-1, -0.5, 0, 0.5, 1]);
  assert.deepEqual(Array.from(actionsToBins(Float32Array.from([-1, -0.74, -0.76, 0.1, 1, 3]), 5, -1, 1)), [0, 1, 0, 2, 4, 4]);
  await initBackend('wasm');
  const { std, entropy } = tf.tidy(() => {
    const s = categoricalStats(tf.tensor3d([[[0, -1e9, 0]], [[-1e9, 0, -1e9]]]), tf.tensor1d([-1, 0, 1]));
    return { std: Array.from(s.std.dataSync()), entropy: Array.from(s.entropy.dataSync()) };
  });
  assert.ok(Math.abs(std[0]! - 1) < 1e-5 && Math.abs(std[1]!) < 1e-3, `std ${std}`);
  assert.ok(Math.abs(entropy[0]! - Math.log(2)) < 1e-5 && Math.abs(entropy[1]!) < 1e-5, `entropy ${entropy}`);
});

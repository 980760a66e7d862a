/**
 * IQL training speed: steps/s at maze2d sizes (obs 4, act 2, 2×256 hidden, batch 256).
 * Prints one JSON line. Usage: npx tsx bench/iql-speed.ts [--backend wasm|cpu|node] [--steps N]
 */
import * as tf from '@tensorflow/tfjs';
import { initBackend, type BackendPreference } from '../src/rl/nn/backend.js';
import { createIQL } from '../src/rl/algos/iql.js';
import { syntheticTransitions } from '../src/rl/algos/fixtures.js';

function arg(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1]! : def;
}

async function main(): Promise<void> {
  const backend = await initBackend((arg('backend', '') || undefined) as BackendPreference | undefined);
  const steps = Number(arg('steps', '200'));
  const chunk = Number(arg('chunk', '50'));
  const data = syntheticTransitions(100_000, 4, 2);
  const iql = createIQL(data, {}, 0);
  iql.step(5); // warm-up (kernel setup, XNNPACK operator creation)
  const tensorsBefore = tf.memory().numTensors;
  const t0 = performance.now();
  for (let done = 0; done < steps; done += chunk) iql.step(Math.min(chunk, steps - done));
  const secs = (performance.now() - t0) / 1000;
  const m = iql.metrics();
  console.log(
    JSON.stringify({
      bench: 'iql-speed',
      backend: backend.name,
      threads: backend.threads,
      stepsPerSec: +(steps / secs).toFixed(2),
      steps,
      batch: 256,
      hidden: [256, 256],
      obsDim: 4,
      actDim: 2,
      tensorLeak: tf.memory().numTensors - tensorsBefore,
      finite: Number.isFinite(m.q1Loss) && Number.isFinite(m.vLoss),
    }),
  );
  iql.dispose();
}

await main();

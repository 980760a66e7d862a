/**
 * IQL training speed: steps/s at maze2d sizes (obs 4, act 2, 2×256 hidden, batch 256 by default).
 * Prints one JSON line. Usage:
 *   node dist/bench/iql-speed.js [--backend wasm|cpu|node|kernel] [--steps N] [--chunk N]
 *     [--hidden 256,256] [--batch 256] [--activation relu|mish|gelu] [--layer-norm]
 * `--backend kernel`: the native critic kernel (src/rl/algos/iql-kernel.ts; one OpenBLAS thread).
 */
import * as tf from '@tensorflow/tfjs';
import { initBackend, type BackendPreference } from '../src/rl/nn/backend.js';
import { createIQL } from '../src/rl/algos/iql.js';
import { kernelStatus } from '../src/rl/algos/iql-kernel.js';
import { syntheticTransitions } from '../src/rl/algos/fixtures.js';
import type { Activation } from '../src/rl/nn/dense.js';

function arg(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1]! : def;
}

async function main(): Promise<void> {
  const choice = arg('backend', '');
  const kernel = choice === 'kernel';
  // The kernel does not use tfjs for the step; the default backend only serves the critic export.
  const backend = await initBackend(kernel ? undefined : ((choice || undefined) as BackendPreference | undefined));
  const steps = Number(arg('steps', '200'));
  const chunk = Number(arg('chunk', '50'));
  const hidden = arg('hidden', '256,256').split(',').map(Number);
  const batch = Number(arg('batch', '256'));
  const activation = arg('activation', 'relu') as Activation;
  const layerNorm = process.argv.includes('--layer-norm');
  const data = syntheticTransitions(100_000, 4, 2);
  const iql = createIQL(data, { hidden, batchSize: batch, activation, layerNorm, compute: kernel ? 'kernel' : 'tfjs' }, 0);
  iql.step(5); // warm-up (kernel setup, XNNPACK operator creation)
  const tensorsBefore = tf.memory().numTensors;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  for (let done = 0; done < steps; done += chunk) iql.step(Math.min(chunk, steps - done));
  const secs = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const m = iql.metrics();
  console.log(
    JSON.stringify({
      bench: 'iql-speed',
      backend: kernel ? 'kernel' : backend.name,
      threads: kernel ? 1 : backend.threads,
      ...(kernel ? { blas: kernelStatus().blas } : {}),
      stepsPerSec: +(steps / secs).toFixed(2),
      // CPU seconds of this process per wall second over the timed steps: on a loaded machine the
      // share of a core each side of a comparison got (bench/compare-peers.sh divides by it).
      cpu_per_wall: +((cpu.user + cpu.system) / 1e6 / secs).toFixed(3),
      steps,
      batch,
      hidden,
      activation,
      layerNorm,
      obsDim: 4,
      actDim: 2,
      tensorLeak: tf.memory().numTensors - tensorsBefore,
      finite: Number.isFinite(m.q1Loss) && Number.isFinite(m.vLoss),
    }),
  );
  iql.dispose();
}

await main();

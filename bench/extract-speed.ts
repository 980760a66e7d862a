/**
 * Policy-extraction speed: steps/s of each method (awr, ddpg, awr-discrete) at maze2d sizes
 * (obs 4, act 2, 2×256 actor and critic, batch 256). Prints one JSON line.
 * Usage: npx tsx bench/extract-speed.ts [--backend wasm|cpu|node|kernel] [--steps N] [--precompute auto|always|never] [--methods awr,ddpg,...]
 * --backend kernel: the native extraction kernel (compute 'kernel'; tfjs on its default backend for
 * the rest: the critic's init, policy snapshots).
 */
import * as tf from '@tensorflow/tfjs';
import { initBackend, type BackendPreference } from '../src/rl/nn/backend.js';
import { createIQL } from '../src/rl/algos/iql.js';
import { createExtractor, EXTRACT_METHODS, type ExtractMethod } from '../src/rl/algos/extract.js';
import { syntheticTransitions } from '../src/rl/algos/fixtures.js';

function arg(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1]! : def;
}

async function main(): Promise<void> {
  const kernel = arg('backend', '') === 'kernel';
  const backend = await initBackend((kernel ? undefined : arg('backend', '') || undefined) as BackendPreference | undefined);
  const methods = arg('methods', EXTRACT_METHODS.join(',')).split(',') as ExtractMethod[];
  const steps = Number(arg('steps', '200'));
  const precompute = arg('precompute', 'auto') as 'auto' | 'always' | 'never';
  const data = syntheticTransitions(100_000, 4, 2);
  const iql = createIQL(data, {}, 0);
  const critic = iql.critic();
  iql.dispose();
  const result: Record<string, unknown> = { bench: 'extract-speed', backend: kernel ? 'kernel' : backend.name, threads: kernel ? 1 : backend.threads, steps, batch: 256, precompute };
  for (const method of methods) {
    const t0 = performance.now();
    const ex = createExtractor(critic, data, { method, steps: 100_000, precomputeWeights: precompute, compute: kernel ? 'kernel' : 'tfjs' }, 0);
    const setupSecs = (performance.now() - t0) / 1000;
    ex.step(5);
    const before = tf.memory().numTensors;
    const t1 = performance.now();
    for (let done = 0; done < steps; done += 50) ex.step(Math.min(50, steps - done));
    const secs = (performance.now() - t1) / 1000;
    result[method] = { stepsPerSec: +(steps / secs).toFixed(2), setupSecs: +setupSecs.toFixed(2), tensorLeak: tf.memory().numTensors - before };
    ex.dispose();
  }
  critic.dispose();
  console.log(JSON.stringify(result));
}

await main();

/** Shared by the command- and Python-stage process tests: store inspection and orphan checks. */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import assert from 'node:assert/strict';
import { ROOT, runCli, started, waitFor } from '../helpers.js';
import { readTableFile } from '../../src/store/arrow-io.js';
import type { Table } from 'apache-arrow';
import type { Transitions } from '../../src/rl/data/dataset.js';
import type { Rng } from '../../src/rl/rng.js';

export const PY_FIXTURES = join(ROOT, 'test', 'fixtures', 'python');

/** n random maze2d-shaped transitions (4-D observations, 2-D actions) for the equivalence tests. */
export function randomTransitions(n: number, rng: Rng): Transitions {
  const f = (k: number, g: () => number) => Float32Array.from({ length: k }, g);
  return {
    size: n, obsDim: 4, actDim: 2, envId: 'maze2d-umaze-v1',
    observations: f(n * 4, () => rng.normal() * 2 + 1), actions: f(n * 2, () => rng.uniform(-1, 1)),
    nextObservations: f(n * 4, () => rng.normal() * 2 + 1), rewards: f(n, () => (rng.random() < 0.3 ? 1 : 0)),
    terminals: f(n, () => (rng.random() < 0.05 ? 1 : 0)), timeouts: new Float32Array(n),
  };
}

/** Every engine event of the store's run journals. */
export function journalEvents(dir: string): Array<Record<string, unknown>> {
  const runs = join(dir, 'artifacts', 'runs');
  if (!existsSync(runs)) return [];
  return readdirSync(runs).filter((f) => f.endsWith('.jsonl')).flatMap((f) =>
    readFileSync(join(runs, f), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>));
}

/** An output table of a cached instance, located through `pipeline show --json`. */
export async function outputTable(dir: string, file: string, instance: string, output: string): Promise<Table> {
  const show = await runCli(['show', file, instance, '--json'], dir);
  const m = JSON.parse(show.stdout) as { key: string; outputs: Record<string, { file: string }> };
  return readTableFile(join(dir, 'artifacts', 'entries', m.key.slice(0, 2), m.key, m.outputs[output]!.file));
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Waits until every process that left a `pid-<n>` file in `dir` has exited (no orphan goes on). */
export async function noOrphans(dir: string): Promise<number[]> {
  const pids = readdirSync(dir).filter((n) => n.startsWith('pid-')).map((n) => Number(n.slice(4)));
  await waitFor(() => pids.every((p) => !pidAlive(p)), 10_000, `processes ${pids.join(', ')} to exit after the engine died`);
  return pids;
}

/**
 * Runs a pipeline whose `count` stage is a 12-step counter (either fixture) feeding `scaled`, and
 * checks what both runtimes must give: the curve, one metric per step and the final progress.
 */
export async function runCounterPipeline(dir: string, file: string): Promise<void> {
  const r = await runCli(['run', file], dir);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.deepEqual(started(r.stdout), ['data', 'count', 'scaled']);
  assert.match(r.stdout, /done +count .*final_x=/);
  const curve = await outputTable(dir, file, 'count', 'curve');
  assert.equal(curve.numRows, 13);
  const x = Array.from(curve.getChild('x')!.toArray() as Float64Array);
  for (let i = 1; i < x.length; i++) assert.ok(Math.abs(x[i]! - (0.9 * x[i - 1]! + 1)) < 1e-9);
  const events = journalEvents(dir).filter((e) => e['instance'] === 'count');
  const metrics = events.filter((e) => e['type'] === 'stage-metric' && e['name'] === 'x');
  assert.equal(metrics.length, 12, 'one metric event per step');
  assert.equal(metrics[11]!['value'], x[12]);
  assert.ok(events.some((e) => e['type'] === 'stage-progress' && e['step'] === 12 && e['total'] === 12));
}

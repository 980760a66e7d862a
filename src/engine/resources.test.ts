import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Store } from '../store/store.js';
import { PipelineErrors } from './errors.js';
import { execute, newRunId } from './execute.js';
import { localExecutor, type Executor, type InstanceTask } from './executor.js';
import { parsePipelineText } from './load.js';
import { planLoaded } from './plan.js';
import { parseMemory } from './resources.js';

test('memory sizes: decimal and binary units, bare bytes; anything else is an error message', () => {
  assert.equal(parseMemory('4GiB'), 4 * 2 ** 30);
  assert.equal(parseMemory('512MB'), 512e6);
  assert.equal(parseMemory('1.5 gi'), 1.5 * 2 ** 30);
  assert.equal(parseMemory(1024), 1024);
  assert.match(String(parseMemory('4 bananas')), /memory must be a size like 4GiB/);
  assert.match(String(parseMemory(-1)), /positive whole number/);
});

const YAML = `name: res
stages:
  data:
    uses: synthetic-table
    with: { rows: 5 }
  scaled:
    uses: scale-table
    inputs: { table: data.table }
    with: { factor: 2 }
    resources: { cpus: 2, gpus: 0.5, memory: 3GiB }
`;

test('resources: per stage in YAML over the defaults (1 CPU), handed to the executor with the task', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'iqlp-res-'));
  const plan = await planLoaded(parsePipelineText(YAML, join(dir, 'p.yaml')), { cwd: dir, storeDir: join(dir, 'store') });
  assert.deepEqual(plan.byName.get('data')!.resources, { cpus: 1, gpus: 0 });
  assert.deepEqual(plan.byName.get('scaled')!.resources, { cpus: 2, gpus: 0.5, memoryBytes: 3 * 2 ** 30 });

  // An executor wrapping the local one sees every task with its resources; results are unchanged.
  const seen: InstanceTask[] = [];
  const local = localExecutor('inline');
  const recording: Executor = { name: 'recording', remote: false, submit: (t, w, s) => { seen.push(t); return local.submit(t, w, s); } };
  const r = await execute(plan, { runId: newRunId(), store: new Store(join(dir, 'store')), emit: () => {}, executor: recording });
  assert.equal(r.status, 'FINISHED');
  assert.deepEqual(seen.map((t) => [t.job.instance, t.resources.cpus]), [['data', 1], ['scaled', 2]]);
  const scaled = seen[1]!;
  assert.equal(scaled.manifest.key, scaled.job.cacheKey);
  assert.equal(scaled.upstreamKeys['data'], r.outcomes.get('data')!.status === 'computed' ? (r.outcomes.get('data') as { key: string }).key : '');
});

test('bad resources are errors at their file:line with the field named', async () => {
  const errorsOf = async (yaml: string) => {
    const err = await planLoaded(parsePipelineText(yaml, 'p.yaml'), { cwd: tmpdir() }).then(() => null, (e: unknown) => e);
    assert.ok(err instanceof PipelineErrors, String(err));
    return err.errors.map((e) => e.format()).join('\n');
  };
  assert.match(await errorsOf(YAML.replace('memory: 3GiB', 'memory: lots')), /^p\.yaml:10:\d+: error \[stages\.scaled\.resources\.memory\]: memory must be a size like 4GiB/);
  assert.match(await errorsOf(YAML.replace('cpus: 2', 'cpus: 0')), /^p\.yaml:10:\d+: error \[stages\.scaled\.resources\.cpus\]: .*must be > 0/);
  assert.match(await errorsOf(YAML.replace('gpus: 0.5', 'gpu: 1')), /^p\.yaml:10:\d+: error \[stages\.scaled\.resources\.gpu\]: unknown field 'gpu'.*allowed: cpus, gpus, memory/);
});

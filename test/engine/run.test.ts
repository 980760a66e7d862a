/**
 * End-to-end engine behaviour with real processes and real files: caching, invalidation,
 * resume after kill -9, concurrent runs, corrupt entries, failure isolation, SIGINT.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cached, runCli, started, startCli, tempDir, waitFor, writePipeline, ROOT } from '../helpers.js';
import { checkpointSteps } from './checkpoints.js';
import { readTableFile } from '../../src/store/arrow-io.js';

const PIPELINE = `name: engine-test
params:
  rows: 500
stages:
  data:
    uses: synthetic-table
    with: { rows: "\${{ params.rows }}", columns: 3 }
  scaled:
    uses: scale-table
    matrix: { factor: [0.5, 2] }
    inputs: { table: data.table }
    with: { factor: "\${{ matrix.factor }}" }
  other:
    uses: synthetic-table
    seed: 7
    with: { rows: 10 }
  summary:
    uses: summarize-tables
    inputs: { tables: [scaled.table] }
`;

test('a second run is all cache hits and recomputes nothing', async () => {
  const dir = tempDir();
  const file = writePipeline(dir, 'p.yaml', PIPELINE);
  const first = await runCli(['run', file], dir);
  assert.equal(first.code, 0, first.stderr);
  assert.deepEqual(started(first.stdout).sort(), ['data', 'other', 'scaled[factor=0.5]', 'scaled[factor=2]', 'summary']);
  const second = await runCli(['run', file], dir);
  assert.equal(second.code, 0, second.stderr);
  assert.deepEqual(started(second.stdout), []);
  assert.equal(cached(second.stdout).length, 5);
  const status = await runCli(['status', file], dir);
  assert.equal(status.code, 0);
  assert.match(status.stdout, /5 cached/);
});

test('changing one parameter reruns exactly that stage and its downstream', async () => {
  const dir = tempDir();
  const file = writePipeline(dir, 'p.yaml', PIPELINE);
  assert.equal((await runCli(['run', file], dir)).code, 0);
  writeFileSync(file, PIPELINE.replace('factor: [0.5, 2]', 'factor: [0.5, 3]'));
  const status = await runCli(['status', file], dir);
  assert.equal(status.code, 1);
  assert.match(status.stdout, /missing +scaled\[factor=3\]/);
  const r = await runCli(['run', file], dir);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(started(r.stdout).sort(), ['scaled[factor=3]', 'summary']);
  // A --set override of a pipeline param invalidates the source and everything below it, not `other`.
  const r2 = await runCli(['run', file, '--set', 'params.rows=600'], dir);
  assert.equal(r2.code, 0, r2.stderr);
  assert.deepEqual(started(r2.stdout).sort(), ['data', 'scaled[factor=0.5]', 'scaled[factor=3]', 'summary']);
  // Back to the file's value: served from the cache (content-addressed), nothing stale.
  assert.equal((await runCli(['status', file], dir)).code, 0);
  const s2 = await runCli(['status', file, '--set', 'params.rows=700'], dir);
  assert.match(s2.stdout, /stale +data[\s\S]*param rows: 600 → 700/);
});

const TRAIN = (stepMs: number) => `name: resume-test
stages:
  data:
    uses: synthetic-table
    with: { rows: 100, columns: 4 }
  train:
    uses: toy-train
    inputs: { table: data.table }
    with: { steps: 120, checkpoint_every: 10, step_ms: ${stepMs}, lr: 0.02 }
`;

test('kill -9 in the middle of a checkpointing stage, then run again: resumes, same result, no corrupt entry', async () => {
  const dir = tempDir();
  const file = writePipeline(dir, 'p.yaml', TRAIN(25));
  const run = startCli(['run', file], dir);
  await waitFor(() => checkpointSteps(dir).some((s) => s >= 30), 60_000, 'a checkpoint at step ≥ 30');
  run.child.kill('SIGKILL');
  const killed = await run.done;
  assert.equal(killed.signal, 'SIGKILL');
  assert.ok(!run.output().includes('done     train'), 'the stage must not have finished before the kill');

  const status = await runCli(['status', file], dir);
  assert.match(status.stdout, /missing +train/);
  const again = await runCli(['run', file], dir);
  assert.equal(again.code, 0, again.stderr);
  assert.deepEqual(started(again.stdout), ['train']);
  const resumed = /resuming from checkpoint at step (\d+)/.exec(again.stdout);
  assert.ok(resumed && Number(resumed[1]) >= 30, `expected a resume, got:\n${again.stdout}`);

  // The same pipeline run uninterrupted in another directory gives identical weights and curve length.
  const ref = tempDir();
  const refFile = writePipeline(ref, 'p.yaml', TRAIN(0));
  assert.equal((await runCli(['run', refFile], ref)).code, 0);
  const read = async (d: string, f: string) => {
    const show = await runCli(['show', f, 'train', '--json'], d);
    const m = JSON.parse(show.stdout) as { key: string; outputs: Record<string, { file: string }> };
    const entry = join(d, 'artifacts', 'entries', m.key.slice(0, 2), m.key);
    return { w: await readTableFile(join(entry, m.outputs['weights']!.file)), c: await readTableFile(join(entry, m.outputs['curve']!.file)) };
  };
  const a = await read(dir, file);
  const b = await read(ref, refFile);
  assert.deepEqual(Array.from(a.w.getChild('w')!.toArray() as Float64Array), Array.from(b.w.getChild('w')!.toArray() as Float64Array));
  assert.equal(a.c.numRows, 120);
  assert.equal(b.c.numRows, 120);
  // No temp dirs or checkpoints of the finished entry are left behind.
  assert.deepEqual(checkpointSteps(dir), []);
  const tmp = join(dir, 'artifacts', 'tmp');
  assert.deepEqual(existsSync(tmp) ? readdirSync(tmp) : [], []);
});

test('two runs of the same pipeline at once compute each entry once', async () => {
  const dir = tempDir();
  const file = writePipeline(dir, 'p.yaml', TRAIN(10));
  const a = startCli(['run', file], dir);
  const b = startCli(['run', file], dir);
  const [ra, rb] = await Promise.all([a.done, b.done]);
  assert.equal(ra.code, 0, ra.stderr);
  assert.equal(rb.code, 0, rb.stderr);
  const computed = [...started(ra.stdout), ...started(rb.stdout)].sort();
  assert.deepEqual(computed, ['data', 'train']);
  assert.equal(cached(ra.stdout).length + cached(rb.stdout).length, 2);
});

test('a truncated artifact file is detected and recomputed', async () => {
  const dir = tempDir();
  const file = writePipeline(dir, 'p.yaml', PIPELINE);
  assert.equal((await runCli(['run', file], dir)).code, 0);
  const show = await runCli(['show', file, 'other', '--json'], dir);
  const m = JSON.parse(show.stdout) as { key: string; outputs: { table: { file: string; bytes: number } } };
  const path = join(dir, 'artifacts', 'entries', m.key.slice(0, 2), m.key, m.outputs.table.file);
  truncateSync(path, Math.floor(statSync(path).size / 2));
  const r = await runCli(['run', file], dir);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /other: cache entry \w+ is damaged \(output 'table' has \d+ bytes/);
  assert.deepEqual(started(r.stdout), ['other']);
  assert.equal(statSync(path).size, m.outputs.table.bytes);
  // A flipped byte (same size) is caught by the digest.
  const bytes = readFileSync(path);
  bytes[bytes.length - 20] ^= 0xff;
  writeFileSync(path, bytes);
  const r2 = await runCli(['run', file], dir);
  assert.match(r2.stdout, /digest mismatch/);
  assert.deepEqual(started(r2.stdout), ['other']);
});

test('a failing stage fails its dependents but not unrelated branches; exit code 1', async () => {
  const dir = tempDir();
  const failStage = join(ROOT, 'test', 'fixtures', 'fail-stage.mjs');
  const file = writePipeline(dir, 'p.yaml', `name: fail-test
stages:
  data:
    uses: synthetic-table
  broken:
    uses: ${failStage}
    inputs: { table: data.table }
    with: { fail: true }
  after:
    uses: scale-table
    inputs: { table: broken.table }
    with: { factor: 2 }
  unrelated:
    uses: scale-table
    inputs: { table: data.table }
    with: { factor: 3 }
`);
  const r = await runCli(['run', file], dir);
  assert.equal(r.code, 1);
  assert.match(r.stdout, /FAILED +broken: deliberate failure for the test/);
  assert.match(r.stdout, /skipped +after: upstream broken failed/);
  assert.match(r.stdout, /done +unrelated/);
  // Fixing the parameter recomputes only the failed branch.
  const ok = await runCli(['run', file, '--set', 'broken.fail=false'], dir);
  assert.equal(ok.code, 0, ok.stdout + ok.stderr);
  assert.deepEqual(started(ok.stdout).sort(), ['after', 'broken']);
});

test('SIGINT stops cleanly: exit 130, finished entries kept, the next run resumes', async () => {
  const dir = tempDir();
  const file = writePipeline(dir, 'p.yaml', TRAIN(25));
  const run = startCli(['run', file], dir);
  await waitFor(() => checkpointSteps(dir).some((s) => s >= 20), 60_000, 'a checkpoint');
  run.child.kill('SIGINT');
  const r = await run.done;
  assert.equal(r.code, 130, r.stdout + r.stderr);
  assert.match(r.stdout, /skipped +train: interrupted/);
  const again = await runCli(['run', file], dir);
  assert.equal(again.code, 0);
  assert.deepEqual(cached(again.stdout), ['data']);
  assert.match(again.stdout, /resuming from checkpoint at step \d+/);
});

test('--only, --from, --force and --dry-run select what is computed', async () => {
  const dir = tempDir();
  const file = writePipeline(dir, 'p.yaml', PIPELINE);
  const dry = await runCli(['run', file, '--dry-run'], dir);
  assert.equal(dry.code, 0);
  assert.match(dry.stdout, /5 of 5 instances would be computed/);
  assert.ok(!existsSync(join(dir, 'artifacts', 'entries')));
  const only = await runCli(['run', file, '--only', 'scaled[factor=2]'], dir);
  assert.equal(only.code, 0, only.stderr);
  assert.deepEqual(started(only.stdout).sort(), ['data', 'scaled[factor=2]']);
  const from = await runCli(['run', file, '--from', 'scaled'], dir);
  assert.deepEqual(started(from.stdout).sort(), ['other', 'scaled[factor=0.5]', 'scaled[factor=2]', 'summary']);
  const force = await runCli(['run', file, '--force'], dir);
  assert.equal(started(force.stdout).length, 5);
  const pair = await runCli(['run', file, '--only', 'scaled[factor=0.5],other', '--dry-run'], dir);
  assert.equal(pair.code, 0, pair.stderr);
  assert.doesNotMatch(pair.stdout, /summary/);
  const bad = await runCli(['run', file, '--only', 'nope'], dir);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /no stage or instance named 'nope'/);
});

test('a stage reruns when a file named by one of its fileParams changes (and only then)', async () => {
  const dir = tempDir();
  const stageModule = join(ROOT, 'test', 'fixtures', 'file-stage.mjs');
  writeFileSync(join(dir, 'input.txt'), 'a\nbb\n');
  const file = writePipeline(dir, 'p.yaml', `name: file-dep\nstages:\n  lines:\n    uses: ${stageModule}\n    with: { path: input.txt }\n`);
  assert.deepEqual(started((await runCli(['run', file], dir)).stdout), ['lines']);
  assert.deepEqual(started((await runCli(['run', file], dir)).stdout), []);
  writeFileSync(join(dir, 'input.txt'), 'a\nbb\nccc\n');
  const status = await runCli(['status', file], dir);
  assert.match(status.stdout, /stale +lines/);
  assert.deepEqual(started((await runCli(['run', file], dir)).stdout), ['lines']);
});

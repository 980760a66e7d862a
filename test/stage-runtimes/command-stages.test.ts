/**
 * Command stages end to end through the CLI: a declared command line reads its input's Arrow file,
 * reports progress and metrics with `::iqlp::` lines, writes its output, is cached, reruns when its
 * code or command line changes, resumes from its own state dir after kill -9 (its process dies with
 * the engine), and a failing command leaves no entry.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cached, runCli, started, startCli, tempDir, waitFor, writePipeline } from '../helpers.js';
import { journalEvents, noOrphans, outputTable, PY_FIXTURES, runCounterPipeline } from './helpers.js';

const PIPELINE = (opts: { steps?: number; stepMs?: number; run?: string } = {}) => `name: command-test
stages:
  data:
    uses: synthetic-table
    with: { rows: 10, columns: 2 }
  count:
    uses: command
    run: ${opts.run ?? 'python counter_cmd.py ${{ inputs.table }} ${{ outputs.curve }}'}
    code: [counter_cmd.py]
    inputs: { table: data.table }
    outputs: { curve: arrow }
    with: { steps: ${opts.steps ?? 12}, step_ms: ${opts.stepMs ?? 0}, checkpoint_every: 3 }
  scaled:
    uses: scale-table
    inputs: { table: count.curve }
    with: { factor: 2 }
`;

function project(): string {
  const dir = tempDir('iqlp-cmd-');
  copyFileSync(join(PY_FIXTURES, 'counter_cmd.py'), join(dir, 'counter_cmd.py'));
  return dir;
}

test('a command stage runs, feeds a native stage, reports progress and metrics, and is cached', async () => {
  const dir = project();
  const file = writePipeline(dir, 'p.yaml', PIPELINE());
  await runCounterPipeline(dir, file);

  const again = await runCli(['run', file], dir);
  assert.equal(again.code, 0);
  assert.deepEqual(started(again.stdout), []);
  assert.deepEqual(cached(again.stdout).sort(), ['count', 'data', 'scaled']);
});

test('editing a declared code file or the command line reruns the command stage', async () => {
  const dir = project();
  const file = writePipeline(dir, 'p.yaml', PIPELINE());
  assert.equal((await runCli(['run', file], dir)).code, 0);
  writeFileSync(join(dir, 'counter_cmd.py'), `${'# an edit\n'}${(await import('node:fs')).readFileSync(join(PY_FIXTURES, 'counter_cmd.py'), 'utf8')}`);
  const status = await runCli(['status', file], dir);
  assert.match(status.stdout, /count/);
  const r = await runCli(['run', file], dir);
  assert.deepEqual(started(r.stdout), ['count'], r.stdout);
  writePipeline(dir, 'p.yaml', PIPELINE({ run: 'python counter_cmd.py ${{ inputs.table }} ${{ outputs.curve }} v2' }));
  const r2 = await runCli(['run', file], dir);
  assert.deepEqual(started(r2.stdout), ['count']);
});

test('kill -9 of the engine stops the command too; the next run resumes from its state dir', async () => {
  const dir = project();
  const file = writePipeline(dir, 'p.yaml', PIPELINE({ steps: 60, stepMs: 40 }));
  const stateDirs = () => {
    const base = join(dir, 'artifacts', 'checkpoints');
    return existsSync(base) ? readdirSync(base).map((k) => join(base, k, 'state')).filter((d) => existsSync(join(d, 'state.json'))) : [];
  };
  const run = startCli(['run', file], dir);
  await waitFor(() => stateDirs().length > 0, 60_000, 'the command to write a checkpoint');
  run.child.kill('SIGKILL');
  assert.equal((await run.done).signal, 'SIGKILL');
  const [state] = stateDirs();
  const pids = await noOrphans(state!);
  assert.equal(pids.length, 1);

  const again = await runCli(['run', file], dir);
  assert.equal(again.code, 0, again.stdout + again.stderr);
  assert.deepEqual(started(again.stdout), ['count', 'scaled']);
  const resumed = /count: resuming from checkpoint at step (\d+)/.exec(again.stdout);
  assert.ok(resumed && Number(resumed[1]) >= 3, again.stdout);
  assert.ok(!existsSync(state!), 'the state dir goes once the entry is stored');

  const ref = project();
  const refFile = writePipeline(ref, 'p.yaml', PIPELINE({ steps: 60, stepMs: 0 }));
  assert.equal((await runCli(['run', refFile], ref)).code, 0);
  const a = await outputTable(dir, file, 'count', 'curve');
  const b = await outputTable(ref, refFile, 'count', 'curve');
  assert.deepEqual(Array.from(a.getChild('x')!.toArray() as Float64Array), Array.from(b.getChild('x')!.toArray() as Float64Array));
});

test('a failing command fails its stage with its stderr, leaves no entry and skips its dependents', async () => {
  const dir = project();
  const file = writePipeline(dir, 'p.yaml', PIPELINE({ run: 'python -c "import sys; print(\'bad input\', file=sys.stderr); sys.exit(3)" ${{ outputs.curve }}' }));
  const r = await runCli(['run', file], dir);
  assert.equal(r.code, 1);
  assert.match(r.stdout, /FAILED +count: command exited with code 3: python -c .*\n.*bad input/);
  assert.match(r.stdout, /skipped +scaled: upstream count failed/);
  const status = await runCli(['status', file], dir);
  assert.match(status.stdout, /missing +count/);
  const tmp = join(dir, 'artifacts', 'tmp');
  assert.deepEqual(existsSync(tmp) ? readdirSync(tmp) : [], []);
});

test('a command that exits 0 without writing a declared output fails', async () => {
  const dir = project();
  const file = writePipeline(dir, 'p.yaml', PIPELINE({ run: 'echo nothing written to ${{ outputs.curve }}' }));
  const r = await runCli(['run', file], dir);
  assert.equal(r.code, 1);
  assert.match(r.stdout, /FAILED +count: the command did not write its output 'curve'/);
});

test('run templates are checked when the pipeline is planned', async () => {
  const dir = project();
  const file = writePipeline(dir, 'p.yaml', PIPELINE({ run: 'python x.py ${{ inputs.tabel }} ${{ params.steps }}' }));
  const r = await runCli(['validate', file], dir);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /p\.yaml:\d+:\d+: .*\$\{\{ inputs\.tabel \}\} in run: no inputs named 'tabel' \(declared: table\)/);
  assert.match(r.stderr, /pass pipeline values to a command through `with:`/);
});

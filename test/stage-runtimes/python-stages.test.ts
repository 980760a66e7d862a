/**
 * Python stage kinds end to end through the CLI (test/fixtures/python/counter_stage.py): run, cache,
 * progress and metrics in the journal, resume from the engine's checkpoints after kill -9 (the
 * Python process dies with the engine), a Python exception named by stage, file and line, and a
 * crash that leaves no entry.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cached, runCli, started, startCli, tempDir, waitFor, writePipeline } from '../helpers.js';
import { journalEvents, noOrphans, outputTable, PY_FIXTURES, runCounterPipeline } from './helpers.js';

const STAGE = join(PY_FIXTURES, 'counter_stage.py');

const PIPELINE = (withs: string) => `name: python-test
stages:
  data:
    uses: synthetic-table
    with: { rows: 10, columns: 2 }
  count:
    uses: ${STAGE}
    inputs: { table: data.table }
    with: { ${withs} }
  scaled:
    uses: scale-table
    inputs: { table: count.curve }
    with: { factor: 2 }
`;

function checkpointSteps(dir: string): number[] {
  const base = join(dir, 'artifacts', 'checkpoints');
  if (!existsSync(base)) return [];
  return readdirSync(base).flatMap((k) => readdirSync(join(base, k)).filter((n) => n.startsWith('step-')).map((n) => Number(n.slice(5))));
}

test('a Python stage runs, feeds a native stage, reports progress and metrics, and is cached', async () => {
  const dir = tempDir('iqlp-py-');
  const file = writePipeline(dir, 'p.yaml', PIPELINE('steps: 12'));
  await runCounterPipeline(dir, file);
  const show = await runCli(['show', file, 'count'], dir);
  assert.match(show.stdout, /count +\(counter v1\+py\.[0-9a-f]{16}\)/);

  const again = await runCli(['run', file], dir);
  assert.deepEqual(started(again.stdout), []);
  assert.deepEqual(cached(again.stdout).sort(), ['count', 'data', 'scaled']);
});

test('kill -9 of the engine stops the Python process; the next run resumes from the checkpoint with the same result', async () => {
  const dir = tempDir('iqlp-py-');
  const pids = join(dir, 'pids');
  mkdirSync(pids);
  const file = writePipeline(dir, 'p.yaml', PIPELINE(`steps: 60, step_ms: 40, checkpoint_every: 5, pid_dir: ${pids}`));
  const run = startCli(['run', file], dir);
  await waitFor(() => checkpointSteps(dir).some((s) => s >= 10), 60_000, 'a checkpoint at step ≥ 10');
  run.child.kill('SIGKILL');
  assert.equal((await run.done).signal, 'SIGKILL');
  assert.equal((await noOrphans(pids)).length, 1);

  const again = await runCli(['run', file], dir);
  assert.equal(again.code, 0, again.stdout + again.stderr);
  assert.deepEqual(started(again.stdout), ['count', 'scaled']);
  const resumed = /count: resuming from checkpoint at step (\d+)/.exec(again.stdout);
  assert.ok(resumed && Number(resumed[1]) >= 10, again.stdout);
  const show = await runCli(['show', file, 'count', '--json'], dir);
  assert.equal((JSON.parse(show.stdout) as { resumedFromStep?: number }).resumedFromStep, Number(resumed[1]));
  assert.deepEqual(checkpointSteps(dir), [], 'checkpoints go once the entry is stored');

  const ref = tempDir('iqlp-py-');
  const refFile = writePipeline(ref, 'p.yaml', PIPELINE(`steps: 60, checkpoint_every: 5, pid_dir: ${pids}`));
  assert.equal((await runCli(['run', refFile], ref)).code, 0);
  const a = await outputTable(dir, file, 'count', 'curve');
  const b = await outputTable(ref, refFile, 'count', 'curve');
  assert.deepEqual(Array.from(a.getChild('x')!.toArray() as Float64Array), Array.from(b.getChild('x')!.toArray() as Float64Array));
});

test('a Python exception fails the stage with its file, line and traceback; nothing is stored', async () => {
  const dir = tempDir('iqlp-py-');
  const file = writePipeline(dir, 'p.yaml', PIPELINE('steps: 12, fail_at: 4'));
  const r = await runCli(['run', file], dir);
  assert.equal(r.code, 1);
  assert.match(r.stdout, /FAILED +count: \S*counter_stage\.py:\d+ in check_step: ValueError: deliberate failure at step 4\n/);
  assert.match(r.stdout, /Traceback \(most recent call last\):[\s\S]*counter_stage\.py", line \d+, in run[\s\S]*check_step\(step, p\["fail_at"\]\)/);
  assert.match(r.stdout, /skipped +scaled: upstream count failed/);
  assert.match((await runCli(['status', file], dir)).stdout, /missing +count/);
});

test('a Python stage that crashes (os._exit) leaves no entry; a syntax error is reported at planning with its line', async () => {
  const dir = tempDir('iqlp-py-');
  writeFileSync(join(dir, 'crash.py'), `kind = "crash"\nversion = "1"\nparams = {"type": "object"}\ninputs = {}\noutputs = {"t": {"description": "never"}}\n\ndef run(ctx):\n    import os\n    print("about to die", flush=True)\n    os._exit(3)\n`);
  const file = writePipeline(dir, 'p.yaml', 'name: crash-test\nstages:\n  boom:\n    uses: ./crash.py\n');
  const r = await runCli(['run', file], dir);
  assert.equal(r.code, 1);
  assert.match(r.stdout, /FAILED +boom: Python stage crash\.py crashed: the process exited with code 3/);
  assert.match(r.stdout, /log +boom: about to die/);
  assert.match((await runCli(['status', file], dir)).stdout, /missing +boom/);

  writeFileSync(join(dir, 'bad.py'), 'kind = "bad"\nversion = "1"\ndef run(ctx:\n    pass\n');
  const bad = writePipeline(dir, 'q.yaml', 'name: bad-test\nstages:\n  bad:\n    uses: ./bad.py\n');
  const v = await runCli(['validate', bad], dir);
  assert.equal(v.code, 2);
  assert.match(v.stderr, /q\.yaml:4:\d+: .*bad\.py:3: SyntaxError/);
});

test('Ctrl-C (SIGINT) reaches the Python stage as cancellation: it saves a checkpoint and stops; the next run resumes there', async () => {
  const dir = tempDir('iqlp-py-');
  const file = writePipeline(dir, 'p.yaml', PIPELINE('steps: 400, step_ms: 20, checkpoint_every: 1000'));
  const run = startCli(['run', file], dir);
  await waitFor(() => /progress|log +count/.test(run.output()) && journalEvents(dir).some((e) => e['type'] === 'stage-metric' && e['instance'] === 'count'), 60_000, 'the stage to be training');
  run.child.kill('SIGINT');
  const r = await run.done;
  assert.equal(r.code, 130, r.stdout + r.stderr);
  assert.match(r.stdout, /skipped +count: interrupted/);
  const steps = checkpointSteps(dir);
  assert.equal(steps.length, 1, 'the only checkpoint is the one saved on cancellation (checkpoint_every is larger than steps)');
  const again = await runCli(['run', file], dir);
  assert.equal(again.code, 0, again.stdout + again.stderr);
  assert.match(again.stdout, new RegExp(`count: resuming from checkpoint at step ${steps[0]}`));
});

/**
 * `python -m iqlp.standalone`: a Python stage run outside the engine (no Node where it runs, e.g.
 * a GPU machine). It must give the stage the same context as the engine does: schema defaults
 * applied, inputs as Arrow files, checkpoints that a second call resumes from, and the stage's
 * outputs and summary on disk; a raised exception exits 1 with the Python file and line.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, tempDir } from '../helpers.js';
import { choosePython, childEnv } from '../../src/stage-runtimes/python-env.js';
import { decodeTable, encodeTable } from '../../src/store/arrow-io.js';
import { tableFromArrays } from 'apache-arrow';
import { PY_FIXTURES } from './helpers.js';

const STAGE = join(PY_FIXTURES, 'counter_stage.py');
const python = choosePython(join(ROOT, 'pipelines', 'reference-iql.yaml'), ROOT);

function standalone(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(python, ['-m', 'iqlp.standalone', ...args], { env: childEnv(python), cwd: ROOT }, (err, stdout, stderr) =>
      resolve({ code: err ? Number((err as NodeJS.ErrnoException & { code?: number }).code ?? 1) : 0, stdout, stderr }));
  });
}

const readArrow = (file: string) => decodeTable(readFileSync(file));

function input(dir: string): string {
  const file = join(dir, 'table.arrow');
  writeFileSync(file, encodeTable(tableFromArrays({ a: Float64Array.from([1, 2, 3]), b: Float64Array.from([4, 5, 6]) })));
  return file;
}

test('a Python stage runs standalone: defaults applied, outputs and summary written, metrics printed', async () => {
  const dir = tempDir('iqlp-standalone-');
  const out = join(dir, 'out');
  const r = await standalone([STAGE, '--input', `table=${input(dir)}`, '--params', '{"steps": 7}', '--out', out, '--quiet-progress']);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /metric +x=.* @ 7/);
  const result = JSON.parse(readFileSync(join(out, 'result.json'), 'utf8')) as { summary: Record<string, number>; metrics: unknown[] };
  const curve = readArrow(join(out, 'curve.arrow'));
  const x = Array.from(curve.getChild('x')!.toArray() as Float64Array);
  assert.equal(x.length, 8, 'step 0 (column sum 6) and 7 steps');
  assert.equal(x[0], 6);
  for (let i = 1; i < x.length; i++) assert.ok(Math.abs(x[i]! - (0.9 * x[i - 1]! + 1)) < 1e-12);
  assert.equal(result.summary['final_x'], x[7]);
  assert.equal(result.metrics.length, 7);
  // checkpoint_every defaulted to 5 from the module's schema: a checkpoint at step 5 was kept.
  assert.ok(existsSync(join(out, 'checkpoints', '5', 'meta.json')));
});

test('a second call with the same folder resumes from its newest checkpoint and gives the same curve', async () => {
  const dir = tempDir('iqlp-standalone-');
  const table = input(dir);
  const first = await standalone([STAGE, '--input', `table=${table}`, '--params', '{"steps": 12, "checkpoint_every": 4}', '--out', join(dir, 'a')]);
  assert.equal(first.code, 0, first.stderr);
  const firstX = (JSON.parse(readFileSync(join(dir, 'a', 'result.json'), 'utf8')) as { summary: Record<string, number> }).summary['final_x'];
  const again = await standalone([STAGE, '--input', `table=${table}`, '--params', '{"steps": 12, "checkpoint_every": 4}', '--out', join(dir, 'a')]);
  assert.equal(again.code, 0, again.stderr);
  const summary = (JSON.parse(readFileSync(join(dir, 'a', 'result.json'), 'utf8')) as { summary: Record<string, number> }).summary;
  assert.equal(summary['resumed_from'], 8, 'the newest of the checkpoints at 4 and 8');
  assert.equal(summary['final_x'], firstX);
  const fresh = await standalone([STAGE, '--input', `table=${table}`, '--params', '{"steps": 12}', '--out', join(dir, 'b')]);
  assert.equal(fresh.code, 0, fresh.stderr);
  assert.deepEqual(readArrow(join(dir, 'a', 'curve.arrow')).getChild('x')!.toArray(), readArrow(join(dir, 'b', 'curve.arrow')).getChild('x')!.toArray());
});

test('an exception in the stage exits 1 naming the Python file and line; unknown parameters are refused', async () => {
  const dir = tempDir('iqlp-standalone-');
  const r = await standalone([STAGE, '--input', `table=${input(dir)}`, '--params', '{"steps": 9, "fail_at": 3}', '--out', join(dir, 'o')]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /ValueError: deliberate failure at step 3 \(.*counter_stage\.py:\d+\)/);
  assert.ok(!existsSync(join(dir, 'o', 'result.json')), 'no result after a failure');
  const bad = await standalone([STAGE, '--params', '{"stepz": 3}', '--out', join(dir, 'p')]);
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /unknown parameter\(s\) stepz/);
});

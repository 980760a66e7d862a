/**
 * stages/reference_report.py on its own (python -m iqlp.standalone) with synthetic evaluations:
 * any subset of the torch arms may be given (here ours and CORL's joint protocol only), each arm's
 * score is the mean over its seeds with a bootstrap interval, and each pair of arms gets a
 * difference with its interval.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tableFromArrays } from 'apache-arrow';
import { ROOT, tempDir } from '../helpers.js';
import { childEnv, choosePython } from '../../src/stage-runtimes/python-env.js';
import { encodeTable } from '../../src/store/arrow-io.js';

const python = choosePython(join(ROOT, 'pipelines', 'reference-iql.yaml'), ROOT);

function write(dir: string, name: string, cols: Record<string, Float64Array | Int32Array | string[]>): string {
  const file = join(dir, `${name}.arrow`);
  writeFileSync(file, encodeTable(tableFromArrays(cols)));
  return file;
}

test('reference report with ours and the joint arm only: per-arm bootstrap intervals and the difference', async () => {
  const dir = tempDir('iqlp-refreport-');
  const args: string[] = [];
  const ours = [10, 12, 14], joint = [30, 34, 38];
  ours.forEach((s, i) => args.push('--input', `ours_eval=${write(dir, `ours-eval-${i}`, { score: Float64Array.from([s - 1, s + 1]) })}`));
  joint.forEach((s, i) => args.push('--input', `joint_eval=${write(dir, `joint-eval-${i}`, { score: Float64Array.from([s, s]) })}`));
  for (const [name, n] of [['ours_critic_curve', 3], ['ours_actor_curve', 3], ['joint_curve', 3]] as const) {
    for (let i = 0; i < n; i++) {
      args.push('--input', `${name}=${write(dir, `${name}-${i}`, { step: Int32Array.from([10, 20]), metric: ['q1Loss', 'q1Loss'], value: Float64Array.from([1, 0.5]) })}`);
    }
  }
  const out = join(dir, 'out');
  const r = await new Promise<{ code: number; stderr: string }>((resolve) =>
    execFile(python, ['-m', 'iqlp.standalone', join(ROOT, 'stages', 'reference_report.py'), ...args, '--params', '{"resamples": 2000}', '--out', out, '--quiet-progress'],
      { env: childEnv(python), cwd: ROOT }, (err, _o, stderr) => resolve({ code: err ? 1 : 0, stderr })));
  assert.equal(r.code, 0, r.stderr);
  const result = JSON.parse(readFileSync(join(out, 'result.json'), 'utf8')) as { summary: Record<string, number> };
  assert.equal(result.summary['score_ours'], 12);
  assert.equal(result.summary['score_torch_joint'], 34);
  assert.equal(result.summary['diff_ours_torch_joint'], -22);
  assert.ok(result.summary['diff_ours_torch_joint_hi']! < 0, 'the interval of a clear difference excludes 0');
  assert.ok(!('score_torch' in result.summary), 'no frozen torch arm was given');
  const md = readFileSync(join(out, 'report.md'), 'utf8');
  assert.match(md, /\| ours − torch-joint \| -22\.00 \| \[-?\d+\.\d+, -\d+\.\d+\] \| NO \|/);
  assert.match(md, /\| ours \| 3 \| 12\.00 \[/);
});

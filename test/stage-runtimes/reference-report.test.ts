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

async function report(ours: number[], joint: number[], params: Record<string, unknown>): Promise<{ summary: Record<string, number>; md: string }> {
  const dir = tempDir('iqlp-refreport-');
  const args: string[] = [];
  ours.forEach((s, i) => args.push('--input', `ours_eval=${write(dir, `ours-eval-${i}`, { score: Float64Array.from([s - 1, s + 1]) })}`));
  joint.forEach((s, i) => args.push('--input', `joint_eval=${write(dir, `joint-eval-${i}`, { score: Float64Array.from([s, s]) })}`));
  for (const name of ['ours_critic_curve', 'ours_actor_curve', 'joint_curve']) {
    for (let i = 0; i < ours.length; i++) {
      args.push('--input', `${name}=${write(dir, `${name}-${i}`, { step: Int32Array.from([10, 20]), metric: ['q1Loss', 'q1Loss'], value: Float64Array.from([1, 0.5]) })}`);
    }
  }
  const out = join(dir, 'out');
  const r = await new Promise<{ code: number; stderr: string }>((resolve) =>
    execFile(python, ['-m', 'iqlp.standalone', join(ROOT, 'stages', 'reference_report.py'), ...args, '--params', JSON.stringify({ resamples: 2000, ...params }), '--out', out, '--quiet-progress'],
      { env: childEnv(python), cwd: ROOT }, (err, _o, stderr) => resolve({ code: err ? 1 : 0, stderr })));
  assert.equal(r.code, 0, r.stderr);
  const result = JSON.parse(readFileSync(join(out, 'result.json'), 'utf8')) as { summary: Record<string, number> };
  return { summary: result.summary, md: readFileSync(join(out, 'report.md'), 'utf8') };
}

test('reference report with ours and the joint arm only: per-arm bootstrap intervals and the difference', async () => {
  const { summary, md } = await report([10, 12, 14], [30, 34, 38], {});
  assert.equal(summary['score_ours'], 12);
  assert.equal(summary['score_torch_joint'], 34);
  assert.equal(summary['diff_ours_torch_joint'], -22);
  assert.ok(summary['diff_ours_torch_joint_hi']! < 0, 'the interval of a clear difference excludes 0');
  assert.ok(!('score_torch' in summary), 'no frozen torch arm was given');
  assert.match(md, /\| ours − torch-joint \| -22\.00 \| \[-?\d+\.\d+, -\d+\.\d+\] \| NO \|/);
  assert.match(md, /\| ours \| 3 \| 12\.00 \[/);
});

test('arms on shared critics: the paired difference cancels the critic-to-critic spread', async () => {
  // Each joint seed is its ours seed + 1: the spread between critics (10 … 30) is shared.
  const ours = [10, 20, 30], joint = [11, 21, 31];
  const unpaired = await report(ours, joint, {});
  assert.ok(unpaired.summary['diff_ours_torch_joint_lo']! < 0 && unpaired.summary['diff_ours_torch_joint_hi']! > 0, 'resampled per arm, the spread hides the difference');
  const paired = await report(ours, joint, { paired: true, title: 'Shared critics', describe: { ours: 'our extractor on their critic' } });
  assert.equal(paired.summary['diff_ours_torch_joint'], -1);
  assert.equal(paired.summary['diff_ours_torch_joint_lo'], -1);
  assert.equal(paired.summary['diff_ours_torch_joint_hi'], -1);
  assert.match(paired.md, /^# Shared critics/);
  assert.match(paired.md, /differences are paired/);
  assert.match(paired.md, /\*\*ours\*\*: our extractor on their critic/);
});

/**
 * The policy/critic artifact across languages (docs/artifacts.md): tables our tfjs code writes
 * load in Python with iqlp.artifacts and give the same actions and values; a policy written in
 * Python loads in our Policy with the same actions; and a Python stage's policy is shown by
 * `pipeline show` and rolled out by our `evaluate` stage.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src/rl/nn/backend.js';
import { mlpShapes, type MlpArch } from '../../src/rl/nn/dense.js';
import { Policy, policyFromTable, mlpSizesFor, type PolicySpec } from '../../src/rl/algos/policy.js';
import { Critic, qSizes, vSizes } from '../../src/rl/algos/critic.js';
import { encodeTable, readTableFile } from '../../src/store/arrow-io.js';
import { Rng } from '../../src/rl/rng.js';
import { choosePython, childEnv } from '../../src/stage-runtimes/python-env.js';
import { runCli, tempDir, writePipeline } from '../helpers.js';
import { PY_FIXTURES } from './helpers.js';

const python = choosePython(join(PY_FIXTURES, 'none.yaml'));
const check = (...args: string[]) => JSON.parse(execFileSync(python, [join(PY_FIXTURES, 'artifact_check.py'), ...args], { env: childEnv(python), encoding: 'utf8' })) as unknown;

const rng = new Rng(3);
const randomParams = (sizes: number[], arch: MlpArch) => mlpShapes(sizes, arch).map((s) => tf.tensor(Float32Array.from({ length: s.reduce((a, b) => a * b, 1) }, () => rng.normal() * 0.6), s));
const N = 7;
const OBS = Float32Array.from({ length: N * 4 }, () => rng.normal() * 2);
const ACT = Float32Array.from({ length: N * 2 }, () => rng.uniform(-1, 1));
const rows = (a: Float32Array, d: number) => Array.from({ length: a.length / d }, (_, i) => Array.from(a.subarray(i * d, (i + 1) * d)));
const obsNorm = { mean: Float32Array.from([1, -1, 0.5, 0]), std: Float32Array.from([2, 0.5, 1, 3]), eps: 1e-3 };

function close(a: number[], b: number[], what: string) {
  assert.equal(a.length, b.length);
  a.forEach((v, i) => assert.ok(Math.abs(v - b[i]!) < 2e-5 * Math.max(1, Math.abs(v)), `${what}[${i}]: ${v} vs ${b[i]}`));
}

test('our policies (every head, LayerNorm, activations, obs normalisation) and critics load in Python with the same outputs', async () => {
  await initBackend('cpu');
  const dir = tempDir('iqlp-art-');
  writeFileSync(join(dir, 'obs.json'), JSON.stringify(rows(OBS, 4)));
  writeFileSync(join(dir, 'act.json'), JSON.stringify(rows(ACT, 2)));
  const archs: MlpArch[] = [{ activation: 'relu', layerNorm: false }, { activation: 'gelu', layerNorm: true }, { activation: 'mish', layerNorm: false }];
  for (const [i, method] of (['awr', 'ddpg', 'awr-discrete'] as const).entries()) {
    const spec: PolicySpec = { method, obsDim: 4, actDim: 2, hidden: [8, 8], logStdMin: -5, logStdMax: 2, bins: 5, actLow: -1, actHigh: 1, arch: archs[i], obsNorm: i === 1 ? null : obsNorm };
    const policy = new Policy(spec, randomParams(mlpSizesFor(spec), archs[i]!), method === 'awr' ? tf.tensor1d([-0.5, 0.2]) : null);
    writeFileSync(join(dir, `${method}.arrow`), encodeTable(policy.toTable({ env_id: 'maze2d-umaze-v1' })));
    const py = (check('act', join(dir, `${method}.arrow`), join(dir, 'obs.json')) as number[][]).flat();
    close(py, Array.from(policy.act(OBS, N)), `${method} actions`);
  }
  const spec = { obsDim: 4, actDim: 2, hidden: [8, 8], arch: archs[1]!, obsNorm };
  const critic = new Critic(spec, { q1: randomParams(qSizes(spec), spec.arch), q2: randomParams(qSizes(spec), spec.arch), v: randomParams(vSizes(spec), spec.arch) });
  writeFileSync(join(dir, 'critic.arrow'), encodeTable(critic.toTable()));
  const py = check('critic', join(dir, 'critic.arrow'), join(dir, 'obs.json'), join(dir, 'act.json')) as { q1: number[]; q2: number[]; v: number[] };
  const ours = critic.evaluate(OBS, ACT, N);
  close(py.q1, Array.from(ours.q1), 'q1');
  close(py.q2, Array.from(ours.q2), 'q2');
  close(py.v, Array.from(ours.v), 'v');
});

test('a policy written by iqlp.artifacts (mish, LayerNorm, obs normalisation) gives the same actions in our Policy', async () => {
  await initBackend('cpu');
  const dir = tempDir('iqlp-art-');
  writeFileSync(join(dir, 'obs.json'), JSON.stringify(rows(OBS, 4)));
  for (const method of ['awr', 'ddpg', 'awr-discrete']) {
    const path = join(dir, `${method}.arrow`);
    const py = (check('write', path, method, join(dir, 'obs.json')) as number[][]).flat();
    const policy = policyFromTable(await readTableFile(path));
    close(Array.from(policy.act(OBS, N)), py, `${method} actions`);
  }
});

test('a policy made by a Python stage is shown by `pipeline show` and evaluated by `evaluate`', async () => {
  const dir = tempDir('iqlp-art-');
  const file = writePipeline(dir, 'p.yaml', `name: py-policy
stages:
  policy:
    uses: ${join(PY_FIXTURES, 'maze_policy_stage.py')}
  evaluate:
    uses: evaluate
    inputs: { policy: policy.policy }
    with: { episodes: 3, record_trajectories: 1, visited_states: 0, backend: cpu }
`);
  const r = await runCli(['run', file], dir);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /done +evaluate .*score_mean=/);
  const show = await runCli(['show', file, 'policy'], dir);
  assert.equal(show.code, 0, show.stderr);
  assert.match(show.stdout, /policy +\(maze-policy v1\+py\.[0-9a-f]+\)/);
  assert.match(show.stdout, /output +policy: .*policy\.arrow \(\d+ bytes, 5 rows/);
  assert.match(show.stdout, /values: List<Float32>/);
  assert.match(show.stdout, /"name":"pi\/l0\/W"/);
  const ev = await runCli(['show', file, 'evaluate', '--json'], dir);
  const m = JSON.parse(ev.stdout) as { summary: Record<string, number>; outputs: Record<string, { rows?: number }> };
  assert.ok(Number.isFinite(m.summary['score_mean']), JSON.stringify(m.summary));
  assert.equal(m.outputs['episodes']!.rows, 3);
});

/**
 * The PyTorch reference stages train a few steps end to end (skipped where the Python
 * environment has no torch: `bash scripts/setup-python.sh --torch`): the joint protocol's policy
 * and the frozen-critic AWR policy are rolled out by our evaluate (and diagnosed with the PyTorch
 * critic by our diagnose), and our extract-policy reads
 * the PyTorch critic — the artifact is the same format both ways.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { choosePython, childEnv } from '../../src/stage-runtimes/python-env.js';
import { existsSync, readdirSync } from 'node:fs';
import { ROOT, runCli, started, startCli, tempDir, waitFor, writePipeline } from '../helpers.js';

const python = choosePython(join(ROOT, 'pipelines', 'none.yaml'));
const hasTorch = spawnSync(python, ['-c', 'import torch'], { env: childEnv(python) }).status === 0;

test('iql_torch.py and extract_torch.py train a few steps; their policies are evaluated and diagnosed, and our extractor reads their critic', { skip: !hasTorch && 'no torch in the Python environment' }, async () => {
  const dir = tempDir('iqlp-torch-');
  const stages = join(ROOT, 'stages');
  const small = 'hidden: [32, 32], batch_size: 64, log_every: 50, device: cpu';
  const file = writePipeline(dir, 'p.yaml', `name: torch-test
stages:
  dataset:
    uses: load-dataset
    with: { env: maze2d-umaze-v1, source: generate, size: 3000 }
  joint:
    uses: ${join(stages, 'iql_torch.py')}
    inputs: { dataset: dataset.dataset }
    with: { protocol: joint, steps: 200, checkpoint_every: 100, ${small} }
  awr:
    uses: ${join(stages, 'extract_torch.py')}
    inputs: { dataset: dataset.dataset, critic: joint.critic }
    with: { steps: 100, ${small} }
  ours:
    uses: extract-policy
    inputs: { dataset: dataset.dataset, critic: joint.critic }
    with: { method: awr, steps: 100, hidden: [32, 32], batch_size: 64, log_every: 50, backend: cpu }
  eval_joint:
    uses: evaluate
    inputs: { policy: joint.policy }
    with: { episodes: 2, record_trajectories: 0, visited_states: 0, backend: cpu }
  eval_awr:
    uses: evaluate
    inputs: { policy: awr.policy }
    with: { episodes: 2, record_trajectories: 0, visited_states: 0, backend: cpu }
  diag:
    uses: diagnose
    inputs: { policy: awr.policy, critic: joint.critic, dataset: dataset.dataset }
    with: { states: 100, neighbour_pool: 1000, grid_bins: 5, map_per_cell: 2, map_grid_bins: 3, backend: cpu }
`);
  const r = await runCli(['run', file], dir);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.deepEqual(started(r.stdout).sort(), ['awr', 'dataset', 'diag', 'eval_awr', 'eval_joint', 'joint', 'ours']);
  assert.match(r.stdout, /done +diag /);
  assert.match(r.stdout, /log +joint: torch \S+ on cpu \(1 threads?\)/);
  assert.match(r.stdout, /log +joint: \d+ transitions \(drop timeouts\)/);
  const m = JSON.parse((await runCli(['show', file, 'joint', '--json'], dir)).stdout) as { summary: Record<string, number>; recorded: Record<string, unknown> };
  for (const k of ['q1_loss', 'v_loss', 'actor_loss', 'steps_per_second']) assert.ok(Number.isFinite(m.summary[k]), `${k}: ${m.summary[k]}`);
  assert.equal(m.recorded['device'], 'cpu');
  assert.match(r.stdout, /done +eval_joint .*score_mean=/);
  assert.match(r.stdout, /done +eval_awr .*score_mean=/);
});

test('kill -9 during iql_torch.py, then run again: it resumes and ends with the critic of an uninterrupted run', { skip: !hasTorch && 'no torch in the Python environment' }, async () => {
  const pipeline = `name: torch-resume
stages:
  dataset:
    uses: load-dataset
    with: { env: maze2d-umaze-v1, source: generate, size: 2000 }
  iql:
    uses: ${join(ROOT, 'stages', 'iql_torch.py')}
    inputs: { dataset: dataset.dataset }
    with: { protocol: joint, steps: 3000, checkpoint_every: 200, log_every: 100, hidden: [16], batch_size: 32, device: cpu }
`;
  const dir = tempDir('iqlp-torch-');
  const file = writePipeline(dir, 'p.yaml', pipeline);
  const run = startCli(['run', file], dir);
  const checkpoints = () => {
    const base = join(dir, 'artifacts', 'checkpoints');
    return existsSync(base) ? readdirSync(base).flatMap((k) => readdirSync(join(base, k)).filter((n) => n.startsWith('step-'))) : [];
  };
  await waitFor(() => checkpoints().length > 0, 120_000, 'a checkpoint of iql_torch.py');
  run.child.kill('SIGKILL');
  await run.done;
  const again = await runCli(['run', file], dir);
  assert.equal(again.code, 0, again.stdout + again.stderr);
  assert.match(again.stdout, /iql: resuming from checkpoint at step \d+/);

  const ref = tempDir('iqlp-torch-');
  const refFile = writePipeline(ref, 'p.yaml', pipeline);
  assert.equal((await runCli(['run', refFile], ref)).code, 0);
  const digests = async (d: string, f: string) => {
    const m = JSON.parse((await runCli(['show', f, 'iql', '--json'], d)).stdout) as { outputs: Record<string, { digest: string }> };
    return Object.fromEntries(Object.entries(m.outputs).map(([k, o]) => [k, o.digest]));
  };
  assert.deepEqual(await digests(dir, file), await digests(ref, refFile), 'critic, policy and curve identical to an uninterrupted run');
});

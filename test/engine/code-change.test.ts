/**
 * Code identity end to end: editing a file that a stage kind imports (in a scratch copy of the
 * project, or a user's module tree) makes exactly that kind's instances stale, `status` names the
 * file, and a rerun computes those instances and nothing else.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cached, runCli, started, tempDir, writePipeline } from '../helpers.js';
import { copyProject, runProjectCli, writeTree } from './project-copy.js';

const STUDY = `name: code-change
stages:
  dataset:
    uses: load-dataset
    with: { env: maze2d-umaze-v1, size: 2000 }
  iql:
    uses: fit-iql
    matrix: { seed: [0, 1] }
    inputs: { dataset: dataset.dataset }
    with: { steps: 20, hidden: [8], batch_size: 32, log_every: 10, checkpoint_every: 1000, backend: cpu }
  data:
    uses: synthetic-table
    with: { rows: 50, columns: 2 }
  train:
    uses: toy-train
    inputs: { table: data.table }
    with: { steps: 20, checkpoint_every: 10, step_ms: 0, lr: 0.1 }
`;

test('editing src/rl/algos/iql (in a copy of the project) reruns exactly the fit-iql instances', async () => {
  const project = copyProject();
  const dir = tempDir();
  const file = writePipeline(dir, 'p.yaml', STUDY);
  const first = await runProjectCli(project, ['run', file], dir);
  assert.equal(first.code, 0, first.stdout + first.stderr);
  assert.deepEqual(started(first.stdout).sort(), ['data', 'dataset', 'iql[seed=0]', 'iql[seed=1]', 'train']);

  // The compiled file is what runs (and what is digested); its source names it in messages.
  appendFileSync(join(project, 'dist', 'src', 'rl', 'algos', 'iql.js'), '\n// an edit the cache must notice\n');
  const status = await runProjectCli(project, ['status', file], dir);
  assert.equal(status.code, 1, status.stdout + status.stderr);
  assert.match(status.stdout, /stale +iql\[seed=0\] \(fit-iql\)\s+\w+\n +code changed: src\/rl\/algos\/iql\.ts\n/);
  assert.match(status.stdout, /stale +iql\[seed=1\] \(fit-iql\)\s+\w+\n +code changed: src\/rl\/algos\/iql\.ts\n/);
  for (const name of ['dataset', 'data', 'train']) assert.match(status.stdout, new RegExp(`cached +${name} `));

  const second = await runProjectCli(project, ['run', file], dir);
  assert.equal(second.code, 0, second.stdout + second.stderr);
  assert.deepEqual(started(second.stdout).sort(), ['iql[seed=0]', 'iql[seed=1]']);
  assert.deepEqual(cached(second.stdout).sort(), ['data', 'dataset', 'train']);
  assert.deepEqual(started((await runProjectCli(project, ['run', file], dir)).stdout), []);
});

test('a user module tree: editing a helper one kind imports reruns that kind and what its changed output feeds', async () => {
  const dir = tempDir();
  const stage = (kind: string, helper: string, input: boolean) => `import { value } from './lib/${helper}';
export default {
  kind: '${kind}', version: '1', description: 'test stage',
  params: { type: 'object', properties: { n: { type: 'integer', default: 1 } } },
  inputs: ${input ? "{ upstream: { description: 'a file' } }" : '{}'},
  outputs: { out: { description: 'a text file' } },
  async run(ctx) {
    const { suffix } = await import('./lib/suffix.mjs');
    const up = ctx.inputs.upstream ? new TextDecoder().decode(await ctx.inputs.upstream.bytes()) : '';
    return { outputs: { out: { bytes: new TextEncoder().encode(up + value(ctx.params.n) + suffix), ext: 'txt' } } };
  },
};
`;
  writeTree(dir, {
    'stages/a.mjs': stage('user-a', 'a-helper.mjs', false),
    'stages/b.mjs': stage('user-b', 'b-helper.mjs', false),
    'stages/c.mjs': stage('user-c', 'b-helper.mjs', true),
    'stages/lib/a-helper.mjs': 'export const value = (n) => `a${n}`;\n',
    'stages/lib/b-helper.mjs': 'export const value = (n) => `b${n}`;\n',
    'stages/lib/suffix.mjs': "export const suffix = '.';\n",
  });
  const file = writePipeline(dir, 'p.yaml', `name: user-code
stages:
  a:
    uses: ./stages/a.mjs
    matrix: { n: [1, 2] }
    with: { n: "\${{ matrix.n }}" }
  b:
    uses: ./stages/b.mjs
  c:
    uses: ./stages/c.mjs
    foreach: a
    inputs: { upstream: a.out }
`);
  const first = await runCli(['run', file], dir);
  assert.equal(first.code, 0, first.stdout + first.stderr);
  assert.equal(started(first.stdout).length, 5);

  // A helper only kind user-a imports, with a new output: a's instances and their consumers rerun, b does not.
  writeFileSync(join(dir, 'stages', 'lib', 'a-helper.mjs'), 'export const value = (n) => `A${n}`;\n');
  const status = await runCli(['status', file], dir);
  assert.match(status.stdout, /stale +a\[n=1\] \(user-a\)\s+\w+\n +code changed: lib\/a-helper\.mjs\n/);
  assert.match(status.stdout, /pending +c\[n=1\]/);
  assert.match(status.stdout, /cached +b /);
  const second = await runCli(['run', file], dir);
  assert.deepEqual(started(second.stdout).sort(), ['a[n=1]', 'a[n=2]', 'c[n=1]', 'c[n=2]']);

  // A comment in the helper kind user-c imports through b-helper: c and b rerun; a is untouched.
  appendFileSync(join(dir, 'stages', 'lib', 'b-helper.mjs'), '// a comment is still a code change\n');
  const third = await runCli(['run', file], dir);
  assert.deepEqual(started(third.stdout).sort(), ['b', 'c[n=1]', 'c[n=2]']);
  assert.deepEqual(cached(third.stdout).sort(), ['a[n=1]', 'a[n=2]']);
});

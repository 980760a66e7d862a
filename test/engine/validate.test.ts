/** Each class of bad pipeline gives a file:line:column error naming the field, exit code 2, and runs nothing. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, runCli, tempDir, writePipeline } from '../helpers.js';

/** Nine levels of ten aliases each: 10^9 nodes if expanded (a "billion laughs" file). */
const ALIAS_BOMB = ['name: t', 'x0: &a0 [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]',
  ...Array.from({ length: 8 }, (_, i) => `x${i + 1}: &a${i + 1} [${Array(10).fill(`*a${i}`).join(', ')}]`),
  'stages:', '  a:', '    uses: synthetic-table', ''].join('\n');

const cases: { name: string; yaml: string; error: RegExp; args?: string[] }[] = [
  {
    name: 'unknown stage kind',
    yaml: 'name: t\nstages:\n  a:\n    uses: no-such-kind\n',
    error: /p\.yaml:4:11: error \[stages\.a\.uses\]: unknown stage kind 'no-such-kind' \(built-in kinds: .*synthetic-table/,
  },
  {
    name: 'missing required parameter',
    yaml: 'name: t\nstages:\n  a:\n    uses: synthetic-table\n  b:\n    uses: scale-table\n    inputs: { table: a.table }\n',
    error: /p\.yaml:6:5: error \[stages\.b\.with\]: missing required field 'factor'/,
  },
  {
    name: 'extra parameter',
    yaml: 'name: t\nstages:\n  a:\n    uses: synthetic-table\n    with:\n      rowz: 10\n',
    error: /p\.yaml:6:7: error \[stages\.a\.with\.rowz\]: unknown field 'rowz' .*allowed: rows, columns, scale/,
  },
  {
    name: 'mistyped parameter',
    yaml: 'name: t\nstages:\n  a:\n    uses: synthetic-table\n    with:\n      rows: lots\n',
    error: /p\.yaml:6:13: error \[stages\.a\.with\.rows\]: 'rows' must be integer/,
  },
  {
    name: 'reference to a missing stage',
    yaml: 'name: t\nstages:\n  b:\n    uses: scale-table\n    inputs:\n      table: nothere.table\n    with: { factor: 2 }\n',
    error: /p\.yaml:6:14: error \[stages\.b\.inputs\.table\]: input 'table' references unknown stage 'nothere'/,
  },
  {
    name: 'reference to a missing output',
    yaml: 'name: t\nstages:\n  a:\n    uses: synthetic-table\n  b:\n    uses: scale-table\n    inputs:\n      table: a.tabel\n    with: { factor: 2 }\n',
    error: /p\.yaml:8:14: error \[stages\.b\.inputs\.table\]: stage 'a' \(synthetic-table\) has no output 'tabel' \(outputs: table\)/,
  },
  {
    name: 'cycle',
    yaml: 'name: t\nstages:\n  a:\n    uses: scale-table\n    inputs: { table: c.table }\n    with: { factor: 1 }\n  b:\n    uses: scale-table\n    inputs: { table: a.table }\n    with: { factor: 1 }\n  c:\n    uses: scale-table\n    inputs: { table: b.table }\n    with: { factor: 1 }\n',
    error: /p\.yaml:3:3: error \[stages\.a\]: dependency cycle: a → b → c → a/,
  },
  {
    name: 'duplicate stage names',
    yaml: 'name: t\nstages:\n  a:\n    uses: synthetic-table\n  a:\n    uses: synthetic-table\n',
    error: /p\.yaml:5:3: error: duplicate key/,
  },
  {
    name: 'matrix with a repeated value',
    yaml: 'name: t\nstages:\n  a:\n    uses: synthetic-table\n    matrix:\n      seed: [0, 1, 1]\n',
    error: /p\.yaml:6:20: error \[stages\.a\.matrix\.seed\.2\]: matrix axis 'seed' repeats the value 1/,
  },
  {
    name: 'empty matrix axis',
    yaml: 'name: t\nstages:\n  a:\n    uses: synthetic-table\n    matrix:\n      seed: []\n',
    error: /p\.yaml:6:13: error \[stages\.a\.matrix\.seed\]: .*must NOT have fewer than 1 items/,
  },
  {
    name: 'single input matching many instances',
    yaml: 'name: t\nstages:\n  a:\n    uses: synthetic-table\n    matrix: { seed: [0, 1] }\n  b:\n    uses: scale-table\n    inputs: { table: a.table }\n    with: { factor: 2 }\n',
    error: /p\.yaml:8:22: error \[stages\.b\.inputs\.table\]: input 'table' takes one artifact but "a\.table" matches 2 instances.*foreach: a/,
  },
  {
    name: 'unknown template variable',
    yaml: 'name: t\nstages:\n  a:\n    uses: synthetic-table\n    with:\n      rows: ${{ params.nope }}\n',
    error: /p\.yaml:6:13: error \[stages\.a\.with\.rows\]: template refers to unknown params value 'nope'/,
  },
  {
    name: 'unknown top-level field',
    yaml: 'name: t\nstagez: {}\nstages:\n  a:\n    uses: synthetic-table\n',
    error: /p\.yaml:2:1: error \[stagez\]: unknown field 'stagez'/,
  },
  {
    name: 'override of an unknown stage',
    yaml: 'name: t\nstages:\n  a:\n    uses: synthetic-table\n',
    args: ['--set', 'b.rows=3'],
    error: /command line \(--set b\.rows=3\):1:1: error \[b\.rows\]: override names unknown stage 'b'/,
  },
  {
    name: 'override with a mistyped value',
    yaml: 'name: t\nstages:\n  a:\n    uses: synthetic-table\n',
    args: ['--set', 'a.rows=many'],
    error: /command line \(--set a\.rows=many\):1:1: error \[stages\.a\.with\.rows\]: 'rows' must be integer/,
  },
  {
    name: 'a number too large to be finite',
    yaml: 'name: t\nstages:\n  a:\n    uses: synthetic-table\n    with:\n      rows: 1e400\n',
    error: /p\.yaml:6:13: error \[stages\.a\.with\.rows\]: "1e400" is not a finite number \(YAML reads it as Infinity\)/,
  },
  {
    name: 'a number too large to be finite, from the command line',
    yaml: 'name: t\nstages:\n  a:\n    uses: synthetic-table\n',
    args: ['--set', 'a.rows=1e400'],
    error: /command line \(--set a\.rows=1e400\):1:1: error \[a\.rows\]: "1e400" is not a finite number/,
  },
  {
    name: 'a profile (not selected) setting a param the file never declares',
    yaml: 'name: t\nparams:\n  steps: 100\nprofiles:\n  quick:\n    params: { stepz: 10 }\nstages:\n  a:\n    uses: synthetic-table\n    with: { rows: "${{ params.steps }}" }\n',
    error: /p\.yaml:6:15: error \[profiles\.quick\.params\.stepz\]: unknown pipeline parameter 'stepz' \(params: steps\)/,
  },
  {
    name: 'a profile (not selected) setting a stage parameter its kind does not have',
    yaml: 'name: t\nprofiles:\n  paper:\n    set: { a.rowz: 10 }\nstages:\n  a:\n    uses: synthetic-table\n',
    error: /p\.yaml:4:12: error \[profiles\.paper\.set\.a\.rowz\]: unknown parameter 'rowz' of stage 'a' \(synthetic-table\)/,
  },
  {
    name: 'a path: naming a file that does not exist',
    yaml: `name: t\nstages:\n  lines:\n    uses: ${join(ROOT, 'test', 'fixtures', 'file-stage.mjs')}\n    with:\n      path: data/missing.txt\n`,
    error: /p\.yaml:6:13: error \[stages\.lines\.with\.path\]: file not found: data\/missing\.txt \(paths are relative to the working directory/,
  },
  {
    name: 'an alias bomb',
    yaml: ALIAS_BOMB,
    error: /p\.yaml:3:10: error: YAML aliases expand to more than 1000 nodes \(an alias bomb\?\)/,
  },
];

for (const c of cases) {
  test(`bad pipeline: ${c.name}`, async () => {
    const dir = tempDir();
    const file = writePipeline(dir, 'p.yaml', c.yaml);
    const r = await runCli(['run', file, ...(c.args ?? [])], dir);
    assert.equal(r.code, 2, r.stdout + r.stderr);
    assert.match(r.stderr, c.error);
    assert.match(r.stderr, /nothing was run/);
    assert.ok(!existsSync(join(dir, 'artifacts')), 'nothing may run when validation fails');
    const v = await runCli(['validate', file, ...(c.args ?? [])], dir);
    assert.equal(v.code, 2);
  });
}

test('valid pipelines validate, and dag prints text, Mermaid and DOT', async () => {
  const dir = tempDir();
  const file = writePipeline(dir, 'p.yaml', 'name: t\nstages:\n  a:\n    uses: synthetic-table\n    matrix: { seed: [0, 1] }\n  b:\n    uses: scale-table\n    foreach: a\n    inputs: { table: a.table }\n    with: { factor: 2 }\n');
  const v = await runCli(['validate', file], dir);
  assert.equal(v.code, 0, v.stderr);
  assert.match(v.stdout, /ok \(2 stages, 4 instances\)/);
  const text = await runCli(['dag', file], dir);
  assert.match(text.stdout, /a\[seed=0\] \(synthetic-table\)\n└─ b\[seed=0\] \(scale-table\)/);
  const mermaid = await runCli(['dag', file, '--format', 'mermaid'], dir);
  assert.match(mermaid.stdout, /^flowchart TD/);
  assert.equal((mermaid.stdout.match(/-->/g) ?? []).length, 2);
  const dot = await runCli(['dag', file, '--format', 'dot', '--stages'], dir);
  assert.match(dot.stdout, /digraph pipeline[\s\S]*n0 -> n1/);
});

test('a matrix axis can come from a pipeline param and be overridden with --set', async () => {
  const dir = tempDir();
  const file = writePipeline(dir, 'p.yaml', 'name: t\nparams:\n  seeds: [0, 1, 2]\nstages:\n  a:\n    uses: synthetic-table\n    matrix:\n      seed: ${{ params.seeds }}\n');
  assert.match((await runCli(['validate', file], dir)).stdout, /ok \(1 stages, 3 instances\)/);
  const one = await runCli(['dag', file, '--set', 'params.seeds=[5]'], dir);
  assert.equal(one.stdout.trim(), 'a[seed=5] (synthetic-table)');
  const bad = await runCli(['validate', file, '--set', 'params.seeds=7'], dir);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /p\.yaml:8:13: error \[stages\.a\.matrix\.seed\]: matrix axis 'seed' must be a non-empty list of scalars, got 7/);
});

test('matrix include adds explicit combinations that downstream stages inherit', async () => {
  const dir = tempDir();
  const file = writePipeline(dir, 'p.yaml', `name: t
stages:
  a:
    uses: synthetic-table
    matrix:
      include:
        - { data: small, rows: 10 }
        - { data: big, rows: 1000 }
    with: { rows: "\${{ matrix.rows }}" }
  b:
    uses: scale-table
    foreach: a
    matrix: { factor: [1, 2] }
    inputs: { table: a.table }
    with: { factor: "\${{ matrix.factor }}" }
`);
  const dag = await runCli(['dag', file], dir);
  assert.equal(dag.code, 0, dag.stderr);
  assert.match(dag.stdout, /a\[data=small,rows=10\] \(synthetic-table\)\n├─ b\[data=small,rows=10,factor=1\]/);
  assert.match(dag.stdout, /b\[data=big,rows=1000,factor=2\]/);
  assert.match((await runCli(['validate', file], dir)).stdout, /ok \(2 stages, 6 instances\)/);
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { commandDigest, parseCommandDecl, renderCommand, shellQuote } from './command-spec.js';

const dir = mkdtempSync(join(tmpdir(), 'iqlp-spec-'));
writeFileSync(join(dir, 'train.py'), 'print(1)\n');

test('a declaration becomes a spec: inputs (many from lists), outputs by type, code digests', () => {
  const s = parseCommandDecl({
    run: 'python train.py ${{ inputs.data }} ${{ outputs.model }} --lr ${{ with.lr }}',
    code: ['train.py'], inputs: { data: 'a.table', many: ['b.t', 'c.t'] }, outputs: { model: 'arrow', plot: { ext: 'png', optional: true } }, with: { lr: 0.1 },
  }, dir, 'python3');
  assert.deepEqual(s.inputs, { data: { many: false }, many: { many: true } });
  assert.deepEqual(s.outputs, { model: { ext: 'arrow', optional: false, description: undefined }, plot: { ext: 'png', optional: true, description: undefined } });
  assert.equal(Object.keys(s.codeDigests).length, 1);
  const before = commandDigest(s);
  writeFileSync(join(dir, 'train.py'), 'print(2)\n');
  const after = commandDigest(parseCommandDecl({ run: s.run, code: ['train.py'], inputs: { data: 'a.table', many: ['b.t'] }, outputs: { model: 'arrow', plot: { ext: 'png', optional: true } }, with: { lr: 0.1 } }, dir, 'python3'));
  assert.notEqual(before, after, 'editing a code file changes the digest');
});

test('every problem of a declaration is named', () => {
  assert.throws(() => parseCommandDecl({ outputs: { m: 'arrow' } }, dir, 'python3'), /needs `run:`/);
  assert.throws(() => parseCommandDecl({ run: 'x', outputs: { m: 3 } }, dir, 'python3'), /output 'm' needs a file type/);
  assert.throws(() => parseCommandDecl({ run: 'x', code: ['nope.py'] }, dir, 'python3'), /code file 'nope.py' not found/);
  assert.throws(() => parseCommandDecl({ run: 'x ${{ outputs.model }}', outputs: {} }, dir, 'python3'), /no outputs named 'model'/);
  assert.throws(() => parseCommandDecl({ run: 'x ${{ matrix.seed }}' }, dir, 'python3'), /through `with:`/);
  assert.throws(() => parseCommandDecl({ run: 'x ${{ env.HOME }}' }, dir, 'python3'), /unknown scope 'env'/);
});

test('templates are filled in shell-quoted', () => {
  const line = renderCommand('run ${{ inputs.xs }} ${{ outputs.o }} ${{ with.name }} ${{ with.cfg }} ${{ stage.seed }}', {
    inputs: { xs: ['/a b/x.arrow', '/c.arrow'] }, outputs: { o: '/out/o.arrow' }, params: { name: "it's", cfg: { a: 1 } },
    stage: { params_file: '/p.json', seed: '3', state_dir: '/s', instance: 'i' },
  });
  assert.equal(line, `run '/a b/x.arrow' /c.arrow /out/o.arrow 'it'\\''s' '{"a":1}' 3`);
  assert.equal(shellQuote('plain-path/x.arrow'), 'plain-path/x.arrow');
});

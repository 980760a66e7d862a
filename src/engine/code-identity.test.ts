import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { codeChanges, codeIdentity } from './code-identity.js';

test('code identity of a user module: follows relative imports (static and dynamic), names packages, notices edits only', () => {
  const dir = mkdtempSync(join(tmpdir(), 'iqlp-code-'));
  try {
    mkdirSync(join(dir, 'lib'));
    mkdirSync(join(dir, 'node_modules', 'fake-pkg'), { recursive: true });
    writeFileSync(join(dir, 'node_modules', 'fake-pkg', 'package.json'), '{"name":"fake-pkg","version":"1.2.3"}');
    writeFileSync(join(dir, 'node_modules', 'fake-pkg', 'index.js'), 'export const x = 1;');
    writeFileSync(join(dir, 'stage.mjs'), "import { h } from './lib/helper.mjs';\nimport 'fake-pkg';\nexport default { async run() { const m = await import('./lib/heavy.mjs'); return m; } };\n");
    writeFileSync(join(dir, 'lib', 'helper.mjs'), "import fs from 'node:fs';\nimport { s } from '../shared.mjs';\nexport const h = 1;\n");
    writeFileSync(join(dir, 'lib', 'heavy.mjs'), "import '../node_modules/fake-pkg/index.js';\nexport const heavy = 2;\n");
    writeFileSync(join(dir, 'shared.mjs'), 'export const s = 3;\n');
    writeFileSync(join(dir, 'unrelated.mjs'), 'export const u = 4;\n');
    const a = codeIdentity(join(dir, 'stage.mjs'));
    assert.deepEqual(Object.keys(a.files).sort(), ['lib/heavy.mjs', 'lib/helper.mjs', 'shared.mjs', 'stage.mjs']);
    assert.deepEqual(a.packages, { 'fake-pkg': '1.2.3' });

    // Same content, new mtime: same identity. An unrelated file: same identity.
    const later = new Date(Date.now() + 5000);
    utimesSync(join(dir, 'shared.mjs'), later, later);
    writeFileSync(join(dir, 'unrelated.mjs'), 'export const u = 5;\n');
    assert.equal(codeIdentity(join(dir, 'stage.mjs')).digest, a.digest);

    // An edit two imports deep changes it, and the change is named.
    writeFileSync(join(dir, 'shared.mjs'), 'export const s = 30;\n');
    const b = codeIdentity(join(dir, 'stage.mjs'));
    assert.notEqual(b.digest, a.digest);
    assert.deepEqual(codeChanges(a, b), ['code changed: shared.mjs']);

    // A new import, a package upgrade and an import of a file that does not exist.
    writeFileSync(join(dir, 'lib', 'heavy.mjs'), "import '../node_modules/fake-pkg/index.js';\nimport './gone.mjs';\nexport const heavy = 2;\n");
    writeFileSync(join(dir, 'node_modules', 'fake-pkg', 'package.json'), '{"name":"fake-pkg","version":"1.3.0"}');
    const c = codeIdentity(join(dir, 'stage.mjs'));
    assert.equal(c.files['lib/gone.mjs'], 'missing');
    assert.deepEqual(codeChanges(b, c), ['code added: lib/gone.mjs', 'code changed: lib/heavy.mjs', 'package fake-pkg: 1.2.3 → 1.3.0']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('@code-depends comment lines add non-imported files (a native source) to the closure; an edit there changes the identity', () => {
  const dir = mkdtempSync(join(tmpdir(), 'iqlp-code-'));
  try {
    mkdirSync(join(dir, 'native'));
    writeFileSync(join(dir, 'native', 'k.cc'), 'int k() { return 1; }\n');
    writeFileSync(join(dir, 'stage.mjs'), "/**\n * Loads native/k.cc's build.\n * @code-depends native/k.cc\n */\n// a string '@code-depends nothing.cc' elsewhere is not a declaration\nexport default {};\n");
    const a = codeIdentity(join(dir, 'stage.mjs'));
    assert.deepEqual(Object.keys(a.files).sort(), ['native/k.cc', 'stage.mjs']);
    writeFileSync(join(dir, 'native', 'k.cc'), 'int k() { return 2; }\n');
    const b = codeIdentity(join(dir, 'stage.mjs'));
    assert.deepEqual(codeChanges(a, b), ['code changed: native/k.cc']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('code identity of a built-in kind: the compiled files that run, named by their sources', () => {
  const fitIql = fileURLToPath(new URL('../../stages/fit-iql.js', import.meta.url));
  const c = codeIdentity(fitIql);
  assert.ok('stages/fit-iql.ts' in c.files, Object.keys(c.files).join(', '));
  assert.ok('src/rl/algos/iql.ts' in c.files, 'loaded by a dynamic import inside run()');
  assert.ok(!Object.keys(c.files).some((f) => f.includes('node_modules')));
  assert.ok('@tensorflow/tfjs' in c.packages);
  assert.ok('native/iql-kernel/iql_kernel.cc' in c.files, 'the native kernel\'s source, declared by src/rl/algos/iql-kernel.ts');
  assert.match(c.files['native/iql-kernel/iql_kernel.cc']!, /^[0-9a-f]{64}$/);
  const toy = codeIdentity(fileURLToPath(new URL('../../stages/toy-train.js', import.meta.url)));
  assert.ok(!('src/rl/algos/iql.ts' in toy.files));
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { findImports } from './imports.js';
import { codeIdentity, declaredDepends } from './code-identity.js';
import { builtinKinds } from './registry.js';
import { projectRoot } from './stage-schema.js';

const specs = (src: string) => findImports(src).map((i) => `${i.dynamic ? 'dynamic ' : ''}${i.specifier}`);

test('findImports: static, side-effect, re-export, dynamic and require imports with string literals', () => {
  const src = `import a from './a.js';
import * as b from "./b.js";
import { c, d as e } from './c.js';
import './side.js';
export * from './re.js';
export { f } from './f.js';
export * as g from './g.js';
const h = await import('./h.js');
const [i] = await Promise.all([import(\`./i.js\`), import('node:fs')]);
const j = require('./j.cjs');
const k = await import('./k.json', { with: { type: 'json' } });`;
  assert.deepEqual(specs(src), ['./a.js', './b.js', './c.js', './side.js', './re.js', './f.js', './g.js', 'dynamic ./h.js', 'dynamic ./i.js', 'dynamic node:fs', './j.cjs', 'dynamic ./k.json']);
});

test('findImports: ignores comments, strings, regular expressions, computed specifiers and type-only imports', () => {
  const src = `// import x from './comment.js'
/* await import('./block.js') */
/** Load tfjs-node: \`import('@tensorflow/tfjs-node')\` */
const s = "import('./in-string.js')";
const t = \`import y from './in-template.js' \${ value ? "}" : '{' } import('./still-template.js')\`;
const re = /import\\('.\\/in-regex.js'\\)["'\`]/g;
const q = x / 2; const r2 = (a) / import('./after-division.js');
const spec = '@tensorflow/tfjs-node'; await import(spec);
await import(\`./\${name}.js\`);
import type { T } from './types.js';
export type { U } from './types2.js';
import.meta.url; obj.import('./method.js');
import { type V, w } from './mixed.js';`;
  assert.deepEqual(specs(src), ['dynamic ./after-division.js', './mixed.js']);
});

test('findImports agrees with esbuild on every module the built-in stage kinds load', async () => {
  // A real bundler as the twin of our lexer: same specifiers, file by file, over the whole closure.
  const { build } = await import('esbuild');
  const root = projectRoot();
  const entries = builtinKinds().map((k) => fileURLToPath(new URL(`../../stages/${k}.js`, import.meta.url)));
  const r = await build({ entryPoints: entries, bundle: true, write: false, metafile: true, platform: 'node', format: 'esm', packages: 'external', logLevel: 'silent', outdir: join(root, '.esbuild-out') , absWorkingDir: root });
  const inputs = Object.entries(r.metafile!.inputs).filter(([p]) => !p.includes('node_modules'));
  assert.ok(inputs.length > 30, `expected the stages' closures to span many files, got ${inputs.length}`);
  for (const [path, info] of inputs) {
    const ours = new Set(findImports(readFileSync(join(root, path), 'utf8')).map((i) => i.specifier));
    const theirs = new Set(info.imports.map((i) => i.original ?? i.path));
    assert.deepEqual([...ours].sort(), [...theirs].sort(), path);
  }
  // And the code identity of each kind covers exactly the files esbuild bundles for it.
  for (const entry of entries) {
    const one = await build({ entryPoints: [entry], bundle: true, write: false, metafile: true, platform: 'node', format: 'esm', packages: 'external', logLevel: 'silent', outdir: join(root, '.esbuild-out'), absWorkingDir: root });
    const files = Object.keys(one.metafile!.inputs).filter((p) => !p.includes('node_modules'));
    // (plus the non-JavaScript files its modules declare in `@code-depends` lines, which no bundler sees)
    const identity = Object.keys(codeIdentity(entry).files);
    const declared = new Set(identity.filter((f) => /\.(m?js|ts)$/.test(f)).flatMap((f) => declaredDepends(readFileSync(join(root, f), 'utf8'))));
    assert.equal(identity.filter((f) => !declared.has(f)).length, files.length, relative(root, entry));
  }
});

#!/usr/bin/env node
// Import cycles among the project's TypeScript sources (src/, stages/, bench/, test/), counting
// every edge: value and `import type` imports, re-exports and literal dynamic imports. Type-only
// cycles cost nothing at run time but still tangle the layers, so none is allowed.
// Usage: node scripts/import-cycles.mjs [root]   → prints the cycles; exit 1 if there are any.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const root = resolve(process.argv[2] ?? join(dirname(new URL(import.meta.url).pathname), '..'));
const files = [];
const walk = (d) => {
  for (const n of readdirSync(d)) {
    const p = join(d, n);
    if (statSync(p).isDirectory()) { if (n !== 'node_modules' && !n.startsWith('.')) walk(p); } else if (p.endsWith('.ts') && !p.endsWith('.d.ts')) files.push(p);
  }
};
for (const top of ['src', 'stages', 'bench', 'test']) if (existsSync(join(root, top))) walk(join(root, top));

const SPEC = /(?:^|\n)\s*(?:import|export)\s+(?:type\s+)?[^'"\n;]*?from\s+['"]([^'"]+)['"]|(?:^|\n)\s*import\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g;
const graph = new Map(files.map((f) => {
  const deps = new Set();
  for (const m of readFileSync(f, 'utf8').matchAll(SPEC)) {
    const spec = m[1] ?? m[2] ?? m[3];
    if (!spec.startsWith('.')) continue;
    const target = resolve(dirname(f), spec.replace(/\.js$/, '.ts'));
    if (existsSync(target)) deps.add(target);
  }
  return [f, [...deps]];
}));

// Tarjan's strongly connected components: every component of more than one file is a cycle.
let index = 0;
const idx = new Map(), low = new Map(), stack = [], onStack = new Set(), cycles = [];
function visit(v) {
  idx.set(v, index); low.set(v, index); index++; stack.push(v); onStack.add(v);
  for (const w of graph.get(v) ?? []) {
    if (!idx.has(w)) { visit(w); low.set(v, Math.min(low.get(v), low.get(w))); } else if (onStack.has(w)) low.set(v, Math.min(low.get(v), idx.get(w)));
  }
  if (low.get(v) === idx.get(v)) {
    const scc = [];
    let w;
    do { w = stack.pop(); onStack.delete(w); scc.push(w); } while (w !== v);
    if (scc.length > 1 || (graph.get(v) ?? []).includes(v)) cycles.push(scc.map((f) => relative(root, f)).sort());
  }
}
for (const f of files) if (!idx.has(f)) visit(f);
console.log(`${files.length} files, ${cycles.length} import cycle(s)`);
for (const c of cycles) console.log(`  ${c.join(' <-> ')}`);
process.exit(cycles.length ? 1 : 0);

import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { test } from 'node:test';
import { flattenParams, inlineSvg } from './html.js';
import { sampleReport } from './test-fixtures.js';

const OUT = resolve(process.cwd(), 'test-output');

test('inlineSvg prefixes ids and their references', () => {
  const svg = '<?xml version="1.0"?><svg width="1" height="1"><defs><clipPath id="clip1"><rect/></clipPath></defs><g clip-path="url(#clip1)"><use href="#clip1"/></g></svg>';
  const s = inlineSvg(svg, 'f0-', 'a "label"');
  assert.ok(!s.includes('<?xml'));
  assert.match(s, /id="f0-clip1"/);
  assert.match(s, /url\(#f0-clip1\)/);
  assert.match(s, /href="#f0-clip1"/);
  assert.match(s, /^<svg role="img" focusable="false" aria-label="a &quot;label&quot;"/);
});

test('flattenParams', () => {
  assert.deepEqual(flattenParams({ a: { b: 1, c: [1, 2] }, d: 'x', e: [{ f: true }] }), [
    ['a.b', '1'],
    ['a.c', '[1,2]'],
    ['d', 'x'],
    ['e[0].f', 'true'],
  ]);
});

test('buildHtmlReport: self-contained, escaped, unique ids, tables and params', async () => {
  const { html, figures } = await sampleReport();
  mkdirSync(OUT, { recursive: true });
  writeFileSync(resolve(OUT, 'report.html'), html);
  assert.ok(html.startsWith('<!DOCTYPE html>'));
  assert.ok(!/<script/i.test(html), 'no scripts');
  assert.ok(!/(src|href)="(https?:)?\/\//i.test(html), 'no external resources');
  assert.ok(html.includes('maze2d-umaze: policy extraction &lt;compare&gt;'));
  assert.ok(html.includes('&lt;b&gt;not html&lt;/b&gt;'));
  assert.equal((html.match(/<svg\b/g) ?? []).length, figures - 1, 'SVG figures inlined');
  assert.equal((html.match(/<img src="data:image\/png;base64,/g) ?? []).length, 1);
  assert.equal((html.match(/<a class="dl" download="returns.png" href="data:image\/png;base64,/g) ?? []).length, 1);
  assert.ok(html.includes('<code>evaluate</code>'));
  assert.ok(html.includes('42.') || html.includes('±'), 'comparison table');
  assert.ok(html.includes('iql.tau') && html.includes('fit-iql[seed=0]') && html.includes('a'.repeat(64)));
  // Every id is unique, and every url(#…) reference points to an existing id.
  const ids = [...html.matchAll(/\sid="([^"]+)"/g)].map((m) => m[1]!);
  assert.equal(new Set(ids).size, ids.length, 'ids unique');
  for (const m of html.matchAll(/url\(#([^)]+)\)/g)) assert.ok(ids.includes(m[1]!), `dangling ref ${m[1]}`);
});

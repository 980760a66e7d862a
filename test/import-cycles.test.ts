/** The project's TypeScript has no import cycle, type-only imports included (scripts/import-cycles.mjs). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { ROOT } from './helpers.js';

test('no import cycles among src/, stages/, bench/ and test/ (value, type-only and dynamic imports)', () => {
  let out = '';
  try {
    out = execFileSync(process.execPath, [join(ROOT, 'scripts', 'import-cycles.mjs'), ROOT], { encoding: 'utf8' });
  } catch (e) {
    assert.fail(`import cycles found:\n${(e as { stdout?: string }).stdout ?? String(e)}`);
  }
  assert.match(out, /^\d+ files, 0 import cycle\(s\)/);
});

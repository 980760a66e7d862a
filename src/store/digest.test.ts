import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileDigest, pathDigest } from './digest.js';

test('pathDigest: a file digests as its content; a directory changes with any edit, addition or rename inside', () => {
  const dir = mkdtempSync(join(tmpdir(), 'iqlp-digest-'));
  try {
    mkdirSync(join(dir, 'sub'));
    writeFileSync(join(dir, 'a.npz'), 'one');
    writeFileSync(join(dir, 'sub', 'b.npz'), 'two');
    assert.equal(pathDigest(join(dir, 'a.npz')), fileDigest(join(dir, 'a.npz')));
    const d0 = pathDigest(dir);
    assert.equal(pathDigest(dir), d0, 'stable');
    writeFileSync(join(dir, 'sub', 'b.npz'), 'two!');
    const d1 = pathDigest(dir);
    assert.notEqual(d1, d0, 'edit');
    writeFileSync(join(dir, 'c.npz'), '');
    const d2 = pathDigest(dir);
    assert.notEqual(d2, d1, 'addition');
    renameSync(join(dir, 'c.npz'), join(dir, 'd.npz'));
    assert.notEqual(pathDigest(dir), d2, 'rename');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/** The remote store against a real S3 server (SeaweedFS, started by scripts/test-cluster.sh); skipped without one. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freshRemote, skipS3 } from '../../test/cluster/services.js';
import { sha256 } from './digest.js';
import { CorruptBlob, RemoteStore, RemoteUnavailable } from './remote.js';
import type { Manifest } from './store.js';

test('blobs round-trip verified; a manifest is written once (If-None-Match: *), the second writer is told', { skip: skipS3 }, async () => {
  const remote = new RemoteStore(freshRemote('unit'));
  const dir = mkdtempSync(join(tmpdir(), 'iqlp-remote-'));
  const bytes = Buffer.from('some artifact bytes');
  const digest = sha256(bytes);
  writeFileSync(join(dir, 'a'), bytes);
  assert.equal(await remote.hasBlob(digest, bytes.length), false);
  await remote.putBlob(digest, join(dir, 'a'));
  assert.equal(await remote.hasBlob(digest, bytes.length), true);
  await remote.fetchBlob(digest, bytes.length, join(dir, 'b'));
  assert.deepEqual(readFileSync(join(dir, 'b')), bytes);

  const m = { key: 'k'.repeat(64), runId: 'first' } as Manifest;
  assert.equal(await remote.putManifest(m), 'written');
  assert.equal(await remote.putManifest({ ...m, runId: 'second' }), 'exists');
  assert.equal((await remote.readManifest(m.key))?.runId, 'first');
  assert.deepEqual([...(await remote.listEntryKeys())], [m.key]);

  // Same size, other content: caught by the digest, not by the size.
  writeFileSync(join(dir, 'c'), Buffer.from('SOME artifact bytes'));
  await remote.putBlob(digest, join(dir, 'c'));
  await assert.rejects(remote.fetchBlob(digest, bytes.length, join(dir, 'd')), CorruptBlob);
  remote.close();
});

test('an unreachable remote is a RemoteUnavailable naming the store and the cause', async () => {
  const remote = new RemoteStore({ url: 's3://nobody/here', endpoint: 'http://127.0.0.1:9' });
  await assert.rejects(remote.readManifest('x'), (e: unknown) => e instanceof RemoteUnavailable && /s3:\/\/nobody\/here at http:\/\/127\.0\.0\.1:9: reading .* failed: .*ECONNREFUSED/.test(e.message));
  remote.close();
});

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

/** Runs f with the AWS credential variables set to `creds` (undefined: removed), then restores them. */
async function withAwsEnv(creds: { id: string; secret: string } | undefined, f: () => Promise<void>): Promise<void> {
  const keys = ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_PROFILE', 'AWS_SHARED_CREDENTIALS_FILE', 'AWS_CONFIG_FILE', 'AWS_EC2_METADATA_DISABLED'] as const;
  const saved = keys.map((k) => process.env[k]);
  for (const k of keys) delete process.env[k];
  // Tests send nothing off this machine: no instance-metadata (169.254.169.254) credential probe.
  process.env['AWS_EC2_METADATA_DISABLED'] = 'true';
  if (creds) {
    process.env['AWS_ACCESS_KEY_ID'] = creds.id;
    process.env['AWS_SECRET_ACCESS_KEY'] = creds.secret;
  } else {
    // No profile files either: the chain must find nothing.
    process.env['AWS_SHARED_CREDENTIALS_FILE'] = process.env['AWS_CONFIG_FILE'] = join(tmpdir(), 'iqlp-no-aws-config');
  }
  try {
    await f();
  } finally {
    keys.forEach((k, i) => (saved[i] === undefined ? delete process.env[k] : (process.env[k] = saved[i])));
  }
}

test('an unreachable remote is a RemoteUnavailable naming the store and the cause', async () => {
  // Credentials present (as on a configured machine), so the failure is the connection itself.
  await withAwsEnv({ id: 'test-key', secret: 'test-secret' }, async () => {
    const remote = new RemoteStore({ url: 's3://nobody/here', endpoint: 'http://127.0.0.1:9' });
    await assert.rejects(remote.readManifest('x'), (e: unknown) => e instanceof RemoteUnavailable && /s3:\/\/nobody\/here at http:\/\/127\.0\.0\.1:9: reading .* failed: .*ECONNREFUSED/.test(e.message));
    remote.close();
  });
});

test('a remote without AWS credentials is a RemoteUnavailable that says how to provide them', async () => {
  await withAwsEnv(undefined, async () => {
    const remote = new RemoteStore({ url: 's3://nobody/here', endpoint: 'http://127.0.0.1:9' });
    await assert.rejects(remote.readManifest('x'), (e: unknown) => e instanceof RemoteUnavailable && /s3:\/\/nobody\/here .*no AWS credentials \(set AWS_ACCESS_KEY_ID/.test(e.message));
    remote.close();
  });
});

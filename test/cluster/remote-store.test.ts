/**
 * The remote store with the local executor, against a real S3 server (SeaweedFS): a remote entry is
 * a hit from an empty checkout; a corrupt remote blob is detected when read and recomputed; an
 * unreachable remote is a clear error that leaves the local store as it was; two controllers on
 * one remote compute each entry once.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { cached, runCli, started, startCli, tempDir, writePipeline } from '../helpers.js';
import { RemoteStore } from '../../src/store/remote.js';
import { Store } from '../../src/store/store.js';
import { writeFileSync } from 'node:fs';
import { freshRemote, skipS3 } from './services.js';

const PIPELINE = (stepMs = 0) => `name: remote-test
stages:
  data:
    uses: synthetic-table
    matrix: { seed: [0, 1] }
    with: { rows: 40, columns: 3 }
  train:
    uses: toy-train
    foreach: data
    inputs: { table: data.table }
    with: { steps: 20, checkpoint_every: 5, step_ms: ${stepMs} }
`;

const remoteArgs = (r: { url: string; endpoint: string }) => ['--remote', r.url, '--s3-endpoint', r.endpoint];

/** instance → output name → digest, from a local store's record of the pipeline's last run. */
function digests(dir: string): Record<string, Record<string, string>> {
  const store = new Store(join(dir, 'artifacts'));
  const state = store.readPipelineState('remote-test')!;
  return Object.fromEntries(Object.entries(state.instances).map(([name, i]) => {
    const m = store.readManifest(i.key);
    return [name, Object.fromEntries(Object.entries(m?.outputs ?? {}).map(([o, info]) => [o, info.digest]))];
  }));
}

test('a corrupt remote blob is detected when read, set aside, and recomputed', { skip: skipS3 }, async () => {
  const r = freshRemote('corrupt');
  const a = tempDir();
  const fa = writePipeline(a, 'p.yaml', PIPELINE());
  const first = await runCli(['run', fa, '--plain', '--only', 'data', ...remoteArgs(r)], a);
  assert.equal(first.code, 0, first.stdout + first.stderr);

  // Flip the bytes of data[seed=0]'s table on the remote, keeping its size.
  const remote = new RemoteStore(r);
  const key = new Store(join(a, 'artifacts')).readPipelineState('remote-test')!.instances['data[seed=0]']!.key;
  const out = (await remote.readManifest(key))!.outputs['table']!;
  const bad = join(a, 'bad');
  writeFileSync(bad, Buffer.alloc(out.bytes, 7));
  await remote.putBlob(out.digest, bad);

  const b = tempDir();
  const fb = writePipeline(b, 'p.yaml', PIPELINE());
  const run = await runCli(['run', fb, '--plain', ...remoteArgs(r)], b);
  assert.equal(run.code, 0, run.stdout + run.stderr);
  assert.match(run.stdout, /corrupt/);
  assert.deepEqual(started(run.stdout).sort(), ['data[seed=0]', 'train[seed=0]', 'train[seed=1]']);
  assert.equal(digests(b)['data[seed=0]']!['table'], out.digest, 'recomputed with the same content');
  assert.equal((await remote.list('trash')).length, 1, 'the corrupt entry was set aside');
  await remote.fetchBlob(out.digest, out.bytes, join(b, 'check')); // the blob is whole again
  remote.close();
});

test('an unreachable remote: a clear error before anything runs; the local store is untouched', { skip: skipS3 }, async () => {
  const dir = tempDir();
  const file = writePipeline(dir, 'p.yaml', PIPELINE());
  assert.equal((await runCli(['run', file, '--plain'], dir)).code, 0);
  const before = new Store(join(dir, 'artifacts')).listEntries().sort();
  const r = await runCli(['run', file, '--plain', '--remote', 's3://iqlp-test/x', '--s3-endpoint', 'http://127.0.0.1:9'], dir);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /remote store s3:\/\/iqlp-test\/x at http:\/\/127\.0\.0\.1:9: .*ECONNREFUSED/);
  assert.match(r.stderr, /nothing was run; the local store .* is untouched/);
  const store = new Store(join(dir, 'artifacts'));
  assert.deepEqual(store.listEntries().sort(), before);
  for (const k of before) assert.ok(store.verify(k).ok);
  const status = await runCli(['status', file, '--remote', 's3://iqlp-test/x', '--s3-endpoint', 'http://127.0.0.1:9'], dir);
  assert.equal(status.code, 1);
  assert.match(status.stderr, /ECONNREFUSED/);
});

test('two controllers on one remote: each entry is computed once; an empty checkout sees every entry cached', { skip: skipS3 }, async () => {
  const r = freshRemote('two');
  const [a, b] = [tempDir(), tempDir()];
  const runs = [a, b].map((d) => startCli(['run', writePipeline(d, 'p.yaml', PIPELINE(40)), '--plain', '--no-tracking', ...remoteArgs(r)], d));
  const [ra, rb] = await Promise.all(runs.map((x) => x.done));
  assert.equal(ra.code, 0, ra.stdout + ra.stderr);
  assert.equal(rb.code, 0, rb.stdout + rb.stderr);
  const computed = [...started(ra.stdout), ...started(rb.stdout)].sort();
  assert.deepEqual(computed, ['data[seed=0]', 'data[seed=1]', 'train[seed=0]', 'train[seed=1]']);
  assert.equal(cached(ra.stdout).length + cached(rb.stdout).length, 4);

  const c = tempDir();
  const fc = writePipeline(c, 'p.yaml', PIPELINE(40));
  const status = await runCli(['status', fc, ...remoteArgs(r)], c);
  assert.equal(status.code, 0, status.stdout + status.stderr);
  assert.equal((status.stdout.match(/✔ cached .*\n\s+in the remote store|✔ cached/g) ?? []).length, 4);
  const pull = await runCli(['pull', fc, ...remoteArgs(r)], c);
  assert.equal(pull.code, 0, pull.stderr);
  assert.deepEqual(digests(a), { ...digests(a) }); // a's record is complete
  const pulled = new Store(join(c, 'artifacts'));
  assert.equal(pulled.listEntries().length, 4);
  for (const k of pulled.listEntries()) assert.ok(pulled.verify(k).ok);
});

test('gc --remote: entries the pipeline no longer references go, then the blobs only they named', { skip: skipS3 }, async () => {
  const r = freshRemote('gc');
  const dir = tempDir();
  const file = writePipeline(dir, 'p.yaml', PIPELINE());
  assert.equal((await runCli(['run', file, '--plain', '--no-tracking', ...remoteArgs(r)], dir)).code, 0);
  assert.equal((await runCli(['run', file, '--plain', '--no-tracking', '--set', 'train.steps=25', ...remoteArgs(r)], dir)).code, 0);
  const remote = new RemoteStore(r);
  assert.equal((await remote.listEntryKeys()).size, 6);
  const blobsBefore = (await remote.listBlobs()).size;
  // The file says steps: 20, so the two steps=25 train entries (weights and curve each) are unreferenced.
  const gc = await runCli(['gc', file, ...remoteArgs(r)], dir);
  assert.equal(gc.code, 0, gc.stdout + gc.stderr);
  assert.match(gc.stdout, /remote .*: removed 2 entries, 4 blobs/);
  assert.equal((await remote.listEntryKeys()).size, 4);
  assert.equal((await remote.listBlobs()).size, blobsBefore - 4);
  const other = tempDir();
  const status = await runCli(['status', writePipeline(other, 'p.yaml', PIPELINE()), ...remoteArgs(r)], other);
  assert.equal(status.code, 0, 'every entry the file references is still whole on the remote');
  remote.close();
});

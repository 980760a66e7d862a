/**
 * The Ray executor on a real local Ray cluster (a head and a worker node, started by
 * scripts/test-cluster.sh) with the S3 remote: a matrix pipeline gives every output digest of the
 * local executor; a worker node killed mid-stage → the instance is submitted again and resumes on
 * another node from its remote checkpoint; Ctrl-C stops the run's Ray jobs.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli, startCli, tempDir, waitFor, writePipeline } from '../helpers.js';
import { RemoteStore } from '../../src/store/remote.js';
import { remoteCheckpointSteps } from '../../src/store/remote-checkpoint.js';
import { Store, type Manifest } from '../../src/store/store.js';
import { freshRemote, killRayNode, rayJobStatus, RAY_ADDRESS, rayWorkers, skipRay, startRayWorker } from './services.js';

const MATRIX = `name: ray-matrix
stages:
  data:
    uses: synthetic-table
    matrix: { seed: [0, 1], rows: [30, 60] }
    with: { rows: "\${{ matrix.rows }}", columns: 3 }
  train:
    uses: toy-train
    foreach: data
    inputs: { table: data.table }
    with: { steps: 15, checkpoint_every: 5 }
  scaled:
    uses: scale-table
    foreach: data
    inputs: { table: data.table }
    with: { factor: 3 }
`;

const ray = (r: { url: string; endpoint: string }) => ['--executor', 'ray', '--ray-address', RAY_ADDRESS!, '--remote', r.url, '--s3-endpoint', r.endpoint, '--plain', '--no-tracking'];

/** instance → key and output digests: from the local store, else from the remote. */
async function results(dir: string, pipeline: string, remote?: RemoteStore): Promise<Record<string, { key: string; outputs: Record<string, string> }>> {
  const store = new Store(join(dir, 'artifacts'));
  const out: Record<string, { key: string; outputs: Record<string, string> }> = {};
  for (const [name, i] of Object.entries(store.readPipelineState(pipeline)!.instances)) {
    const m: Manifest | null = store.readManifest(i.key) ?? (remote ? await remote.readManifest(i.key) : null);
    assert.ok(m, `manifest of ${name}`);
    out[name] = { key: i.key, outputs: Object.fromEntries(Object.entries(m.outputs).map(([o, x]) => [o, x.digest])) };
  }
  return out;
}

test('a matrix pipeline on Ray: every key and output digest equals the local executor\'s', { skip: skipRay }, async () => {
  const local = tempDir();
  const l = await runCli(['run', writePipeline(local, 'p.yaml', MATRIX), '--plain', '--no-tracking'], local);
  assert.equal(l.code, 0, l.stdout + l.stderr);
  const r = freshRemote('ray-matrix');
  const dir = tempDir();
  const run = await runCli(['run', writePipeline(dir, 'p.yaml', MATRIX), ...ray(r)], dir);
  assert.equal(run.code, 0, run.stdout + run.stderr);
  assert.match(run.stdout, /12 computed, 0 cached/);
  assert.match(run.stdout, /submitted as ray job iqlp-[0-9a-f]{32}-1/);
  assert.match(run.stdout, /progress +train\[seed=0,rows=30\]/, 'progress from the remote instance reached the event stream');
  const remote = new RemoteStore(r);
  assert.deepEqual(await results(dir, 'ray-matrix', remote), await results(local, 'ray-matrix'));
  // Again: every instance is a hit from the remote, nothing is submitted.
  const again = await runCli(['run', join(dir, 'p.yaml'), ...ray(r)], dir);
  assert.match(again.stdout, /0 computed, 12 cached/);
  remote.close();
});

test('two controllers on Ray with one remote: one Ray job per entry (the second attaches or hits)', { skip: skipRay }, async () => {
  const r = freshRemote('ray-two');
  const yaml = MATRIX.replace('rows: [30, 60]', 'rows: [30]');
  const [a, b] = [tempDir(), tempDir()];
  const runs = [a, b].map((d) => startCli(['run', writePipeline(d, 'p.yaml', yaml), ...ray(r)], d));
  const done = await Promise.all(runs.map((x) => x.done));
  for (const d of done) assert.equal(d.code, 0, d.stdout + d.stderr);
  const remote = new RemoteStore(r);
  const keys = new Set(Object.values(await results(a, 'ray-matrix', remote)).map((x) => x.key));
  remote.close();
  assert.equal(keys.size, 6);
  const jobs = (await (await fetch(`${RAY_ADDRESS}/api/jobs/`)).json()) as { metadata?: Record<string, string> }[];
  const perKey = new Map<string, number>();
  for (const j of jobs) {
    const k = j.metadata?.['iqlp.key'];
    if (k && keys.has(k) && j.metadata?.['iqlp.remote'] === r.url) perKey.set(k, (perKey.get(k) ?? 0) + 1);
  }
  assert.deepEqual([...perKey.values()], [1, 1, 1, 1, 1, 1], 'each entry was one Ray job');
});

test('a corrupt input found by a Ray node: the controller recomputes it and the instance runs again', { skip: skipRay }, async () => {
  const r = freshRemote('ray-corrupt');
  // A row count no other run used, so no node has this entry in its own cache.
  const rows = 100 + Math.floor(Math.random() * 100_000);
  const yaml = MATRIX.replace('seed: [0, 1], rows: [30, 60]', `seed: [0], rows: [${rows}]`);
  const a = tempDir();
  const first = await runCli(['run', writePipeline(a, 'p.yaml', yaml), '--plain', '--no-tracking', '--only', 'data', '--remote', r.url, '--s3-endpoint', r.endpoint], a);
  assert.equal(first.code, 0, first.stdout + first.stderr);
  const remote = new RemoteStore(r);
  const key = new Store(join(a, 'artifacts')).readPipelineState('ray-matrix')!.instances[`data[seed=0,rows=${rows}]`]!.key;
  const out = (await remote.readManifest(key))!.outputs['table']!;
  writeFileSync(join(a, 'bad'), Buffer.alloc(out.bytes, 3));
  await remote.putBlob(out.digest, join(a, 'bad'));

  const b = tempDir();
  const run = await runCli(['run', writePipeline(b, 'p.yaml', yaml), ...ray(r)], b);
  assert.equal(run.code, 0, run.stdout + run.stderr);
  assert.match(run.stdout, new RegExp(`input data\\[seed=0,rows=${rows}\\] was corrupt or missing in the store`));
  assert.match(run.stdout, new RegExp(`start +data\\[seed=0,rows=${rows}\\]`), 'the input was recomputed');
  const local = tempDir();
  assert.equal((await runCli(['run', writePipeline(local, 'p.yaml', yaml), '--plain', '--no-tracking'], local)).code, 0);
  assert.deepEqual(await results(b, 'ray-matrix', remote), await results(local, 'ray-matrix'));
  remote.close();
});

const SLOW = (steps: number) => `name: ray-slow
stages:
  data:
    uses: synthetic-table
    with: { rows: 20, columns: 2 }
  train:
    uses: toy-train
    inputs: { table: data.table }
    with: { steps: ${steps}, checkpoint_every: 5, step_ms: 150 }
    resources: { cpus: 1, custom: { iqlp_worker: 1 } }
`;

test('a worker node killed mid-stage: the instance is submitted again and resumes from its remote checkpoint', { skip: skipRay }, async () => {
  const local = tempDir();
  assert.equal((await runCli(['run', writePipeline(local, 'p.yaml', SLOW(60)), '--plain', '--no-tracking'], local)).code, 0);
  const r = freshRemote('ray-kill');
  const remote = new RemoteStore(r);
  const dir = tempDir();
  const run = startCli(['run', writePipeline(dir, 'p.yaml', SLOW(60)), ...ray(r)], dir);
  await waitFor(() => /start +train/.test(run.output()), 120_000, 'train to start');
  const prefix = /start +train \(key ([0-9a-f]{12})/.exec(run.output())![1]!;
  let steps: number[] = [];
  const t0 = Date.now();
  while (!(steps[0]! >= 10)) {
    assert.ok(Date.now() - t0 < 120_000, 'a remote checkpoint at step ≥ 10 in time');
    const all = await remote.list('checkpoints');
    const key = all.map((o) => o.path.split('/')[1]!).find((k) => k.startsWith(prefix));
    steps = key ? await remoteCheckpointSteps(remote, key) : [];
    await new Promise((res) => setTimeout(res, 300));
  }
  // The instance needs iqlp_worker, which only worker nodes have: it runs on the (one) worker node.
  const [worker] = rayWorkers();
  assert.ok(worker, 'a worker node is up');
  killRayNode(worker);
  startRayWorker(`worker-${Date.now().toString(36)}`);
  const done = await run.done;
  assert.equal(done.code, 0, done.stdout + done.stderr);
  assert.match(done.stdout, /ended (failed|stopped).*submitting it again/s);
  assert.doesNotMatch(done.stdout, /waiting: .* is computing this entry/, 'the dead job\'s lock was broken, not waited out');
  assert.match(done.stdout, /resuming from checkpoint at step (\d+)/);
  const res = await results(dir, 'ray-slow', remote);
  const m = (await remote.readManifest(res['train']!.key))!;
  assert.ok((m.resumedFromStep ?? 0) >= 10, `resumed from step ${m.resumedFromStep}`);
  assert.deepEqual(res, await results(local, 'ray-slow'), 'the resumed result equals an uninterrupted local run');
  remote.close();
});

test('Ctrl-C stops the run\'s Ray jobs', { skip: skipRay }, async () => {
  const r = freshRemote('ray-stop');
  const dir = tempDir();
  const run = startCli(['run', writePipeline(dir, 'p.yaml', SLOW(400)), ...ray(r)], dir);
  await waitFor(() => /progress +train/.test(run.output()), 120_000, 'train to make progress on Ray');
  const id = /submitted as ray job (iqlp-[0-9a-f]{32}-\d+)/.exec(run.output().split('train').slice(1).join('train'))?.[1];
  assert.ok(id, run.output());
  run.child.kill('SIGINT');
  const done = await run.done;
  assert.equal(done.code, 130, done.stdout + done.stderr);
  let status = '';
  for (let i = 0; i < 60 && status !== 'STOPPED'; i++) { status = await rayJobStatus(id); if (status !== 'STOPPED') await new Promise((res) => setTimeout(res, 500)); }
  assert.equal(status, 'STOPPED');
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parsePipelineText } from '../engine/load.js';
import { planLoaded } from '../engine/plan.js';
import { executorFor, loadProjectConfig, remoteFor } from './cluster-options.js';
import { UsageError } from './common.js';

const YAML = 'name: opts\nstages:\n  a:\n    uses: synthetic-table\n';

/** Runs `fn` with the working directory at `dir` (the project config is found from there). */
async function inDir<T>(dir: string, fn: () => Promise<T>): Promise<T> {
  const before = process.cwd();
  process.chdir(dir);
  try { return await fn(); } finally { process.chdir(before); }
}

test('the project config is found above the working directory; the command line wins over the pipeline file over it', async () => {
  const root = mkdtempSync(join(tmpdir(), 'iqlp-opts-'));
  writeFileSync(join(root, 'iqlp.config.yaml'), 'remote: { url: s3://team/cache, endpoint: http://127.0.0.1:1 }\nexecutor: { kind: local }\n');
  const sub = join(root, 'a', 'b');
  mkdirSync(sub, { recursive: true });
  assert.equal(loadProjectConfig(sub)?.remote?.url, 's3://team/cache');
  const plan = await planLoaded(parsePipelineText(YAML, join(sub, 'p.yaml')), { cwd: sub });
  await inDir(sub, async () => {
    assert.equal((await remoteFor(plan, {}))?.url, 's3://team/cache');
    assert.equal((await remoteFor({ ...plan, remote: { url: 's3://file/x' } }, {}))?.url, 's3://file/x');
    assert.equal((await remoteFor(plan, { remote: 's3://cli/y' }))?.url, 's3://cli/y');
    assert.equal((await executorFor(plan, {}, undefined, 'inline')).name, 'local');
  });
  writeFileSync(join(root, 'iqlp.config.yaml'), 'remotes: {}\n');
  assert.throws(() => loadProjectConfig(sub), /iqlp\.config\.yaml: unknown field 'remotes' \(allowed: executor, remote\)/);
});

test('--executor ray says what it lacks: an address, a remote store', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'iqlp-opts-'));
  const plan = await planLoaded(parsePipelineText(YAML, join(dir, 'p.yaml')), { cwd: dir });
  await inDir(dir, async () => {
    const saved = process.env['RAY_ADDRESS'];
    delete process.env['RAY_ADDRESS'];
    try {
      await assert.rejects(executorFor(plan, { executor: 'ray' }, undefined, 'worker'), (e: unknown) => e instanceof UsageError && /needs the Ray dashboard address: --ray-address/.test(e.message));
      await assert.rejects(executorFor(plan, { executor: 'ray', 'ray-address': 'http://127.0.0.1:1' }, undefined, 'worker'), /needs a remote store that the cluster nodes share: --remote/);
      await assert.rejects(executorFor(plan, { executor: 'slurm' }, undefined, 'worker'), /--executor must be local or ray/);
      await assert.rejects(remoteFor(plan, { remote: 'gs://bucket' }), /--remote must be an s3:\/\/ URL/);
    } finally {
      if (saved !== undefined) process.env['RAY_ADDRESS'] = saved;
    }
  });
});

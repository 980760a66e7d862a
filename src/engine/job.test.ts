import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runStageJob } from './job.js';

test('a stage whose code changed since planning (other version) refuses to run', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'iqlp-job-'));
  const job = {
    moduleUrl: new URL('../../stages/synthetic-table.js', import.meta.url).href,
    version: '0-planned-before-a-rebuild',
    instance: 'data', cacheKey: 'k', params: { rows: 3, columns: 1, scale: 1 }, seed: 0, inputs: {},
    tmpDir: dir, checkpointDir: join(dir, 'ck'),
  };
  await assert.rejects(runStageJob(job, () => undefined, new AbortController().signal), /changed while the run was in progress \(planned version 0-planned-before-a-rebuild, loaded 1\)/);
  const ok = await runStageJob({ ...job, version: '1' }, () => undefined, new AbortController().signal);
  assert.equal(ok.outputs['table']!.rows, 3);
});

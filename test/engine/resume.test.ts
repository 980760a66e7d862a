/**
 * kill -9 during a training stage, then run again: every output of every instance has the same
 * digest as in an uninterrupted run (weights, and the curve whose dictionary column used to take
 * a different id in the resumed process), so every downstream cache key agrees too.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { runCli, started, startCli, tempDir, waitFor, writePipeline } from '../helpers.js';
import { checkpointSteps } from './checkpoints.js';
import { Store } from '../../src/store/store.js';
import { journalPath, readJournal } from '../../src/tracking/journal.js';

const PIPELINE = `name: resume-iql
stages:
  dataset:
    uses: load-dataset
    with: { env: maze2d-umaze-v1, size: 3000 }
  iql:
    uses: fit-iql
    inputs: { dataset: dataset.dataset }
    with: { steps: 400, hidden: [16, 16], batch_size: 64, log_every: 50, checkpoint_every: 50, backend: cpu }
`;

/** instance → key and output name → digest, from the store's record of the pipeline's last run. */
function results(dir: string): Record<string, { key: string; outputs: Record<string, string> }> {
  const store = new Store(join(dir, 'artifacts'));
  const state = store.readPipelineState('resume-iql');
  assert.ok(state, 'the run recorded its results');
  const out: Record<string, { key: string; outputs: Record<string, string> }> = {};
  for (const [name, i] of Object.entries(state.instances)) {
    const m = store.readManifest(i.key);
    assert.ok(m, `manifest of ${name}`);
    out[name] = { key: i.key, outputs: Object.fromEntries(Object.entries(m.outputs).map(([o, info]) => [o, info.digest])) };
  }
  return out;
}

test('kill -9 during fit-iql, then resume: every output digest equals an uninterrupted run', async () => {
  const ref = tempDir();
  const refFile = writePipeline(ref, 'p.yaml', PIPELINE);
  const whole = await runCli(['run', refFile], ref);
  assert.equal(whole.code, 0, whole.stdout + whole.stderr);

  const dir = tempDir();
  const file = writePipeline(dir, 'p.yaml', PIPELINE);
  const run = startCli(['run', file], dir);
  await waitFor(() => checkpointSteps(dir).some((s) => s >= 150), 120_000, 'a fit-iql checkpoint at step ≥ 150');
  run.child.kill('SIGKILL');
  assert.equal((await run.done).signal, 'SIGKILL');
  assert.ok(!/done +iql/.test(run.output()), 'fit-iql must not have finished before the kill');

  const again = await runCli(['run', file], dir);
  assert.equal(again.code, 0, again.stdout + again.stderr);
  assert.deepEqual(started(again.stdout), ['iql']);
  const resumed = /resuming from checkpoint at step (\d+)/.exec(again.stdout);
  assert.ok(resumed && Number(resumed[1]) >= 150, again.stdout);
  assert.deepEqual(results(dir), results(ref));

  // stage-start says where the stage resumed (MLflow's pipeline.resumed_from_step tag comes from it).
  const runId = /run (\S+) FINISHED/.exec(again.stdout)![1]!;
  const start = readJournal(journalPath(join(dir, 'artifacts'), runId)).events.find((e) => e.type === 'stage-start' && e.instance === 'iql');
  assert.equal(start?.type === 'stage-start' ? start.resumedFromStep : undefined, Number(resumed[1]));
});

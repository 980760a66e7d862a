/**
 * Shared tracking: MLflow with a PostgreSQL backend store and S3 artifacts (the server command is
 * in scripts/cluster-services.sh and README.md). A run's computed instances upload their artifacts
 * (to S3, through the server); a fully cached rerun logs its child runs with their results but no
 * artifacts, each pointing at the MLflow run that computed its entry.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { runCli, startCli, tempDir, waitFor, writePipeline } from '../helpers.js';
import { MlflowClient, type Run } from '../../src/tracking/mlflow-client.js';
import { freshRemote, MLFLOW_URI, skipMlflow } from './services.js';

const tag = (r: Run, k: string) => r.data.tags?.find((t) => t.key === k)?.value;

test('MLflow on PostgreSQL + S3: a cached rerun links the computing runs instead of re-uploading artifacts', { skip: skipMlflow }, async () => {
  const name = `shared-${Date.now().toString(36)}`;
  const yaml = `name: ${name}
stages:
  data:
    uses: synthetic-table
    with: { rows: 30, columns: 2 }
  train:
    uses: toy-train
    inputs: { table: data.table }
    with: { steps: 10, checkpoint_every: 5 }
`;
  const r = freshRemote('mlflow');
  const args = ['--plain', '--remote', r.url, '--s3-endpoint', r.endpoint, '--tracking-uri', MLFLOW_URI!];
  const a = tempDir();
  const first = await runCli(['run', writePipeline(a, 'p.yaml', yaml), ...args], a);
  assert.equal(first.code, 0, first.stdout + first.stderr);
  assert.match(first.stdout, /logged to MLflow/);
  // A second checkout: everything is a hit from the remote store.
  const b = tempDir();
  const second = await runCli(['run', writePipeline(b, 'p.yaml', yaml), ...args], b);
  assert.equal(second.code, 0, second.stdout + second.stderr);
  assert.match(second.stdout, /0 computed, 2 cached/);

  const client = new MlflowClient({ trackingUri: MLFLOW_URI! });
  const exp = (await client.getExperimentByName(name))!;
  const runs = await client.searchRuns({ experimentIds: [exp.experiment_id], filter: `tags.\`pipeline.role\` = 'stage'` });
  const computed = runs.filter((x) => tag(x, 'pipeline.cache') === 'miss');
  const hits = runs.filter((x) => tag(x, 'pipeline.cache') === 'hit');
  assert.equal(computed.length, 2);
  assert.equal(hits.length, 2);
  for (const c of computed) assert.ok((await client.listArtifactsRecursive(c.info.run_id)).length > 0, `${c.info.run_name} has its artifacts (in S3)`);
  for (const h of hits) {
    assert.deepEqual(await client.listArtifactsRecursive(h.info.run_id), [], `${h.info.run_name} uploads nothing again`);
    const source = computed.find((c) => c.info.run_name === h.info.run_name)!;
    assert.equal(tag(h, 'pipeline.computed_by_mlflow_run'), source.info.run_id);
    assert.match(tag(h, 'mlflow.note.content')!, new RegExp(`#/experiments/${exp.experiment_id}/runs/${source.info.run_id}`));
  }

  // `pipeline ui` against the shared server: no server of its own; the store's runs are already there.
  const ui = startCli(['ui', '--store', join(a, 'artifacts'), '--tracking-uri', MLFLOW_URI!, '--interval', '0'], a);
  await waitFor(() => /MLflow UI: /.test(ui.output()), 60_000, 'pipeline ui to print its URL');
  ui.child.kill('SIGINT');
  const closed = await ui.done;
  assert.equal(closed.code, 0, closed.stdout + closed.stderr);
  assert.match(closed.stdout, new RegExp(`MLflow UI: ${MLFLOW_URI}`));
  assert.match(closed.stdout, /: up to date/);
  assert.doesNotMatch(closed.stderr, /setting up MLflow|mlflow server/i);
});

import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { chunkBatch, EXPERIMENT_KIND_TAG, MlflowClient, MlflowError, resolveTrackingUri } from './mlflow-client.js';

/** A real local HTTP server answering with a scripted sequence of responses. */
async function scripted(responses: Array<[number, unknown]>) {
  const seen: { method: string; url: string; auth?: string; body: string }[] = [];
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      seen.push({ method: req.method!, url: req.url!, auth: req.headers.authorization, body });
      const [status, json] = responses[Math.min(seen.length - 1, responses.length - 1)];
      res.writeHead(status, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify(json));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { url, seen, close: () => new Promise<void>((r) => server.close(() => r())) };
}

describe('MlflowClient retries', () => {
  it('retries a 503 with backoff, then succeeds', async () => {
    const s = await scripted([[503, { error_code: 'TEMPORARILY_UNAVAILABLE', message: 'busy' }], [503, {}], [200, { experiment_id: '7' }]]);
    try {
      const c = new MlflowClient({ trackingUri: s.url, baseDelayMs: 20 });
      assert.equal(await c.createExperiment('x'), '7');
      assert.equal(s.seen.length, 3);
      assert.equal(s.seen[0].url, '/api/2.0/mlflow/experiments/create');
      assert.deepEqual(JSON.parse(s.seen[2].body), { name: 'x', tags: [] });
    } finally { await s.close(); }
  });

  it('does not retry a 4xx and quotes error_code and message', async () => {
    const s = await scripted([[400, { error_code: 'INVALID_PARAMETER_VALUE', message: 'nope' }]]);
    try {
      const c = new MlflowClient({ trackingUri: s.url, baseDelayMs: 20 });
      await assert.rejects(c.createExperiment('x'), (e: unknown) =>
        e instanceof MlflowError && e.errorCode === 'INVALID_PARAMETER_VALUE' && e.status === 400 && !e.transient &&
        /HTTP 400 INVALID_PARAMETER_VALUE: nope/.test(e.message));
      assert.equal(s.seen.length, 1);
    } finally { await s.close(); }
  });

  it('gives up after the retries on a 5xx, marking the error transient', async () => {
    const s = await scripted([[500, { error_code: 'INTERNAL_ERROR', message: 'db locked' }]]);
    try {
      const c = new MlflowClient({ trackingUri: s.url, baseDelayMs: 5, retries: 2 });
      await assert.rejects(c.getRun('r'), (e: unknown) => e instanceof MlflowError && e.transient && e.errorCode === 'INTERNAL_ERROR');
      assert.equal(s.seen.length, 3);
    } finally { await s.close(); }
  });

  it('retries network errors (connection refused)', async () => {
    const s = await scripted([[200, {}]]);
    await s.close();
    const c = new MlflowClient({ trackingUri: s.url, baseDelayMs: 5, retries: 2 });
    const t0 = Date.now();
    await assert.rejects(c.getRun('r'), (e: unknown) => e instanceof MlflowError && e.transient && /cannot reach/.test(e.message));
    assert.ok(Date.now() - t0 >= 10);
  });

  it('sends a bearer token or basic auth', async () => {
    const s = await scripted([[200, { run: { info: {}, data: {} } }]]);
    try {
      await new MlflowClient({ trackingUri: s.url, token: 'tok' }).getRun('r');
      await new MlflowClient({ trackingUri: s.url, username: 'u', password: 'p' }).getRun('r');
      assert.equal(s.seen[0].auth, 'Bearer tok');
      assert.equal(s.seen[1].auth, `Basic ${Buffer.from('u:p').toString('base64')}`);
    } finally { await s.close(); }
  });
});

describe('experiment kind tag (MLflow 3.x opens untagged experiments on its GenAI page)', () => {
  const notFound: [number, unknown] = [404, { error_code: 'RESOURCE_DOES_NOT_EXIST', message: 'no such experiment' }];
  const existing = (tags: { key: string; value: string }[]): [number, unknown] => [200, { experiment: { experiment_id: '3', name: 'x', lifecycle_stage: 'active', tags } }];

  it('creates experiments with mlflow.experimentKind = custom_model_development', async () => {
    const s = await scripted([notFound, [200, { experiment_id: '5' }]]);
    try {
      assert.equal(await new MlflowClient({ trackingUri: s.url, baseDelayMs: 5 }).getOrCreateExperiment('x'), '5');
      assert.equal(s.seen[1]!.url, '/api/2.0/mlflow/experiments/create');
      assert.deepEqual(JSON.parse(s.seen[1]!.body), { name: 'x', tags: [{ key: 'mlflow.experimentKind', value: 'custom_model_development' }] });
    } finally { await s.close(); }
  });

  it('tags an existing experiment that lacks the kind, and leaves a kind set otherwise alone', async () => {
    const s = await scripted([existing([{ key: 'team', value: 'rl' }]), [200, {}]]);
    try {
      assert.equal(await new MlflowClient({ trackingUri: s.url }).getOrCreateExperiment('x'), '3');
      assert.equal(s.seen[1]!.url, '/api/2.0/mlflow/experiments/set-experiment-tag');
      assert.deepEqual(JSON.parse(s.seen[1]!.body), { experiment_id: '3', ...EXPERIMENT_KIND_TAG });
    } finally { await s.close(); }
    const t = await scripted([existing([{ key: 'mlflow.experimentKind', value: 'genai_development' }])]);
    try {
      assert.equal(await new MlflowClient({ trackingUri: t.url }).getOrCreateExperiment('x'), '3');
      assert.equal(t.seen.length, 1);
    } finally { await t.close(); }
  });
});

describe('chunkBatch', () => {
  it('keeps every request within MLflow limits', () => {
    const metrics = Array.from({ length: 2500 }, (_, i) => ({ key: 'm', value: i, step: i, timestamp: i }));
    const params = Array.from({ length: 250 }, (_, i) => ({ key: `p${i}`, value: 'v' }));
    const tags = Array.from({ length: 150 }, (_, i) => ({ key: `t${i}`, value: 'x'.repeat(8000) }));
    const chunks = chunkBatch({ metrics, params, tags });
    for (const c of chunks) {
      assert.ok(c.metrics.length <= 1000 && c.params.length <= 100 && c.tags.length <= 100);
      assert.ok(c.metrics.length + c.params.length + c.tags.length <= 1000);
      assert.ok(Buffer.byteLength(JSON.stringify(c)) < 1_000_000);
    }
    assert.equal(chunks.reduce((n, c) => n + c.metrics.length, 0), 2500);
    assert.equal(chunks.reduce((n, c) => n + c.params.length, 0), 250);
    assert.equal(chunks.reduce((n, c) => n + c.tags.length, 0), 150);
    assert.deepEqual(chunks.flatMap((c) => c.metrics.map((m) => m.step)), metrics.map((m) => m.step));
    assert.equal(chunkBatch({ metrics: metrics.slice(0, 2500), params: [], tags: [] }).length, 3);
  });
});

describe('artifact proxy path and URIs', () => {
  it('maps a run artifact_uri to the proxy route', () => {
    assert.equal(MlflowClient.artifactProxyPath('mlflow-artifacts:/3/abc/artifacts', 'reports/a b.png'),
      '/api/2.0/mlflow-artifacts/artifacts/3/abc/artifacts/reports/a%20b.png');
    assert.equal(MlflowClient.artifactProxyPath('mlflow-artifacts://host:5000/3/abc/artifacts', 'x.html'),
      '/api/2.0/mlflow-artifacts/artifacts/3/abc/artifacts/x.html');
    assert.throws(() => MlflowClient.artifactProxyPath('s3://bucket/3/abc', 'x'), /not proxied/);
    assert.throws(() => MlflowClient.artifactProxyPath('mlflow-artifacts:/3/abc/artifacts', '../x'), /invalid artifact path/);
  });
  it('rejects non-http tracking URIs and reads MLFLOW_TRACKING_URI', () => {
    assert.throws(() => new MlflowClient({ trackingUri: 'sqlite:///x.db' }), /only http/);
    const saved = process.env.MLFLOW_TRACKING_URI;
    process.env.MLFLOW_TRACKING_URI = 'http://h:1';
    try {
      assert.equal(resolveTrackingUri(), 'http://h:1');
      assert.equal(resolveTrackingUri('http://x:2'), 'http://x:2');
    } finally {
      if (saved === undefined) delete process.env.MLFLOW_TRACKING_URI; else process.env.MLFLOW_TRACKING_URI = saved;
    }
  });
});

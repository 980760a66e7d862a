/**
 * Shared helpers for the MLflow integration tests: a real MLflow server (MLFLOW_TEST_URI, or one
 * started here with scripts/mlflow-server.sh when the venv exists; otherwise the tests FAIL with a
 * message saying how to provide one) and a synthetic engine event sequence for a small pipeline.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { EngineEvent, OutputInfo } from '../../src/engine/events.js';
import { MlflowClient } from '../../src/tracking/mlflow-client.js';

export function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error('package.json not found above the test file');
    dir = up;
  }
  return dir;
}

export function venvDir(): string {
  return process.env.MLFLOW_VENV ? resolve(process.env.MLFLOW_VENV) : join(repoRoot(), '.venv-mlflow');
}

export async function freePort(): Promise<number> {
  return await new Promise((res, rej) => {
    const s = createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => res(port));
    });
  });
}

export interface OwnServer {
  url: string;
  port: number;
  dir: string;
  /** kill -9 the server's process group (a crash). */
  kill9(): void;
  /** Start again on the same port and backend. */
  start(): void;
  stop(): void;
}

const NO_SERVER = 'MLflow integration tests need a real tracking server: set MLFLOW_TEST_URI=http://127.0.0.1:<port> ' +
  '(CI starts one with scripts/mlflow-server.sh start 5055 <dir>) or create the venv with scripts/setup-mlflow.sh ' +
  'so the tests can start their own';

/** A server this test process owns (start/kill/restart). Fails when no MLflow venv exists. */
export async function startOwnServer(): Promise<OwnServer> {
  if (!existsSync(join(venvDir(), 'bin', 'mlflow'))) throw new Error(`${NO_SERVER} (no ${venvDir()}/bin/mlflow)`);
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'mlflow-test-server-'));
  const script = join(repoRoot(), 'scripts', 'mlflow-server.sh');
  const env = { ...process.env, MLFLOW_VENV: venvDir() };
  const srv: OwnServer = {
    url: `http://127.0.0.1:${port}`,
    port,
    dir,
    start: () => { execFileSync('bash', [script, 'start', String(port), dir], { env, stdio: ['ignore', 'ignore', 'inherit'], timeout: 180_000 }); },
    stop: () => { execFileSync('bash', [script, 'stop', String(port), dir], { env, stdio: 'ignore', timeout: 60_000 }); },
    kill9: () => {
      const pid = Number(readFileSync(join(dir, `server-${port}.pid`), 'utf8').trim());
      try { process.kill(-pid, 'SIGKILL'); } catch { /* already gone */ }
      // wait until the port is closed
      for (let i = 0; i < 100; i++) {
        try { process.kill(pid, 0); } catch { break; }
        execFileSync('sleep', ['0.1']);
      }
    },
  };
  srv.start();
  return srv;
}

/** MLFLOW_TEST_URI when set (must be healthy), else a server started here. */
export async function testServer(): Promise<{ url: string; stop(): void }> {
  const uri = process.env.MLFLOW_TEST_URI;
  if (uri) {
    const ok = await new MlflowClient({ trackingUri: uri, retries: 0 }).health(5000);
    if (!ok) throw new Error(`MLFLOW_TEST_URI=${uri} does not answer /health`);
    return { url: uri, stop: () => {} };
  }
  const own = await startOwnServer();
  return { url: own.url, stop: () => own.stop() };
}

export const uniq = (p: string) => `${p}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 7)}`;

// A valid 1x1 PNG.
export const PNG_1x1 = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==', 'base64');

export interface Synthetic {
  runId: string;
  pipeline: string;
  file: string;
  events: EngineEvent[];
  /** Curve points per instance and metric. */
  curve: { instance: string; metric: string; points: number };
  instances: string[];
}

/**
 * A small pipeline run: `data` (a cache hit computed by an earlier run), `policy[method=awr,seed=0]`
 * (computed, with loss/value curves and a small Arrow table), `report` (PNG + HTML outputs).
 */
export function syntheticRun(opts: { runId?: string; pipeline?: string; curvePoints?: number; t0?: number; dir?: string } = {}): Synthetic {
  const runId = opts.runId ?? uniq('run');
  const pipeline = opts.pipeline ?? uniq('synthetic');
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), 'tracking-outputs-'));
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'pipeline.yaml');
  writeFileSync(file, `name: ${pipeline}\n`);
  const out = (name: string, ext: string, kind: OutputInfo['kind'], data: Buffer | string): OutputInfo => {
    const path = join(dir, `${name}-${runId}.${ext}`);
    writeFileSync(path, data);
    const bytes = Buffer.byteLength(data);
    return { name, kind, path, digest: `sha256-${name}-${bytes}`, bytes, ext, ...(kind === 'table' ? { rows: 3 } : {}) };
  };
  const points = opts.curvePoints ?? 50;
  let t = opts.t0 ?? 1_700_000_000_000;
  const tick = () => (t += 10);
  const P = 'policy[method=awr,seed=0]';
  const events: EngineEvent[] = [];
  events.push({
    type: 'run-start', runId, pipeline, file, time: tick(), host: 'test-host',
    pipelineParams: { env: 'maze2d-umaze', steps: points },
    instances: [
      { instance: 'data', stage: 'data', kind: 'load-dataset', matrix: {}, params: { env: 'maze2d-umaze', size: 1000 }, seed: 0, needs: [] },
      { instance: P, stage: 'policy', kind: 'extract-policy', matrix: { method: 'awr', seed: 0 },
        params: { method: 'awr', beta: 3, net: { hidden: [256, 256], act: 'relu' }, lr: 3e-4 }, seed: 0, needs: ['data'] },
      { instance: 'report', stage: 'report', kind: 'report', matrix: {}, params: { title: 'Synthetic' }, seed: 0, needs: [P] },
    ],
  });
  events.push({ type: 'stage-cached', runId, instance: 'data', key: 'key-data', time: tick(), computedByRun: 'run-earlier',
    summary: { transitions: 1000 }, outputs: [out('dataset', 'arrow', 'table', Buffer.alloc(2048, 1))], recorded: { backend: 'wasm', versions: { tfjs: '4.22.0' } } });
  events.push({ type: 'stage-start', runId, instance: P, key: 'key-policy', time: tick() });
  for (let s = 0; s < points; s++) {
    events.push({ type: 'stage-metric', runId, instance: P, name: 'loss', value: 1 / (s + 1), step: s * 10, time: tick() });
    events.push({ type: 'stage-metric', runId, instance: P, name: 'value', value: s * 0.5, step: s * 10, time: tick() });
    if (s % 10 === 0) events.push({ type: 'stage-progress', runId, instance: P, step: s, total: points, time: tick() });
  }
  events.push({ type: 'stage-done', runId, instance: P, key: 'key-policy', time: tick(), durationMs: 1234,
    summary: { score: 42.5, std: 0.4, edge_fraction: 0.25 }, outputs: [out('policy', 'arrow', 'table', Buffer.alloc(4096, 2))],
    recorded: { backend: 'wasm', versions: { tfjs: '4.22.0' } } });
  events.push({ type: 'stage-start', runId, instance: 'report', key: 'key-report', time: tick() });
  events.push({ type: 'stage-done', runId, instance: 'report', key: 'key-report', time: tick(), durationMs: 50, summary: {},
    outputs: [out('plot', 'png', 'file', PNG_1x1), out('report', 'html', 'file', '<html><body><h1>Synthetic report</h1></body></html>')],
    recorded: { backend: 'cpu' } });
  events.push({ type: 'run-end', runId, time: tick(), status: 'FINISHED', counts: { computed: 2, cached: 1, failed: 0, skipped: 0 } });
  return { runId, pipeline, file, events, curve: { instance: P, metric: 'loss', points }, instances: ['data', P, 'report'] };
}

/**
 * Shared helpers for the MLflow integration tests: a real MLflow server (MLFLOW_TEST_URI, or one
 * started here with scripts/mlflow-server.sh when the venv exists; otherwise the tests FAIL with a
 * message saying how to provide one). The synthetic pipeline run they sync is
 * src/tracking/synthetic-run.test-fixture.ts, shared with the unit tests.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { after, before } from 'node:test';
import { fileURLToPath } from 'node:url';
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

/**
 * The test server of a test file (testServer(): started before its tests, stopped after them) and a
 * client for it, set once the server is up.
 */
export function useTestServer(): { client: MlflowClient } {
  let server: { url: string; stop(): void } | undefined;
  const used = {} as { client: MlflowClient };
  before(async () => {
    server = await testServer();
    used.client = new MlflowClient({ trackingUri: server.url });
  });
  after(() => server?.stop());
  return used;
}

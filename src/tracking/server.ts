/**
 * A local MLflow tracking server for `pipeline ui` (and tests): a Python venv with MLflow (created
 * on first use by scripts/setup-mlflow.sh, or reused from MLFLOW_VENV), `mlflow server` with a
 * SQLite backend and proxied artifacts under `<store>/mlflow/`.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MlflowClient } from './mlflow-client.js';

/** Nearest directory upward from `from` containing `marker`. */
export function findUp(from: string, marker: string): string | undefined {
  let dir = resolve(from);
  for (;;) {
    if (existsSync(join(dir, marker))) return dir;
    const up = dirname(dir);
    if (up === dir) return undefined;
    dir = up;
  }
}

/** The iql-pipeline package root (holding scripts/setup-mlflow.sh), from this module's location. */
export function packageRoot(): string | undefined {
  return findUp(dirname(fileURLToPath(import.meta.url)), 'scripts/setup-mlflow.sh');
}

/** MLFLOW_VENV, else <project>/.venv-mlflow with <project> the nearest package.json above cwd. */
export function defaultVenv(): string {
  if (process.env.MLFLOW_VENV) return resolve(process.env.MLFLOW_VENV);
  const project = findUp(process.cwd(), 'package.json') ?? process.cwd();
  return join(project, '.venv-mlflow');
}

/** Creates the venv with MLflow if it lacks one (pip from PyPI). Returns the mlflow executable. */
export function ensureMlflowVenv(venv = defaultVenv(), log: (l: string) => void = (l) => console.error(l)): string {
  const exe = join(venv, 'bin', 'mlflow');
  if (existsSync(exe)) return exe;
  log(`setting up MLflow in ${venv} (first use; pip install from PyPI)…`);
  const root = packageRoot();
  const r = root
    ? spawnSync('bash', [join(root, 'scripts', 'setup-mlflow.sh'), venv], { stdio: ['ignore', 'ignore', 'inherit'] })
    : spawnSync('bash', ['-c', `set -e; python3 -m venv "$1"; "$1/bin/python" -m pip install --quiet mlflow`, 'setup', venv], { stdio: 'inherit' });
  if (r.status !== 0 || !existsSync(exe)) throw new Error(`could not install MLflow into ${venv} (exit ${r.status ?? r.signal})`);
  return exe;
}

export interface LocalServer {
  url: string;
  /** Undefined when an already running server was reused. */
  process?: ChildProcess;
  logFile?: string;
  stop(): Promise<void>;
}

export interface StartServerOptions {
  storeDir: string;
  port?: number;
  host?: string;
  venv?: string;
  /** ms to wait for /health. Default 180 s. */
  timeoutMs?: number;
  log?: (line: string) => void;
}

/** Starts `mlflow server` for the store (or reuses one already answering on the port). */
export async function startMlflowServer(opts: StartServerOptions): Promise<LocalServer> {
  const host = opts.host ?? '127.0.0.1';
  const port = opts.port ?? 5000;
  const url = `http://${host}:${port}`;
  const probe = new MlflowClient({ trackingUri: url, retries: 0 });
  if (await probe.health()) return { url, stop: async () => {} };

  const exe = ensureMlflowVenv(opts.venv ?? defaultVenv(), opts.log);
  const dir = resolve(opts.storeDir, 'mlflow');
  mkdirSync(join(dir, 'artifacts'), { recursive: true });
  const logFile = join(dir, `server-${port}.log`);
  const out = openSync(logFile, 'a');
  const child = spawn(exe, [
    'server',
    '--backend-store-uri', `sqlite:///${join(dir, 'mlflow.db')}`,
    '--artifacts-destination', join(dir, 'artifacts'),
    '--host', host, '--port', String(port), '--workers', '1',
  ], { detached: true, stdio: ['ignore', out, out], env: { ...process.env, MLFLOW_DISABLE_TELEMETRY: 'true', DO_NOT_TRACK: 'true' } });
  closeSync(out);
  let exited: number | string | null | undefined;
  child.on('exit', (code, sig) => { exited = code ?? sig; });

  const stop = async () => {
    if (exited !== undefined || child.pid === undefined) return;
    const gone = new Promise<void>((r) => child.once('exit', () => r()));
    try { process.kill(-child.pid, 'SIGTERM'); } catch { /* gone */ }
    const t = setTimeout(() => { try { process.kill(-child.pid!, 'SIGKILL'); } catch { /* gone */ } }, 10_000);
    await gone;
    clearTimeout(t);
  };

  const deadline = Date.now() + (opts.timeoutMs ?? 180_000);
  while (!(await probe.health())) {
    if (exited !== undefined || Date.now() > deadline) {
      await stop();
      const tail = existsSync(logFile) ? readFileSync(logFile, 'utf8').split('\n').slice(-25).join('\n') : '';
      throw new Error(`mlflow server ${exited !== undefined ? `exited (${exited})` : 'did not answer /health in time'}; log ${logFile}:\n${tail}`);
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  return { url, process: child, logFile, stop };
}

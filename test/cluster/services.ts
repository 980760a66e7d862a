/**
 * The services the cluster tests use, as scripts/cluster-services.sh started them (its env.sh is
 * sourced by scripts/test-cluster.sh). A test whose service is not running is skipped, with the reason.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '../helpers.js';

export const S3_ENDPOINT = process.env['IQLP_TEST_S3_ENDPOINT'];
export const S3_BUCKET = process.env['IQLP_TEST_S3_BUCKET'] ?? 'iqlp-test';
export const RAY_ADDRESS = process.env['IQLP_TEST_RAY_ADDRESS'];
export const MLFLOW_URI = process.env['IQLP_TEST_MLFLOW_URI'];
export const CLUSTER_DIR = process.env['IQLP_TEST_CLUSTER_DIR'];

const why = (name: string) => `${name} is not running (scripts/test-cluster.sh starts it)`;
export const skipS3 = S3_ENDPOINT ? false : why('the S3 server');
export const skipRay = S3_ENDPOINT && RAY_ADDRESS ? false : why('the Ray cluster');
export const skipMlflow = S3_ENDPOINT && MLFLOW_URI ? false : why('MLflow with PostgreSQL');

/** A fresh remote under the test bucket (one prefix per test, so tests never see each other's entries). */
export function freshRemote(label: string): { url: string; endpoint: string } {
  return { url: `s3://${S3_BUCKET}/${label}-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`, endpoint: S3_ENDPOINT! };
}

/**
 * Kills a Ray node the way a machine loss would: SIGKILL to its `ray start --block` process and
 * every descendant (raylet, workers, a job's entrypoint and the stage it runs), by pid.
 */
export function killRayNode(name: string): number[] {
  const pidFile = join(CLUSTER_DIR!, `ray-${name}.pid`);
  const root = Number(readFileSync(pidFile, 'utf8'));
  const children = new Map<number, number[]>();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(d)]);
    } catch { /* gone */ }
  }
  const all: number[] = [];
  const walk = (p: number) => { all.push(p); for (const c of children.get(p) ?? []) walk(c); };
  walk(root);
  for (const p of all) { try { process.kill(p, 'SIGKILL'); } catch { /* gone */ } }
  rmSync(pidFile, { force: true });
  return all;
}

/** Names of the Ray worker nodes cluster-services.sh started that are still up. */
export function rayWorkers(): string[] {
  return readdirSync(CLUSTER_DIR!).filter((f) => /^ray-.+\.pid$/.test(f) && f !== 'ray-head.pid').map((f) => f.slice(4, -4));
}

/** Starts one more Ray worker node (scripts/cluster-services.sh ray-worker). */
export function startRayWorker(name: string): void {
  execFileSync('bash', [join(ROOT, 'scripts', 'cluster-services.sh'), 'ray-worker', CLUSTER_DIR!, name], { stdio: 'inherit', timeout: 120_000 });
}

/** A Ray job's status as the Jobs API reports it. */
export async function rayJobStatus(id: string): Promise<string> {
  const r = await fetch(`${RAY_ADDRESS}/api/jobs/${id}`);
  return ((await r.json()) as { status: string }).status;
}

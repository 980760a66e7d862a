/**
 * Where a run computes and what it shares: the executor (local, ray) and the remote store, from
 * the command line, else the pipeline file (`executor:`, `remote:`), else the project config
 * (`iqlp.config.yaml` in the working directory or above it), so a team commits them once.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import type { ExecutorDecl, RemoteDecl } from '../engine/declaration.js';
import type { Executor } from '../engine/executor.js';
import { localExecutor } from '../engine/executor.js';
import type { Plan } from '../engine/plan.js';
import type { Isolation } from '../engine/run-stage.js';
import type { RemoteStore } from '../store/remote.js';
import { UsageError } from './common.js';

export const PROJECT_CONFIG = 'iqlp.config.yaml';

export const remoteOptions = {
  remote: { type: 'string' },
  's3-endpoint': { type: 'string' },
} as const;

export const executorOptions = {
  executor: { type: 'string' },
  'ray-address': { type: 'string' },
} as const;

export const remoteOptionsHelp = `  --remote s3://bucket/prefix    shared remote store (credentials: the standard AWS environment / ~/.aws)
  --s3-endpoint URL             S3 endpoint of a non-AWS server (MinIO, SeaweedFS, Ceph); AWS_ENDPOINT_URL_S3 wins`;
export const executorOptionsHelp = `  --executor local|ray          where instances run (default: local worker threads)
  --ray-address URL             Ray dashboard / Jobs API address, e.g. http://head:8265 (with --executor ray)`;

interface ProjectConfig {
  file: string;
  executor?: ExecutorDecl;
  remote?: RemoteDecl;
}

/** The nearest iqlp.config.yaml at or above `from`; errors name the file and the field. */
export function loadProjectConfig(from = process.cwd()): ProjectConfig | null {
  for (let dir = resolve(from); ; dir = dirname(dir)) {
    const file = join(dir, PROJECT_CONFIG);
    if (existsSync(file)) {
      const raw = (parseYaml(readFileSync(file, 'utf8')) ?? {}) as Record<string, unknown>;
      for (const k of Object.keys(raw)) if (k !== 'executor' && k !== 'remote') throw new UsageError(`${file}: unknown field '${k}' (allowed: executor, remote)`);
      for (const k of ['executor', 'remote'] as const) if (raw[k] !== undefined && (typeof raw[k] !== 'object' || raw[k] === null)) throw new UsageError(`${file}: '${k}' must be a map`);
      return { file, executor: raw['executor'] as ExecutorDecl | undefined, remote: raw['remote'] as RemoteDecl | undefined };
    }
    if (dirname(dir) === dir) return null;
  }
}

/** The remote store for this command, or undefined; the S3 client is loaded only when there is one. */
export async function remoteFor(plan: Pick<Plan, 'remote'> | null, values: { remote?: string; 's3-endpoint'?: string }): Promise<RemoteStore | undefined> {
  const project = loadProjectConfig();
  const url = values.remote ?? plan?.remote.url ?? project?.remote?.url;
  if (!url) return undefined;
  if (!url.startsWith('s3://')) throw new UsageError(`--remote must be an s3:// URL (s3://bucket/prefix), got '${url}'`);
  const { RemoteStore } = await import('../store/remote.js');
  return new RemoteStore({
    url,
    endpoint: values['s3-endpoint'] ?? plan?.remote.endpoint ?? project?.remote?.endpoint,
    region: plan?.remote.region ?? project?.remote?.region,
  });
}

/** Fails fast, before anything runs, when the remote cannot be reached or refuses the credentials. */
export async function probeRemote(remote: RemoteStore): Promise<void> {
  await remote.head(remote.path('entries', '.probe'));
}

/** The executor for this run: --executor, else the file's, else the project config's, else local. */
export async function executorFor(plan: Plan, values: { executor?: string; 'ray-address'?: string }, remote: RemoteStore | undefined, isolation: Isolation): Promise<Executor> {
  const project = loadProjectConfig();
  const kind = values.executor ?? plan.executor.kind ?? project?.executor?.kind ?? 'local';
  if (kind === 'local') return localExecutor(isolation);
  if (kind !== 'ray') throw new UsageError(`--executor must be local or ray, got '${kind}'`);
  const address = values['ray-address'] ?? process.env['RAY_ADDRESS'] ?? plan.executor.address ?? project?.executor?.address;
  if (!address || !/^https?:\/\//.test(address)) throw new UsageError(`--executor ray needs the Ray dashboard address: --ray-address http://head:8265 (or executor.address in the pipeline file or ${PROJECT_CONFIG}; RAY_ADDRESS)${address ? `; got '${address}'` : ''}`);
  if (!remote) throw new UsageError('--executor ray needs a remote store that the cluster nodes share: --remote s3://bucket/prefix (or remote.url in the pipeline file or iqlp.config.yaml)');
  const { rayExecutor } = await import('../executors/ray.js');
  return rayExecutor({ address, remote, entrypoint: plan.executor.entrypoint ?? project?.executor?.entrypoint });
}

/**
 * The Ray executor: each instance is a Ray job submitted through the Jobs REST API of the cluster's
 * dashboard (POST /api/jobs/, GET /api/jobs/<id>, GET /api/jobs/<id>/logs, POST /api/jobs/<id>/stop).
 * Its entrypoint runs this CLI's `exec-instance` for the instance's task on whichever node Ray
 * places it, with the instance's resources as entrypoint_num_cpus / _num_gpus / _memory (and custom
 * resources as entrypoint_resources). The cluster's nodes need this project at the same path (one
 * container image, or a shared file system) and AWS credentials for the remote store in their own
 * environment: nothing secret travels in the job.
 */
import axios from 'axios';
import { projectRoot } from '../engine/stage-schema.js';
import { join } from 'node:path';
import type { Executor, InstanceTask } from '../engine/executor.js';
import { resolveSpec, type RemoteStore } from '../store/remote.js';
import { batchExecutor, type BatchScheduler, type JobState } from './batch.js';

export interface RayOptions {
  /** Dashboard address, e.g. http://127.0.0.1:8265. */
  address: string;
  remote: RemoteStore;
  /** The command that starts this CLI on a node (default: this node binary and this project's bin/pipeline.js). */
  entrypoint?: string;
  maxAttempts?: number;
  pollMs?: number;
}

const STATES: Record<string, JobState> = { PENDING: 'pending', RUNNING: 'running', SUCCEEDED: 'succeeded', FAILED: 'failed', STOPPED: 'stopped' };

const quote = (s: string) => (/^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);

/** Ray's Jobs REST API, every request bounded in time. */
export class RayJobsClient {
  constructor(readonly address: string, private readonly timeoutMs = 15_000) {}

  async request(method: 'GET' | 'POST', path: string, body?: unknown): Promise<{ status: number; json: unknown; text: string }> {
    // axios (node's http), not fetch: Ray's dashboard refuses POSTs that carry browser headers
    // (undici's fetch always sends Sec-Fetch-Mode).
    try {
      const r = await axios.request<string>({
        method, url: `${this.address.replace(/\/+$/, '')}${path}`, data: body, timeout: this.timeoutMs,
        responseType: 'text', transformResponse: (x: string) => x, validateStatus: () => true,
        headers: { 'user-agent': 'iql-pipeline', ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      });
      let json: unknown = null;
      try { json = JSON.parse(r.data); } catch { /* not JSON */ }
      return { status: r.status, json, text: r.data };
    } catch (e) {
      const x = e as { code?: string; message?: string };
      throw new Error(`Ray at ${this.address}: ${method} ${path} failed: ${x.code ?? x.message}`);
    }
  }

  async version(): Promise<string> {
    const r = await this.request('GET', '/api/version');
    if (r.status !== 200) throw new Error(`Ray at ${this.address}: /api/version answered ${r.status}; is this a Ray dashboard?`);
    return (r.json as { ray_version?: string }).ray_version ?? '?';
  }
}

export function rayScheduler(opts: RayOptions): BatchScheduler {
  const client = new RayJobsClient(opts.address);
  const cli = opts.entrypoint ?? `${quote(process.execPath)} ${quote(join(projectRoot(), 'bin', 'pipeline.js'))}`;
  const spec = resolveSpec(opts.remote.spec);
  return {
    name: 'ray',
    async submit(id: string, task: InstanceTask) {
      const r = task.resources;
      const entrypoint = [cli, 'exec-instance', '--remote', quote(spec.url), ...(spec.endpoint ? ['--s3-endpoint', quote(spec.endpoint)] : []), '--key', task.job.cacheKey].join(' ');
      const res = await client.request('POST', '/api/jobs/', {
        entrypoint, submission_id: id,
        entrypoint_num_cpus: r.cpus, entrypoint_num_gpus: r.gpus,
        ...(r.memoryBytes ? { entrypoint_memory: Math.round(r.memoryBytes) } : {}),
        ...(r.custom ? { entrypoint_resources: r.custom } : {}),
        metadata: { 'iqlp.instance': task.job.instance, 'iqlp.run_id': task.runId, 'iqlp.key': task.job.cacheKey, 'iqlp.remote': spec.url },
      });
      if (res.status === 200) return 'submitted';
      if (/already exists/i.test(res.text)) return 'exists';
      throw new Error(`Ray at ${opts.address} refused job ${id} (${res.status}): ${res.text.slice(0, 500)}`);
    },
    async state(id) {
      const res = await client.request('GET', `/api/jobs/${id}`);
      if (res.status !== 200) throw new Error(`Ray at ${opts.address}: job ${id}: ${res.status} ${res.text.slice(0, 200)}`);
      const j = res.json as { status: string; message?: string };
      return { state: STATES[j.status] ?? 'failed', message: j.message };
    },
    async logs(id) {
      const res = await client.request('GET', `/api/jobs/${id}/logs`);
      return res.status === 200 ? ((res.json as { logs?: string }).logs ?? '') : '';
    },
    async cancel(id) {
      await client.request('POST', `/api/jobs/${id}/stop`);
    },
  };
}

export async function rayExecutor(opts: RayOptions): Promise<Executor> {
  await new RayJobsClient(opts.address).version(); // unreachable or not Ray: say so before anything runs
  return batchExecutor(rayScheduler(opts), { remote: opts.remote, maxAttempts: opts.maxAttempts, pollMs: opts.pollMs });
}

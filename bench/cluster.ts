/**
 * Controller overhead on a cluster, with a no-op stage kind (bench/noop-stage.ts):
 *  - instances/s through Ray: N no-op instances submitted to a Ray cluster (each one a Ray job
 *    running `pipeline exec-instance`), from the first submission to the last commit;
 *  - remote hit checks/s: a sweep of M no-op instances committed to the S3 remote, then from an
 *    empty local store `status` (one listing + M manifest reads) and a fully cached `run` (M
 *    lookups, each one manifest read).
 *
 *   node dist/bench/cluster.js --remote s3://bucket/prefix --s3-endpoint URL [--ray-address URL] [--ray-instances 20] [--sweep 1000]
 *
 * Needs the services of scripts/cluster-services.sh (credentials in the AWS environment). Prints one
 * JSON line per measurement.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { execute, newRunId } from '../src/engine/execute.js';
import { planPipeline } from '../src/engine/plan.js';
import { computeStatusWithRemote } from '../src/engine/status.js';
import { rayExecutor } from '../src/executors/ray.js';
import { RemoteStore } from '../src/store/remote.js';
import { Store } from '../src/store/store.js';

const { values } = parseArgs({ options: {
  remote: { type: 'string' }, 's3-endpoint': { type: 'string' }, 'ray-address': { type: 'string' },
  'ray-instances': { type: 'string', default: '20' }, sweep: { type: 'string', default: '1000' },
} });
if (!values.remote) throw new Error('--remote s3://bucket/prefix is required');
const emit = (o: Record<string, unknown>) => console.log(JSON.stringify(o));
const noop = fileURLToPath(new URL('./noop-stage.js', import.meta.url));

/** A pipeline of n no-op instances (a matrix over i), in a fresh directory. */
function sweepFile(n: number, tag: string): { dir: string; file: string } {
  const dir = mkdtempSync(join(tmpdir(), 'iqlp-bench-cluster-'));
  const file = join(dir, 'sweep.yaml');
  writeFileSync(file, `name: noop-${tag}\nstages:\n  noop:\n    uses: ${noop}\n    matrix: { i: [${Array.from({ length: n }, (_, i) => i).join(', ')}] }\n    with: { i: "\${{ matrix.i }}" }\n`);
  return { dir, file };
}

const tag = Date.now().toString(36);
const spec = (sub: string) => ({ url: `${values.remote!.replace(/\/+$/, '')}/${sub}-${tag}`, endpoint: values['s3-endpoint'] });

if (values['ray-address']) {
  const n = Number(values['ray-instances']);
  const remote = new RemoteStore(spec('ray'));
  const { dir, file } = sweepFile(n, `ray-${tag}`);
  const plan = await planPipeline(file, { cwd: dir, storeDir: join(dir, 'store') });
  const executor = await rayExecutor({ address: values['ray-address'], remote });
  const t0 = performance.now();
  const r = await execute(plan, { runId: newRunId(), store: new Store(join(dir, 'store')), emit: () => {}, executor, remote, jobs: n });
  const s = (performance.now() - t0) / 1000;
  emit({ bench: 'ray-noop-instances', instances: n, status: r.status, seconds: +s.toFixed(2), instancesPerSecond: +(n / s).toFixed(3), secondsPerInstance: +(s / n).toFixed(3) });
  remote.close();
}

{
  const m = Number(values.sweep);
  const remote = new RemoteStore(spec('sweep'));
  const { dir, file } = sweepFile(m, `sweep-${tag}`);
  const plan = await planPipeline(file, { cwd: dir, storeDir: join(dir, 'store') });
  const t0 = performance.now();
  const made = await execute(plan, { runId: newRunId(), store: new Store(join(dir, 'store')), emit: () => {}, isolation: 'inline', remote, jobs: 8 });
  emit({ bench: 'remote-sweep-commit', instances: m, status: made.status, seconds: +((performance.now() - t0) / 1000).toFixed(2), note: 'local no-op runs, each committed locally and pushed (blob + conditional manifest put)' });

  // From an empty checkout: status (list once, read every manifest), then a fully cached run.
  const empty = mkdtempSync(join(tmpdir(), 'iqlp-bench-empty-'));
  const plan2 = await planPipeline(file, { cwd: empty, storeDir: join(empty, 'store') });
  const t1 = performance.now();
  const st = await computeStatusWithRemote(plan2, new Store(join(empty, 'store')), remote);
  const statusS = (performance.now() - t1) / 1000;
  emit({ bench: 'remote-hit-checks-status', instances: m, cached: st.filter((x) => x.state === 'cached').length, seconds: +statusS.toFixed(3), checksPerSecond: Math.round(m / statusS) });
  const t2 = performance.now();
  const rerun = await execute(plan2, { runId: newRunId(), store: new Store(join(empty, 'store')), emit: () => {}, isolation: 'inline', remote, jobs: 8 });
  const runS = (performance.now() - t2) / 1000;
  emit({ bench: 'remote-hit-checks-run', instances: m, cached: rerun.counts.cached, seconds: +runS.toFixed(3), checksPerSecond: Math.round(m / runS) });
  remote.close();
}

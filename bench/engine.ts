/**
 * Engine overhead and Arrow IO speed.
 *   node dist/bench/engine.js [--engine-only]      (BENCH_REPS, BENCH_CLI_REPS: repetitions)
 * Prints one JSON line per measurement:
 *  - a fully cached run (no-op) and `status` of a 50-stage pipeline: engine time in-process (plan +
 *    execute/status) and the wall time of the CLI process;
 *  - Arrow IPC write/read of a 1M-row × 20-column float32 table vs plain file write/read of the same bytes.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tableFromArrays } from 'apache-arrow';
import { planPipeline } from '../src/engine/plan.js';
import { execute, newRunId } from '../src/engine/execute.js';
import { computeStatus } from '../src/engine/status.js';
import { Store } from '../src/store/store.js';
import { decodeTable, encodeTable } from '../src/store/arrow-io.js';
import { writeFileDurable } from '../src/store/fs-atomic.js';
import { projectRoot } from '../src/engine/stage-schema.js';

const emit = (o: Record<string, unknown>) => console.log(JSON.stringify(o));
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const min = (xs: number[]) => Math.min(...xs);
/** Repetitions (median and minimum are printed; on a shared machine the minimum is the steadier figure). */
const IN_PROCESS_REPS = Number(process.env['BENCH_REPS'] ?? 20);
const CLI_REPS = Number(process.env['BENCH_CLI_REPS'] ?? 7);

async function engine(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'iqlp-bench-'));
  const lines = ['name: bench50', 'stages:', '  s0:', '    uses: synthetic-table', '    with: { rows: 100 }'];
  for (let i = 1; i < 50; i++) {
    lines.push(`  s${i}:`, '    uses: scale-table', `    inputs: { table: s${Math.floor((i - 1) / 2)}.table }`, `    with: { factor: ${1 + i / 100} }`);
  }
  const file = join(dir, 'bench50.yaml');
  writeFileSync(file, lines.join('\n') + '\n');
  const cli = join(projectRoot(), 'bin', 'pipeline.js');
  execFileSync(process.execPath, [cli, 'run', file], { cwd: dir, env: { ...process.env, CI: '1' } });
  const runMs: number[] = [];
  const statusMs: number[] = [];
  for (let r = 0; r < IN_PROCESS_REPS; r++) {
    let t = performance.now();
    const plan = await planPipeline(file, { cwd: dir });
    const res = await execute(plan, { runId: newRunId(), store: new Store(plan.storeDir), emit: () => undefined, isolation: 'inline' });
    if (res.counts.cached !== 50) throw new Error(`expected 50 cache hits, got ${JSON.stringify(res.counts)}`);
    runMs.push(performance.now() - t);
    t = performance.now();
    const plan2 = await planPipeline(file, { cwd: dir });
    computeStatus(plan2, new Store(plan2.storeDir));
    statusMs.push(performance.now() - t);
  }
  const wall = (args: string[]) => {
    const xs: number[] = [];
    for (let r = 0; r < CLI_REPS; r++) {
      const t = performance.now();
      try { execFileSync(process.execPath, [cli, ...args], { cwd: dir, env: { ...process.env, CI: '1' } }); } catch { /* status exits 1 when not all cached */ }
      xs.push(performance.now() - t);
    }
    return { median: +median(xs).toFixed(0), min: +min(xs).toFixed(0) };
  };
  const runWall = wall(['run', file]);
  const statusWall = wall(['status', file]);
  emit({ bench: 'engine-noop-run-50', engine_ms: +median(runMs).toFixed(1), engine_min_ms: +min(runMs).toFixed(1), cli_wall_ms: runWall.median, cli_wall_min_ms: runWall.min });
  emit({ bench: 'engine-status-50', engine_ms: +median(statusMs).toFixed(1), engine_min_ms: +min(statusMs).toFixed(1), cli_wall_ms: statusWall.median, cli_wall_min_ms: statusWall.min });
  const t = performance.now();
  execFileSync(process.execPath, ['-e', '0']);
  emit({ bench: 'node-startup', wall_ms: +(performance.now() - t).toFixed(0) });
}

function arrowIo(): void {
  const rows = 1_000_000;
  const cols: Record<string, Float32Array> = {};
  for (let c = 0; c < 20; c++) {
    const a = new Float32Array(rows);
    for (let i = 0; i < rows; i++) a[i] = Math.random();
    cols[`c${c}`] = a;
  }
  const table = tableFromArrays(cols);
  const dir = mkdtempSync(join(tmpdir(), 'iqlp-bench-io-'));
  const path = join(dir, 't.arrow');
  const raw = join(dir, 'raw.bin');
  const w: number[] = [], r: number[] = [], wr: number[] = [], rr: number[] = [];
  let bytes = 0;
  for (let k = 0; k < 3; k++) {
    let t = performance.now();
    const buf = encodeTable(table);
    writeFileDurable(path, buf);
    w.push(performance.now() - t);
    bytes = buf.byteLength;
    t = performance.now();
    const back = decodeTable(readFileSync(path));
    const col = back.getChild('c19')!.toArray() as Float32Array;
    if (col.length !== rows) throw new Error('bad read');
    r.push(performance.now() - t);
    t = performance.now();
    writeFileDurable(raw, buf);
    wr.push(performance.now() - t);
    t = performance.now();
    readFileSync(raw);
    rr.push(performance.now() - t);
  }
  const mbs = (ms: number) => +((bytes / 1e6) / (ms / 1000)).toFixed(0);
  emit({ bench: 'arrow-io-1Mx20-f32', mb: +(bytes / 1e6).toFixed(1), write_mb_s: mbs(median(w)), read_mb_s: mbs(median(r)), raw_fsync_write_mb_s: mbs(median(wr)), raw_read_mb_s: mbs(median(rr)), write_vs_raw: +(median(wr) / median(w)).toFixed(2), read_vs_raw: +(median(rr) / median(r)).toFixed(2) });
}

await engine();
if (!process.argv.includes('--engine-only')) arrowIo();

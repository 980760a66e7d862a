/**
 * Where the time of one IQL step goes on the native backend (tfjs-node on libtensorflow): every
 * call into the native binding is timed (executeOp, createTensor, deleteTensor, tensorDataSync),
 * grouped by what the op does, and set against the step's wall time and the per-op dispatch floor.
 *
 *   node dist/bench/profile-iql.js [--size small|note|all] [--steps N] [--backend node]
 *   node dist/bench/profile-iql.js --speed --size note [--steps N] [--backend …]
 *   node dist/bench/profile-iql.js --ops     (single kernels in isolation on one hidden layer's
 *                                              activations, [256, 256] and [1024, 512])
 *
 * Sizes (obs 4, act 2, maze2d):  small  2×256, batch 256, ReLU          (the default config)
 *                                 note   3×512, batch 1024, LayerNorm + mish (the research note's)
 *
 * How (per size, one process, the same IQL instance throughout):
 *  1. plain: `steps` steps unmeasured inside, wall time per step (ms);
 *  2. instrumented: the same number of steps with the binding's functions wrapped in
 *     process.hrtime; per native op name its count, total time and, for matmuls, FLOPs (shapes
 *     are tracked by tensor id); everything outside those calls is tfjs's JavaScript (engine
 *     bookkeeping, tidy, attribute building, the hand-written passes' glue);
 *  3. plain again (the two plain rounds bracket the instrumented one: drift shows as their gap);
 *  4. the dispatch floor: one AddV2 of two 1-element tensors straight through the binding (plus
 *     deleting its output), and the same through tf.add (plus dispose): the cost of any op before
 *     it does any arithmetic.
 * "compute above the floor" of a group = its native time − its calls × the native floor.
 *
 * --speed repeats bench/iql-speed.ts's measurement (same data, warm-up and 50-step chunks, same JSON
 * fields) at either size and adds the process's cpu_per_wall; it is what compare-peers.sh runs for
 * ours until iql-speed.ts takes a size and reports CPU time itself, and can go then.
 *
 * Prints one JSON line per size on stdout and a Markdown table per size on stderr. Without
 * tfjs-node (the 'tensorflow' backend) there is no binding to time: it says so and exits 2
 * (--speed works on any backend).
 */
import * as tf from '@tensorflow/tfjs';
import { initBackend, type BackendPreference } from '../src/rl/nn/backend.js';
import { createIQL, type IQLConfig } from '../src/rl/algos/iql.js';
import { syntheticTransitions } from '../src/rl/algos/fixtures.js';

function arg(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1]! : def;
}

export const SIZES = {
  small: { hidden: [256, 256], batchSize: 256, activation: 'relu', layerNorm: false },
  note: { hidden: [512, 512, 512], batchSize: 1024, activation: 'mish', layerNorm: true },
} satisfies Record<string, Partial<IQLConfig>>;
type SizeName = keyof typeof SIZES;

/** The part of tfjs-node's binding that the backend calls for every op. */
interface Attr {
  name: string;
  type: number;
  value: unknown;
}
interface Meta {
  id: number;
  shape: number[];
  dtype: number;
}
interface Binding {
  executeOp(name: string, attrs: Attr[], inputs: number[], numOutputs: number): Meta[];
  createTensor(shape: number[], dtype: number, values: unknown): number;
  deleteTensor(id: number): void;
  tensorDataSync(id: number): unknown;
  TF_FLOAT: number;
  TF_ATTR_TYPE: number;
}

type Group = 'matmul' | 'elementwise (activations)' | 'elementwise (parameter vector)' | 'reductions' | 'gather/concat/split/reshape' | 'uploads' | 'deletes' | 'readbacks';
/** Binding calls that run no kernel. */
const BOOKKEEPING = new Set<Group>(['uploads', 'deletes', 'readbacks']);
const GROUPS: Group[] = ['matmul', 'elementwise (activations)', 'elementwise (parameter vector)', 'reductions', 'gather/concat/split/reshape', 'uploads', 'deletes', 'readbacks'];
const MATMUL = new Set(['MatMul', 'BatchMatMul', 'BatchMatMulV2', 'BatchMatMulV3']);
const REDUCE = new Set(['Sum', 'Mean', 'Min', 'Max', 'Prod', 'ArgMax', 'ArgMin', 'All', 'Any']);
const MOVE = new Set(['GatherV2', 'ConcatV2', 'Split', 'SplitV', 'Slice', 'StridedSlice', 'Reshape', 'Identity', 'Pack', 'Unpack', 'Transpose', 'Tile', 'ExpandDims', 'Squeeze', 'Fill', 'ZerosLike', 'OnesLike', 'Cast']);
/** A 1-D output at least this long is an op over the flat parameter vector (Adam, Polyak, the gradient concat). */
const PARAM_VECTOR_MIN = 10_000;

interface OpStat {
  group: Group;
  calls: number;
  ms: number;
  flops: number;
}

/**
 * Times the backend's binding calls. The native module's functions are read-only properties, so
 * the backend's `binding` field is swapped for an object that inherits from the binding and
 * defines timed versions of the four functions.
 */
class BindingTimer {
  readonly ops = new Map<string, OpStat>();
  private readonly shapes = new Map<number, number[]>();
  constructor(
    private readonly backend: { binding: Binding },
    private readonly b: Binding,
  ) {}

  private add(key: string, group: Group, ms: number, flops = 0): void {
    const s = this.ops.get(key) ?? { group, calls: 0, ms: 0, flops: 0 };
    s.calls += 1;
    s.ms += ms;
    s.flops += flops;
    this.ops.set(key, s);
  }

  install(): void {
    const b = this.b;
    const orig = { executeOp: b.executeOp, createTensor: b.createTensor, deleteTensor: b.deleteTensor, tensorDataSync: b.tensorDataSync };
    const w: Binding = Object.create(b);
    const define = <K extends keyof typeof orig>(k: K, f: Binding[K]) => Object.defineProperty(w, k, { value: f });
    define('executeOp', (name, attrs, inputs, n) => {
      const t0 = process.hrtime.bigint();
      const out = orig.executeOp.call(b, name, attrs, inputs, n);
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      for (const m of out) this.shapes.set(m.id, m.shape);
      const group = this.groupOf(name, out);
      this.add(group === 'elementwise (parameter vector)' ? `${name} [params]` : name, group, ms, MATMUL.has(name) ? this.matmulFlops(name, attrs, inputs, out) : 0);
      return out;
    });
    define('createTensor', (shape, dtype, values) => {
      const t0 = process.hrtime.bigint();
      const id = orig.createTensor.call(b, shape, dtype, values);
      this.add('(createTensor)', 'uploads', Number(process.hrtime.bigint() - t0) / 1e6);
      this.shapes.set(id, shape);
      return id;
    });
    define('deleteTensor', (id) => {
      const t0 = process.hrtime.bigint();
      orig.deleteTensor.call(b, id);
      this.add('(deleteTensor)', 'deletes', Number(process.hrtime.bigint() - t0) / 1e6);
      this.shapes.delete(id);
    });
    define('tensorDataSync', (id) => {
      const t0 = process.hrtime.bigint();
      const v = orig.tensorDataSync.call(b, id);
      this.add('(tensorDataSync)', 'readbacks', Number(process.hrtime.bigint() - t0) / 1e6);
      return v;
    });
    this.backend.binding = w;
  }

  uninstall(): void {
    this.backend.binding = this.b;
  }

  private groupOf(name: string, out: Meta[]): Group {
    if (MATMUL.has(name)) return 'matmul';
    if (REDUCE.has(name)) return 'reductions';
    if (MOVE.has(name)) return 'gather/concat/split/reshape';
    const sh = out[0]?.shape ?? [];
    return sh.length === 1 && sh[0]! >= PARAM_VECTOR_MIN ? 'elementwise (parameter vector)' : 'elementwise (activations)';
  }

  /** 2·M·N·K per matrix of the (batched) product; K from the first operand and its adjoint flag. */
  private matmulFlops(name: string, attrs: Attr[], inputs: number[], out: Meta[]): number {
    const a = this.shapes.get(inputs[0]!);
    const o = out[0]?.shape;
    if (!a || !o) return 0;
    const adj = attrs.find((x) => x.name === (name === 'MatMul' ? 'transpose_a' : 'adj_x'))?.value === true;
    const K = adj ? a[a.length - 2]! : a[a.length - 1]!;
    return 2 * o.reduce((p, d) => p * d, 1) * K;
  }
}

function nativeBackend(): { binding: Binding } | null {
  if (tf.getBackend() !== 'tensorflow') return null;
  return tf.backend() as unknown as { binding: Binding };
}

/** µs per op of the dispatch floor: straight through the binding, and through tf.add. */
function dispatchFloor(b: Binding, reps: number): { nativeUs: number; tfjsUs: number } {
  const attrs: Attr[] = [{ name: 'T', type: b.TF_ATTR_TYPE, value: b.TF_FLOAT }];
  const x = b.createTensor([1], b.TF_FLOAT, new Float32Array([1]));
  const y = b.createTensor([1], b.TF_FLOAT, new Float32Array([2]));
  const native = () => {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < reps; i++) b.deleteTensor(b.executeOp('AddV2', attrs, [x, y], 1)[0]!.id);
    return Number(process.hrtime.bigint() - t0) / 1e3 / reps;
  };
  const a = tf.tensor1d([1]);
  const c = tf.tensor1d([2]);
  const viaTf = () => {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < reps; i++) tf.add(a, c).dispose();
    return Number(process.hrtime.bigint() - t0) / 1e3 / reps;
  };
  native();
  viaTf(); // warm-up
  // Two alternating rounds, the minimum of each: the floor, not the load's noise.
  const n = Math.min(native(), native());
  const t = Math.min(viaTf(), viaTf());
  b.deleteTensor(x);
  b.deleteTensor(y);
  a.dispose();
  c.dispose();
  return { nativeUs: n, tfjsUs: t };
}

function timeSteps(iql: ReturnType<typeof createIQL>, steps: number, chunk: number): number {
  const t0 = performance.now();
  for (let done = 0; done < steps; done += chunk) iql.step(Math.min(chunk, steps - done));
  return (performance.now() - t0) / steps;
}

const r2 = (x: number) => Math.round(x * 100) / 100;
const r3 = (x: number) => Math.round(x * 1000) / 1000;

async function profileSize(size: SizeName, steps: number, be: { binding: Binding }, backendName: string): Promise<void> {
  const cfg = SIZES[size];
  const data = syntheticTransitions(100_000, 4, 2);
  const iql = createIQL(data, cfg, 0);
  const chunk = 50;
  const b = be.binding;
  iql.step(10); // warm-up: kernel setup, first allocations
  const load0 = (await import('node:os')).loadavg()[0]!;
  const plain1 = timeSteps(iql, steps, chunk);
  const timer = new BindingTimer(be, b);
  timer.install();
  const t0 = performance.now();
  for (let done = 0; done < steps; done += chunk) iql.step(Math.min(chunk, steps - done));
  const instrumented = (performance.now() - t0) / steps;
  timer.uninstall();
  const plain2 = timeSteps(iql, steps, chunk);
  const floor = dispatchFloor(b, 20_000);
  const load1 = (await import('node:os')).loadavg()[0]!;
  iql.dispose();

  const groups = new Map<Group, { calls: number; ms: number; flops: number }>(GROUPS.map((g) => [g, { calls: 0, ms: 0, flops: 0 }]));
  for (const s of timer.ops.values()) {
    const g = groups.get(s.group)!;
    g.calls += s.calls;
    g.ms += s.ms;
    g.flops += s.flops;
  }
  const per = (x: number) => x / steps;
  const nativeMs = per([...groups.values()].reduce((a, g) => a + g.ms, 0));
  const nativeCalls = per([...groups.values()].reduce((a, g) => a + g.calls, 0));
  // Kernels: executeOp calls. The floor (one AddV2 + deleting its output) is charged per kernel;
  // uploads, deletes and readbacks are counted at their own measured time.
  const kernels = per(GROUPS.filter((g) => !BOOKKEEPING.has(g)).reduce((a, g) => a + groups.get(g)!.calls, 0));
  const jsMs = instrumented - nativeMs;
  const rows = GROUPS.map((name) => {
    const g = groups.get(name)!;
    const ms = per(g.ms);
    const calls = per(g.calls);
    return {
      group: name,
      calls: r2(calls),
      ms: r3(ms),
      share: r3(ms / instrumented),
      aboveFloorMs: BOOKKEEPING.has(name) ? null : r3(Math.max(0, ms - (calls * floor.nativeUs) / 1000)),
      ...(g.flops > 0 ? { gflops: r2(g.flops / steps / 1e9), gflopPerS: r2(g.flops / g.ms / 1e6) } : {}),
    };
  });
  const topOps = [...timer.ops.entries()]
    .sort((x, y) => y[1].ms - x[1].ms)
    .slice(0, 16)
    .map(([op, s]) => ({ op, group: s.group, calls: r2(per(s.calls)), ms: r3(per(s.ms)), usPerCall: r2((s.ms / s.calls) * 1000) }));
  const bookkeepingMs = per(GROUPS.filter((g) => BOOKKEEPING.has(g)).reduce((a, g) => a + groups.get(g)!.ms, 0));
  const dispatchMs = (kernels * floor.nativeUs) / 1000;
  const overheadMs = dispatchMs + bookkeepingMs + jsMs;
  const result = {
    bench: 'profile-iql',
    backend: backendName,
    threads: Number(process.env['TF_NUM_INTRAOP_THREADS']) || undefined,
    size,
    hidden: cfg.hidden,
    batch: cfg.batchSize,
    activation: cfg.activation,
    layerNorm: cfg.layerNorm,
    steps,
    msPerStep: { plainBefore: r3(plain1), instrumented: r3(instrumented), plainAfter: r3(plain2) },
    stepsPerSec: r2(2000 / (plain1 + plain2)),
    kernelsPerStep: r2(kernels),
    nativeCallsPerStep: r2(nativeCalls),
    nativeMsPerStep: r3(nativeMs),
    jsOutsideBindingMsPerStep: r3(jsMs),
    floorUs: { native: r2(floor.nativeUs), tfjs: r2(floor.tfjsUs) },
    /** kernels × the native floor + uploads, deletes, readbacks + the JavaScript outside the binding */
    overheadMsPerStep: r3(overheadMs),
    overheadShare: r3(overheadMs / instrumented),
    /** what is left: the kernels' time above the floor (arithmetic and memory traffic) */
    computeMsPerStep: r3(instrumented - overheadMs),
    groups: rows,
    topOps,
    loadavg1: [load0, load1].map(r2),
  };
  console.log(JSON.stringify(result));

  const pct = (x: number) => `${(100 * x).toFixed(1)} %`;
  const lines = [
    `### ${size}: ${cfg.hidden.length}×${cfg.hidden[0]}, batch ${cfg.batchSize}, ${cfg.layerNorm ? 'LayerNorm + ' : ''}${cfg.activation} — ${r2(instrumented)} ms/step instrumented (plain ${r2(plain1)} / ${r2(plain2)}), load ${r2(load0)}–${r2(load1)}`,
    '',
    '| group | native calls/step | ms/step | share of step | above the dispatch floor (ms) | GFLOP/s |',
    '|---|---:|---:|---:|---:|---:|',
    ...rows.map((r) => `| ${r.group} | ${r.calls} | ${r.ms} | ${pct(r.share)} | ${r.aboveFloorMs ?? ''} | ${'gflopPerS' in r ? r.gflopPerS : ''} |`),
    `| JavaScript outside the binding (tfjs engine, glue) | | ${r3(jsMs)} | ${pct(jsMs / instrumented)} | | |`,
    `| **total** | ${r2(nativeCalls)} | ${r3(instrumented)} | 100 % | | |`,
    '',
    `${r2(kernels)} kernels per step. Dispatch floor: ${r2(floor.nativeUs)} µs per kernel (binding AddV2 on 1 element + deleting its output), ${r2(floor.tfjsUs)} µs through tf.add + dispose. ` +
      `Overhead = kernels × floor ${r3(dispatchMs)} + uploads/deletes/readbacks ${r3(bookkeepingMs)} + JS outside the binding ${r3(jsMs)} = ${r3(overheadMs)} ms (${pct(overheadMs / instrumented)} of the step); ` +
      `kernels above the floor ${r3(instrumented - overheadMs)} ms (${pct(1 - overheadMs / instrumented)}).`,
    '',
    'top ops: ' + topOps.slice(0, 10).map((o) => `${o.op} ${o.calls}× ${o.ms} ms (${o.usPerCall} µs)`).join('; '),
    '',
  ];
  console.error(lines.join('\n'));
}

async function speed(size: SizeName, steps: number, prefer: BackendPreference | undefined): Promise<void> {
  const backend = await initBackend(prefer);
  const cfg = SIZES[size];
  const iql = createIQL(syntheticTransitions(100_000, 4, 2), cfg, 0);
  iql.step(5);
  const before = tf.memory().numTensors;
  const cpu0 = process.cpuUsage();
  const ms = timeSteps(iql, steps, 50);
  const cpu = process.cpuUsage(cpu0);
  const m = iql.metrics();
  console.log(
    JSON.stringify({
      bench: 'iql-speed',
      backend: backend.name,
      threads: backend.threads,
      stepsPerSec: r2(1000 / ms),
      /** CPU seconds of the whole process (all threads) per wall second over the timed steps */
      cpu_per_wall: r3((cpu.user + cpu.system) / 1000 / (ms * steps)),
      steps,
      size,
      batch: cfg.batchSize,
      hidden: cfg.hidden,
      activation: cfg.activation,
      layerNorm: cfg.layerNorm,
      obsDim: 4,
      actDim: 2,
      tensorLeak: tf.memory().numTensors - before,
      finite: Number.isFinite(m.q1Loss) && Number.isFinite(m.vLoss),
    }),
  );
  iql.dispose();
}

/**
 * Single kernels in isolation on a hidden layer's activations: each run `reps` times through tf
 * (intermediates and result disposed), µs per call, median of 3 rounds. Among them the mish activation as the step
 * runs it (tanh(softplus(n)), then n·t) and as the same function from one exp,
 * tanh(softplus(n)) = e(e + 2)/(e(e + 2) + 2) with e = exp(min(n, 20)), for comparison.
 */
async function ops(prefer: BackendPreference | undefined): Promise<void> {
  const backend = await initBackend(prefer ?? 'node');
  const load0 = (await import('node:os')).loadavg()[0]!;
  const rows: Record<string, Record<string, number>> = {};
  for (const [B, H] of [[256, 256], [1024, 512]] as const) {
    const x = tf.randomNormal([B, H]) as tf.Tensor2D;
    const y = tf.randomNormal([B, H]) as tf.Tensor2D;
    const W = tf.randomNormal([H, H]) as tf.Tensor2D;
    const kernels: Record<string, () => tf.Tensor> = {
      'matMul [B,H]·[H,H]': () => tf.matMul(x, W),
      add: () => tf.add(x, y),
      mul: () => tf.mul(x, y),
      relu: () => tf.relu(x),
      exp: () => tf.exp(x),
      tanh: () => tf.tanh(x),
      sigmoid: () => tf.sigmoid(x),
      softplus: () => tf.softplus(x),
      'mish as the step runs it (softplus, tanh, mul)': () => tf.mul(x, tf.tanh(tf.softplus(x))),
      'mish from one exp (min, exp, add, mul, add, div, mul)': () => {
        const e = tf.exp(tf.minimum(x, 20));
        const n = tf.mul(e, tf.add(e, 2));
        return tf.mul(x, tf.div(n, tf.add(n, 2)));
      },
      'layerNorm forward (mean, sub, square, mean, add, rsqrt, mul)': () => {
        const d = tf.sub(x, tf.mean(x, -1, true));
        return tf.mul(d, tf.rsqrt(tf.add(tf.mean(tf.square(d), -1, true), 1e-6)));
      },
    };
    const reps = B * H > 100_000 ? 40 : 200;
    const out: Record<string, number> = {};
    for (const [name, f] of Object.entries(kernels)) {
      const once = () => tf.tidy(f).dispose(); // tidy keeps what f returns
      once(); // warm-up
      const times: number[] = [];
      for (let round = 0; round < 3; round++) {
        const t0 = process.hrtime.bigint();
        for (let i = 0; i < reps; i++) once();
        times.push(Number(process.hrtime.bigint() - t0) / 1e3 / reps);
      }
      out[name] = r2(times.sort((a, b) => a - b)[1]!);
    }
    rows[`[${B},${H}]`] = out;
    tf.dispose([x, y, W]);
  }
  const load1 = (await import('node:os')).loadavg()[0]!;
  console.log(JSON.stringify({ bench: 'profile-iql-ops', backend: backend.name, usPerCall: rows, loadavg1: [load0, load1].map(r2) }));
  const shapes = Object.keys(rows);
  console.error(
    [`| kernel (µs per call, load ${r2(load0)}–${r2(load1)}) | ${shapes.join(' | ')} |`, `|---|${shapes.map(() => '---:').join('|')}|`]
      .concat(Object.keys(rows[shapes[0]!]!).map((k) => `| ${k} | ${shapes.map((s) => rows[s]![k]).join(' | ')} |`))
      .join('\n'),
  );
}

async function main(): Promise<void> {
  const sizeArg = arg('size', 'all');
  const sizes: SizeName[] = sizeArg === 'all' ? ['small', 'note'] : [sizeArg as SizeName];
  for (const s of sizes) if (!(s in SIZES)) throw new Error(`--size: ${s} (small | note | all)`);
  const prefer = (arg('backend', '') || undefined) as BackendPreference | undefined;
  const stepsArg = arg('steps', '');
  const stepsOf = (s: SizeName) => (stepsArg ? Number(stepsArg) : s === 'small' ? 300 : 60);
  if (process.argv.includes('--ops')) return ops(prefer);
  if (process.argv.includes('--speed')) {
    for (const s of sizes) await speed(s, stepsOf(s), prefer);
    return;
  }
  const backend = await initBackend(prefer ?? 'node');
  const be = nativeBackend();
  if (!be) {
    console.error(`profile-iql: the active backend is '${backend.name}'; the profile times tfjs-node's native binding (needs the 'tensorflow' backend)`);
    process.exit(2);
  }
  for (const s of sizes) await profileSize(s, stepsOf(s), be, backend.name);
}

await main();

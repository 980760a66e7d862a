/**
 * The chunked, checkpointing training loop shared by fit-iql and extract-policy: runs `step(n)`
 * in chunks, logs mean metrics every `logEvery` steps as a curve and as metric events, saves the
 * full learner state every `checkpointEvery` steps (and when interrupted), and resumes from the
 * latest checkpoint with the same curve, so an interrupted run ends with the same result shape.
 * It also samples the process's resident set size at the progress cadence (every chunk) and
 * returns its peak: the stages report it as `peak_rss_mb`.
 */
import { tableFromArrays, type Table } from 'apache-arrow';
import type { StageContext } from '../../src/engine/stage.js';

/** A learner's resumable state: one table, or several named ones (a critic and an actor trained together). */
export type LearnerState = Table | Record<string, Table>;

export interface Learner<S extends LearnerState = Table, M extends string = string> {
  /** n steps; the mean metrics over them (at least the logged ones). */
  step(n: number): Readonly<Record<M, number>>;
  exportState(): S;
  importState(t: S): void;
}

export interface LoopOptions<M extends string = string> {
  steps: number;
  logEvery: number;
  checkpointEvery: number;
  /** Metric names to log (keys of step()'s result); others are ignored. */
  metrics: readonly M[];
  /** Prefix of metric event names, e.g. "iql/". */
  prefix: string;
}

export interface LoopResult<M extends string = string> {
  curve: Table;
  /** The last logged value of each metric. */
  last: Partial<Record<M, number>>;
  resumedFrom: number;
  /**
   * Peak resident set size in MiB, sampled when the loop starts (the learner and its data already
   * built) and after every chunk. It is the whole process's: a stage running in an executor
   * worker thread shares it with the main thread and any other worker running at the same time.
   */
  peakRssMb: number;
}

const CHUNK = 100; // steps between signal checks and progress reports

/** What the loop uses of a stage's context. */
export type LoopContext = Pick<StageContext, 'checkpoint' | 'signal' | 'progress' | 'metric' | 'log'>;

export async function trainLoop<S extends LearnerState, M extends string>(ctx: LoopContext, learner: Learner<S, M>, o: LoopOptions<M>): Promise<LoopResult<M>> {
  let step = 0;
  const cSteps: number[] = [];
  const cMetric: string[] = [];
  const cValue: number[] = [];
  const ck = await ctx.checkpoint.latest();
  if (ck) {
    learner.importState(readState<S>(ck.tables));
    const c = ck.tables['curve']!;
    cSteps.push(...Array.from(c.getChild('step')!.toArray() as Int32Array));
    for (const m of c.getChild('metric')!) cMetric.push(String(m));
    cValue.push(...Array.from(c.getChild('value')!.toArray() as Float64Array));
    step = ck.step;
    ctx.log(`resumed from checkpoint at step ${step}`);
  }
  const resumedFrom = step;
  const curveTable = () => tableFromArrays({ step: Int32Array.from(cSteps), metric: cMetric, value: Float64Array.from(cValue) });
  const save = () => ctx.checkpoint.save({ step, tables: { ...stateTables(learner.exportState()), curve: curveTable() }, meta: {} });
  const acc = new Map<M, { sum: number; n: number }>();
  const last: Partial<Record<M, number>> = {};
  let lastSaved = step;
  let peakRss = process.memoryUsage.rss();
  ctx.progress(step, o.steps);
  while (step < o.steps) {
    if (ctx.signal.aborted) {
      if (step > lastSaved) await save();
      throw new Error(`interrupted at step ${step} (checkpoint saved)`);
    }
    const toLog = o.logEvery - (step % o.logEvery);
    const n = Math.min(CHUNK, toLog, o.steps - step);
    const m = learner.step(n);
    step += n;
    for (const k of o.metrics) {
      const v = m[k];
      if (v === undefined || !Number.isFinite(v)) continue;
      const a = acc.get(k) ?? { sum: 0, n: 0 };
      a.sum += v * n;
      a.n += n;
      acc.set(k, a);
    }
    if (step % o.logEvery === 0 || step === o.steps) {
      for (const [k, a] of acc) {
        const v = a.sum / a.n;
        cSteps.push(step);
        cMetric.push(k);
        cValue.push(v);
        last[k] = v;
        ctx.metric(`${o.prefix}${k}`, v, step);
      }
      acc.clear();
    }
    if (step % o.checkpointEvery === 0 && step < o.steps) {
      await save();
      lastSaved = step;
    }
    peakRss = Math.max(peakRss, process.memoryUsage.rss());
    ctx.progress(step, o.steps);
    // Let the event loop deliver progress messages and the abort signal.
    await new Promise((r) => setImmediate(r));
  }
  return { curve: curveTable(), last, resumedFrom, peakRssMb: Math.round((peakRss / 2 ** 20) * 10) / 10 };
}

/** Checkpoint tables of a state: `state`, or `state/<name>` for each part of a named state. */
function stateTables(state: LearnerState): Record<string, Table> {
  if (isTable(state)) return { state };
  return Object.fromEntries(Object.entries(state).map(([name, t]) => [`state/${name}`, t]));
}

function readState<S extends LearnerState>(tables: Record<string, Table>): S {
  if (tables['state']) return tables['state'] as S;
  const parts = Object.entries(tables).filter(([k]) => k.startsWith('state/'));
  if (parts.length === 0) throw new Error('checkpoint holds no learner state');
  return Object.fromEntries(parts.map(([k, t]) => [k.slice('state/'.length), t])) as S;
}

function isTable(x: LearnerState): x is Table {
  return typeof (x as Table).getChild === 'function' && typeof (x as Table).numRows === 'number';
}

/** Copies of a table with extra schema metadata (e.g. the env id a policy was trained for). */
export async function withMetadata(table: Table, extra: Record<string, string>): Promise<Table> {
  const arrow = await import('apache-arrow');
  const metadata = new Map(table.schema.metadata);
  for (const [k, v] of Object.entries(extra)) metadata.set(k, v);
  const schema = new arrow.Schema(table.schema.fields, metadata);
  return new arrow.Table(schema, table.batches.map((b) => new arrow.RecordBatch(schema, b.data)));
}

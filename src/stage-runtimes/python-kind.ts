/**
 * Python stage kinds: `uses: ./stages/foo.py`, a module declaring kind, version, description,
 * params (JSON Schema), inputs, outputs and `run(ctx)` (python/iqlp/runner.py). The engine
 * describes the module once when planning (`python -m iqlp.runner describe`), then runs it in a
 * child process that talks to this side over line-delimited JSON (python/iqlp/protocol.py):
 * events become the stage's progress, metrics and log, checkpoint requests go to the store's
 * checkpointer, and the outputs it writes into the scratch directory become the stage's result —
 * only after a `done` message and a zero exit, so a crash never leaves an entry.
 *
 * The kind's version is the module's own `version` plus a digest of its source and of the iqlp
 * runtime modules it loads (python-imports.ts), so editing either reruns its instances, as for a
 * JavaScript user module.
 */
import { execFile } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import type { InputArtifact, JsonSchema, PortSpec, ResolvedKind, StageContext, StageKind, StageResult } from '../engine/stage.js';
import { decodeTable, encodeTable } from '../store/arrow-io.js';
import { describeExit, lineSplitter, startChild } from './child.js';
import { checkEvent, forwardEvent } from './events.js';
import { moduleUrlWithSpec, siblingUrl } from './module-url.js';
import { readOutputFile } from './outputs.js';
import { childEnv, iqlpPackageDir } from './python-env.js';
import { pythonSourceDigest } from './python-imports.js';

export interface PythonDescription {
  kind: string;
  version: string;
  description: string;
  params: JsonSchema;
  inputs: Record<string, PortSpec>;
  outputs: Record<string, PortSpec & { ext?: string }>;
}

export interface PythonStageSpec {
  file: string;
  python: string;
  desc: PythonDescription;
  /** sha256 of the module source and the iqlp runtime when the run was planned. */
  digest: string;
}

interface DoneMessage { outputs: Record<string, { path: string; ext: string }>; summary: Record<string, number> }
interface PythonError { exception: string; message: string; file: string; line: number | null; function: string | null; traceback: string }

const DESCRIBE_MARK = '::iqlp-describe::';
const GRACE_MS = 10_000;

/** Digest of what a Python stage's results depend on besides its inputs and parameters. */
export function pythonCodeDigest(file: string): string {
  return pythonSourceDigest(file, join(iqlpPackageDir(), 'iqlp'));
}

function display(file: string): string {
  const r = relative(process.cwd(), file);
  return r.startsWith('..') ? file : r;
}

/** "stages/foo.py:12 in run: ValueError: bad value", then the Python traceback. */
export function formatPythonError(e: PythonError): string {
  const where = `${display(e.file)}${e.line ? `:${e.line}` : ''}${e.function && e.function !== '<module>' ? ` in ${e.function}` : ''}`;
  return `${where}: ${e.exception}: ${e.message}\n${e.traceback.trimEnd()}`;
}

function describeModule(file: string, python: string): Promise<PythonDescription> {
  return new Promise((resolve, reject) => {
    execFile(python, ['-m', 'iqlp.runner', 'describe', file], { env: childEnv(python), maxBuffer: 16 << 20, timeout: 120_000 }, (err, stdout, stderr) => {
      const line = stdout.split('\n').reverse().find((l) => l.startsWith(DESCRIBE_MARK));
      if (!line) {
        const why = err ? (err as NodeJS.ErrnoException).code === 'ENOENT' ? `interpreter '${python}' not found (set python: in the pipeline file, or IQLP_PYTHON; bash scripts/setup.sh makes .venv)` : err.message : 'no description printed';
        reject(new Error(`cannot describe Python stage ${display(file)}: ${why}${stderr.trim() ? `\n${stderr.trim()}` : ''}`));
        return;
      }
      const d = JSON.parse(line.slice(DESCRIBE_MARK.length)) as Record<string, unknown>;
      if (d['type'] === 'error') {
        reject(new Error(`Python stage module ${formatPythonError(d as unknown as PythonError)}`));
        return;
      }
      const problems: string[] = [];
      if (typeof d['kind'] !== 'string') problems.push('`kind` must be a string');
      if (typeof d['version'] !== 'string') problems.push('`version` must be a string');
      if (typeof d['params'] !== 'object' || d['params'] === null) problems.push('`params` must be a JSON Schema dict');
      if (typeof d['inputs'] !== 'object' || d['inputs'] === null) problems.push('`inputs` must be a dict');
      if (typeof d['outputs'] !== 'object' || d['outputs'] === null) problems.push('`outputs` must be a dict');
      if (d['has_run'] !== true) problems.push('`run(ctx)` must be a function');
      if (problems.length > 0) reject(new Error(`Python module ${display(file)} is not a stage kind: ${problems.join('; ')}`));
      else resolve({ ...(d as unknown as PythonDescription), description: typeof d['description'] === 'string' ? d['description'] : '' });
    });
  });
}

export async function resolvePythonKind(file: string, python: string): Promise<ResolvedKind> {
  if (!existsSync(file)) throw new Error(`stage module not found: ${file}`);
  const spec: PythonStageSpec = { file, python, desc: await describeModule(file, python), digest: pythonCodeDigest(file) };
  return { id: file, moduleUrl: moduleUrlWithSpec(siblingUrl(import.meta.url, 'python-stage'), spec), kind: pythonKind(spec) };
}

export function pythonKind(spec: PythonStageSpec): StageKind<Record<string, unknown>> {
  const d = spec.desc;
  return {
    kind: d.kind,
    version: `${d.version}+py.${spec.digest.slice(0, 16)}`,
    description: d.description,
    params: d.params,
    inputs: d.inputs,
    outputs: d.outputs,
    run: (ctx) => runPythonStage(spec, ctx),
  };
}

async function runPythonStage(spec: PythonStageSpec, ctx: StageContext<Record<string, unknown>>): Promise<StageResult> {
  if (pythonCodeDigest(spec.file) !== spec.digest) throw new Error(`${display(spec.file)} (or the iqlp package) changed while the run was in progress; run again`);
  const summary: Record<string, number> = {};
  // Set by the message handler: the stage's result, or its exception.
  const end: { done?: DoneMessage; failure?: PythonError } = {};
  const running = startChild({
    command: spec.python, args: ['-m', 'iqlp.runner', 'run', spec.file], cwd: process.cwd(), env: childEnv(spec.python),
    signal: ctx.signal, graceMs: GRACE_MS, extraStdio: ['pipe'],
    onLine: (text) => ctx.log(text),
  });
  const toPython = running.child.stdin as Writable;
  const reply = (id: number, body: Record<string, unknown>) => toPython.write(`${JSON.stringify({ type: 'reply', id, ...body })}\n`);
  const requests: Promise<void>[] = [];

  const onMessage = (line: string) => {
    let m: Record<string, unknown>;
    try {
      m = JSON.parse(line) as Record<string, unknown>;
    } catch {
      ctx.log(`(unreadable message from the Python stage) ${line}`);
      return;
    }
    const id = Number(m['id']);
    switch (m['type']) {
      case 'done': end.done = m as unknown as DoneMessage; return;
      case 'error': end.failure = m as unknown as PythonError; return;
      case 'checkpoint_latest':
        requests.push(latestCheckpoint(ctx).then((checkpoint) => reply(id, { checkpoint }), (e: Error) => reply(id, { error: e.message })).then(() => {}));
        return;
      case 'checkpoint_save':
        requests.push(saveCheckpoint(ctx, m).then(() => reply(id, { ok: true }), (e: Error) => reply(id, { error: e.message })).then(() => {}));
        return;
    }
    const checked = checkEvent(m);
    if ('error' in checked) ctx.log(`(ignored a malformed message from the Python stage: ${checked.error}) ${line}`);
    else forwardEvent(ctx, checked.event, summary);
  };
  const messages = lineSplitter(onMessage);
  const fd3 = running.child.stdio[3] as Readable;
  fd3.on('data', (d: Buffer) => messages.push(d));
  fd3.on('end', () => messages.end());

  toPython.write(`${JSON.stringify({
    type: 'start', params: ctx.params, seed: ctx.seed, instance: ctx.instance, cache_key: ctx.cacheKey, scratch_dir: ctx.scratchDir,
    inputs: Object.fromEntries(Object.entries(ctx.inputs).map(([n, a]) => [n, { many: Array.isArray(a), items: (Array.isArray(a) ? a : [a]).map(portable) }])),
  })}\n`);

  const exit = await running.exit;
  await Promise.allSettled(requests);
  const stage = `Python stage ${display(spec.file)}`;
  if (exit.aborted) throw new Error(`interrupted (${stage} ${describeExit(exit)})`);
  if (end.failure) throw new Error(formatPythonError(end.failure));
  if (exit.code !== 0 || !end.done) {
    const tail = exit.stderrTail.slice(-10).join('\n');
    throw new Error(`${stage} ${exit.code === 0 ? 'exited without a result' : `crashed: the process ${describeExit(exit)}`}${tail ? `\n${tail}` : ''}`);
  }
  const result = end.done;
  const outputs: StageResult['outputs'] = {};
  for (const [name, o] of Object.entries(result.outputs)) outputs[name] = readOutputFile(name, o.path, o.ext);
  return { outputs, summary: { ...summary, ...result.summary } };
}

function portable(a: InputArtifact) {
  return { instance: a.instance, output: a.output, path: a.path, digest: a.digest, kind: a.kind, matrix: a.matrix, params: a.params };
}

/** The store's latest checkpoint, its tables written as Arrow files for the Python side to read. */
async function latestCheckpoint(ctx: StageContext<unknown>): Promise<{ step: number; meta: Record<string, unknown>; tables: Record<string, string> } | null> {
  const ck = await ctx.checkpoint.latest();
  if (!ck) return null;
  const tables: Record<string, string> = {};
  let i = 0;
  for (const [name, t] of Object.entries(ck.tables)) {
    const p = join(ctx.scratchDir, `resume-${i++}.arrow`);
    writeFileSync(p, encodeTable(t));
    tables[name] = p;
  }
  return { step: ck.step, meta: ck.meta, tables };
}

async function saveCheckpoint(ctx: StageContext<unknown>, m: Record<string, unknown>): Promise<void> {
  const paths = m['tables'] as Record<string, string>;
  const tables = Object.fromEntries(Object.entries(paths).map(([n, p]) => [n, decodeTable(readFileSync(p))]));
  await ctx.checkpoint.save({ step: Number(m['step']), tables, meta: (m['meta'] as Record<string, unknown>) ?? {} });
  for (const p of Object.values(paths)) rmSync(p, { force: true });
}


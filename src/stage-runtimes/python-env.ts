/**
 * Which Python runs a pipeline's Python and command stages, and the environment it gets.
 *
 * The interpreter, first match wins:
 *   1. IQLP_PYTHON (an interpreter or a venv directory), for a one-off override;
 *   2. `python:` in the pipeline file, resolved against the pipeline file's directory;
 *   3. `.venv/` in the working directory (the user's project venv);
 *   4. this tool's `.venv/` (made by scripts/setup.sh, with pyarrow and numpy);
 *   5. `python3` on PATH.
 * A venv directory stands for its `bin/python`. The shipped `iqlp` package (python/) is put on
 * PYTHONPATH, so an interpreter only needs pyarrow and numpy, not an install of iqlp.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { delimiter, dirname, isAbsolute, join, resolve } from 'node:path';
import { parse } from 'yaml';
import { projectRoot } from '../engine/stage-schema.js';

export function iqlpPackageDir(): string {
  return join(projectRoot(), 'python');
}

/** A path to an interpreter or a venv directory → the interpreter; bare names are left to PATH. */
function interpreter(value: string, base: string): string {
  if (!value.includes('/')) return value;
  const p = isAbsolute(value) ? value : resolve(base, value);
  return existsSync(p) && statSync(p).isDirectory() ? join(p, 'bin', 'python') : p;
}

/** The `python:` field of a pipeline file, if any (read here so the planner need not carry it). */
function pipelinePython(pipelineFile: string): string | undefined {
  try {
    const doc = parse(readFileSync(pipelineFile, 'utf8')) as { python?: unknown } | null;
    return typeof doc?.python === 'string' && doc.python !== '' ? doc.python : undefined;
  } catch {
    return undefined; // the planner reports unreadable files itself
  }
}

export function choosePython(pipelineFile: string, cwd = process.cwd()): string {
  const env = process.env['IQLP_PYTHON'];
  if (env) return interpreter(env, cwd);
  const declared = pipelinePython(pipelineFile);
  if (declared) return interpreter(declared, dirname(resolve(pipelineFile)));
  for (const venv of [join(cwd, '.venv'), join(projectRoot(), '.venv')]) {
    if (existsSync(join(venv, 'bin', 'python'))) return join(venv, 'bin', 'python');
  }
  return 'python3';
}

/** The environment of an external stage's process: `python` is the chosen one, iqlp importable. */
export function childEnv(python: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, ...extra };
  const pkg = iqlpPackageDir();
  env['PYTHONPATH'] = env['PYTHONPATH'] ? `${pkg}${delimiter}${env['PYTHONPATH']}` : pkg;
  env['PYTHONUNBUFFERED'] = '1';
  if (python.includes('/')) {
    const bin = dirname(python);
    env['PATH'] = env['PATH'] ? `${bin}${delimiter}${env['PATH']}` : bin;
    // A venv's bin/ on PATH is what `activate` does; VIRTUAL_ENV tells tools which one it is.
    if (existsSync(join(bin, '..', 'pyvenv.cfg'))) env['VIRTUAL_ENV'] = resolve(bin, '..');
  }
  return env;
}

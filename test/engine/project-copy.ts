/** A scratch copy of the project (compiled code, sources, schemas, CLI) for tests that edit its code. */
import { spawn } from 'node:child_process';
import { cpSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, tempDir, type CliResult } from '../helpers.js';

/** Copies what the CLI needs to run the built-in stages (timestamps kept, node_modules linked). */
export function copyProject(): string {
  const dest = tempDir('iqlp-project-');
  const copy = (rel: string) => cpSync(join(ROOT, rel), join(dest, rel), { recursive: true, preserveTimestamps: true });
  for (const rel of ['package.json', 'schemas', 'bin', 'src', 'stages', join('dist', 'src'), join('dist', 'stages')]) copy(rel);
  symlinkSync(join(ROOT, 'node_modules'), join(dest, 'node_modules'), 'dir');
  return dest;
}

/** Runs the copy's CLI in `cwd`. */
export function runProjectCli(project: string, args: string[], cwd: string): Promise<CliResult> {
  const child = spawn(process.execPath, [join(project, 'bin', 'pipeline.js'), ...args], { cwd, env: { ...process.env, CI: '1', MLFLOW_TRACKING_URI: '' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
  child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
  return new Promise((resolve) => child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr })));
}

/** Writes files (path relative to dir → content), creating directories. */
export function writeTree(dir: string, files: Record<string, string>): void {
  for (const [rel, text] of Object.entries(files)) {
    mkdirSync(join(dir, rel, '..'), { recursive: true });
    writeFileSync(join(dir, rel), text);
  }
}

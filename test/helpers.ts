/** Test helpers: run the real CLI in a child process, in a fresh temp directory. */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { projectRoot } from '../src/engine/stage-schema.js';

export const ROOT = projectRoot();
export const CLI = join(ROOT, 'bin', 'pipeline.js');

export function tempDir(prefix = 'iqlp-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export interface CliResult { code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }

export function startCli(args: string[], cwd: string, env: Record<string, string> = {}): { child: ChildProcess; done: Promise<CliResult>; output: () => string } {
  const child = spawn(process.execPath, [CLI, ...args], { cwd, env: { ...process.env, CI: '1', MLFLOW_TRACKING_URI: '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => { stdout += d.toString(); });
  child.stderr!.on('data', (d: Buffer) => { stderr += d.toString(); });
  const done = new Promise<CliResult>((resolve) => child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr })));
  return { child, done, output: () => stdout + stderr };
}

export function runCli(args: string[], cwd: string, env: Record<string, string> = {}): Promise<CliResult> {
  return startCli(args, cwd, env).done;
}

export function writePipeline(dir: string, name: string, yaml: string): string {
  const p = join(dir, name);
  writeFileSync(p, yaml);
  return p;
}

/** Instances a plain-renderer run computed ("start" lines). */
export function started(stdout: string): string[] {
  return [...stdout.matchAll(/^\S+ start +(\S+) \(key/gm)].map((m) => m[1]!);
}

export function cached(stdout: string): string[] {
  return [...stdout.matchAll(/^\S+ cached +(\S+) \(key/gm)].map((m) => m[1]!);
}

export async function waitFor(cond: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

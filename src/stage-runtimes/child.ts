/**
 * Runs an external stage's process: its stdout and stderr are split into lines and handed to
 * `onLine` as they come (the stage log), and the engine's abort stops it — SIGTERM to its whole
 * process group (so a shell's children stop too), SIGKILL after a grace period.
 *
 * The child gets its own process group (`detached`), so a Ctrl-C on the terminal reaches only
 * the engine, which then stops the child through the abort signal; the engine decides, not the
 * terminal. A child must notice on its own when the engine dies (kill -9): both runtimes keep a
 * pipe to the engine open on the child's stdin and exit when it closes (supervisor.ts, iqlp.runner).
 */
import { spawn, type ChildProcess } from 'node:child_process';

export interface ChildOptions {
  command: string;
  args: string[];
  cwd: string;
  env: NodeJS.ProcessEnv;
  signal: AbortSignal;
  /** One line of the child's output, without its newline. */
  onLine(line: string, stream: 'stdout' | 'stderr'): void;
  /** Extra stdio entries after stdin/stdout/stderr (e.g. a message pipe on fd 3). */
  extraStdio?: ('pipe' | 'ignore')[];
  /** Time between SIGTERM and SIGKILL on abort (default 10 s). */
  graceMs?: number;
}

export interface ChildExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** The last lines written on stderr (for error messages). */
  stderrTail: string[];
  /** Whether the engine's abort stopped it. */
  aborted: boolean;
}

export interface RunningChild {
  child: ChildProcess;
  exit: Promise<ChildExit>;
}

const TAIL_LINES = 20;

/** Splits a byte stream into lines; the last partial line is flushed at the end. */
export function lineSplitter(onLine: (line: string) => void): { push(chunk: Buffer): void; end(): void } {
  let rest = '';
  return {
    push(chunk) {
      rest += chunk.toString('utf8');
      let i: number;
      while ((i = rest.indexOf('\n')) >= 0) {
        onLine(rest.slice(0, i).replace(/\r$/, ''));
        rest = rest.slice(i + 1);
      }
    },
    end() {
      if (rest.length > 0) onLine(rest);
      rest = '';
    },
  };
}

export function startChild(o: ChildOptions): RunningChild {
  const child = spawn(o.command, o.args, {
    cwd: o.cwd,
    env: o.env,
    detached: true,
    stdio: ['pipe', 'pipe', 'pipe', ...(o.extraStdio ?? [])],
  });
  const tail: string[] = [];
  let aborted = false;
  let killTimer: NodeJS.Timeout | undefined;
  const group = (sig: NodeJS.Signals) => {
    try {
      if (child.pid) process.kill(-child.pid, sig);
    } catch {
      child.kill(sig); // the group is gone already, or was never made
    }
  };
  const onAbort = () => {
    aborted = true;
    group('SIGTERM');
    killTimer = setTimeout(() => group('SIGKILL'), o.graceMs ?? 10_000);
  };
  if (o.signal.aborted) onAbort();
  else o.signal.addEventListener('abort', onAbort, { once: true });

  const out = lineSplitter((l) => o.onLine(l, 'stdout'));
  const err = lineSplitter((l) => {
    tail.push(l);
    if (tail.length > TAIL_LINES) tail.shift();
    o.onLine(l, 'stderr');
  });
  child.stdout!.on('data', (d: Buffer) => out.push(d));
  child.stderr!.on('data', (d: Buffer) => err.push(d));
  // A child that exits before reading stdin must not crash the engine with EPIPE.
  child.stdin!.on('error', () => {});

  const exit = new Promise<ChildExit>((resolve, reject) => {
    child.on('error', (e) => {
      o.signal.removeEventListener('abort', onAbort);
      reject(new Error(`cannot start ${o.command}: ${e.message}`));
    });
    child.on('close', (code, signal) => {
      out.end();
      err.end();
      o.signal.removeEventListener('abort', onAbort);
      if (killTimer) clearTimeout(killTimer);
      resolve({ code, signal, stderrTail: tail, aborted });
    });
  });
  return { child, exit };
}

/** "exited with code 3" / "was killed by SIGKILL", for error messages. */
export function describeExit(e: ChildExit): string {
  return e.signal ? `was killed by ${e.signal}` : `exited with code ${e.code}`;
}

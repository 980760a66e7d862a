/** Processes for the liveness and lock tests: one that has exited, one that stays up until stopped. */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';

/** The pid of a process that has exited (and was reaped). */
export function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', '']);
  if (!r.pid) throw new Error('could not start a process');
  return r.pid;
}

/** A live process other than this one; `stop()` kills it and resolves once it has exited. */
export function liveProcess(): { pid: number; child: ChildProcess; stop(): Promise<void> } {
  const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  return {
    pid: child.pid!,
    child,
    stop: async () => {
      child.kill('SIGKILL');
      await exited;
    },
  };
}

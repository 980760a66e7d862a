/**
 * Runs one shell command for a command stage and ties its life to the engine's:
 *
 *   node supervisor.js '<shell command>'
 *
 * The engine starts this process as the leader of a new process group; the command (`sh -c`)
 * runs in the same group, so the engine's SIGTERM / SIGKILL to the group reaches the command and
 * everything it started. When the engine dies without a word (kill -9, power cut in a container),
 * the pipe on our stdin closes and we kill the group, so no orphaned training run goes on writing
 * into a checkpoint directory that the next run resumes from.
 */
import { spawn } from 'node:child_process';
import { constants } from 'node:os';

const command = process.argv[2];
if (!command) {
  process.stderr.write('usage: supervisor.js <shell command>\n');
  process.exit(2);
}
const child = spawn('/bin/sh', ['-c', command], { stdio: ['ignore', 'inherit', 'inherit'] });

const killGroup = () => {
  try {
    process.kill(-process.pid, 'SIGKILL');
  } catch {
    child.kill('SIGKILL');
    process.exit(137);
  }
};
// The engine signals the whole group: the command gets the same SIGTERM; we wait for it to exit.
process.on('SIGTERM', () => {});
process.on('SIGINT', () => {});
process.stdin.on('end', killGroup);
process.stdin.on('close', killGroup);
process.stdin.resume();

child.on('error', (e) => {
  process.stderr.write(`cannot run /bin/sh: ${e.message}\n`);
  process.exit(127);
});
child.on('exit', (code, signal) => {
  process.stdin.removeAllListeners();
  // A command killed by a signal is reported as a shell would: 128 + the signal's number.
  process.exit(signal ? 128 + (constants.signals[signal] ?? 0) : (code ?? 1));
});

/**
 * `pipeline exec-instance --remote s3://… --key K`: the entrypoint of a cluster job (src/executors/):
 * runs the instance task stored under K in the remote store and commits its result there.
 * Not meant to be run by hand.
 */
import type { Command } from '../command.js';
import { wantsHelp } from '../command.js';
import { parse } from '../common.js';
import { remoteFor, remoteOptions, remoteOptionsHelp } from '../cluster-options.js';
import { ExitCode } from '../../engine/errors.js';

const usage = `usage: pipeline exec-instance --remote s3://bucket/prefix --key KEY

Runs one instance task from the remote store on this machine (what a cluster executor's jobs run)
and commits its result there. Progress, metrics and logs are printed in the ::iqlp-event:: line
protocol. This node's cache: IQLP_NODE_STORE (default <tmp>/iqlp-node-store).

options:
${remoteOptionsHelp}
  --key KEY                     the cache key of the instance`;

const command: Command = {
  name: 'exec-instance',
  summary: 'run one instance task from the remote store (a cluster job\'s entrypoint)',
  usage,
  async run(argv) {
    if (wantsHelp(argv)) { console.log(usage); return ExitCode.ok; }
    const { values } = parse(argv, { ...remoteOptions, key: { type: 'string' }, help: { type: 'boolean' } }, usage);
    const remote = await remoteFor(null, values);
    if (!remote || !values.key) { console.error(usage); return ExitCode.invalid; }
    const controller = new AbortController();
    const stop = () => controller.abort(new Error('interrupted'));
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
    const { runInstanceTask } = await import('../../executors/instance-runner.js');
    try {
      return await runInstanceTask(remote, values.key, (line) => process.stdout.write(`${line}\n`), controller.signal);
    } finally {
      remote.close();
    }
  },
};
export default command;

/**
 * `pipeline push [pipeline.yaml…] --remote s3://…`: copies local entries to the remote store
 * (DVC-style): the current results of the given pipelines' instances, or every local entry.
 * Blobs the remote already has are not sent again; a manifest the remote already has is kept.
 */
import type { Command } from '../command.js';
import { wantsHelp } from '../command.js';
import { parse, planOrReport } from '../common.js';
import { remoteFor, remoteOptions, remoteOptionsHelp } from '../cluster-options.js';
import { ExitCode } from '../../engine/errors.js';
import { computeStatus } from '../../engine/status.js';
import { pushEntry } from '../../store/remote-sync.js';
import { Store } from '../../store/store.js';

const usage = `usage: pipeline push [pipeline.yaml...] --remote s3://bucket/prefix [options]

Copies entries from the local store to the remote store: the cached results of the given
pipelines (and their last-run records, for status), or every local entry without files.

options:
  --store dir                   local artifact store (default: the file's store: or ./artifacts)
${remoteOptionsHelp}`;

const command: Command = {
  name: 'push',
  summary: 'copy local cache entries to the remote store (--remote s3://…)',
  usage,
  async run(argv) {
    if (wantsHelp(argv)) { console.log(usage); return ExitCode.ok; }
    const { values, positionals } = parse(argv, { store: { type: 'string' }, ...remoteOptions, help: { type: 'boolean' } }, usage);
    const keys = new Set<string>();
    let storeDir = values.store ?? 'artifacts';
    let firstPlan = null;
    for (const file of positionals) {
      const plan = await planOrReport(file, { store: values.store }, usage);
      if (typeof plan === 'number') return plan;
      firstPlan ??= plan;
      storeDir = plan.storeDir;
      for (const s of computeStatus(plan, new Store(plan.storeDir))) if (s.state === 'cached' && s.key) keys.add(s.key);
    }
    const remote = await remoteFor(firstPlan, values);
    if (!remote) { console.error(`pipeline push: no remote store: pass --remote s3://bucket/prefix\n\n${usage}`); return ExitCode.invalid; }
    const store = new Store(storeDir);
    if (positionals.length === 0) for (const k of store.listEntries()) keys.add(k);
    let written = 0;
    let present = 0;
    try {
      for (const key of keys) {
        if ((await pushEntry(store, remote, key)) === 'written') written++;
        else present++;
      }
      for (const file of positionals) {
        const plan = await planOrReport(file, { store: values.store }, usage);
        if (typeof plan === 'number') continue;
        const state = store.readPipelineState(plan.name);
        if (state) await remote.writeJson(`pipelines/${plan.name}.json`, state);
      }
    } catch (e) {
      console.error(`pipeline push: ${(e as Error).message} (pushed ${written} so far; run push again to go on)`);
      return ExitCode.stageFailed;
    } finally {
      remote.close();
    }
    console.log(`pushed ${written} entries to ${remote.describe()}; ${present} were there already`);
    return ExitCode.ok;
  },
};
export default command;

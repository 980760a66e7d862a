/**
 * `pipeline pull pipeline.yaml… --remote s3://…`: fetches the remote entries the given pipelines'
 * instances would use into the local store (DVC-style), each blob verified by its digest; a corrupt
 * one is set aside on the remote (and recomputed by the next run). `--all` fetches every entry.
 */
import type { Command } from '../command.js';
import { wantsHelp } from '../command.js';
import { parse, planOrReport } from '../common.js';
import { remoteFor, remoteOptions, remoteOptionsHelp } from '../cluster-options.js';
import { ExitCode } from '../../engine/errors.js';
import { computeStatusWithRemote } from '../../engine/status.js';
import { CorruptBlob } from '../../store/remote-errors.js';
import { fetchEntry } from '../../store/remote-sync.js';
import { Store } from '../../store/store.js';

const usage = `usage: pipeline pull <pipeline.yaml...> --remote s3://bucket/prefix [options]

Fetches into the local store the remote entries that the given pipelines' instances would use
(every remote entry with --all), verifying every blob against its digest.

options:
  --store dir                   local artifact store (default: the file's store: or ./artifacts)
  --all                         every entry of the remote store
${remoteOptionsHelp}`;

const command: Command = {
  name: 'pull',
  summary: 'fetch remote cache entries into the local store (--remote s3://…)',
  usage,
  async run(argv) {
    if (wantsHelp(argv)) { console.log(usage); return ExitCode.ok; }
    const { values, positionals } = parse(argv, { store: { type: 'string' }, all: { type: 'boolean' }, ...remoteOptions, help: { type: 'boolean' } }, usage);
    if (positionals.length === 0 && !values.all) { console.error(`pipeline pull: name pipeline files or pass --all\n\n${usage}`); return ExitCode.invalid; }
    const plans = [];
    for (const file of positionals) {
      const plan = await planOrReport(file, { store: values.store }, usage);
      if (typeof plan === 'number') return plan;
      plans.push(plan);
    }
    const remote = await remoteFor(plans[0] ?? null, values);
    if (!remote) { console.error(`pipeline pull: no remote store: pass --remote s3://bucket/prefix\n\n${usage}`); return ExitCode.invalid; }
    const store = new Store(values.store ?? plans[0]?.storeDir ?? 'artifacts');
    let fetched = 0;
    let local = 0;
    let corrupt = 0;
    try {
      const keys = new Set<string>(values.all ? await remote.listEntryKeys() : []);
      for (const plan of plans) {
        for (const s of await computeStatusWithRemote(plan, store, remote)) if (s.state === 'cached' && s.key) keys.add(s.key);
      }
      for (const key of keys) {
        if (store.verify(key).ok) { local++; continue; }
        try {
          const m = await fetchEntry(store, remote, key);
          fetched++;
          console.log(`fetched ${key.slice(0, 12)} ${m.pipeline}/${m.instance}`);
        } catch (e) {
          if (!(e instanceof CorruptBlob)) throw e;
          corrupt++;
          console.error(`${key.slice(0, 12)}: ${e.message}; set aside on the remote (the next run recomputes it)`);
        }
      }
    } catch (e) {
      console.error(`pipeline pull: ${(e as Error).message} (fetched ${fetched} so far)`);
      return ExitCode.stageFailed;
    } finally {
      remote.close();
    }
    console.log(`fetched ${fetched} entries from ${remote.describe()}; ${local} were here already${corrupt ? `; ${corrupt} corrupt (set aside)` : ''}`);
    return corrupt ? ExitCode.stageFailed : ExitCode.ok;
  },
};
export default command;

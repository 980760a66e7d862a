import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from '../command.js';
import { wantsHelp } from '../command.js';
import { parse, planOrReport } from '../common.js';
import { ExitCode } from '../../engine/errors.js';
import { computeStatus, computeStatusWithRemote } from '../../engine/status.js';
import { remoteFor, remoteOptions, remoteOptionsHelp } from '../cluster-options.js';
import { removeQuietly } from '../../store/fs-atomic.js';
import { Store } from '../../store/store.js';

const usage = `usage: pipeline gc [pipeline.yaml...] [options]

Removes store entries that no pipeline references. With pipeline files, an entry is kept when it
is the current result of one of their stage instances; without, when it belongs to the last run
of any pipeline recorded in the store. Also clears trash/ and temp dirs of dead processes.

options:
  --store dir       artifact store (default ./artifacts)
  --dry-run, -n     list what would be removed, remove nothing
  --checkpoints     also remove checkpoints of unfinished stages
${remoteOptionsHelp}
                    collect the remote store too: entries not referenced (by the given pipelines,
                    else by the last runs recorded there), then blobs no remaining entry names`;

const command: Command = {
  name: 'gc',
  summary: 'remove cache entries no pipeline references',
  usage,
  async run(argv) {
    if (wantsHelp(argv)) { console.log(usage); return ExitCode.ok; }
    const { values, positionals } = parse(argv, { store: { type: 'string' }, 'dry-run': { type: 'boolean', short: 'n' }, checkpoints: { type: 'boolean' }, ...remoteOptions, help: { type: 'boolean' } }, usage);
    const remote = await remoteFor(null, values);
    const remoteKeep = new Set<string>();
    const keep = new Set<string>();
    let storeDir = values.store ?? 'artifacts';
    for (const file of positionals) {
      const plan = await planOrReport(file, { store: values.store }, usage);
      if (typeof plan === 'number') return plan;
      storeDir = plan.storeDir;
      for (const s of computeStatus(plan, new Store(plan.storeDir))) if (s.key) keep.add(s.key);
      if (remote) for (const s of await computeStatusWithRemote(plan, new Store(plan.storeDir), remote)) if (s.key) remoteKeep.add(s.key);
    }
    const store = new Store(storeDir);
    if (positionals.length === 0) for (const st of store.listPipelineStates()) for (const i of Object.values(st.instances)) keep.add(i.key);
    const dry = !!values['dry-run'];
    let bytes = 0;
    let count = 0;
    for (const key of store.listEntries()) {
      if (keep.has(key)) continue;
      const m = store.readManifest(key);
      bytes += store.entryBytes(key);
      count++;
      console.log(`${dry ? 'would remove' : 'removed'} ${key.slice(0, 12)} ${m ? `${m.pipeline}/${m.instance}` : '(no manifest)'}`);
      if (!dry) store.removeEntry(key);
    }
    const extra = [...store.staleTempDirs(), ...(existsSync(join(storeDir, 'trash')) ? readdirSync(join(storeDir, 'trash')).map((n) => join(storeDir, 'trash', n)) : [])];
    if (values.checkpoints && existsSync(join(storeDir, 'checkpoints'))) extra.push(...readdirSync(join(storeDir, 'checkpoints')).filter((k) => !keep.has(k)).map((k) => join(storeDir, 'checkpoints', k)));
    for (const p of extra) {
      console.log(`${dry ? 'would remove' : 'removed'} ${p}`);
      if (!dry) removeQuietly(p);
    }
    console.log(`${dry ? 'dry run: would remove' : 'removed'} ${count} entries (${(bytes / 1e6).toFixed(1)} MB) and ${extra.length} temp/trash/checkpoint dirs; kept ${keep.size} referenced entries`);
    if (remote) {
      const { remoteGc, remotePipelineKeys } = await import('../../store/remote-gc.js');
      try {
        if (positionals.length === 0) for (const k of await remotePipelineKeys(remote)) remoteKeep.add(k);
        const r = await remoteGc(remote, remoteKeep, dry, (l) => console.log(l));
        console.log(`remote ${remote.describe()}: ${dry ? 'would remove' : 'removed'} ${r.entries} entries, ${r.blobs} blobs (${(r.bytes / 1e6).toFixed(1)} MB) and ${r.other} trash/task/checkpoint objects; kept ${r.kept} referenced entries`);
      } catch (e) {
        console.error(`pipeline gc: ${(e as Error).message}`);
        return ExitCode.stageFailed;
      } finally {
        remote.close();
      }
    }
    return ExitCode.ok;
  },
};
export default command;

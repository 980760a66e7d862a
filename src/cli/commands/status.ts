import type { Command } from '../command.js';
import { wantsHelp } from '../command.js';
import { parse, planOptions, planOptionsHelp, planOrReport } from '../common.js';
import { ExitCode } from '../../engine/errors.js';
import type { Plan } from '../../engine/plan.js';
import { computeStatus, computeStatusWithRemote, type InstanceStatus } from '../../engine/status.js';
import { remoteFor, remoteOptions, remoteOptionsHelp } from '../cluster-options.js';
import { Store } from '../../store/store.js';

const usage = `usage: pipeline status <pipeline.yaml> [options]

Shows, per stage instance, whether it is cached, running, stale (and why) or missing.

options:
${planOptionsHelp}
  --json                        machine-readable output
${remoteOptionsHelp}
                                (an entry there counts as cached: whoever computed it)

exit code: 0 everything cached, 1 something would be computed, 2 invalid pipeline`;

const MARK: Record<InstanceStatus['state'], string> = { cached: '✔ cached ', running: '⟳ running', stale: '✗ stale  ', missing: '✗ missing', pending: '… pending' };

export function printStatus(plan: Plan, statuses: InstanceStatus[]): void {
  console.log(`pipeline ${plan.name} (${plan.file})`);
  for (const s of statuses) {
    const kind = plan.byName.get(s.instance)!.resolved.kind.kind;
    console.log(`  ${MARK[s.state]}  ${s.instance} (${kind})${s.key ? `  ${s.key.slice(0, 12)}` : ''}${s.where === 'remote' ? '  (remote)' : ''}`);
    for (const r of s.reasons) if (s.state !== 'cached') console.log(`               ${r}`);
  }
}

const command: Command = {
  name: 'status',
  summary: 'show what is cached, stale (and why) or missing',
  usage,
  async run(argv) {
    if (wantsHelp(argv)) { console.log(usage); return ExitCode.ok; }
    const { values, positionals } = parse(argv, { ...planOptions, ...remoteOptions, json: { type: 'boolean' } }, usage);
    const plan = await planOrReport(positionals[0], values, usage);
    if (typeof plan === 'number') return plan;
    const remote = await remoteFor(plan, values);
    let statuses: InstanceStatus[];
    try {
      statuses = remote ? await computeStatusWithRemote(plan, new Store(plan.storeDir), remote) : computeStatus(plan, new Store(plan.storeDir));
    } catch (e) {
      console.error((e as Error).message);
      return ExitCode.stageFailed;
    } finally {
      remote?.close();
    }
    if (values.json) console.log(JSON.stringify({ pipeline: plan.name, instances: statuses }, null, 2));
    else {
      printStatus(plan, statuses);
      const counts = new Map<string, number>();
      for (const s of statuses) counts.set(s.state, (counts.get(s.state) ?? 0) + 1);
      const remoteHits = statuses.filter((s) => s.where === 'remote').length;
      console.log(`\n${[...counts].map(([k, v]) => `${v} ${k}`).join(', ')}${remoteHits ? ` (${remoteHits} of them only in the remote store ${remote!.describe()})` : ''}`);
    }
    return statuses.every((s) => s.state === 'cached') ? ExitCode.ok : ExitCode.stageFailed;
  },
};
export default command;

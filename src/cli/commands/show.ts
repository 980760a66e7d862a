import { join } from 'node:path';
import type { Command } from '../command.js';
import { wantsHelp } from '../command.js';
import { formatDuration, parse, planOptions, planOptionsHelp, planOrReport, selectInstances, UsageError } from '../common.js';
import { ExitCode } from '../../engine/errors.js';
import { computeStatus } from '../../engine/status.js';
import { readTableFile } from '../../store/arrow-io.js';
import { Store } from '../../store/store.js';

const usage = `usage: pipeline show <pipeline.yaml> <stage|instance> [options]

Prints the manifest of a cached stage instance (key, parameters, inputs, timings, recorded
backend/versions) and the schema and first rows of each output table.

options:
${planOptionsHelp}
  --rows N                      preview rows per table (default 5)
  --json                        print the raw manifest(s)`;

const command: Command = {
  name: 'show',
  summary: 'show a stage manifest and a preview of its outputs',
  usage,
  async run(argv) {
    if (wantsHelp(argv)) { console.log(usage); return ExitCode.ok; }
    const { values, positionals } = parse(argv, { ...planOptions, rows: { type: 'string', default: '5' }, json: { type: 'boolean' } }, usage);
    if (positionals.length < 2) { console.error(usage); return ExitCode.invalid; }
    const plan = await planOrReport(positionals[0], values, usage);
    if (typeof plan === 'number') return plan;
    let names: Set<string>;
    try {
      names = selectInstances(plan, [positionals[1]!], 'show');
    } catch (e) {
      if (e instanceof UsageError) { console.error(e.message); return ExitCode.invalid; }
      throw e;
    }
    const store = new Store(plan.storeDir);
    const statuses = computeStatus(plan, store);
    let code: number = ExitCode.ok;
    for (const s of statuses.filter((x) => names.has(x.instance))) {
      const m = s.state === 'cached' && s.key ? store.readManifest(s.key) : null;
      if (!m) {
        console.log(`${s.instance}: ${s.state}${s.reasons.length ? ` (${s.reasons.join('; ')})` : ''}`);
        code = ExitCode.stageFailed;
        continue;
      }
      if (values.json) { console.log(JSON.stringify(m, null, 2)); continue; }
      console.log(`${m.instance}  (${m.kind} v${m.version})`);
      console.log(`  key       ${m.key}`);
      console.log(`  computed  by run ${m.runId} on ${m.host}, ${m.finishedAt}, in ${formatDuration(m.durationMs)}${m.resumedFromStep ? ` (resumed at step ${m.resumedFromStep})` : ''}`);
      console.log(`  seed      ${m.seed}`);
      console.log(`  params    ${JSON.stringify(m.params)}`);
      for (const [n, l] of Object.entries(m.inputs)) console.log(`  input     ${n} ← ${l.map((i) => `${i.instance}.${i.output} (${i.digest.slice(0, 12)})`).join(', ')}`);
      if (Object.keys(m.summary).length) console.log(`  summary   ${Object.entries(m.summary).map(([k, v]) => `${k}=${v}`).join(' ')}`);
      if (Object.keys(m.recorded).length) console.log(`  recorded  ${JSON.stringify(m.recorded)}`);
      for (const [n, o] of Object.entries(m.outputs)) {
        const path = join(store.entryDir(m.key), o.file);
        console.log(`  output    ${n}: ${path} (${o.bytes} bytes${o.rows !== undefined ? `, ${o.rows} rows` : ''}, sha256 ${o.digest.slice(0, 12)})`);
        if (o.kind !== 'table') continue;
        const t = await readTableFile(path);
        for (const f of t.schema.fields) console.log(`              ${f.name}: ${String(f.type)}`);
        const n2 = Math.min(Number(values.rows), t.numRows);
        for (let i = 0; i < n2; i++) {
          const row = t.get(i)?.toJSON() as Record<string, unknown>;
          console.log(`              ${JSON.stringify(row, (_k, v: unknown) => (typeof v === 'bigint' ? Number(v) : ArrayBuffer.isView(v) ? Array.from(v as unknown as ArrayLike<number>).slice(0, 8) : v)).slice(0, 200)}`);
        }
      }
    }
    return code;
  },
};
export default command;

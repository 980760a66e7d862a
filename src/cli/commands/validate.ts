import type { Command } from '../command.js';
import { wantsHelp } from '../command.js';
import { parse, planOptions, planOptionsHelp, planOrReport } from '../common.js';
import { ExitCode } from '../../engine/errors.js';

const usage = `usage: pipeline validate <pipeline.yaml>... [options]

Checks pipeline files (schema, stage kinds, parameters, references, matrices, cycles) without
running anything. Errors are printed as file:line:column.

options:
${planOptionsHelp}`;

const command: Command = {
  name: 'validate',
  summary: 'check pipeline files without running them',
  usage,
  async run(argv) {
    if (wantsHelp(argv)) { console.log(usage); return ExitCode.ok; }
    const { values, positionals } = parse(argv, planOptions, usage);
    if (positionals.length === 0) { console.error(usage); return ExitCode.invalid; }
    let code: number = ExitCode.ok;
    for (const file of positionals) {
      const plan = await planOrReport(file, values, usage);
      if (typeof plan === 'number') code = plan;
      else console.log(`${file}: ok (${plan.stages.size} stages, ${plan.instances.length} instances)`);
    }
    return code;
  },
};
export default command;

/** Shared CLI plumbing: argument parsing, planning with readable errors, stage selections. */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { PipelineErrors, PipelineError, ExitCode } from '../engine/errors.js';
import { planPipeline, type Plan } from '../engine/plan.js';

export const planOptions = {
  set: { type: 'string', multiple: true, short: 's' },
  profile: { type: 'string' },
  store: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies ParseArgsConfig['options'];

export const planOptionsHelp = `  --set, -s stage.param=value   override a parameter (repeatable); params.name=value for pipeline params
  --profile name                apply a profile from the pipeline file (e.g. paper)
  --store dir                   artifact store (default: the file's store: or ./artifacts)`;

export class UsageError extends Error {}

export function parse<T extends ParseArgsConfig['options']>(argv: string[], options: T, usage: string) {
  try {
    return parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (e) {
    throw new UsageError(`${(e as Error).message}\n\n${usage}`);
  }
}

/** Plans the pipeline; on validation errors prints them (file:line:col) and returns the exit code. */
export async function planOrReport(file: string | undefined, values: { set?: string[]; profile?: string; store?: string }, usage: string): Promise<Plan | number> {
  if (!file) {
    console.error(`missing pipeline file\n\n${usage}`);
    return ExitCode.invalid;
  }
  try {
    const plan = await planPipeline(file, { set: values.set, profile: values.profile, storeDir: values.store });
    for (const w of plan.warnings) console.error(`warning: ${w}`);
    return plan;
  } catch (e) {
    if (e instanceof PipelineErrors) {
      for (const err of e.errors) console.error(err.format());
      console.error(`${e.errors.length} error${e.errors.length === 1 ? '' : 's'} in ${file}; nothing was run`);
      return ExitCode.invalid;
    }
    if (e instanceof PipelineError) {
      console.error(e.format());
      return ExitCode.invalid;
    }
    throw e;
  }
}

/** Maps stage names or instance names (comma separated, repeatable) to instance names. */
export function selectInstances(plan: Plan, specs: string[] | undefined, flag: string): Set<string> {
  const out = new Set<string>();
  for (const spec of (specs ?? []).flatMap(splitSelection)) {
    const byStage = plan.stages.get(spec);
    if (byStage) byStage.forEach((n) => out.add(n));
    else if (plan.byName.has(spec)) out.add(spec);
    else throw new UsageError(`${flag}: no stage or instance named '${spec}' (stages: ${[...plan.stages.keys()].join(', ')})`);
  }
  return out;
}

/** Splits "a,b[m=1,s=0]" on the commas outside brackets (instance names contain commas). */
function splitSelection(arg: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let cur = '';
  for (const ch of arg) {
    if (ch === '[') depth++;
    if (ch === ']') depth--;
    if (ch === ',' && depth === 0) { out.push(cur); cur = ''; } else cur += ch;
  }
  out.push(cur);
  return out.map((s) => s.trim()).filter(Boolean);
}

export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(1)}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(Math.round(s - m * 60)).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}

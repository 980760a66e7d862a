/**
 * Planning phase "resolve params", pipeline level: the file's params with the selected profile and
 * the --set overrides applied, and the overrides aimed at stages, kept for each stage's parameter
 * resolution. Every profile's targets are checked, selected or not: a typo in the paper profile
 * should not wait for the day someone runs it.
 */
import { parse as parseYamlScalar } from 'yaml';
import { PipelineError, type Diagnostics, type SourceLocation } from './errors.js';
import type { Json, PipelineDecl, ProfileDecl } from './declaration.js';
import type { ResolvedKind } from './stage.js';
import { setDeep } from './templates.js';

export interface StageOverride {
  /** Parameter path inside the stage's `with`. */
  path: string[];
  value: unknown;
  /** Where the value came from (a profile in the file, or the command line). */
  loc: SourceLocation;
}

interface Override {
  /** `params.name` or `stage.param…`. */
  target: string;
  value: unknown;
  /** Where the value is written. */
  loc: SourceLocation;
  /** Where the target is named (a profile's key), for errors about the target itself. */
  keyLoc: SourceLocation;
  /** The field path reported with errors about the target. */
  field: string;
}

export interface Overrides {
  /** The pipeline params with overrides applied: the `params` scope of templates. */
  pipelineParams: Json;
  /** Stage name → overrides of its parameters, in the order they apply. */
  byStage: Map<string, StageOverride[]>;
  /** `stage.param` targets of the profiles not selected: checked against the kinds once they are known. */
  unselectedStageTargets: { stage: string; param: string; override: Override }[];
}

export function resolveOverrides(decl: PipelineDecl, opts: { profile?: string; set?: string[] }, d: Diagnostics): Overrides {
  const pipelineParams: Json = structuredClone(decl.params ?? {});
  const byStage = new Map<string, StageOverride[]>();
  const unselectedStageTargets: Overrides['unselectedStageTargets'] = [];

  if (opts.profile !== undefined && !decl.profiles?.[opts.profile]) {
    d.add(new PipelineError(`unknown profile '${opts.profile}' (profiles: ${Object.keys(decl.profiles ?? {}).join(', ') || 'none'})`, { file: 'command line (--profile)', line: 1, col: 1 }, 'profiles'));
  }
  const selected: Override[] = [];
  for (const [name, prof] of Object.entries(decl.profiles ?? {})) {
    const list = profileOverrides(name, prof, d);
    if (name === opts.profile) {
      selected.push(...list);
      continue;
    }
    for (const o of list) {
      const t = checkTarget(o, decl, pipelineParams, d);
      if (t && t[0] !== 'params') unselectedStageTargets.push({ stage: t[0], param: t[1][0]!, override: o });
    }
  }
  for (const o of [...selected, ...commandLineOverrides(opts.set ?? [], d)]) {
    const t = checkTarget(o, decl, pipelineParams, d);
    if (!t) continue;
    const [head, rest] = t;
    if (head === 'params') setDeep(pipelineParams, rest, o.value);
    else byStage.set(head, [...(byStage.get(head) ?? []), { path: rest, value: o.value, loc: o.loc }]);
  }
  return { pipelineParams, byStage, unselectedStageTargets };
}

/** An unselected profile's `stage.param` must name a parameter of the stage's kind. */
export function checkUnselectedStageTargets(overrides: Overrides, kinds: Map<string, ResolvedKind>, d: Diagnostics): void {
  for (const { stage, param, override: o } of overrides.unselectedStageTargets) {
    const r = kinds.get(stage);
    const schema = r?.kind.params as { properties?: Json; additionalProperties?: unknown } | undefined;
    if (schema?.properties && schema.additionalProperties === false && !(param in schema.properties)) {
      d.add(new PipelineError(`unknown parameter '${param}' of stage '${stage}' (${r!.kind.kind}) (allowed: ${Object.keys(schema.properties).join(', ')})`, o.keyLoc, o.field));
    }
  }
}

function profileOverrides(name: string, prof: ProfileDecl, d: Diagnostics): Override[] {
  const entry = (section: 'params' | 'set', k: string, target: string, value: unknown): Override => ({
    target, value, loc: d.at(['profiles', name, section, k]), keyLoc: d.at(['profiles', name, section, k], true), field: `profiles.${name}.${section}.${k}`,
  });
  return [
    ...Object.entries(prof.params ?? {}).map(([k, v]) => entry('params', k, `params.${k}`, v)),
    ...Object.entries(prof.set ?? {}).map(([k, v]) => entry('set', k, k, v)),
  ];
}

/** `--set target=value`; values are YAML scalars, and must be finite when they are numbers. */
function commandLineOverrides(args: string[], d: Diagnostics): Override[] {
  const out: Override[] = [];
  for (const arg of args) {
    const loc: SourceLocation = { file: `command line (--set ${arg})`, line: 1, col: 1 };
    const eq = arg.indexOf('=');
    if (eq <= 0) {
      d.add(new PipelineError(`--set expects stage.param=value, got '${arg}'`, loc, undefined));
      continue;
    }
    const target = arg.slice(0, eq);
    const text = arg.slice(eq + 1);
    const value = parseYamlScalar(text) as unknown;
    if (typeof value === 'number' && !Number.isFinite(value)) {
      d.add(new PipelineError(`${JSON.stringify(text)} is not a finite number (YAML reads it as ${value})`, loc, target));
      continue;
    }
    out.push({ target, value, loc, keyLoc: loc, field: target });
  }
  return out;
}

/** Reports a target that names no pipeline param or stage; returns it split when it is sound. */
function checkTarget(o: Override, decl: PipelineDecl, pipelineParams: Json, d: Diagnostics): [string, string[]] | null {
  const parts = o.target.split('.');
  if (parts.length < 2 || parts.some((p) => p === '')) {
    d.add(new PipelineError(`override target must be stage.param or params.name, got '${o.target}'`, o.keyLoc, o.field));
    return null;
  }
  const [head, ...rest] = parts as [string, ...string[]];
  if (head === 'params' && !(rest[0]! in pipelineParams)) {
    d.add(new PipelineError(`unknown pipeline parameter '${rest[0]}' (params: ${Object.keys(pipelineParams).join(', ') || 'none'})`, o.keyLoc, o.field));
    return null;
  }
  if (head !== 'params' && !(head in decl.stages)) {
    d.add(new PipelineError(`override names unknown stage '${head}' (stages: ${Object.keys(decl.stages).join(', ')})`, o.keyLoc, o.field));
    return null;
  }
  return [head, rest];
}

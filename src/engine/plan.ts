/**
 * Pipeline file → validated plan: schema check, stage kinds, overrides, matrix/foreach expansion,
 * templates, parameter validation with defaults filled in, input references, cycle check and a
 * topological order. Every problem becomes a located PipelineError; nothing runs if any exists.
 */
import { createRequire } from 'node:module';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { ErrorObject, ValidateFunction } from 'ajv';
import { parse as parseYamlScalar } from 'yaml';
import { PipelineError, PipelineErrors, type SourceLocation } from './errors.js';
import { loadPipelineFile, type FieldPath, type LoadedPipelineFile } from './load.js';
import { codeIdentity, type CodeIdentity, type StatCache } from './code-identity.js';
import { resolveKind, type ResolvedKind } from './registry.js';
import { projectRoot } from './stage-schema.js';

const require = createRequire(import.meta.url);
const AjvCtor = require('ajv') as typeof import('ajv').default;

type Json = Record<string, unknown>;
export type MatrixCoords = Record<string, string | number | boolean>;

export interface InputBinding {
  many: boolean;
  refs: { instance: string; output: string }[];
}

export interface PlannedInstance {
  name: string;
  stage: string;
  kindId: string;
  resolved: ResolvedKind;
  /** The kind's code identity, computed for this plan (shared by the kind's instances). */
  code: CodeIdentity;
  matrix: MatrixCoords;
  params: Json;
  seed: number;
  inputs: Record<string, InputBinding>;
  /** Upstream instance names, deduplicated. */
  needs: string[];
}

export interface Plan {
  name: string;
  description?: string;
  file: string;
  storeDir: string;
  tracking: { uri?: string; experiment?: string };
  params: Json;
  profile?: string;
  /** In topological order. */
  instances: PlannedInstance[];
  byName: Map<string, PlannedInstance>;
  /** Stage name → its instance names (expansion order). */
  stages: Map<string, string[]>;
  /** Things the user should know that do not stop the run (e.g. a source edited but not rebuilt). */
  warnings: string[];
}

export interface PlanOptions {
  /** `stage.param=value` or `params.name=value`; values are parsed as YAML scalars. */
  set?: string[];
  profile?: string;
  /** Overrides the file's `store:`. */
  storeDir?: string;
  cwd?: string;
}

interface StageDecl {
  uses: string;
  description?: string;
  with?: Json;
  inputs?: Record<string, string | string[]>;
  matrix?: Record<string, Array<string | number | boolean> | string>;
  foreach?: string;
  seed?: number | string;
}

interface PipelineDecl {
  name: string;
  description?: string;
  store?: string;
  tracking?: { uri?: string; experiment?: string };
  params?: Json;
  profiles?: Record<string, { params?: Json; set?: Json }>;
  defaults?: { seed?: number; with?: Json };
  stages: Record<string, StageDecl>;
}

const ajv = new AjvCtor({ allErrors: true, useDefaults: true, strict: false, verbose: true });
let pipelineValidator: ValidateFunction | undefined;
const kindValidators = new Map<string, ValidateFunction>();

function validatorForPipeline(): ValidateFunction {
  if (!pipelineValidator) {
    const schema = JSON.parse(readFileSync(join(projectRoot(), 'schemas', 'pipeline.schema.json'), 'utf8')) as Json;
    pipelineValidator = ajv.compile(schema);
  }
  return pipelineValidator;
}

function validatorForKind(r: ResolvedKind): ValidateFunction {
  const key = `${r.id}@${r.kind.version}`;
  let v = kindValidators.get(key);
  if (!v) {
    v = ajv.compile(r.kind.params);
    kindValidators.set(key, v);
  }
  return v;
}

export async function planPipeline(file: string, opts: PlanOptions = {}): Promise<Plan> {
  const loaded = loadPipelineFile(file);
  return planLoaded(loaded, opts);
}

export async function planLoaded(loaded: LoadedPipelineFile, opts: PlanOptions = {}): Promise<Plan> {
  const errors: PipelineError[] = [];
  const { file, locate } = loaded;
  const at = (path: FieldPath, key = false) => locate.at(path, { key });
  const err = (message: string, path: FieldPath, key = false, loc?: SourceLocation) =>
    errors.push(new PipelineError(message, loc ?? at(path, key), path.join('.')));
  const cli = (arg: string): SourceLocation => ({ file: `command line (--set ${arg})`, line: 1, col: 1 });

  const cwd = opts.cwd ?? process.cwd();

  // 1. The file's shape.
  const validate = validatorForPipeline();
  if (!validate(loaded.raw)) {
    for (const e of validate.errors ?? []) {
      const { path, key, message } = describeSchemaError(e, 'pipeline');
      err(message, path, key);
    }
    throw new PipelineErrors(dedupe(errors));
  }
  const decl = loaded.raw as PipelineDecl;

  // 2. Profiles and --set overrides.
  const pipelineParams: Json = structuredClone(decl.params ?? {});
  const stageOverrides = new Map<string, { path: string[]; value: unknown; loc: SourceLocation }[]>();
  /** `loc`: where the value is; `keyLoc`: where the target is named (a profile's key). */
  type Override = { arg: string; loc: SourceLocation; keyLoc?: SourceLocation; field?: string; target: string; value: unknown };
  const profileOverrides = (name: string, prof: { params?: Json; set?: Json }): Override[] => [
    ...Object.entries(prof.params ?? {}).map(([k, v]) => ({ arg: `params.${k}`, loc: at(['profiles', name, 'params', k]), keyLoc: at(['profiles', name, 'params', k], true), field: `profiles.${name}.params.${k}`, target: `params.${k}`, value: v })),
    ...Object.entries(prof.set ?? {}).map(([k, v]) => ({ arg: k, loc: at(['profiles', name, 'set', k]), keyLoc: at(['profiles', name, 'set', k], true), field: `profiles.${name}.set.${k}`, target: k, value: v })),
  ];
  const overrides: Override[] = [];
  // Every profile's targets are checked, not only the selected one's: a typo in the paper profile
  // should not wait for the day someone runs it.
  const unselected: Override[] = [];
  for (const [name, prof] of Object.entries(decl.profiles ?? {})) (name === opts.profile ? overrides : unselected).push(...profileOverrides(name, prof));
  if (opts.profile !== undefined && !decl.profiles?.[opts.profile]) {
    errors.push(new PipelineError(`unknown profile '${opts.profile}' (profiles: ${Object.keys(decl.profiles ?? {}).join(', ') || 'none'})`, { file: 'command line (--profile)', line: 1, col: 1 }, 'profiles'));
  }
  for (const arg of opts.set ?? []) {
    const eq = arg.indexOf('=');
    if (eq <= 0) {
      errors.push(new PipelineError(`--set expects stage.param=value, got '${arg}'`, cli(arg), undefined));
      continue;
    }
    const value = parseYamlScalar(arg.slice(eq + 1)) as unknown;
    if (typeof value === 'number' && !Number.isFinite(value)) {
      errors.push(new PipelineError(`${JSON.stringify(arg.slice(eq + 1))} is not a finite number (YAML reads it as ${value})`, cli(arg), arg.slice(0, eq)));
      continue;
    }
    overrides.push({ arg, loc: cli(arg), target: arg.slice(0, eq), value });
  }
  /** Reports a target that names no pipeline param or stage; returns the split target when it is sound. */
  const checkTarget = (o: Override): [string, string[]] | null => {
    const parts = o.target.split('.');
    if (parts.length < 2 || parts.some((p) => p === '')) {
      errors.push(new PipelineError(`override target must be stage.param or params.name, got '${o.target}'`, o.keyLoc ?? o.loc, o.field ?? o.target));
      return null;
    }
    const [head, ...rest] = parts as [string, ...string[]];
    if (head === 'params' && !(rest[0]! in pipelineParams)) {
      errors.push(new PipelineError(`unknown pipeline parameter '${rest[0]}' (params: ${Object.keys(pipelineParams).join(', ') || 'none'})`, o.keyLoc ?? o.loc, o.field ?? o.target));
      return null;
    }
    if (head !== 'params' && !(head in decl.stages)) {
      errors.push(new PipelineError(`override names unknown stage '${head}' (stages: ${Object.keys(decl.stages).join(', ')})`, o.keyLoc ?? o.loc, o.field ?? o.target));
      return null;
    }
    return [head, rest];
  };
  const unselectedStageTargets: { stage: string; param: string; o: Override }[] = [];
  for (const o of unselected) {
    const t = checkTarget(o);
    if (t && t[0] !== 'params') unselectedStageTargets.push({ stage: t[0], param: t[1][0]!, o });
  }
  for (const o of overrides) {
    const t = checkTarget(o);
    if (!t) continue;
    const [head, rest] = t;
    if (head === 'params') setDeep(pipelineParams, rest, o.value);
    else {
      const list = stageOverrides.get(head) ?? [];
      list.push({ path: rest, value: o.value, loc: o.loc });
      stageOverrides.set(head, list);
    }
  }

  // 3. Stage kinds.
  const kinds = new Map<string, ResolvedKind>();
  await Promise.all(
    Object.entries(decl.stages).map(async ([name, s]) => {
      try {
        kinds.set(name, await resolveKind(s.uses, file, s));
      } catch (e) {
        err((e as Error).message, ['stages', name, 'uses']);
      }
    }),
  );

  // An unselected profile's stage.param must name a parameter of the stage's kind (the selected
  // profile's values are checked fully by the kind's schema below).
  for (const { stage, param, o } of unselectedStageTargets) {
    const r = kinds.get(stage);
    const schema = r?.kind.params as { properties?: Json; additionalProperties?: unknown } | undefined;
    if (schema?.properties && schema.additionalProperties === false && !(param in schema.properties)) {
      errors.push(new PipelineError(`unknown parameter '${param}' of stage '${stage}' (${r!.kind.kind}) (allowed: ${Object.keys(schema.properties).join(', ')})`, o.keyLoc ?? o.loc, o.field ?? o.target));
    }
  }

  // Code identity of each kind, fresh for every plan (files memoised by size and mtime).
  const stats: StatCache = new Map();
  const code = new Map<string, CodeIdentity>();
  for (const r of kinds.values()) if (!code.has(r.id)) code.set(r.id, codeIdentity(r.moduleUrl, stats));

  // 4. Stage-level graph (inputs + foreach) → cycles → order.
  const deps = new Map<string, string[]>();
  for (const [name, s] of Object.entries(decl.stages)) {
    const d: string[] = [];
    for (const [inName, refs] of Object.entries(s.inputs ?? {})) {
      const list = Array.isArray(refs) ? refs : [refs];
      list.forEach((ref, i) => {
        const [up, out] = ref.split('.') as [string, string];
        const path = Array.isArray(refs) ? ['stages', name, 'inputs', inName, i] : ['stages', name, 'inputs', inName];
        if (!(up in decl.stages)) {
          err(`input '${inName}' references unknown stage '${up}' (stages: ${Object.keys(decl.stages).join(', ')})`, path);
          return;
        }
        if (up === name) {
          err(`stage '${name}' cannot take its own output as input`, path);
          return;
        }
        const upKind = kinds.get(up);
        if (upKind && !(out in upKind.kind.outputs)) {
          err(`stage '${up}' (${upKind.kind.kind}) has no output '${out}' (outputs: ${Object.keys(upKind.kind.outputs).join(', ')})`, path);
        }
        d.push(up);
      });
    }
    if (s.foreach !== undefined) {
      if (!(s.foreach in decl.stages)) err(`foreach references unknown stage '${s.foreach}'`, ['stages', name, 'foreach']);
      else if (s.foreach === name) err(`stage '${name}' cannot iterate over itself`, ['stages', name, 'foreach']);
      else d.push(s.foreach);
    }
    deps.set(name, [...new Set(d)]);
  }
  const cycle = findCycle(deps);
  if (cycle) {
    err(`dependency cycle: ${cycle.join(' → ')} (arrows show data flow)`, ['stages', cycle[0]!], true);
    throw new PipelineErrors(dedupe(errors));
  }
  const stageOrder = topoOrder(deps);

  // 5. Expand and resolve each stage.
  const instances: PlannedInstance[] = [];
  const byName = new Map<string, PlannedInstance>();
  const stages = new Map<string, string[]>();
  const coordsOf = new Map<string, MatrixCoords[]>();
  for (const name of stageOrder) {
    const s = decl.stages[name]!;
    const r = kinds.get(name);
    // Matrix coordinates: inherited (foreach) × own axes.
    let base: MatrixCoords[] = [{}];
    if (s.foreach !== undefined) base = coordsOf.get(s.foreach) ?? [{}];
    let ok = true;
    const { include, ...axes } = (s.matrix ?? {}) as Record<string, unknown>;
    for (const [axis, declared] of Object.entries(axes)) {
      // An axis may be a ${{ params.x }} template, so `--set params.seeds=[0]` can change a matrix.
      const values = substitute(declared, { matrix: {}, params: pipelineParams }, (msg) => err(msg, ['stages', name, 'matrix', axis])) as unknown;
      if (!Array.isArray(values) || values.length === 0 || values.some((v) => v === null || typeof v === 'object')) {
        err(`matrix axis '${axis}' must be a non-empty list of scalars, got ${JSON.stringify(values)}`, ['stages', name, 'matrix', axis]);
        ok = false;
        continue;
      }
      if (base.some((c) => axis in c)) {
        err(`matrix axis '${axis}' is already inherited through foreach: ${s.foreach}`, ['stages', name, 'matrix', axis], true);
        ok = false;
        continue;
      }
      const seen = new Set<string>();
      (values as (string | number | boolean)[]).forEach((v, i) => {
        if (seen.has(String(v))) {
          err(`matrix axis '${axis}' repeats the value ${JSON.stringify(v)}`, ['stages', name, 'matrix', axis, i]);
          ok = false;
        }
        seen.add(String(v));
      });
      base = base.flatMap((c) => (values as (string | number | boolean)[]).map((v) => ({ ...c, [axis]: v })));
    }
    if (Array.isArray(include)) {
      // `include`: extra combinations, each a map of axis → value (as in GitHub Actions' matrix.include).
      const inherited = s.foreach !== undefined ? coordsOf.get(s.foreach) ?? [{}] : [{}];
      const product = Object.keys(axes).length > 0 ? base : [];
      const extra: MatrixCoords[] = [];
      (include as MatrixCoords[]).forEach((entry, i) => {
        const clash = Object.keys(entry).find((k) => inherited.some((c) => k in c));
        if (clash) {
          err(`matrix include entry sets '${clash}', which is inherited through foreach: ${s.foreach}`, ['stages', name, 'matrix', 'include', i]);
          ok = false;
        }
        for (const c of inherited) extra.push({ ...c, ...entry });
      });
      base = [...product, ...extra];
      const names = new Set<string>();
      base.forEach((c) => {
        const n = instanceName(name, c);
        if (names.has(n)) {
          err(`matrix include repeats the combination ${n}`, ['stages', name, 'matrix', 'include']);
          ok = false;
        }
        names.add(n);
      });
    }
    coordsOf.set(name, base);
    if (!r || !ok) continue;

    const names: string[] = [];
    for (const coords of base) {
      const instName = instanceName(name, coords);
      const ctx: TemplateContext = { matrix: coords, params: pipelineParams };
      // Parameters: with → overrides → defaults.with → templates → schema (fills defaults).
      const params: Json = structuredClone(s.with ?? {});
      for (const o of stageOverrides.get(name) ?? []) setDeep(params, o.path, o.value);
      const props = (r.kind.params as { properties?: Json }).properties ?? {};
      for (const [k, v] of Object.entries(decl.defaults?.with ?? {})) if (k in props && !(k in params)) params[k] = structuredClone(v);
      const before = errors.length;
      const substituted = substitute(params, ctx, (msg, sub) => err(msg, ['stages', name, 'with', ...sub]));
      let seed: number = decl.defaults?.seed ?? 0;
      if (s.seed !== undefined) {
        const v = substitute(s.seed, ctx, (msg) => err(msg, ['stages', name, 'seed']));
        if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) err(`seed must be a non-negative integer, got ${JSON.stringify(v)}`, ['stages', name, 'seed']);
        else seed = v;
      } else if ('seed' in coords) {
        const v = Number(coords['seed']);
        if (!Number.isInteger(v) || v < 0) err(`matrix seed values must be non-negative integers, got ${JSON.stringify(coords['seed'])}`, ['stages', name, 'matrix', 'seed']);
        else seed = v;
      }
      if (errors.length > before) continue;
      const validateParams = validatorForKind(r);
      if (!validateParams(substituted)) {
        for (const e of validateParams.errors ?? []) {
          const { path, key, message } = describeSchemaError(e, `stage '${name}' (${r.kind.kind})`);
          const override = (stageOverrides.get(name) ?? []).find((o) => o.path[0] === path[0]);
          err(message, ['stages', name, 'with', ...path], key, override?.loc);
        }
        continue;
      }
      // Files named by fileParams must exist now, not when the stage finally runs.
      for (const pname of r.kind.fileParams ?? []) {
        const value = (substituted as Json)[pname];
        if (typeof value !== 'string' || value === '' || existsSync(resolve(cwd, value))) continue;
        const override = (stageOverrides.get(name) ?? []).find((o) => o.path[0] === pname);
        err(`file not found: ${value} (paths are relative to the working directory, ${cwd})`, ['stages', name, 'with', pname], false, override?.loc);
      }
      // Inputs.
      const inputs: Record<string, InputBinding> = {};
      const needs = new Set<string>();
      for (const [inName, spec] of Object.entries(r.kind.inputs)) {
        const refs = s.inputs?.[inName];
        if (refs === undefined) {
          if (!spec.optional) err(`missing input '${inName}' of ${r.kind.kind}: ${spec.description}`, ['stages', name, s.inputs ? 'inputs' : 'uses'], !!s.inputs);
          continue;
        }
        const list = Array.isArray(refs) ? refs : [refs];
        const binding: InputBinding = { many: !!spec.many, refs: [] };
        for (const ref of list) {
          const [up, out] = ref.split('.') as [string, string];
          const upNames = stages.get(up) ?? [];
          const matches = upNames.filter((u) => compatible(coords, byName.get(u)!.matrix));
          if (matches.length === 0) {
            err(`input '${inName}' (${ref}) matches no instance of '${up}' for ${instName}`, ['stages', name, 'inputs', inName]);
          }
          for (const m of matches) binding.refs.push({ instance: m, output: out });
        }
        if (!binding.many && binding.refs.length > 1) {
          err(
            `input '${inName}' takes one artifact but ${JSON.stringify(refs)} matches ${binding.refs.length} instances for ${instName}; ` +
              `add 'foreach: ${list[0]!.split('.')[0]}' (or matrix axes that pick one instance)`,
            ['stages', name, 'inputs', inName],
          );
        }
        binding.refs.forEach((b) => needs.add(b.instance));
        inputs[inName] = binding;
      }
      for (const inName of Object.keys(s.inputs ?? {})) {
        if (!(inName in r.kind.inputs)) {
          err(`unknown input '${inName}' for ${r.kind.kind} (inputs: ${Object.keys(r.kind.inputs).join(', ') || 'none'})`, ['stages', name, 'inputs', inName], true);
        }
      }
      const inst: PlannedInstance = { name: instName, stage: name, kindId: r.id, resolved: r, code: code.get(r.id)!, matrix: coords, params: substituted as Json, seed, inputs, needs: [...needs] };
      instances.push(inst);
      byName.set(instName, inst);
      names.push(instName);
    }
    stages.set(name, names);
  }
  if (errors.length > 0) throw new PipelineErrors(dedupe(errors));

  const storeDir = resolve(cwd, opts.storeDir ?? decl.store ?? 'artifacts');
  return {
    name: decl.name,
    description: decl.description,
    file: resolve(cwd, loaded.file),
    storeDir,
    tracking: decl.tracking ?? {},
    params: pipelineParams,
    profile: opts.profile,
    instances,
    byName,
    stages,
    warnings: unbuiltWarnings(code),
  };
}

function unbuiltWarnings(code: Map<string, CodeIdentity>): string[] {
  const labels = [...new Set([...code.values()].flatMap((c) => c.unbuilt))].sort();
  return labels.map((l) => `${l} was edited after it was compiled: stages run (and are keyed by) the compiled code, so the edit takes effect after a rebuild (npm run build)`);
}

export function instanceName(stage: string, coords: MatrixCoords): string {
  const axes = Object.entries(coords);
  return axes.length === 0 ? stage : `${stage}[${axes.map(([k, v]) => `${k}=${v}`).join(',')}]`;
}

function compatible(a: MatrixCoords, b: MatrixCoords): boolean {
  for (const k of Object.keys(a)) if (k in b && String(a[k]) !== String(b[k])) return false;
  return true;
}

interface TemplateContext {
  matrix: MatrixCoords;
  params: Json;
}

const WHOLE = /^\$\{\{\s*([A-Za-z_][\w]*)\.([A-Za-z_][\w.]*)\s*\}\}$/;
const ANY = /\$\{\{\s*([A-Za-z_][\w]*)\.([A-Za-z_][\w.]*)\s*\}\}/g;

/** Replaces `${{ matrix.x }}` / `${{ params.x }}`; a template that is the whole string keeps the value's type. */
function substitute(value: unknown, ctx: TemplateContext, report: (msg: string, path: (string | number)[]) => void, path: (string | number)[] = []): unknown {
  if (typeof value === 'string') {
    const lookup = (scope: string, name: string): unknown => {
      const src = scope === 'matrix' ? ctx.matrix : scope === 'params' ? ctx.params : undefined;
      if (!src) {
        report(`unknown template scope '${scope}' (use matrix.* or params.*)`, path);
        return undefined;
      }
      const v = getDeep(src as Json, name.split('.'));
      if (v === undefined) report(`template refers to unknown ${scope} value '${name}' (known: ${Object.keys(src).join(', ') || 'none'})`, path);
      return v;
    };
    const whole = WHOLE.exec(value);
    if (whole) return lookup(whole[1]!, whole[2]!);
    if (!value.includes('${{')) return value;
    return value.replace(ANY, (_m, scope: string, name: string) => String(lookup(scope, name)));
  }
  if (Array.isArray(value)) return value.map((v, i) => substitute(v, ctx, report, [...path, i]));
  if (value !== null && typeof value === 'object') {
    const out: Json = {};
    for (const [k, v] of Object.entries(value as Json)) out[k] = substitute(v, ctx, report, [...path, k]);
    return out;
  }
  return value;
}

function getDeep(obj: Json, path: string[]): unknown {
  let cur: unknown = obj;
  for (const p of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Json)[p];
  }
  return cur;
}

function setDeep(obj: Json, path: string[], value: unknown): void {
  let cur = obj;
  path.slice(0, -1).forEach((p) => {
    if (cur[p] === null || typeof cur[p] !== 'object') cur[p] = {};
    cur = cur[p] as Json;
  });
  cur[path[path.length - 1]!] = value;
}

function describeSchemaError(e: ErrorObject, what: string): { path: string[]; key: boolean; message: string } {
  const path = e.instancePath.split('/').slice(1).map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
  const field = path.length ? path.join('.') : what;
  switch (e.keyword) {
    case 'additionalProperties': {
      const extra = (e.params as { additionalProperty: string }).additionalProperty;
      const allowed = Object.keys(((e.parentSchema as { properties?: Json })?.properties) ?? {});
      return { path: [...path, extra], key: true, message: `unknown field '${extra}' in ${path.length ? field : what}${allowed.length ? ` (allowed: ${allowed.join(', ')})` : ''}` };
    }
    case 'required':
      return { path, key: false, message: `missing required field '${(e.params as { missingProperty: string }).missingProperty}' in ${path.length ? field : what}` };
    case 'type':
      return { path, key: false, message: `'${field}' must be ${(e.params as { type: string }).type}` };
    case 'enum':
      return { path, key: false, message: `'${field}' must be one of ${(e.params as { allowedValues: unknown[] }).allowedValues.map((v) => JSON.stringify(v)).join(', ')}` };
    case 'propertyNames':
      return { path, key: false, message: `invalid name in ${field}: ${e.message}` };
    default:
      return { path, key: false, message: `'${field}' ${e.message}` };
  }
}

function dedupe(errors: PipelineError[]): PipelineError[] {
  const seen = new Set<string>();
  // oneOf produces a noisy mix; keep one message per field and drop the generic oneOf summary.
  return errors.filter((e) => {
    const k = e.format();
    if (seen.has(k) || /must match exactly one schema/.test(e.message)) return false;
    seen.add(k);
    return true;
  });
}

/** Returns one cycle as a closed path of stage names, or null. */
export function findCycle(deps: Map<string, string[]>): string[] | null {
  const state = new Map<string, 1 | 2>();
  const stack: string[] = [];
  const visit = (n: string): string[] | null => {
    state.set(n, 1);
    stack.push(n);
    for (const d of deps.get(n) ?? []) {
      if (state.get(d) === 1) return [...stack.slice(stack.indexOf(d)), d].reverse();
      if (!state.has(d)) {
        const c = visit(d);
        if (c) return c;
      }
    }
    stack.pop();
    state.set(n, 2);
    return null;
  };
  for (const n of deps.keys()) if (!state.has(n)) { const c = visit(n); if (c) return c; }
  return null;
}

/** Kahn's algorithm; ties broken by declaration order so plans are stable. */
export function topoOrder(deps: Map<string, string[]>): string[] {
  const order: string[] = [];
  const done = new Set<string>();
  const names = [...deps.keys()];
  while (order.length < names.length) {
    const next = names.find((n) => !done.has(n) && (deps.get(n) ?? []).every((d) => done.has(d)));
    if (next === undefined) throw new Error('cycle');
    order.push(next);
    done.add(next);
  }
  return order;
}


/**
 * Planning phase "resolve params", instance level: `with` → the stage's overrides → `defaults.with`
 * → templates → the kind's schema (which fills in defaults), the instance's seed, and the files its
 * fileParams name (which must exist now, not when the stage finally runs).
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Diagnostics } from './errors.js';
import type { Json, PipelineDecl } from './declaration.js';
import type { Overrides } from './overrides.js';
import type { ResolvedKind } from './stage.js';
import { describeSchemaError, validatorForKind } from './schemas.js';
import { setDeep, substitute, type MatrixCoords, type TemplateContext } from './templates.js';

export interface ResolvedParams {
  params: Json;
  seed: number;
}

/** The instance's parameters and seed, or null when they have errors (reported to `d`). */
export function resolveParams(
  decl: PipelineDecl, stage: string, kind: ResolvedKind, coords: MatrixCoords, overrides: Overrides, cwd: string, d: Diagnostics,
): ResolvedParams | null {
  const s = decl.stages[stage]!;
  const stageOverrides = overrides.byStage.get(stage) ?? [];
  const ctx: TemplateContext = { matrix: coords, params: overrides.pipelineParams };
  const before = d.count;

  const raw: Json = structuredClone(s.with ?? {});
  for (const o of stageOverrides) setDeep(raw, o.path, o.value);
  const declared = (kind.kind.params as { properties?: Json }).properties ?? {};
  for (const [k, v] of Object.entries(decl.defaults?.with ?? {})) if (k in declared && !(k in raw)) raw[k] = structuredClone(v);
  const params = substitute(raw, ctx, (msg, sub) => d.error(msg, ['stages', stage, 'with', ...sub])) as Json;

  let seed: number = decl.defaults?.seed ?? 0;
  if (s.seed !== undefined) {
    const v = substitute(s.seed, ctx, (msg) => d.error(msg, ['stages', stage, 'seed']));
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) d.error(`seed must be a non-negative integer, got ${JSON.stringify(v)}`, ['stages', stage, 'seed']);
    else seed = v;
  } else if ('seed' in coords) {
    const v = Number(coords['seed']);
    if (!Number.isInteger(v) || v < 0) d.error(`matrix seed values must be non-negative integers, got ${JSON.stringify(coords['seed'])}`, ['stages', stage, 'matrix', 'seed']);
    else seed = v;
  }
  if (d.count > before) return null;

  // A value set by an override is reported where the override is (the profile, the command line).
  const overrideAt = (param: string | undefined) => stageOverrides.find((o) => o.path[0] === param)?.loc;
  const validate = validatorForKind(kind);
  if (!validate(params)) {
    for (const e of validate.errors ?? []) {
      const { path, key, message } = describeSchemaError(e, `stage '${stage}' (${kind.kind.kind})`);
      d.error(message, ['stages', stage, 'with', ...path], { key, at: overrideAt(path[0]) });
    }
    return null;
  }
  for (const name of kind.kind.fileParams ?? []) {
    const value = params[name];
    if (typeof value !== 'string' || value === '' || existsSync(resolve(cwd, value))) continue;
    d.error(`file not found: ${value} (paths are relative to the working directory, ${cwd})`, ['stages', stage, 'with', name], { at: overrideAt(name) });
  }
  return d.count > before ? null : { params, seed };
}

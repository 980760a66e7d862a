/**
 * Planning phase "expand": each stage's instances as matrix coordinates — the coordinates inherited
 * through `foreach`, times the stage's own axes (a list, or a `${{ params.x }}` template naming
 * one), plus `include` combinations (as in GitHub Actions' matrix.include).
 */
import type { Diagnostics } from './errors.js';
import type { Json, PipelineDecl } from './declaration.js';
import { substitute, type MatrixCoords } from './templates.js';

export type { MatrixCoords };

export interface Expansion {
  /** Stage → the coordinates of its instances, in expansion order. */
  coords: Map<string, MatrixCoords[]>;
  /** Stages whose matrix has errors: they get no instances. */
  failed: Set<string>;
}

/** Expands every stage; `order` must list a stage after the stage it iterates over. */
export function expandStages(decl: PipelineDecl, order: string[], pipelineParams: Json, d: Diagnostics): Expansion {
  const coords = new Map<string, MatrixCoords[]>();
  const failed = new Set<string>();
  for (const name of order) {
    const s = decl.stages[name]!;
    const inherited = s.foreach !== undefined ? coords.get(s.foreach) ?? [{}] : [{}];
    let ok = true;
    const fail = (message: string, path: (string | number)[], key = false) => {
      d.error(message, ['stages', name, 'matrix', ...path], { key });
      ok = false;
    };
    let base = inherited;
    const { include, ...axes } = (s.matrix ?? {}) as Record<string, unknown>;
    for (const [axis, declared] of Object.entries(axes)) {
      const values = substitute(declared, { matrix: {}, params: pipelineParams }, (msg) => fail(msg, [axis])) as unknown;
      if (!Array.isArray(values) || values.length === 0 || values.some((v) => v === null || typeof v === 'object')) {
        fail(`matrix axis '${axis}' must be a non-empty list of scalars, got ${JSON.stringify(values)}`, [axis]);
        continue;
      }
      if (base.some((c) => axis in c)) {
        fail(`matrix axis '${axis}' is already inherited through foreach: ${s.foreach}`, [axis], true);
        continue;
      }
      const seen = new Set<string>();
      (values as (string | number | boolean)[]).forEach((v, i) => {
        if (seen.has(String(v))) fail(`matrix axis '${axis}' repeats the value ${JSON.stringify(v)}`, [axis, i]);
        seen.add(String(v));
      });
      base = base.flatMap((c) => (values as (string | number | boolean)[]).map((v) => ({ ...c, [axis]: v })));
    }
    if (Array.isArray(include)) {
      const extra: MatrixCoords[] = [];
      (include as MatrixCoords[]).forEach((entry, i) => {
        const clash = Object.keys(entry).find((k) => inherited.some((c) => k in c));
        if (clash) fail(`matrix include entry sets '${clash}', which is inherited through foreach: ${s.foreach}`, ['include', i]);
        for (const c of inherited) extra.push({ ...c, ...entry });
      });
      base = [...(Object.keys(axes).length > 0 ? base : []), ...extra];
      const names = new Set<string>();
      for (const c of base) {
        const n = instanceName(name, c);
        if (names.has(n)) fail(`matrix include repeats the combination ${n}`, ['include']);
        names.add(n);
      }
    }
    coords.set(name, base);
    if (!ok) failed.add(name);
  }
  return { coords, failed };
}

export function instanceName(stage: string, coords: MatrixCoords): string {
  const axes = Object.entries(coords);
  return axes.length === 0 ? stage : `${stage}[${axes.map(([k, v]) => `${k}=${v}`).join(',')}]`;
}

/** Whether two instances agree on every matrix axis they share. */
export function compatible(a: MatrixCoords, b: MatrixCoords): boolean {
  for (const k of Object.keys(a)) if (k in b && String(a[k]) !== String(b[k])) return false;
  return true;
}

/** `${{ matrix.x }}` / `${{ params.x }}` templates, and deep get/set on plain JSON values. */
import type { Json } from './declaration.js';

export type MatrixCoords = Record<string, string | number | boolean>;

export interface TemplateContext {
  matrix: MatrixCoords;
  params: Json;
}

export type TemplateReport = (message: string, path: (string | number)[]) => void;

const WHOLE = /^\$\{\{\s*([A-Za-z_][\w]*)\.([A-Za-z_][\w.]*)\s*\}\}$/;
const ANY = /\$\{\{\s*([A-Za-z_][\w]*)\.([A-Za-z_][\w.]*)\s*\}\}/g;

/** Replaces templates anywhere in `value`; a template that is the whole string keeps the value's type. */
export function substitute(value: unknown, ctx: TemplateContext, report: TemplateReport, path: (string | number)[] = []): unknown {
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

export function getDeep(obj: Json, path: string[]): unknown {
  let cur: unknown = obj;
  for (const p of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Json)[p];
  }
  return cur;
}

export function setDeep(obj: Json, path: string[], value: unknown): void {
  let cur = obj;
  path.slice(0, -1).forEach((p) => {
    if (cur[p] === null || typeof cur[p] !== 'object') cur[p] = {};
    cur = cur[p] as Json;
  });
  cur[path[path.length - 1]!] = value;
}

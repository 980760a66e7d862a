/**
 * Planning phase "graph": which stages feed which (inputs and foreach), with the errors of
 * references that name no stage or output; cycles; a stable topological order. (The same
 * questions about a finished plan's instances, for --only and --from, are in select.ts.)
 */
import type { Diagnostics } from './errors.js';
import { refList, splitRef, type PipelineDecl } from './declaration.js';
import type { ResolvedKind } from './stage.js';

/** Stage → the stages it depends on (deduplicated, declaration order). */
export function stageDependencies(decl: PipelineDecl, kinds: Map<string, ResolvedKind>, d: Diagnostics): Map<string, string[]> {
  const names = Object.keys(decl.stages);
  const deps = new Map<string, string[]>();
  for (const [name, s] of Object.entries(decl.stages)) {
    const ups: string[] = [];
    for (const [inName, refs] of Object.entries(s.inputs ?? {})) {
      refList(refs).forEach((ref, i) => {
        const [up, out] = splitRef(ref);
        const path = Array.isArray(refs) ? ['stages', name, 'inputs', inName, i] : ['stages', name, 'inputs', inName];
        if (!(up in decl.stages)) return d.error(`input '${inName}' references unknown stage '${up}' (stages: ${names.join(', ')})`, path);
        if (up === name) return d.error(`stage '${name}' cannot take its own output as input`, path);
        const upKind = kinds.get(up);
        if (upKind && !(out in upKind.kind.outputs)) {
          d.error(`stage '${up}' (${upKind.kind.kind}) has no output '${out}' (outputs: ${Object.keys(upKind.kind.outputs).join(', ')})`, path);
        }
        ups.push(up);
      });
    }
    if (s.foreach !== undefined) {
      if (!(s.foreach in decl.stages)) d.error(`foreach references unknown stage '${s.foreach}'`, ['stages', name, 'foreach']);
      else if (s.foreach === name) d.error(`stage '${name}' cannot iterate over itself`, ['stages', name, 'foreach']);
      else ups.push(s.foreach);
    }
    deps.set(name, [...new Set(ups)]);
  }
  return deps;
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

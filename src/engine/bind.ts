/**
 * Planning phase "bind inputs": each declared input of an instance → the upstream instances whose
 * matrix values agree with the instance's own. A single input must match exactly one instance;
 * a `many` input (fan-in) takes all that match.
 */
import type { Diagnostics } from './errors.js';
import { refList, splitRef, type PipelineDecl } from './declaration.js';
import { compatible, instanceName, type Expansion, type MatrixCoords } from './expand.js';
import type { ResolvedKind } from './stage.js';

export interface InputBinding {
  many: boolean;
  refs: { instance: string; output: string }[];
}

export interface Bound {
  inputs: Record<string, InputBinding>;
  /** Upstream instance names, deduplicated. */
  needs: string[];
}

export function bindInputs(decl: PipelineDecl, stage: string, kind: ResolvedKind, coords: MatrixCoords, expansion: Expansion, d: Diagnostics): Bound {
  const s = decl.stages[stage]!;
  const self = instanceName(stage, coords);
  const inputs: Record<string, InputBinding> = {};
  const needs = new Set<string>();
  for (const [inName, spec] of Object.entries(kind.kind.inputs)) {
    const refs = s.inputs?.[inName];
    if (refs === undefined) {
      if (!spec.optional) d.error(`missing input '${inName}' of ${kind.kind.kind}: ${spec.description}`, ['stages', stage, s.inputs ? 'inputs' : 'uses'], { key: !!s.inputs });
      continue;
    }
    const binding: InputBinding = { many: !!spec.many, refs: [] };
    for (const ref of refList(refs)) {
      const [up, out] = splitRef(ref);
      const matches = (expansion.coords.get(up) ?? []).filter((c) => compatible(coords, c)).map((c) => instanceName(up, c));
      if (matches.length === 0) d.error(`input '${inName}' (${ref}) matches no instance of '${up}' for ${self}`, ['stages', stage, 'inputs', inName]);
      for (const m of matches) binding.refs.push({ instance: m, output: out });
    }
    if (!binding.many && binding.refs.length > 1) {
      d.error(
        `input '${inName}' takes one artifact but ${JSON.stringify(refs)} matches ${binding.refs.length} instances for ${self}; ` +
          `add 'foreach: ${splitRef(refList(refs)[0]!)[0]}' (or matrix axes that pick one instance)`,
        ['stages', stage, 'inputs', inName],
      );
    }
    binding.refs.forEach((b) => needs.add(b.instance));
    inputs[inName] = binding;
  }
  return { inputs, needs: [...needs] };
}

/** Inputs the stage declares that its kind does not have. */
export function checkUnknownInputs(decl: PipelineDecl, stage: string, kind: ResolvedKind, d: Diagnostics): void {
  for (const inName of Object.keys(decl.stages[stage]!.inputs ?? {})) {
    if (!(inName in kind.kind.inputs)) {
      d.error(`unknown input '${inName}' for ${kind.kind.kind} (inputs: ${Object.keys(kind.kind.inputs).join(', ') || 'none'})`, ['stages', stage, 'inputs', inName], { key: true });
    }
  }
}

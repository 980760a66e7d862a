/**
 * A command stage as declared in a pipeline file (DVC's `cmd` with declared deps and outs):
 *
 *   train:
 *     uses: command
 *     run: python train.py --data ${{ inputs.dataset }} --out ${{ outputs.model }} --lr ${{ with.lr }}
 *     code: [train.py]                       # digested into the cache key
 *     inputs: { dataset: dataset.dataset }   # Arrow file paths
 *     outputs: { model: arrow, plot: png }   # `arrow` = a table; anything else is stored as a file
 *     with: { lr: 0.1 }                      # the stage's parameters (also as JSON: ${{ stage.params_file }})
 *
 * Templates in `run` are filled in when the stage runs, each value shell-quoted:
 *   ${{ inputs.NAME }}    the input's Arrow file (a `many` input: its files, space-separated)
 *   ${{ outputs.NAME }}   where the command must write that output
 *   ${{ with.NAME }}      a parameter (pipeline params and matrix values reach `run` through `with:`)
 *   ${{ stage.params_file | seed | state_dir | instance }}
 * `state_dir` survives a killed run (checkpoints go there) and is removed once the result is stored.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathDigest } from '../store/digest.js';
import { canonicalJson } from '../engine/canonical-json.js';
import { sha256 } from '../store/digest.js';
import type { DeclaredOutput } from './outputs.js';

/** The fields of a pipeline's stage declaration that a command stage reads. */
export interface CommandDecl {
  run?: unknown;
  code?: unknown;
  inputs?: Record<string, unknown>;
  outputs?: unknown;
  with?: Record<string, unknown>;
}

export interface CommandOutput extends DeclaredOutput {
  description?: string;
}

export interface CommandSpec {
  run: string;
  inputs: Record<string, { many: boolean }>;
  outputs: Record<string, CommandOutput>;
  /** Declared code files and directories, as written (relative to the working directory). */
  code: string[];
  /** Their content digests when the run was planned. */
  codeDigests: Record<string, string>;
  /** The working directory the command runs in (the engine's). */
  cwd: string;
  /** The pipeline's Python interpreter: its directory goes first on PATH, so `python` is that one. */
  python: string;
}

const TEMPLATE = /\$\{\{\s*([A-Za-z_][\w]*)(?:\.([A-Za-z_][\w-]*))?\s*\}\}/g;
const STAGE_FIELDS = ['params_file', 'seed', 'state_dir', 'instance'] as const;
const NAME = /^[A-Za-z_][A-Za-z0-9_-]*$/;
const EXT = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/** Checks a command stage's declaration; every problem is named (the caller adds file:line). */
export function parseCommandDecl(decl: CommandDecl, cwd: string, python: string): CommandSpec {
  const problems: string[] = [];
  const run = decl.run;
  if (typeof run !== 'string' || run.trim() === '') problems.push("a command stage needs `run:`, the command line to execute");
  const inputs: CommandSpec['inputs'] = {};
  for (const [name, ref] of Object.entries(decl.inputs ?? {})) inputs[name] = { many: Array.isArray(ref) };

  const outputs: CommandSpec['outputs'] = {};
  const rawOutputs = decl.outputs ?? {};
  if (rawOutputs === null || typeof rawOutputs !== 'object' || Array.isArray(rawOutputs)) {
    problems.push('`outputs:` must map each output name to its file type (e.g. `{ model: arrow, plot: png }`)');
  } else {
    for (const [name, v] of Object.entries(rawOutputs as Record<string, unknown>)) {
      if (!NAME.test(name)) { problems.push(`output name '${name}' must be a letter or _ followed by letters, digits, _ or -`); continue; }
      const o = typeof v === 'string' ? { ext: v } : v !== null && typeof v === 'object' ? (v as Record<string, unknown>) : {};
      if (typeof o['ext'] !== 'string' || !EXT.test(o['ext'])) {
        problems.push(`output '${name}' needs a file type: \`${name}: arrow\` (a table) or an extension such as png, or { ext: …, description: …, optional: true }`);
        continue;
      }
      outputs[name] = { ext: o['ext'], optional: o['optional'] === true, description: typeof o['description'] === 'string' ? o['description'] : undefined };
    }
  }

  const code: string[] = [];
  if (decl.code !== undefined) {
    if (!Array.isArray(decl.code) || decl.code.some((c) => typeof c !== 'string' || c === '')) problems.push('`code:` must be a list of file or directory paths');
    else code.push(...(decl.code as string[]));
  }
  const codeDigests: Record<string, string> = {};
  for (const c of code) {
    const p = resolve(cwd, c);
    if (!existsSync(p)) problems.push(`code file '${c}' not found (looked for ${p}; paths are relative to the working directory)`);
    else codeDigests[c] = pathDigest(p);
  }

  if (typeof run === 'string') {
    const withKeys = Object.keys(decl.with ?? {});
    for (const m of run.matchAll(TEMPLATE)) {
      const [whole, scope, field] = m as unknown as [string, string, string | undefined];
      const known: Record<string, readonly string[]> = { inputs: Object.keys(inputs), outputs: Object.keys(outputs), with: withKeys, stage: STAGE_FIELDS };
      if (scope === 'params' || scope === 'matrix') {
        problems.push(`${whole} in run: pass pipeline values to a command through \`with:\` (e.g. \`with: { x: "\${{ ${scope}.${field ?? 'x'} }}" }\`) and write \${{ with.${field ?? 'x'} }}, so they join the cache key`);
      } else if (!(scope in known)) {
        problems.push(`${whole} in run: unknown scope '${scope}' (use inputs, outputs, with or stage)`);
      } else if (field === undefined || !known[scope]!.includes(field)) {
        problems.push(`${whole} in run: no ${scope} named '${field ?? ''}' (declared: ${known[scope]!.join(', ') || 'none'})`);
      }
    }
  }
  if (problems.length > 0) throw new Error(problems.join('; '));
  return { run: run as string, inputs, outputs, code, codeDigests, cwd, python };
}

/** What the cache key must change with besides the parameters: the command line, outputs and code. */
export function commandDigest(spec: CommandSpec): string {
  return sha256(canonicalJson({ run: spec.run, outputs: spec.outputs, code: spec.codeDigests }));
}

export function shellQuote(s: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

export interface RunValues {
  inputs: Record<string, string[]>;
  outputs: Record<string, string>;
  params: Record<string, unknown>;
  stage: Record<(typeof STAGE_FIELDS)[number], string>;
}

/** Fills in a checked `run` template. */
export function renderCommand(run: string, v: RunValues): string {
  return run.replace(TEMPLATE, (_m, scope: string, field: string) => {
    if (scope === 'inputs') return (v.inputs[field] ?? []).map(shellQuote).join(' ');
    if (scope === 'outputs') return shellQuote(v.outputs[field]!);
    if (scope === 'stage') return shellQuote(v.stage[field as keyof RunValues['stage']]);
    const p = v.params[field];
    return shellQuote(typeof p === 'string' ? p : JSON.stringify(p));
  });
}

export function outputPath(dir: string, name: string, o: DeclaredOutput): string {
  return resolve(dir, `${name}.${o.ext}`);
}

/**
 * The stage kind of a declared command (command-spec.ts): writes the parameters to a JSON file,
 * runs the command line with its inputs' and outputs' paths filled in, streams its output to the
 * stage log (`::iqlp::` lines become progress, metrics and summaries: events.ts), and returns the
 * files it wrote as the stage's outputs. Outputs are written into the run's scratch directory and
 * only a zero exit makes them a result, so a failing or killed command never leaves a store entry.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { InputArtifact, StageContext, StageKind, StageResult } from '../engine/stage.js';
import { describeExit, startChild } from './child.js';
import { commandDigest, outputPath, renderCommand, type CommandSpec } from './command-spec.js';
import { forwardEvent, parseEventLine } from './events.js';
import { collectOutputs } from './outputs.js';
import { childEnv } from './python-env.js';
import { assertCodeUnchanged } from './code-check.js';

/** Bump when the way commands are run changes what they compute (part of every command's key). */
export const COMMAND_RUNTIME_VERSION = '1';

const supervisor = fileURLToPath(new URL(import.meta.url.endsWith('.ts') ? './supervisor.ts' : './supervisor.js', import.meta.url));

export function commandKind(spec: CommandSpec): StageKind<Record<string, unknown>> {
  return {
    kind: 'command',
    // The command line, declared outputs and code digests are part of the version, hence of the key.
    version: `${COMMAND_RUNTIME_VERSION}+${commandDigest(spec).slice(0, 16)}`,
    description: spec.run,
    // Any parameters: the command defines what they mean; they all join the cache key.
    params: { type: 'object' },
    inputs: Object.fromEntries(Object.entries(spec.inputs).map(([n, i]) => [n, { description: `input of \`${spec.run}\``, many: i.many }])),
    outputs: Object.fromEntries(Object.entries(spec.outputs).map(([n, o]) => [n, { description: o.description ?? `${o.ext} written by the command`, optional: o.optional }])),
    run: (ctx) => runCommand(spec, ctx),
  };
}

async function runCommand(spec: CommandSpec, ctx: StageContext<Record<string, unknown>>): Promise<StageResult> {
  assertCodeUnchanged(spec.codeDigests, spec.cwd, 'command');
  const outDir = join(ctx.scratchDir, 'outputs');
  mkdirSync(outDir, { recursive: true });
  const stateDir = ctx.stateDir ?? join(ctx.scratchDir, 'state');
  mkdirSync(stateDir, { recursive: true });
  const paramsFile = join(ctx.scratchDir, 'params.json');
  writeFileSync(paramsFile, JSON.stringify(ctx.params, null, 2));
  const inputs: Record<string, string[]> = {};
  for (const [name, a] of Object.entries(ctx.inputs)) inputs[name] = (Array.isArray(a) ? a : [a]).map((x: InputArtifact) => x.path);
  const outputs = Object.fromEntries(Object.keys(spec.outputs).map((n) => [n, outputPath(outDir, n, spec.outputs[n]!)]));
  const stage = { params_file: paramsFile, seed: String(ctx.seed), state_dir: stateDir, instance: ctx.instance };
  const line = renderCommand(spec.run, { inputs, outputs, params: ctx.params, stage });

  // The same values as environment variables, for programs that would rather read those.
  const env: Record<string, string> = {
    IQLP_PARAMS_FILE: paramsFile, IQLP_SEED: stage.seed, IQLP_STATE_DIR: stateDir, IQLP_INSTANCE: ctx.instance, IQLP_SCRATCH_DIR: ctx.scratchDir,
  };
  for (const [n, paths] of Object.entries(inputs)) env[`IQLP_INPUT_${envName(n)}`] = paths.join('\n');
  for (const [n, p] of Object.entries(outputs)) env[`IQLP_OUTPUT_${envName(n)}`] = p;

  ctx.log(`$ ${line}`);
  const summary: Record<string, number> = {};
  const { exit } = startChild({
    command: process.execPath, args: [supervisor, line], cwd: spec.cwd, env: childEnv(spec.python, env), signal: ctx.signal,
    onLine(text) {
      const parsed = parseEventLine(text);
      if (parsed === null) ctx.log(text);
      else if ('error' in parsed) ctx.log(`(ignored a malformed ::iqlp:: line: ${parsed.error}) ${text}`);
      else forwardEvent(ctx, parsed.event, summary);
    },
  });
  const e = await exit;
  if (e.aborted) throw new Error(`interrupted (the command ${describeExit(e)})`);
  if (e.code !== 0) {
    const tail = e.stderrTail.slice(-5).join('\n');
    throw new Error(`command ${describeExit(e)}: ${line}${tail ? `\n${tail}` : ''}`);
  }
  return { outputs: collectOutputs(spec.outputs, (n) => outputs[n]!, 'the command'), summary };
}

function envName(name: string): string {
  return name.toUpperCase().replace(/[^A-Z0-9]/g, '_');
}

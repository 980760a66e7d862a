/** `pipeline <command>`: dispatches to the command modules in ./commands. */
import type { Command } from './command.js';
import { ExitCode } from '../engine/errors.js';

const COMMANDS = ['run', 'status', 'dag', 'validate', 'show', 'gc', 'push', 'pull', 'sync', 'ui', 'compare', 'exec-instance'] as const;

async function load(name: string): Promise<Command | null> {
  try {
    return ((await import(`./commands/${name}.js`)) as { default: Command }).default;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ERR_MODULE_NOT_FOUND' && String((e as Error).message).includes(`commands/${name}.`)) return null;
    throw e;
  }
}

async function help(): Promise<string> {
  const lines = ['usage: pipeline <command> [options]', '', 'Declarative, cached experiment pipelines for offline RL.', '', 'commands:'];
  for (const name of COMMANDS) {
    const c = await load(name);
    if (c) lines.push(`  ${name.padEnd(10)} ${c.summary}`);
  }
  lines.push('', "Run 'pipeline <command> --help' for a command's options.");
  return lines.join('\n');
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    console.log(await help());
    return name ? ExitCode.ok : ExitCode.invalid;
  }
  if (name === '--version') {
    const { readFileSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { projectRoot } = await import('../engine/stage-schema.js');
    console.log((JSON.parse(readFileSync(join(projectRoot(), 'package.json'), 'utf8')) as { version: string }).version);
    return ExitCode.ok;
  }
  const cmd = (COMMANDS as readonly string[]).includes(name) ? await load(name) : null;
  if (!cmd) {
    console.error(`pipeline: unknown command '${name}'\n\n${await help()}`);
    return ExitCode.invalid;
  }
  try {
    return await cmd.run(rest);
  } catch (e) {
    console.error(`pipeline ${name}: ${e instanceof Error ? e.message : String(e)}`);
    return ExitCode.invalid;
  }
}

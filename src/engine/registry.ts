/**
 * Resolves `uses:` to a stage kind module. Built-in kinds are the modules in the project's
 * `stages/` directory (discovered, so the engine itself names no stage kind); anything that looks
 * like a path is a user's module, resolved against the pipeline file's directory.
 */
import { existsSync, readdirSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { ResolvedKind, StageKind } from './stage.js';
import { resolveExternalKind, type StageDecl } from '../stage-runtimes/resolve.js';

export type { ResolvedKind };

const builtinDir = fileURLToPath(new URL('../../stages/', import.meta.url));
const moduleExt = import.meta.url.endsWith('.ts') ? '.ts' : '.js';

export function builtinKinds(): string[] {
  if (!existsSync(builtinDir)) return [];
  return readdirSync(builtinDir)
    .filter((f) => f.endsWith(moduleExt) && !f.includes('.test.') && !f.endsWith('.d.ts'))
    .map((f) => f.slice(0, -moduleExt.length))
    .sort();
}

export function isPathLike(uses: string): boolean {
  return uses.startsWith('./') || uses.startsWith('../') || isAbsolute(uses);
}

const cache = new Map<string, Promise<ResolvedKind>>();

/**
 * Throws an Error with a user-facing message when the kind cannot be found or is malformed.
 * `decl` is the stage's declaration: a command stage (`uses: command`) is made from it.
 */
export function resolveKind(uses: string, pipelineFile: string, decl?: StageDecl): Promise<ResolvedKind> {
  // Commands and Python modules (src/stage-runtimes) are built per declaration, not cached here.
  const external = resolveExternalKind(uses, pipelineFile, decl);
  if (external) return external;
  const key = isPathLike(uses) ? resolve(dirname(pipelineFile), uses) : uses;
  let p = cache.get(key);
  if (!p) {
    p = load(uses, key);
    cache.set(key, p);
    p.catch(() => cache.delete(key));
  }
  return p;
}

async function load(uses: string, key: string): Promise<ResolvedKind> {
  let url: string;
  if (isPathLike(uses)) {
    if (!existsSync(key)) throw new Error(`stage module not found: ${key}`);
    url = pathToFileURL(key).href;
  } else {
    const known = builtinKinds();
    if (!known.includes(uses)) {
      throw new Error(`unknown stage kind '${uses}' (built-in kinds: ${known.join(', ') || 'none'}; a user module is a path like ./my-stage.js)`);
    }
    url = new URL(`../../stages/${uses}${moduleExt}`, import.meta.url).href;
  }
  let mod: { default?: unknown };
  try {
    mod = (await import(url)) as { default?: unknown };
  } catch (e) {
    throw new Error(`cannot load stage module ${uses}: ${(e as Error).message}`);
  }
  const kind = mod.default as StageKind | undefined;
  const problems: string[] = [];
  if (!kind || typeof kind !== 'object') problems.push('no default export');
  else {
    if (typeof kind.kind !== 'string') problems.push('`kind` must be a string');
    if (typeof kind.version !== 'string') problems.push('`version` must be a string');
    if (typeof kind.params !== 'object' || kind.params === null) problems.push('`params` must be a JSON Schema object');
    if (typeof kind.inputs !== 'object' || kind.inputs === null) problems.push('`inputs` must be an object');
    if (typeof kind.outputs !== 'object' || kind.outputs === null) problems.push('`outputs` must be an object');
    if (typeof kind.run !== 'function') problems.push('`run` must be a function');
  }
  if (problems.length > 0) throw new Error(`stage module ${uses} is not a stage kind: ${problems.join('; ')}`);
  return { id: isPathLike(uses) ? key : uses, moduleUrl: url, kind: kind! };
}

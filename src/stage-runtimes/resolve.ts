/**
 * Stage kinds that are not JavaScript modules: `uses: command` (a declared command line,
 * command-spec.ts) and `uses: ./path/to/stage.py` (a Python module, python-kind.ts). The registry
 * asks here first; null means "a JavaScript kind, resolve it as usual".
 */
import { resolve, dirname, isAbsolute } from 'node:path';
import type { ResolvedKind } from '../engine/stage.js';
import { commandKind } from './command-kind.js';
import { parseCommandDecl, type CommandDecl } from './command-spec.js';
import { moduleUrlWithSpec, siblingUrl } from './module-url.js';
import { choosePython } from './python-env.js';
import { resolvePythonKind } from './python-kind.js';

export const COMMAND_KIND = 'command';

/** The fields of a stage declaration external kinds read (the planner passes the whole declaration). */
export type StageDecl = CommandDecl;

const COMMAND_ONLY = ['run', 'code', 'outputs'] as const;

function pathLike(uses: string): boolean {
  return uses.startsWith('./') || uses.startsWith('../') || isAbsolute(uses);
}

export function resolveExternalKind(uses: string, pipelineFile: string, decl?: StageDecl): Promise<ResolvedKind> | null {
  if (uses === COMMAND_KIND) {
    return (async () => {
      if (!decl) throw new Error('a command stage needs its declaration (run, outputs, code); this planner did not pass it');
      const spec = parseCommandDecl(decl, process.cwd(), choosePython(pipelineFile));
      const kind = commandKind(spec);
      return { id: `${COMMAND_KIND}:${kind.version}`, moduleUrl: moduleUrlWithSpec(siblingUrl(import.meta.url, 'command-stage'), spec), kind };
    })();
  }
  const misplaced = COMMAND_ONLY.filter((f) => decl?.[f] !== undefined);
  if (misplaced.length > 0) {
    return Promise.reject(new Error(`\`${misplaced.join('`, `')}\` belong${misplaced.length === 1 ? 's' : ''} to command stages (uses: command), not to uses: ${uses}`));
  }
  if (pathLike(uses) && uses.endsWith('.py')) {
    return resolvePythonKind(resolve(dirname(pipelineFile), uses), choosePython(pipelineFile));
  }
  return null;
}

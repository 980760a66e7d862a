/**
 * What a Python stage's results depend on in source: the stage module, the modules beside it that
 * it imports, and the modules of the shipped `iqlp` runtime that the runner or those modules
 * import — found by a static scan of import statements (any indentation, so imports inside
 * functions count). Modules of the package that nothing on that path imports (the standalone
 * runner, the command-stage helper) are left out, so shipping a new tool in `iqlp` does not rerun
 * every Python stage.
 */
import { existsSync, readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { sha256 } from '../store/digest.js';

/** `from helper import …`, `from helper.sub import …`, `import helper`. */
const SIBLING_IMPORT = /^\s*(?:from\s+([A-Za-z_]\w*)(?:\.[\w.]+)?\s+import\b|import\s+([A-Za-z_]\w*))/gm;
/** `from iqlp.x import …`, `import iqlp.x`, and inside the package `from .x import …`. */
const PACKAGE_MODULE = /^\s*(?:from\s+(?:iqlp)?\.|import\s+iqlp\.)([A-Za-z_]\w*)/gm;
/** `from iqlp import x, y` / `from . import x` (names that are modules count). */
const PACKAGE_NAMES = /^\s*from\s+(?:iqlp|\.)\s+import\s+\(?([\w\s,]+)\)?/gm;

/** The stage module and its sibling modules, transitively (the stage first). */
export function siblingModules(file: string): string[] {
  const seen = new Set([file]);
  const queue = [file];
  while (queue.length > 0) {
    const src = readFileSync(queue.pop()!, 'utf8');
    for (const m of src.matchAll(SIBLING_IMPORT)) {
      const sibling = join(dirname(file), `${m[1] ?? m[2]}.py`);
      if (!seen.has(sibling) && existsSync(sibling)) {
        seen.add(sibling);
        queue.push(sibling);
      }
    }
  }
  return [...seen];
}

function packageImports(source: string): string[] {
  const names = [...source.matchAll(PACKAGE_MODULE)].map((m) => m[1]!);
  for (const m of source.matchAll(PACKAGE_NAMES)) names.push(...m[1]!.split(',').map((n) => n.trim().split(/\s+/)[0]!).filter(Boolean));
  return names;
}

/**
 * The runtime modules (file names in `runtimeDir`) reachable from `__init__.py` and `runner.py`
 * (always loaded to run a stage) and from the given user modules, sorted.
 */
export function runtimeModules(runtimeDir: string, userModules: readonly string[]): string[] {
  const seen = new Set<string>();
  const queue: string[] = [];
  const visit = (name: string): void => {
    const file = `${name}.py`;
    if (!seen.has(file) && existsSync(join(runtimeDir, file))) {
      seen.add(file);
      queue.push(file);
    }
  };
  visit('__init__');
  visit('runner');
  for (const f of userModules) packageImports(readFileSync(f, 'utf8')).forEach(visit);
  while (queue.length > 0) packageImports(readFileSync(join(runtimeDir, queue.pop()!), 'utf8')).forEach(visit);
  return [...seen].sort();
}

/** sha256 over the stage's modules and the runtime modules they reach (names and contents). */
export function pythonSourceDigest(file: string, runtimeDir: string): string {
  const user = siblingModules(file);
  const parts = user.map((f) => `${basename(f)}\0${sha256(readFileSync(f))}`);
  for (const f of runtimeModules(runtimeDir, user)) parts.push(`iqlp/${f}\0${sha256(readFileSync(join(runtimeDir, f)))}`);
  return sha256(parts.join('\n'));
}

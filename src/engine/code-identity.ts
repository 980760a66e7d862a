/**
 * Code identity of a stage kind: the content digest of its module and of every file it imports
 * inside the project, transitively (static imports and string-literal dynamic imports, which the
 * built-in stages use to load heavy code inside `run`), plus the installed versions of the
 * packages those files import. It is part of every cache key (fingerprint.ts), so editing
 * `src/rl/algos/iql.ts` makes exactly the stage kinds that import it stale.
 *
 * What is digested is the code that runs: a stage module is loaded from dist/*.js (or, under tsx,
 * from the .ts sources), so the closure is followed from that module file through the files Node
 * would load. Digesting the .ts sources while dist/ runs would file results of the old compiled
 * code under a key that claims the edited source whenever a rebuild was forgotten — the silent
 * stale result the key exists to prevent. For the reader, a compiled file is named by its source
 * (`dist/src/rl/algos/iql.js` → `src/rl/algos/iql.ts`), and a source edited after its build is
 * reported (`unbuilt`) so the user knows to rebuild. User modules (plain .js/.mjs anywhere) are
 * handled the same way.
 *
 * Code that is not imported — a native addon's C++ source loaded as a built binary — is declared
 * by the module that loads it, in a comment line `@code-depends path …` (paths relative to the
 * project root; for a user module outside it, to the module's folder): those files join the closure, digested like any other, so editing the kernel's
 * source makes the kinds that load it stale.
 *
 * The boundary: relative and absolute specifiers are followed unless they lead into a
 * node_modules directory; bare specifiers are packages, identified by their installed version
 * (package.json); `node:` built-ins are ignored (the Node version is recorded in the manifest).
 *
 * Files are memoised by (size, mtime), and so is each module's whole closure: a cached run
 * re-reads and re-hashes nothing; it stats each file once.
 */
import { readFileSync, statSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { sha256 } from '../store/digest.js';
import { canonicalJson } from './canonical-json.js';
import { findImports, type ImportSpec } from './imports.js';
import { projectRoot } from './stage-schema.js';

export interface CodeIdentity {
  /** sha256 over `files` (label → digest): the `code` field of the cache key. */
  digest: string;
  /** Every file of the closure, by label (project-relative, sources' names for compiled files) → sha256 of its content ('missing' when an import names no file). */
  files: Record<string, string>;
  /** Package name → installed version, for every package the closure imports ('not installed' when absent). */
  packages: Record<string, string>;
  /** Labels of compiled files whose source was edited after the build (rebuild to run the edit). */
  unbuilt: string[];
}

interface FileInfo {
  size: number;
  mtimeMs: number;
  digest: string;
  /** null for files that are not JavaScript/TypeScript (JSON, wasm…): digested, not scanned. */
  imports: ImportSpec[] | null;
  /** Project-relative paths the file declares in `@code-depends` comment lines. */
  depends: string[];
}

const CODE_DEPENDS = /^\s*(?:\/\/|\/?\*+)\s*@code-depends\s+([^\n*]+)/gm;

/** The paths of a source's `@code-depends a b …` comment lines. */
export function declaredDepends(text: string): string[] {
  return [...text.matchAll(CODE_DEPENDS)].flatMap((m) => m[1]!.trim().split(/\s+/)).filter(Boolean);
}

const SCANNED = /\.(c|m)?(j|t)sx?$/;
const TS_SOURCE = /\.(m|c)?tsx?$/;
const BUILTINS = new Set(builtinModules);
const memo = new Map<string, FileInfo>();

/** A stat-once view of the file system for one pass (a plan's kinds share files). */
export type StatCache = Map<string, Stat | null>;
type Stat = { size: number; mtimeMs: number };
type StatFn = (path: string) => Stat | null;

function statOf(path: string, stats: StatCache): Stat | null {
  if (stats.has(path)) return stats.get(path)!;
  let s: Stat | null;
  try {
    const st = statSync(path);
    s = st.isFile() ? { size: st.size, mtimeMs: st.mtimeMs } : null;
  } catch {
    s = null;
  }
  stats.set(path, s);
  return s;
}

const sameStat = (a: Stat | null, b: Stat | null) => a === b || (!!a && !!b && a.size === b.size && a.mtimeMs === b.mtimeMs);

function fileInfo(path: string, stat: StatFn): FileInfo | null {
  const st = stat(path);
  if (!st) return null;
  const hit = memo.get(path);
  if (hit && hit.size === st.size && hit.mtimeMs === st.mtimeMs) return hit;
  const bytes = readFileSync(path);
  const text = SCANNED.test(path) ? bytes.toString('utf8') : null;
  const info: FileInfo = { ...st, digest: sha256(bytes), imports: text === null ? null : findImports(text), depends: text === null ? [] : declaredDepends(text) };
  memo.set(path, info);
  return info;
}

function isInNodeModules(path: string): boolean {
  return path.split(sep).includes('node_modules');
}

/** The file a relative/absolute specifier names, or null; TypeScript sources import './x.js' meaning './x.ts'. */
function resolveFile(importer: string, specifier: string, stat: StatFn): string | null {
  const bare = specifier.replace(/[?#].*$/, '');
  const target = bare.startsWith('file:') ? fileURLToPath(bare) : resolve(dirname(importer), bare);
  if (stat(target)) return target;
  if (TS_SOURCE.test(importer)) {
    const ts = target.replace(/\.js$/, '.ts').replace(/\.mjs$/, '.mts').replace(/\.cjs$/, '.cts').replace(/\.jsx$/, '.tsx');
    if (ts !== target && stat(ts)) return ts;
  }
  return null;
}

function packageName(specifier: string): string {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!;
}

function packageVersion(fromDir: string, name: string, stat: StatFn): string {
  for (let dir = fromDir; ; dir = dirname(dir)) {
    const pj = join(dir, 'node_modules', name, 'package.json');
    if (stat(pj)) {
      try {
        return String((JSON.parse(readFileSync(pj, 'utf8')) as { version?: unknown }).version ?? 'unknown');
      } catch {
        return 'unreadable';
      }
    }
    if (dirname(dir) === dir) return 'not installed';
  }
}

/** How a file is named in the record and in `status`: project-relative, compiled files by their source. */
function labeller(moduleFile: string, stat: StatFn): (path: string) => { label: string; source?: Stat } {
  const root = projectRoot();
  const inProject = !relative(root, moduleFile).startsWith('..');
  const base = inProject ? root : dirname(moduleFile);
  return (path) => {
    const rel = relative(base, path).split(sep).join('/');
    if (inProject && rel.startsWith('dist/') && /\.m?js$/.test(rel)) {
      const src = rel.slice('dist/'.length).replace(/\.js$/, '.ts').replace(/\.mjs$/, '.mts');
      const source = stat(join(root, src));
      if (source) return { label: src, source };
    }
    return { label: rel };
  };
}

/** Per stage module: its last identity and every path (with its stat) that went into it. */
const closures = new Map<string, { looked: StatCache; identity: CodeIdentity }>();

/**
 * The code identity of the stage module at `moduleFile` (a path or file: URL). While no file it
 * looked at has changed size or mtime (nor appeared or vanished), the last identity is returned
 * after one stat per file; `stats` shares those stats between the kinds of one plan.
 */
export function codeIdentity(moduleFile: string, stats: StatCache = new Map()): CodeIdentity {
  const start = moduleFile.startsWith('file:') ? fileURLToPath(moduleFile) : resolve(moduleFile);
  const last = closures.get(start);
  if (last && [...last.looked].every(([path, was]) => sameStat(statOf(path, stats), was))) return last.identity;
  const looked: StatCache = new Map();
  const stat: StatFn = (path) => {
    const st = statOf(path, stats);
    looked.set(path, st);
    return st;
  };
  const identity = computeIdentity(start, stat);
  closures.set(start, { looked, identity });
  return identity;
}

function computeIdentity(start: string, stat: StatFn): CodeIdentity {
  const label = labeller(start, stat);
  const files: Record<string, string> = {};
  const packages: Record<string, string> = {};
  const unbuilt: string[] = [];
  const seen = new Set<string>([start]);
  const queue = [start];
  while (queue.length > 0) {
    const path = queue.pop()!;
    const { label: name, source } = label(path);
    const info = fileInfo(path, stat);
    if (!info) { files[name] = 'missing'; continue; }
    files[name] = info.digest;
    if (source && source.mtimeMs > info.mtimeMs) unbuilt.push(name);
    for (const dep of info.depends) {
      const root = projectRoot();
      const target = relative(root, path).startsWith('..') ? resolve(dirname(path), dep) : join(root, dep);
      if (seen.has(target)) continue;
      seen.add(target);
      queue.push(target);
    }
    for (const { specifier } of info.imports ?? []) {
      if (specifier.startsWith('node:') || BUILTINS.has(specifier)) continue;
      if (specifier.startsWith('.') || specifier.startsWith('file:') || isAbsolute(specifier)) {
        const target = resolveFile(path, specifier, stat);
        if (!target) { files[label(resolve(dirname(path), specifier)).label] = 'missing'; continue; }
        if (isInNodeModules(target) || seen.has(target)) continue;
        seen.add(target);
        queue.push(target);
      } else if (!specifier.startsWith('#')) {
        const pkg = packageName(specifier);
        packages[pkg] ??= packageVersion(dirname(path), pkg, stat);
      }
    }
  }
  return { digest: sha256(canonicalJson(files)), files, packages, unbuilt: unbuilt.sort() };
}

/** What changed between two recorded code identities, as lines for `status`. */
export function codeChanges(before: { files?: Record<string, string>; packages?: Record<string, string> }, now: Pick<CodeIdentity, 'files' | 'packages'>): string[] {
  const out: string[] = [];
  if (before.files) {
    const names = [...new Set([...Object.keys(before.files), ...Object.keys(now.files)])].sort();
    for (const n of names) {
      const a = before.files[n];
      const b = now.files[n];
      if (a === b) continue;
      out.push(a === undefined ? `code added: ${n}` : b === undefined ? `code removed: ${n}` : `code changed: ${n}`);
    }
  }
  if (before.packages) {
    const names = [...new Set([...Object.keys(before.packages), ...Object.keys(now.packages)])].sort();
    for (const n of names) {
      const a = before.packages[n];
      const b = now.packages[n];
      if (a !== b) out.push(`package ${n}: ${a ?? 'not imported'} → ${b ?? 'not imported'}`);
    }
  }
  return out;
}

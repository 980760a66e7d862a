/**
 * The cache key of a stage instance: sha256 over the canonical JSON (object keys sorted, no
 * whitespace) of its key material. This module owns every field of that material; each field says
 * why it is in the key. A fact that can change a result but is deliberately *not* keyed is
 * recorded in the manifest instead, with the reason given here:
 *
 * - The tfjs backend that `backend: auto` picked at run time (native libtensorflow, wasm, cpu) and
 *   the libtensorflow version: recorded (`recorded.backend`). The backends compute the same
 *   functions and differ only in float rounding; keying the outcome of `auto` would make a store
 *   shared between a machine with libtensorflow and one without recompute everything. A user who
 *   needs one backend's numbers sets `backend:` explicitly, and that parameter is keyed.
 * - The compute path that fit-iql's `compute: auto` picked (the native kernel when built, else
 *   tfjs): recorded (`recorded.compute`), for the same reason; the kernel's source is keyed as
 *   code (a `@code-depends` line in src/rl/algos/iql-kernel.ts), and `compute: kernel` or
 *   `compute: tfjs` written out is keyed like any parameter.
 * - Node's version, the host, timings, the iql-pipeline package version: recorded. The code that
 *   computes a result is keyed file by file (`code`), which is finer than the package version.
 * - The engine's own code (scheduling, storing): not keyed. It moves bytes, it does not compute
 *   them; artifact encoding is canonical (src/store/arrow-io.ts), so the same table gives the same
 *   bytes whichever engine version wrote it.
 */
import { statSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Manifest } from '../store/store.js';
import { fileDigest, pathDigest, sha256 } from '../store/digest.js';
import { canonicalJson } from './canonical-json.js';
import type { CodeIdentity } from './code-identity.js';
import type { InputItem } from './job.js';
import type { PlannedInstance } from './plan.js';

export { sha256 };
export { canonicalJson };


export interface KeyMaterial {
  /** The stage kind id: two kinds never share entries, whatever their parameters. */
  kind: string;
  /**
   * The kind's hand-bumped version: the explicit override for what the code digest cannot see —
   * data files a stage reads at run time, a module loaded through a computed specifier, a change
   * of meaning in an upstream artifact format.
   */
  version: string;
  /** Digest of the kind's module and every project file it imports, transitively (code-identity.ts): edited code reruns exactly the kinds that import it. */
  code: string;
  /**
   * Installed version of each package the stage's code imports (tfjs, apache-arrow, …): an upgrade
   * can change numerics, so it reruns the kinds that use the package and no others.
   */
  packages: Record<string, string>;
  /**
   * Resolved parameters, schema defaults filled in (a default that changes in the schema reruns),
   * less those the kind's `keyParams` says its result ignores (keyedParams).
   */
  params: Record<string, unknown>;
  /** Input name → digest of the upstream artifact (single) or digests in a stable order (many): content-addressed, so a recomputed but identical upstream keeps this key. */
  inputs: Record<string, string | string[]>;
  /** The instance's seed: a different seed is a different experiment. */
  seed: number;
  /** Content digests of the files (or directories) named by the kind's fileParams, by parameter name: a user's data file is an input like any artifact. */
  files?: Record<string, string>;
}

/** Bumped when the shape of KeyMaterial changes, so old entries are never mistaken for new ones. */
const KEY_FORMAT = 2;

export function cacheKey(m: KeyMaterial): string {
  return sha256(canonicalJson({ v: KEY_FORMAT, ...m }));
}

export interface Fingerprint {
  key: string;
  /** The upstream artifacts each input is bound to (paths are filled in by the executor). */
  items: Record<string, InputItem[]>;
  /** Digests of the fileParams' files, as keyed. */
  files?: Record<string, string>;
}

/**
 * The cache key of an instance once its upstream manifests are known; null while an upstream
 * output is unknown (not computed yet, or an optional output it did not produce).
 */
export function fingerprint(inst: PlannedInstance, upstream: (name: string) => Manifest | undefined, code: CodeIdentity = inst.code): Fingerprint | null {
  const items: Record<string, InputItem[]> = {};
  const digests: Record<string, string | string[]> = {};
  for (const [name, b] of Object.entries(inst.inputs)) {
    const list: InputItem[] = [];
    for (const ref of b.refs) {
      const m = upstream(ref.instance);
      const out = m?.outputs[ref.output];
      if (!m || !out) return null;
      list.push({ instance: ref.instance, output: ref.output, matrix: m.matrix, params: m.params, digest: out.digest, path: '', kind: out.kind });
    }
    items[name] = list;
    digests[name] = b.many ? list.map((i) => i.digest) : list[0]!.digest;
  }
  const files = fileParamDigests(inst);
  const key = cacheKey({
    kind: inst.resolved.kind.kind, version: inst.resolved.kind.version, code: code.digest, packages: code.packages,
    params: keyedParams(inst), inputs: digests, seed: inst.seed, ...(files ? { files } : {}),
  });
  return { key, items, files };
}

/** The parameters the instance's result depends on: all, unless its kind narrows them (StageKind.keyParams). */
export function keyedParams(inst: Pick<PlannedInstance, 'params' | 'resolved'>): Record<string, unknown> {
  const narrow = inst.resolved.kind.keyParams;
  return narrow ? narrow.call(inst.resolved.kind, inst.params) : inst.params;
}

const fileParamMemo = new Map<string, { size: number; mtimeMs: number; digest: string }>();

/**
 * Content digests of the files (or directories) a stage's fileParams name; a missing path digests
 * as "missing". File digests are memoised by size and mtime; directories are re-read every time.
 */
function fileParamDigests(inst: PlannedInstance): Record<string, string> | undefined {
  const out: Record<string, string> = {};
  for (const name of inst.resolved.kind.fileParams ?? []) {
    const value = inst.params[name];
    if (typeof value !== 'string' || value === '') continue;
    const path = resolve(process.cwd(), value);
    let st;
    try { st = statSync(path); } catch { out[name] = 'missing'; continue; }
    if (st.isDirectory()) { out[name] = pathDigest(path); continue; }
    const hit = fileParamMemo.get(path);
    if (hit && hit.size === st.size && hit.mtimeMs === st.mtimeMs) { out[name] = hit.digest; continue; }
    const digest = fileDigest(path);
    fileParamMemo.set(path, { size: st.size, mtimeMs: st.mtimeMs, digest });
    out[name] = digest;
  }
  return Object.keys(out).length ? out : undefined;
}

/**
 * What one stage instance asks of the machine that runs it: CPUs, GPUs and memory. An executor
 * that places instances on a cluster (Ray, later Slurm) passes them to its scheduler; the local
 * executor ignores them (it runs `--jobs` instances at once). Resources are not part of the cache
 * key: where a result was computed does not change what it is.
 *
 * Precedence: the stage's `resources:` in the pipeline file, then the kind's own `resources`
 * (a stage kind module may declare them, e.g. a GPU trainer), then DEFAULT_RESOURCES.
 */
import type { Diagnostics } from './errors.js';
import type { ResourcesDecl } from './declaration.js';

export interface Resources {
  /** Logical CPUs (may be fractional, as in Ray). */
  cpus: number;
  /** GPUs (may be fractional). */
  gpus: number;
  /** Bytes of memory to reserve; undefined: the scheduler's default (no reservation). */
  memoryBytes?: number;
  /** Named resources of the cluster's nodes (Ray custom resources), e.g. { large_disk: 1 }. */
  custom?: Record<string, number>;
}

export const DEFAULT_RESOURCES: Resources = { cpus: 1, gpus: 0 };

const UNITS: Record<string, number> = {
  '': 1, b: 1,
  k: 1e3, kb: 1e3, m: 1e6, mb: 1e6, g: 1e9, gb: 1e9, t: 1e12, tb: 1e12,
  ki: 2 ** 10, kib: 2 ** 10, mi: 2 ** 20, mib: 2 ** 20, gi: 2 ** 30, gib: 2 ** 30, ti: 2 ** 40, tib: 2 ** 40,
};

/** `8GiB`, `512MB`, `2G`, `1.5GiB` or a number of bytes → bytes; an error message for anything else. */
export function parseMemory(v: unknown): number | string {
  if (typeof v === 'number') return Number.isInteger(v) && v > 0 ? v : `memory must be a positive whole number of bytes or a size like 4GiB, got ${v}`;
  if (typeof v !== 'string') return `memory must be a size like 4GiB or 512MB, got ${JSON.stringify(v)}`;
  const m = /^\s*(\d+(?:\.\d+)?)\s*([A-Za-z]*)\s*$/.exec(v);
  const unit = m ? UNITS[m[2]!.toLowerCase()] : undefined;
  if (!m || unit === undefined) return `memory must be a size like 4GiB, 512MB or 2G (units: B, KB, MB, GB, TB, KiB, MiB, GiB, TiB), got ${JSON.stringify(v)}`;
  const bytes = Math.round(Number(m[1]) * unit);
  return bytes > 0 ? bytes : `memory must be more than 0 bytes, got ${JSON.stringify(v)}`;
}

/**
 * One layer of resource declarations (a stage's or a kind's) checked and converted; problems are
 * reported to `d` at `path` (the field's place in the pipeline file) and the field is left out.
 */
export function checkResources(decl: ResourcesDecl | undefined, path: (string | number)[], d: Diagnostics, what = ''): Partial<Resources> {
  const out: Partial<Resources> = {};
  if (!decl) return out;
  for (const field of ['cpus', 'gpus'] as const) {
    const v = decl[field];
    if (v === undefined) continue;
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || (field === 'cpus' && v === 0)) {
      d.error(`${what}${field} must be a ${field === 'cpus' ? 'positive' : 'non-negative'} number, got ${JSON.stringify(v)}`, [...path, field]);
    } else out[field] = v;
  }
  for (const [name, v] of Object.entries(decl.custom ?? {})) {
    if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) d.error(`${what}custom resource ${name} must be a positive number, got ${JSON.stringify(v)}`, [...path, 'custom', name]);
    else (out.custom ??= {})[name] = v;
  }
  if (decl.memory !== undefined) {
    const bytes = parseMemory(decl.memory);
    if (typeof bytes === 'string') d.error(`${what}${bytes}`, [...path, 'memory']);
    else out.memoryBytes = bytes;
  }
  return out;
}

/** The stage's declaration over the kind's over the defaults. */
export function mergeResources(...layers: (Partial<Resources> | undefined)[]): Resources {
  const out: Resources = { ...DEFAULT_RESOURCES };
  for (const l of layers) if (l) for (const [k, v] of Object.entries(l)) if (v !== undefined) (out as unknown as Record<string, unknown>)[k] = k === 'custom' ? { ...out.custom, ...(v as object) } : v;
  return out;
}

/** For people: `2 CPUs, 1 GPU, 4.0 GiB`. */
export function describeResources(r: Resources): string {
  const parts = [`${r.cpus} CPU${r.cpus === 1 ? '' : 's'}`];
  if (r.gpus) parts.push(`${r.gpus} GPU${r.gpus === 1 ? '' : 's'}`);
  if (r.memoryBytes) parts.push(`${(r.memoryBytes / 2 ** 30).toFixed(1)} GiB`);
  return parts.join(', ');
}

/**
 * The cache key of an external stage holds the digests its code had when the run was planned.
 * If the code is edited while the run waits or runs, the result would be filed under a key that
 * does not describe it; refuse instead, as the engine does for a rebuilt JS stage module.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathDigest } from '../store/digest.js';

export function assertCodeUnchanged(planned: Record<string, string>, cwd: string, what: string): void {
  for (const [path, digest] of Object.entries(planned)) {
    const p = resolve(cwd, path);
    const now = existsSync(p) ? pathDigest(p) : 'missing';
    if (now !== digest) throw new Error(`${what} code ${path} changed while the run was in progress; run again`);
  }
}

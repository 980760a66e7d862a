/**
 * The one sha256 helper of the project, and content digests of files and directories built on it.
 * It lives at the bottom layer (the store) so that the store, the engine and tracking share it.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** Hex sha256 of a string (UTF-8) or bytes. */
export function sha256(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

export function fileDigest(path: string): string {
  return sha256(readFileSync(path));
}

/**
 * Content digest of a file, or of a directory: sha256 over its files' relative paths and
 * content digests, sorted (a renamed, added, removed or edited file changes it).
 */
export function pathDigest(path: string): string {
  if (!statSync(path).isDirectory()) return fileDigest(path);
  const lines: string[] = [];
  const walk = (dir: string, rel: string): void => {
    for (const name of readdirSync(dir).sort()) {
      const full = join(dir, name);
      const r = rel ? `${rel}/${name}` : name;
      if (statSync(full).isDirectory()) walk(full, r);
      else lines.push(`${r}\0${fileDigest(full)}\n`);
    }
  };
  walk(path, '');
  return sha256(lines.join(''));
}

/** Cache keys: sha256 over a canonical JSON encoding (object keys sorted, no whitespace). */
import { createHash } from 'node:crypto';

export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') {
    if (typeof value === 'number' && !Number.isFinite(value)) throw new Error(`cannot fingerprint non-finite number ${value}`);
    if (value === undefined) return 'null';
    return JSON.stringify(value);
  }
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const obj = value as Record<string, unknown>;
  const keys = Object.keys(obj).filter((k) => obj[k] !== undefined).sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(obj[k])}`).join(',')}}`;
}

export function sha256(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

export interface KeyMaterial {
  kind: string;
  version: string;
  codeDigest?: string;
  params: Record<string, unknown>;
  /** Input name → digest (single) or digests in a stable order (many). */
  inputs: Record<string, string | string[]>;
  seed: number;
  /** Digests of files named by the kind's fileParams, keyed by parameter name. */
  files?: Record<string, string>;
}

export function cacheKey(m: KeyMaterial): string {
  return sha256(canonicalJson({ v: 1, ...m }));
}

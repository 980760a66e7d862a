/**
 * The content-addressed artifact store. An entry is a directory named by its cache key holding the
 * output files and a manifest; it is built in tmp/ and renamed into place (atomic), so a crash never
 * leaves a half-written entry visible. Reads verify sizes and sha256 digests; a corrupt entry is
 * moved to trash/ and reported as missing so the caller recomputes it.
 *
 * A temp dir's name carries its maker's host and pid, and its maker refreshes its mtime every
 * HEARTBEAT_MS until it is committed or removed, so staleTempDirs can tell litter from work in
 * progress on any host sharing the store (liveness.ts's rule).
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, statSync, utimesSync } from 'node:fs';
import { join } from 'node:path';
import { fileDigest } from './digest.js';
import { fsyncDir, removeQuietly, renameDurable, writeFileDurable } from './fs-atomic.js';
import { HEARTBEAT_MS, ownerSuffix, tempAlive } from './liveness.js';

export interface ManifestOutput {
  file: string;
  kind: 'table' | 'file';
  ext: string;
  digest: string;
  bytes: number;
  rows?: number;
  columns?: string[];
  mediaType?: string;
}

export interface Manifest {
  format: 1;
  key: string;
  kind: string;
  version: string;
  stage: string;
  instance: string;
  pipeline: string;
  matrix: Record<string, unknown>;
  params: Record<string, unknown>;
  seed: number;
  inputs: Record<string, { instance: string; output: string; digest: string }[]>;
  outputs: Record<string, ManifestOutput>;
  summary: Record<string, number>;
  recorded: Record<string, unknown>;
  runId: string;
  startedAt: string;
  finishedAt: string;
  durationMs: number;
  resumedFromStep?: number;
  host: string;
  versions: Record<string, string>;
  /** The code that computed the entry: file label → content digest, package → version (as keyed). */
  code?: { files: Record<string, string>; packages: Record<string, string> };
  /** Digests of the files named by the stage's file parameters, by parameter name (as keyed). */
  fileParams?: Record<string, string>;
}

export type Verification = { ok: true; manifest: Manifest } | { ok: false; reason: string; exists: boolean };

/** The heartbeats of this process's temp dirs, by path: each stops when its dir is committed or gone. */
const tempBeats = new Map<string, NodeJS.Timeout>();

function stopBeat(dir: string): void {
  clearInterval(tempBeats.get(dir));
  tempBeats.delete(dir);
}

function keepFresh(dir: string): void {
  const timer = setInterval(() => {
    const now = new Date();
    try { utimesSync(dir, now, now); } catch { stopBeat(dir); } // removed (or renamed) by whoever made it
  }, HEARTBEAT_MS);
  timer.unref();
  tempBeats.set(dir, timer);
}

export class Store {
  constructor(readonly root: string) {}

  private dir(...parts: string[]): string {
    const d = join(this.root, ...parts);
    mkdirSync(d, { recursive: true });
    return d;
  }

  entryDir(key: string): string {
    return join(this.root, 'entries', key.slice(0, 2), key);
  }

  readManifest(key: string): Manifest | null {
    try {
      return JSON.parse(readFileSync(join(this.entryDir(key), 'manifest.json'), 'utf8')) as Manifest;
    } catch {
      return null;
    }
  }

  /** Cheap check for status displays: manifest present and file sizes match. */
  quickCheck(key: string): Verification {
    return this.check(key, false);
  }

  /** Full check: every output's size and sha256 digest. */
  verify(key: string): Verification {
    return this.check(key, true);
  }

  private check(key: string, digests: boolean): Verification {
    const dir = this.entryDir(key);
    if (!existsSync(dir)) return { ok: false, reason: 'not in the store', exists: false };
    const manifest = this.readManifest(key);
    if (!manifest || manifest.key !== key) return { ok: false, reason: 'manifest missing or unreadable', exists: true };
    for (const [name, out] of Object.entries(manifest.outputs)) {
      const p = join(dir, out.file);
      let size: number;
      try {
        size = statSync(p).size;
      } catch {
        return { ok: false, reason: `output '${name}' file is missing`, exists: true };
      }
      if (size !== out.bytes) return { ok: false, reason: `output '${name}' has ${size} bytes, manifest says ${out.bytes} (truncated?)`, exists: true };
      if (digests && fileDigest(p) !== out.digest) return { ok: false, reason: `output '${name}' digest mismatch (corrupted)`, exists: true };
    }
    return { ok: true, manifest };
  }

  /** Moves a bad entry out of the way (kept in trash/ for inspection) so it can be recomputed. */
  quarantine(key: string): void {
    const dir = this.entryDir(key);
    if (existsSync(dir)) renameSync(dir, join(this.dir('trash'), `${key}-${Date.now()}-${randomBytes(3).toString('hex')}`));
  }

  /** A new dir under tmp/ named `<label>@<host>-<pid>-<8 hex>`, kept fresh (heartbeat) until committed or removed. */
  newTempDir(label: string): string {
    const d = join(this.dir('tmp'), `${label.replace(/[^A-Za-z0-9_.-]+/g, '_').slice(0, 60)}${ownerSuffix()}`);
    mkdirSync(d, { recursive: true });
    keepFresh(d);
    return d;
  }

  /** Writes the manifest into the finished temp dir and renames it into place. */
  commit(tmpDir: string, manifest: Manifest): void {
    writeFileDurable(join(tmpDir, 'manifest.json'), JSON.stringify(manifest, null, 2));
    fsyncDir(tmpDir);
    const dest = this.entryDir(manifest.key);
    mkdirSync(join(dest, '..'), { recursive: true });
    if (existsSync(dest)) this.quarantine(manifest.key); // --force recompute of an existing key
    stopBeat(tmpDir);
    renameDurable(tmpDir, dest);
  }

  listEntries(): string[] {
    const base = join(this.root, 'entries');
    if (!existsSync(base)) return [];
    return readdirSync(base).flatMap((p) => readdirSync(join(base, p)).filter((k) => k.startsWith(p)));
  }

  entryBytes(key: string): number {
    const dir = this.entryDir(key);
    try {
      return readdirSync(dir).reduce((s, f) => s + statSync(join(dir, f)).size, 0);
    } catch {
      return 0;
    }
  }

  removeEntry(key: string): void {
    removeQuietly(this.entryDir(key));
    removeQuietly(this.checkpointDir(key));
  }

  checkpointDir(key: string): string {
    return join(this.root, 'checkpoints', key);
  }

  lockPath(key: string): string {
    return join(this.dir('locks'), `${key}.lock`);
  }

  /**
   * Temp dirs of processes that are gone (killed mid-write), judged by liveness.ts's rule: by pid
   * when made on this host, by heartbeat when made on another. With them, the temp dirs a lock was
   * built in (lock.ts) that a killed process left in locks/.
   */
  staleTempDirs(): string[] {
    const base = join(this.root, 'tmp');
    const temps = existsSync(base) ? readdirSync(base).map((n) => join(base, n)) : [];
    const locks = join(this.root, 'locks');
    const lockTemps = existsSync(locks) ? readdirSync(locks).filter((n) => n.includes('.lock@')).map((n) => join(locks, n)) : [];
    return [...temps, ...lockTemps].filter((p) => !tempAlive(p));
  }

  /** Last-run record of each pipeline, so `status` can say why an instance is stale. */
  writePipelineState(pipeline: string, state: PipelineState): void {
    const dir = this.dir('pipelines');
    const tmp = join(dir, `.${pipeline}.json${ownerSuffix()}`);
    writeFileDurable(tmp, JSON.stringify(state, null, 2));
    renameSync(tmp, join(dir, `${pipeline}.json`));
  }

  readPipelineState(pipeline: string): PipelineState | null {
    try {
      return JSON.parse(readFileSync(join(this.root, 'pipelines', `${pipeline}.json`), 'utf8')) as PipelineState;
    } catch {
      return null;
    }
  }

  listPipelineStates(): PipelineState[] {
    const dir = join(this.root, 'pipelines');
    if (!existsSync(dir)) return [];
    return readdirSync(dir)
      .filter((f) => f.endsWith('.json'))
      .map((f) => this.readPipelineState(f.slice(0, -5)))
      .filter((s): s is PipelineState => s !== null);
  }
}

export interface PipelineState {
  pipeline: string;
  file: string;
  updatedAt: string;
  instances: Record<string, PipelineStateInstance>;
}

/** What `status` compares against: the key material of each instance's last result, spelled out. */
export interface PipelineStateInstance {
  key: string;
  kind: string;
  version: string;
  params: Record<string, unknown>;
  seed: number;
  inputs: Record<string, string[]>;
  code?: Manifest['code'];
  fileParams?: Record<string, string>;
}

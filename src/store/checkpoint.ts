/**
 * Checkpoints of an unfinished stage instance, under checkpoints/<cache key>/step-<N>/. Each one is
 * written to a temp dir and renamed (atomic); its index lists digests, so a damaged checkpoint is
 * skipped in favour of the previous one. Only the newest two are kept.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Table } from 'apache-arrow';
import { decodeTable, encodeTable } from './arrow-io.js';
import { fsyncDir, removeQuietly, renameDurable, writeFileDurable } from './fs-atomic.js';
import { fileDigest, sha256 } from './digest.js';
import { ownerSuffix } from './liveness.js';

export interface CheckpointState {
  step: number;
  tables: Record<string, Table>;
  /** Small JSON state (counters, RNG state if it fits, anything serialisable). */
  meta: Record<string, unknown>;
}

export interface Checkpointer {
  /** The latest complete checkpoint of this exact stage instance (same cache key), or null. */
  latest(): Promise<CheckpointState | null>;
  /** Atomically saves a checkpoint; older ones are pruned. */
  save(state: CheckpointState): Promise<void>;
}

interface CheckpointIndex {
  step: number;
  meta: Record<string, unknown>;
  tables: Record<string, { file: string; digest: string; bytes: number }>;
  savedAt: string;
}

const KEEP = 2;

export class DirCheckpointer implements Checkpointer {
  constructor(private readonly dir: string) {}

  private stepDirs(): string[] {
    if (!existsSync(this.dir)) return [];
    return readdirSync(this.dir).filter((n) => /^step-\d+$/.test(n)).sort().reverse();
  }

  /**
   * The step of the newest checkpoint that looks complete (index readable, files of the recorded
   * sizes), without reading its tables: what a resuming stage will start from, unless a digest
   * check in latest() then rejects it.
   */
  latestStep(): number | undefined {
    for (const name of this.stepDirs()) {
      const d = join(this.dir, name);
      try {
        const index = JSON.parse(readFileSync(join(d, 'checkpoint.json'), 'utf8')) as CheckpointIndex;
        if (Object.values(index.tables).every((t) => statSync(join(d, t.file)).size === t.bytes)) return index.step;
      } catch {
        continue;
      }
    }
    return undefined;
  }

  async latest(): Promise<CheckpointState | null> {
    for (const name of this.stepDirs()) {
      const d = join(this.dir, name);
      try {
        const index = JSON.parse(readFileSync(join(d, 'checkpoint.json'), 'utf8')) as CheckpointIndex;
        const tables: CheckpointState['tables'] = {};
        for (const [t, info] of Object.entries(index.tables)) {
          const p = join(d, info.file);
          if (fileDigest(p) !== info.digest) throw new Error(`checkpoint table ${t} is corrupt`);
          tables[t] = decodeTable(readFileSync(p));
        }
        return { step: index.step, meta: index.meta, tables };
      } catch {
        continue; // damaged: fall back to an older checkpoint
      }
    }
    return null;
  }

  /** Moves a complete checkpoint directory (e.g. fetched from a remote store) into place as step `step`. */
  async adopt(dir: string, step: number): Promise<void> {
    fsyncDir(dir);
    const dest = join(this.dir, `step-${String(step).padStart(12, '0')}`);
    removeQuietly(dest);
    renameDurable(dir, dest);
    for (const old of this.stepDirs().slice(KEEP)) removeQuietly(join(this.dir, old));
  }

  async save(state: CheckpointState): Promise<void> {
    mkdirSync(this.dir, { recursive: true });
    const tmp = join(this.dir, `.tmp${ownerSuffix()}`); // the host too: a store may be shared by hosts whose pids collide
    mkdirSync(tmp);
    const index: CheckpointIndex = { step: state.step, meta: state.meta, tables: {}, savedAt: new Date().toISOString() };
    for (const [name, table] of Object.entries(state.tables)) {
      const bytes = encodeTable(table);
      const file = `${name.replace(/[^A-Za-z0-9_.-]/g, '_')}.arrow`;
      writeFileDurable(join(tmp, file), bytes);
      index.tables[name] = { file, digest: sha256(bytes), bytes: bytes.byteLength };
    }
    writeFileDurable(join(tmp, 'checkpoint.json'), JSON.stringify(index));
    fsyncDir(tmp);
    const dest = join(this.dir, `step-${String(state.step).padStart(12, '0')}`);
    removeQuietly(dest);
    renameDurable(tmp, dest);
    for (const old of this.stepDirs().slice(KEEP)) removeQuietly(join(this.dir, old));
  }
}

/**
 * Garbage collection on the remote store: entries nobody references, then the blobs that no
 * remaining manifest names, trash/ (set-aside manifests), and the tasks and checkpoints of removed
 * entries. A blob is removed only after every manifest was read, so an entry that stays never
 * loses a blob; an entry committed while gc runs may lose a blob it shares with a removed entry,
 * which its next reader detects (CorruptBlob) and recomputes.
 */
import type { PipelineState } from './store.js';
import type { RemoteStore } from './remote.js';

export interface RemoteGcResult {
  entries: number;
  blobs: number;
  bytes: number;
  other: number;
  kept: number;
}

/** Keys referenced by the last runs recorded on the remote (pipelines/*.json). */
export async function remotePipelineKeys(remote: RemoteStore): Promise<Set<string>> {
  const keys = new Set<string>();
  for (const o of await remote.list('pipelines')) {
    const st = await remote.readJson<PipelineState>(o.path);
    for (const i of Object.values(st?.instances ?? {})) keys.add(i.key);
  }
  return keys;
}

export async function remoteGc(remote: RemoteStore, keep: Set<string>, dry: boolean, log: (line: string) => void): Promise<RemoteGcResult> {
  const r: RemoteGcResult = { entries: 0, blobs: 0, bytes: 0, other: 0, kept: 0 };
  const used = new Set<string>();
  const removed = new Set<string>();
  for (const key of await remote.listEntryKeys()) {
    const m = await remote.readManifest(key);
    if (keep.has(key)) {
      r.kept++;
      for (const o of Object.values(m?.outputs ?? {})) used.add(o.digest);
      continue;
    }
    r.entries++;
    removed.add(key);
    log(`${dry ? 'would remove' : 'removed'} remote entry ${key.slice(0, 12)} ${m ? `${m.pipeline}/${m.instance}` : '(unreadable manifest)'}`);
    if (!dry) await remote.removeEntry(key);
  }
  for (const [digest, bytes] of await remote.listBlobs()) {
    if (used.has(digest)) continue;
    r.blobs++;
    r.bytes += bytes;
    if (!dry) await remote.delete(remote.blobPath(digest));
  }
  const other = [
    ...(await remote.list('trash')).map((o) => o.path),
    ...(await remote.list('tasks')).map((o) => o.path).filter((p) => removed.has(p.slice('tasks/'.length, -'.json'.length))),
    ...(await remote.list('checkpoints')).map((o) => o.path).filter((p) => !keep.has(p.split('/')[1]!)),
  ];
  for (const p of other) {
    r.other++;
    if (!dry) await remote.delete(remote.path(p));
  }
  return r;
}

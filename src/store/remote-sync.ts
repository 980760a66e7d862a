/**
 * Moving entries between the local store and the remote one, both content-addressed by the same
 * keys and digests: push (blobs the remote lacks, then the manifest with a conditional put) and
 * fetch (blobs verified by digest into a temp dir, then renamed into the local store, so a local
 * entry is never half there).
 */
import { join } from 'node:path';
import { removeQuietly } from './fs-atomic.js';
import { CorruptBlob } from './remote-errors.js';
import type { RemoteStore } from './remote.js';
import type { Manifest, Store } from './store.js';

/**
 * Pushes a verified local entry: every blob the remote lacks, then the manifest (first writer
 * wins). Returns 'exists' when the remote already had the entry.
 */
export async function pushEntry(store: Store, remote: RemoteStore, key: string): Promise<'written' | 'exists'> {
  const v = store.verify(key);
  if (!v.ok) throw new Error(`local entry ${key.slice(0, 12)} cannot be pushed: ${v.reason}`);
  if (await remote.readManifest(key)) return 'exists';
  for (const out of Object.values(v.manifest.outputs)) {
    if (!(await remote.hasBlob(out.digest, out.bytes))) await remote.putBlob(out.digest, join(store.entryDir(key), out.file));
  }
  return remote.putManifest(v.manifest);
}

/**
 * Fetches a remote entry into the local store (a no-op when a local copy exists). A blob
 * that fails its digest check is deleted, the remote entry is set aside (trash/), and CorruptBlob
 * is thrown, so the caller recomputes it.
 */
export async function fetchEntry(store: Store, remote: RemoteStore, key: string, known?: Manifest): Promise<Manifest> {
  // Sizes only: a local entry was digest-verified when it was looked up or written here.
  const local = store.quickCheck(key);
  if (local.ok) return local.manifest;
  if (local.exists) store.quarantine(key);
  const manifest = known ?? (await remote.readManifest(key));
  if (!manifest) throw new CorruptBlob(`entry ${key.slice(0, 12)} is no longer in ${remote.describe()}`, '');
  const tmp = store.newTempDir(`fetch-${key.slice(0, 12)}`);
  try {
    for (const out of Object.values(manifest.outputs)) await remote.fetchBlob(out.digest, out.bytes, join(tmp, out.file));
    store.commit(tmp, manifest);
    return manifest;
  } catch (e) {
    removeQuietly(tmp);
    if (e instanceof CorruptBlob) {
      // The blob goes too: its name is a digest its content does not have, and a push that finds a
      // blob of the right size there would otherwise keep the corrupt one.
      if (e.digest) await remote.delete(remote.blobPath(e.digest));
      await remote.quarantine(key, e.message);
    }
    throw e;
  }
}

/**
 * The entrypoint of a cluster job: runs one instance task from the remote store on this node and
 * commits its result there. The steps mirror the controller's (steps.ts): the remote lock, a
 * second look for the entry (a duplicate job finds it and stops), the inputs fetched into this
 * node's store (verified by digest; a corrupt one is reported so the controller recomputes it),
 * the stage in a worker thread with checkpoints pushed to the remote, then the result committed
 * here and pushed (blobs, then the manifest with a conditional put). Every message goes to `print`
 * in the line protocol (protocol.ts), which the controller tails from the job's log; the node's own
 * journal keeps them too, so nothing depends on the controller being there.
 */
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { existsSync } from 'node:fs';
import { codeChanges, codeIdentity } from '../engine/code-identity.js';
import type { InstanceTask } from '../engine/executor.js';
import type { JobMessage } from '../engine/job.js';
import { runStage } from '../engine/run-stage.js';
import { completeManifest } from '../engine/steps.js';
import { canonicalJson } from '../engine/fingerprint.js';
import { removeQuietly } from '../store/fs-atomic.js';
import { CorruptBlob, type RemoteStore } from '../store/remote.js';
import { removeRemoteCheckpoints } from '../store/remote-checkpoint.js';
import { acquireRemoteLock } from '../store/remote-lock.js';
import { fetchEntry, pushEntry } from '../store/remote-sync.js';
import { Store } from '../store/store.js';
import { formatDone, formatEvent, formatFailed } from './protocol.js';

/** This node's cache of fetched inputs and finished entries: IQLP_NODE_STORE, else <tmp>/iqlp-node-store. */
export function nodeStoreDir(): string {
  return process.env['IQLP_NODE_STORE'] || join(tmpdir(), 'iqlp-node-store');
}

/** Returns the process exit code (0 committed or already there, 1 failed, 130 stopped). */
export async function runInstanceTask(remote: RemoteStore, key: string, print: (line: string) => void, signal: AbortSignal): Promise<number> {
  const fail = (message: string, instances?: string[]) => {
    print(formatFailed(instances ? { kind: 'input-unavailable', message, instances } : { kind: 'stage-error', message }));
    return 1;
  };
  const emit = (m: JobMessage) => print(formatEvent(m));
  const task = await remote.readJson<InstanceTask>(`tasks/${key}.json`);
  if (!task) return fail(`no task for entry ${key.slice(0, 12)} in ${remote.describe()}`);
  if (await remote.readManifest(key)) { print(formatDone(key)); return 0; }

  // The key names the code it was computed with; this node must run that code.
  const modulePath = fileURLToPath(task.job.moduleUrl.split('?')[0]!);
  if (!existsSync(modulePath)) return fail(`this node has no ${modulePath}: the cluster's nodes need the project at the same path as the controller`);
  const code = codeIdentity(task.job.moduleUrl);
  const planned = task.manifest.code;
  if (planned && canonicalJson(code.files) !== canonicalJson(planned.files)) {
    return fail(`this node's code differs from the controller's (${codeChanges(planned, code).join('; ')})`);
  }

  const lock = await acquireRemoteLock(remote, key, task.runId, signal, (h) => emit({ type: 'log', message: `waiting: ${h?.host ?? '?'} is computing this entry` }));
  const store = new Store(nodeStoreDir());
  const tmpDir = store.newTempDir(task.job.instance);
  try {
    if (await remote.readManifest(key)) { print(formatDone(key)); return 0; }
    const byKey = new Map(Object.entries(task.upstreamKeys).map(([inst, k]) => [k, inst]));
    const bad: string[] = [];
    for (const [upKey, inst] of byKey) {
      try {
        const m = await fetchEntry(store, remote, upKey);
        for (const b of Object.values(task.job.inputs)) {
          for (const item of b.items) if (item.instance === inst) item.path = join(store.entryDir(upKey), m.outputs[item.output]!.file);
        }
      } catch (e) {
        if (!(e instanceof CorruptBlob)) throw e;
        bad.push(inst);
      }
    }
    if (bad.length) return fail(`input entries of ${bad.join(', ')} were corrupt or missing in ${remote.describe()}`, bad);

    const job = { ...task.job, tmpDir, checkpointDir: store.checkpointDir(key), remote: remote.spec };
    const started = Date.now();
    let result;
    try {
      result = await runStage(job, 'worker', emit, signal);
    } catch (e) {
      if (signal.aborted) return 130;
      return fail(e instanceof Error ? e.message : String(e));
    }
    removeQuietly(join(tmpDir, '.scratch'));
    const manifest = completeManifest(task.manifest, result, task.runId, started, Date.now());
    store.commit(tmpDir, manifest);
    if ((await pushEntry(store, remote, key)) === 'exists') emit({ type: 'log', message: 'the remote store already had this entry (another job committed it first)' });
    await removeRemoteCheckpoints(remote, key);
    removeQuietly(store.checkpointDir(key));
    print(formatDone(key));
    return 0;
  } finally {
    removeQuietly(tmpDir);
    lock.release();
  }
}

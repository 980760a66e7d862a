/**
 * Checkpoints that follow an instance from node to node: saved locally (DirCheckpointer) and
 * pushed to the remote store under checkpoints/<key>/step-N/ (tables first, the index last, so a
 * remote checkpoint is complete when its index is there). latest() first pulls the remote's
 * newest checkpoint when it is newer than the local one, so an instance killed on one node
 * resumes on another from where it was.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { DirCheckpointer, type Checkpointer, type CheckpointState } from './checkpoint.js';
import { removeQuietly } from './fs-atomic.js';
import { ownerSuffix } from './liveness.js';
import type { RemoteStore } from './remote.js';

const KEEP = 2;
const INDEX = 'checkpoint.json';

const stepName = (step: number) => `step-${String(step).padStart(12, '0')}`;

/** Steps of the complete checkpoints of `key` on the remote, newest first. */
export async function remoteCheckpointSteps(remote: RemoteStore, key: string): Promise<number[]> {
  const objects = await remote.list(`checkpoints/${key}`);
  return objects.filter((o) => o.path.endsWith(`/${INDEX}`)).map((o) => Number(/step-(\d+)\//.exec(o.path)?.[1])).filter(Number.isFinite).sort((a, b) => b - a);
}

export async function removeRemoteCheckpoints(remote: RemoteStore, key: string): Promise<void> {
  for (const o of await remote.list(`checkpoints/${key}`)) await remote.delete(remote.path(o.path));
}

export class SyncedCheckpointer implements Checkpointer {
  private readonly local: DirCheckpointer;
  constructor(private readonly dir: string, private readonly remote: RemoteStore, private readonly key: string) {
    this.local = new DirCheckpointer(dir);
  }

  async latest(): Promise<CheckpointState | null> {
    const [newest] = await remoteCheckpointSteps(this.remote, this.key);
    if (newest !== undefined && newest > (this.local.latestStep() ?? -1)) {
      const base = `checkpoints/${this.key}/${stepName(newest)}`;
      const dest = join(this.dir, `.pull${ownerSuffix()}`); // unique: the dir may be on a store that hosts share
      try {
        const files = (await this.remote.list(base)).map((o) => o.path.slice(base.length + 1));
        for (const f of files.filter((f) => f !== INDEX)) await this.remote.fetchObject(this.remote.path(base, f), join(dest, f));
        await this.remote.fetchObject(this.remote.path(base, INDEX), join(dest, INDEX));
        await this.local.adopt(dest, newest);
      } catch (e) {
        removeQuietly(dest); // a pull cut short (the adopted dir is no longer there)
        throw e;
      }
    }
    return this.local.latest();
  }

  async save(state: CheckpointState): Promise<void> {
    await this.local.save(state);
    const name = stepName(state.step);
    const dir = join(this.dir, name);
    const files = readdirSync(dir);
    for (const f of files.filter((f) => f !== INDEX)) await this.remote.putFile(this.remote.path('checkpoints', this.key, name, f), join(dir, f));
    await this.remote.putFile(this.remote.path('checkpoints', this.key, name, INDEX), join(dir, INDEX));
    const steps = await remoteCheckpointSteps(this.remote, this.key);
    for (const old of steps.slice(KEEP)) {
      for (const o of await this.remote.list(`checkpoints/${this.key}/${stepName(old)}`)) await this.remote.delete(this.remote.path(o.path));
    }
  }
}

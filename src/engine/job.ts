/**
 * Runs one stage instance: builds its context, calls the stage, writes its outputs into the entry's
 * temp dir with digests. The same code runs inline or inside a worker thread (worker.ts).
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Table } from 'apache-arrow';
import { DirCheckpointer } from '../store/checkpoint.js';
import { decodeTable, encodeTable } from '../store/arrow-io.js';
import { sha256 } from '../store/digest.js';
import { writeFileDurable } from '../store/fs-atomic.js';
import type { ManifestOutput } from '../store/store.js';
import type { RemoteSpec } from '../store/remote.js';
import type { Checkpointer } from '../store/checkpoint.js';
import { isFileOutput, type InputArtifact, type StageKind } from './stage.js';

export type InputItem = Omit<InputArtifact, 'table' | 'bytes'>;

export interface StageJob {
  moduleUrl: string;
  /** The stage version the cache key was computed with. */
  version: string;
  instance: string;
  cacheKey: string;
  params: Record<string, unknown>;
  seed: number;
  inputs: Record<string, { many: boolean; items: InputItem[] }>;
  tmpDir: string;
  checkpointDir: string;
  /** With a remote store, checkpoints are pushed there too, so another node can resume the instance. */
  remote?: RemoteSpec;
}

export interface StageJobResult {
  outputs: Record<string, ManifestOutput>;
  summary: Record<string, number>;
  recorded: Record<string, unknown>;
  resumedFromStep?: number;
}

export type JobMessage =
  | { type: 'progress'; step: number; total?: number; note?: string }
  | { type: 'metric'; name: string; value: number; step: number }
  | { type: 'log'; message: string }
  | { type: 'resumed'; step: number };

const PROGRESS_INTERVAL_MS = 250;

function artifact(item: InputItem): InputArtifact {
  let cached: Table | undefined;
  return {
    ...item,
    async table() {
      if (item.kind !== 'table') throw new Error(`input ${item.instance}.${item.output} is a .${item.path.split('.').pop()} file, not an Arrow table`);
      return (cached ??= decodeTable(readFileSync(item.path)));
    },
    async bytes() {
      return new Uint8Array(readFileSync(item.path));
    },
  };
}

async function checkpointerFor(job: StageJob): Promise<Checkpointer> {
  if (!job.remote) return new DirCheckpointer(job.checkpointDir);
  // Loaded only here: a run without a remote store never loads the S3 client.
  const [{ RemoteStore }, { SyncedCheckpointer }] = await Promise.all([import('../store/remote.js'), import('../store/remote-checkpoint.js')]);
  return new SyncedCheckpointer(job.checkpointDir, new RemoteStore(job.remote), job.cacheKey);
}

export async function runStageJob(job: StageJob, emit: (m: JobMessage) => void, signal: AbortSignal): Promise<StageJobResult> {
  const mod = (await import(job.moduleUrl)) as { default: StageKind };
  const stage = mod.default;
  // The module is imported afresh here; if its code was rebuilt since the run was planned, the
  // result would be filed under a key that does not describe it.
  if (stage.version !== job.version) {
    throw new Error(`stage ${stage.kind} changed while the run was in progress (planned version ${job.version}, loaded ${stage.version}); run again`);
  }
  const recorded: Record<string, unknown> = {};
  const checkpoints = await checkpointerFor(job);
  let resumedFromStep: number | undefined;
  let lastProgress = 0;
  const scratchDir = join(job.tmpDir, '.scratch');
  mkdirSync(scratchDir, { recursive: true });
  const inputs: Record<string, InputArtifact | InputArtifact[]> = {};
  for (const [name, b] of Object.entries(job.inputs)) inputs[name] = b.many ? b.items.map(artifact) : artifact(b.items[0]!);

  const result = await stage.run({
    params: job.params,
    seed: job.seed,
    inputs,
    instance: job.instance,
    cacheKey: job.cacheKey,
    signal,
    scratchDir,
    stateDir: join(job.checkpointDir, 'state'),
    checkpoint: {
      async latest() {
        const s = await checkpoints.latest();
        if (s) {
          resumedFromStep = s.step;
          emit({ type: 'resumed', step: s.step });
        }
        return s;
      },
      save: (s) => checkpoints.save(s),
    },
    progress(step, total, note) {
      const now = Date.now();
      if (now - lastProgress < PROGRESS_INTERVAL_MS && step !== total) return;
      lastProgress = now;
      emit({ type: 'progress', step, total, note });
    },
    metric(name, value, step) {
      if (Number.isFinite(value)) emit({ type: 'metric', name, value, step });
    },
    log(message) {
      emit({ type: 'log', message });
    },
    record(key, value) {
      recorded[key] = value;
    },
  });

  const outputs: Record<string, ManifestOutput> = {};
  for (const name of Object.keys(result.outputs)) {
    if (!(name in stage.outputs)) throw new Error(`stage ${stage.kind} returned undeclared output '${name}' (declared: ${Object.keys(stage.outputs).join(', ')})`);
  }
  for (const name of Object.keys(stage.outputs)) {
    const value = result.outputs[name];
    if (value === undefined) {
      if (stage.outputs[name]!.optional) continue;
      throw new Error(`stage ${stage.kind} did not produce its output '${name}'`);
    }
    let bytes: Uint8Array;
    let out: Omit<ManifestOutput, 'digest' | 'bytes'>;
    if (isFileOutput(value)) {
      bytes = value.bytes;
      out = { file: `${name}.${value.ext}`, kind: 'file', ext: value.ext, mediaType: value.mediaType };
    } else {
      bytes = encodeTable(value);
      out = { file: `${name}.arrow`, kind: 'table', ext: 'arrow', rows: value.numRows, columns: value.schema.fields.map((f) => f.name) };
    }
    writeFileDurable(join(job.tmpDir, out.file), bytes);
    outputs[name] = { ...out, digest: sha256(bytes), bytes: bytes.byteLength };
  }
  const summary: Record<string, number> = {};
  for (const [k, v] of Object.entries(result.summary ?? {})) if (typeof v === 'number' && Number.isFinite(v)) summary[k] = v;
  return { outputs, summary, recorded, resumedFromStep };
}

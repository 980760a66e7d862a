/**
 * What a run would do, without running anything: per instance, cached / running / stale (and why,
 * by comparison with the last run of this pipeline) / missing / pending on upstream work.
 */
import { lockHeld, readHolder } from '../store/lock.js';
import type { RemoteStore } from '../store/remote.js';
import type { Manifest, PipelineState, PipelineStateInstance, Store } from '../store/store.js';
import { codeChanges } from './code-identity.js';
import { canonicalJson, fingerprint, keyedParams, type Fingerprint } from './fingerprint.js';
import type { Plan, PlannedInstance } from './plan.js';

export type State = 'cached' | 'running' | 'stale' | 'missing' | 'pending';

export interface InstanceStatus {
  instance: string;
  state: State;
  key?: string;
  reasons: string[];
  /** For a cached instance: 'remote' when its entry is only in the remote store. */
  where?: 'local' | 'remote';
}

/**
 * What is known of a remote store for one status pass: its entry keys (one listing) and the
 * manifests fetched so far. Keys whose manifest a pass needed but did not have go to `wanted`.
 */
export interface RemoteView {
  url: string;
  keys: Set<string>;
  manifests: Map<string, Manifest | null>;
  wanted: Set<string>;
}

export function computeStatus(plan: Plan, store: Store, remote?: RemoteView): InstanceStatus[] {
  const previous = store.readPipelineState(plan.name);
  const manifests = new Map<string, Manifest>();
  const out: InstanceStatus[] = [];
  const stateOf = new Map<string, State>();
  for (const inst of plan.instances) {
    const k = fingerprint(inst, (n) => manifests.get(n));
    const prev = previous?.instances[inst.name];
    if (!k) {
      const waiting = inst.needs.filter((n) => stateOf.get(n) !== 'cached');
      const reasons = [`waits on ${waiting.join(', ')}`, ...(prev ? ownChanges(inst, prev) : [])];
      out.push({ instance: inst.name, state: 'pending', reasons });
      stateOf.set(inst.name, 'pending');
      continue;
    }
    const check = store.quickCheck(k.key);
    const fromRemote = !check.ok && remote?.keys.has(k.key) ? remote.manifests.get(k.key) : undefined;
    if (!check.ok && remote?.keys.has(k.key) && fromRemote === undefined) remote.wanted.add(k.key);
    let s: InstanceStatus;
    if (check.ok) {
      manifests.set(inst.name, check.manifest);
      s = { instance: inst.name, state: 'cached', key: k.key, reasons: [`computed by run ${check.manifest.runId} in ${Math.round(check.manifest.durationMs / 100) / 10}s`] };
    } else if (fromRemote) {
      manifests.set(inst.name, fromRemote);
      s = { instance: inst.name, state: 'cached', key: k.key, where: 'remote', reasons: [`in the remote store ${remote!.url} (computed by run ${fromRemote.runId} on ${fromRemote.host} in ${Math.round(fromRemote.durationMs / 100) / 10}s)`] };
    } else if (lockHeld(store.lockPath(k.key))) {
      s = { instance: inst.name, state: 'running', key: k.key, reasons: [`being computed by run ${readHolder(store.lockPath(k.key))?.runId ?? '?'}`] };
    } else if (check.exists) {
      s = { instance: inst.name, state: 'stale', key: k.key, reasons: [`cache entry damaged: ${check.reason}`] };
    } else if (prev && prev.key !== k.key) {
      s = { instance: inst.name, state: 'stale', key: k.key, reasons: whyChanged(inst, k, prev) };
    } else {
      s = { instance: inst.name, state: 'missing', key: k.key, reasons: [prev ? 'entry was removed from the store' : 'never computed'] };
    }
    stateOf.set(inst.name, s.state);
    out.push(s);
  }
  return out;
}

/** Changes in what the instance itself contributes to its key: parameters, seed, version, code. */
function ownChanges(inst: PlannedInstance, prev: PipelineStateInstance): string[] {
  const reasons: string[] = [];
  const now = keyedParams(inst);
  const keys = new Set([...Object.keys(now), ...Object.keys(prev.params)]);
  for (const k of [...keys].sort()) {
    const a = prev.params[k];
    const b = now[k];
    if (canonicalJson(a) !== canonicalJson(b)) reasons.push(`param ${k}: ${JSON.stringify(a)} → ${JSON.stringify(b)}`);
  }
  if (prev.seed !== inst.seed) reasons.push(`seed: ${prev.seed} → ${inst.seed}`);
  if (prev.version !== inst.resolved.kind.version) reasons.push(`stage version: ${prev.version} → ${inst.resolved.kind.version}`);
  if (prev.code) reasons.push(...codeChanges(prev.code, inst.code));
  return reasons;
}

function whyChanged(inst: PlannedInstance, k: Fingerprint, prev: PipelineStateInstance): string[] {
  const reasons = ownChanges(inst, prev);
  for (const [name, list] of Object.entries(k.items)) {
    const before = prev.inputs[name] ?? [];
    const now = list.map((i) => i.digest);
    if (canonicalJson(before) !== canonicalJson(now)) reasons.push(`input ${name} changed (from ${[...new Set(list.map((i) => i.instance))].join(', ')})`);
  }
  if (prev.fileParams || k.files) {
    for (const name of [...new Set([...Object.keys(prev.fileParams ?? {}), ...Object.keys(k.files ?? {})])].sort()) {
      if (prev.fileParams?.[name] !== k.files?.[name]) reasons.push(`file changed: ${String(inst.params[name])} (param ${name})`);
    }
  }
  if (reasons.length === 0) reasons.push(prev.code ? 'key material changed (format)' : 'last run predates code identity in the key (stage code or an input file may have changed)');
  return reasons;
}

/** The record `status` compares against next time. */
export function pipelineStateOf(plan: Plan, manifests: Map<string, Manifest>): PipelineState {
  const instances: PipelineState['instances'] = {};
  for (const inst of plan.instances) {
    const m = manifests.get(inst.name);
    if (!m) continue;
    instances[inst.name] = {
      key: m.key, kind: m.kind, version: m.version, params: m.params, seed: m.seed,
      inputs: Object.fromEntries(Object.entries(m.inputs).map(([n, l]) => [n, l.map((i) => i.digest)])),
      code: m.code, fileParams: m.fileParams,
    };
  }
  return { pipeline: plan.name, file: plan.file, updatedAt: new Date().toISOString(), instances };
}

/** Status against the local store and a remote one: the remote is listed once, and manifests are fetched level by level as downstream keys become known. */
export async function computeStatusWithRemote(plan: Plan, store: Store, remote: RemoteStore): Promise<InstanceStatus[]> {
  const view: RemoteView = { url: remote.url, keys: await remote.listEntryKeys(), manifests: new Map(), wanted: new Set() };
  for (;;) {
    const statuses = computeStatus(plan, store, view);
    if (view.wanted.size === 0) return statuses;
    const wanted = [...view.wanted];
    view.wanted.clear();
    await Promise.all(wanted.map(async (k) => view.manifests.set(k, await remote.readManifest(k))));
  }
}

/**
 * The tracking model: how a pipeline run's journal (EngineEvents) maps onto MLflow runs.
 *
 * - one parent run per pipeline run: run name "<pipeline> <UTC time>", tags pipeline.file,
 *   pipeline.git_commit (+ mlflow.source.git.commit), pipeline.host, pipeline.run_id; params = the
 *   pipeline's params flattened; metrics stages.computed/cached/failed/skipped at run end;
 *   the children's report files (png/svg/html) as artifacts under reports/<instance>/.
 * - one nested child run per stage instance (tag mlflow.parentRunId, run name = instance name):
 *   params = resolved stage params flattened to `a.b.c` keys + stage.kind, stage.name, seed,
 *   matrix.<k> (the same keys across the instances of a stage, so MLflow's compare view lines up);
 *   metrics = stage-metric curves (with steps) and the summary scalars; tags = cache key,
 *   cache hit/miss, computed-by run, status, recorded.* (backend, versions), output digests;
 *   artifacts = file outputs under outputs/, tables up to `smallTableBytes` under tables/ (bigger
 *   ones are referenced by digest in output.<name>.digest). A cache hit gets a child run too,
 *   tagged pipeline.cache=hit and pipeline.computed_by_run=<the run that computed it>, with its
 *   results (params, summary metrics, output digests) but no artifacts: sync links the MLflow run
 *   that computed the entry (pipeline.computed_by_mlflow_run and a note), which holds them.
 *
 * buildPlan is pure: the same journal prefix always gives the same plan, and a longer journal only
 * appends metrics (which is what lets sync resume by counting metrics already pushed).
 */
import { basename } from 'node:path';
import type { EngineEvent, InstanceInfo, OutputInfo } from '../engine/events.js';
import { num } from './journal.js';
import type { Metric, Param, RunStatus, Tag } from './mlflow-client.js';

export const PARENT_KEY = '';

export interface PlannedArtifact {
  /** Path inside the MLflow run's artifact root. */
  artifactPath: string;
  /** Local file to upload. */
  file: string;
  digest: string;
  bytes: number;
}

export interface PlannedRun {
  /** PARENT_KEY for the pipeline run, else the instance name. */
  key: string;
  runName: string;
  startTime: number;
  endTime?: number;
  status: RunStatus;
  params: Param[];
  tags: Tag[];
  /** Tags set when the run is created; they are how sync finds the run again (runs/search). */
  identityTags: Tag[];
  metrics: Metric[];
  artifacts: PlannedArtifact[];
}

export interface TrackingPlan {
  runId: string;
  pipeline: string;
  file: string;
  parent: PlannedRun;
  /** In order of first appearance in the journal. */
  children: PlannedRun[];
  /** run-end was journaled (or the run was finalised as abandoned). */
  complete: boolean;
  lastTime: number;
  /** Per instance: the summary metric keys (what `compare` shows). */
  summaryKeys: Map<string, string[]>;
  instances: Map<string, InstanceInfo>;
}

export interface PlanOptions {
  /** Tables up to this size are uploaded; larger ones are referenced by digest. Default 1 MB. */
  smallTableBytes?: number;
  /** File outputs larger than this are not uploaded. Default 100 MB. */
  maxFileBytes?: number;
  /** No run-end and no live writer: close the runs as KILLED at the last event's time. */
  abandoned?: boolean;
}

const REPORT_EXTS = new Set(['png', 'svg', 'html', 'htm', 'jpg', 'jpeg', 'gif', 'pdf']);

/** A key MLflow accepts for params/metrics/tags: alphanumerics, _ - . / space; at most 250 chars. */
export function sanitizeKey(key: string): string {
  let k = key.replace(/[^/\w.\- ]/g, '_').replace(/\/{2,}/g, '/').replace(/^\/+|\/+$/g, '');
  k = k.split('/').map((s) => (s === '.' || s === '..' ? s.replace(/\./g, '_') : s)).join('/');
  if (k === '') k = '_';
  return k.length > 250 ? k.slice(0, 250) : k;
}

/** A path segment safe for artifact paths and URLs. */
export function safeSegment(s: string): string {
  const out = s.replace(/[^A-Za-z0-9._=-]+/g, '_').replace(/^_+|_+$/g, '').replace(/^\.+/, '_');
  return out === '' ? '_' : out;
}

function paramValue(v: unknown): string {
  if (typeof v === 'string') return v;
  if (v === null || v === undefined) return 'null';
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return String(v);
  return JSON.stringify(v);
}

/** Flattens nested objects to `a.b.c` keys (arrays and scalars are values; arrays as JSON). */
export function flattenParams(obj: Record<string, unknown>, prefix = '', out: Record<string, string> = {}): Record<string, string> {
  for (const k of Object.keys(obj).sort()) {
    const v = obj[k];
    const key = prefix ? `${prefix}.${k}` : k;
    if (v !== null && typeof v === 'object' && !Array.isArray(v) && Object.keys(v as object).length > 0) {
      flattenParams(v as Record<string, unknown>, key, out);
    } else {
      out[key] = paramValue(v);
    }
  }
  return out;
}

function toParams(rec: Record<string, string>): Param[] {
  const seen = new Set<string>();
  const out: Param[] = [];
  for (const [k, v] of Object.entries(rec)) {
    const key = sanitizeKey(k);
    if (seen.has(key)) continue;
    seen.add(key);
    out.push({ key, value: v });
  }
  return out;
}

function extOf(o: OutputInfo): string {
  const e = (o.ext || '').replace(/^\./, '').toLowerCase();
  if (e) return e;
  const b = basename(o.path);
  return b.includes('.') ? b.split('.').pop()!.toLowerCase() : '';
}

export function parentRunName(pipeline: string, time: number): string {
  return `${pipeline} ${new Date(time).toISOString().slice(0, 19).replace('T', ' ')}`;
}

class TagSet {
  private m = new Map<string, string>();
  set(k: string, v: unknown) {
    if (v === undefined) return;
    this.m.set(sanitizeKey(k), paramValue(v));
  }
  list(): Tag[] {
    return [...this.m].map(([key, value]) => ({ key, value }));
  }
}

interface ChildBuild {
  run: PlannedRun;
  tags: TagSet;
  lastStep: Map<string, number>;
  info?: InstanceInfo;
}

export function buildPlan(events: EngineEvent[], opts: PlanOptions = {}): TrackingPlan {
  const smallTable = opts.smallTableBytes ?? 1_000_000;
  const maxFile = opts.maxFileBytes ?? 100_000_000;
  const start = events.find((e): e is Extract<EngineEvent, { type: 'run-start' }> => e.type === 'run-start');
  if (!start) throw new Error('journal has no run-start event');
  const runId = start.runId;
  const instances = new Map(start.instances.map((i) => [i.instance, i]));

  const parentTags = new TagSet();
  parentTags.set('pipeline.file', start.file);
  parentTags.set('mlflow.source.name', start.file);
  parentTags.set('mlflow.source.type', 'LOCAL');
  parentTags.set('pipeline.host', start.host);
  parentTags.set('pipeline.name', start.pipeline);
  parentTags.set('pipeline.instances', start.instances.length);
  if (start.gitCommit) {
    parentTags.set('pipeline.git_commit', start.gitCommit);
    parentTags.set('mlflow.source.git.commit', start.gitCommit);
  }
  parentTags.set('pipeline.status', 'running');
  const parent: PlannedRun = {
    key: PARENT_KEY,
    runName: parentRunName(start.pipeline, start.time),
    startTime: start.time,
    status: 'RUNNING',
    params: toParams({ ...flattenParams(start.pipelineParams ?? {}), 'pipeline.name': start.pipeline }),
    tags: [],
    identityTags: [
      { key: 'pipeline.run_id', value: runId },
      { key: 'pipeline.role', value: 'pipeline' },
    ],
    metrics: [],
    artifacts: [],
  };

  const children = new Map<string, ChildBuild>();
  const summaryKeys = new Map<string, string[]>();
  const parentArtifactPaths = new Set<string>();
  let lastTime = start.time;
  let complete = false;

  const child = (instance: string, time: number): ChildBuild => {
    let c = children.get(instance);
    if (c) return c;
    const info = instances.get(instance);
    const tags = new TagSet();
    const params: Record<string, string> = {};
    if (info) {
      for (const [k, v] of Object.entries(flattenParams(info.params ?? {}))) params[k] = v;
      params['stage.kind'] = info.kind;
      params['stage.name'] = info.stage;
      params.seed = String(info.seed);
      for (const [k, v] of Object.entries(flattenParams(info.matrix ?? {}))) params[`matrix.${k}`] = v;
      tags.set('pipeline.stage', info.stage);
      tags.set('pipeline.kind', info.kind);
      tags.set('pipeline.needs', JSON.stringify(info.needs ?? []));
    }
    tags.set('pipeline.status', 'running');
    c = {
      info,
      tags,
      lastStep: new Map(),
      run: {
        key: instance,
        runName: instance,
        startTime: time,
        status: 'RUNNING',
        params: toParams(params),
        tags: [],
        identityTags: [
          { key: 'pipeline.run_id', value: runId },
          { key: 'pipeline.role', value: 'stage' },
          { key: 'pipeline.instance', value: instance },
        ],
        metrics: [],
        artifacts: [],
      },
    };
    children.set(instance, c);
    return c;
  };

  const addSummary = (c: ChildBuild, summary: Record<string, number>, time: number) => {
    const keys: string[] = [];
    for (const [name, v] of Object.entries(summary ?? {})) {
      const key = sanitizeKey(name);
      keys.push(key);
      c.run.metrics.push({ key, value: num(v), step: c.lastStep.get(key) ?? 0, timestamp: time });
    }
    summaryKeys.set(c.run.key, keys);
    c.tags.set('pipeline.summary_keys', keys.join(','));
  };

  const addOutputs = (c: ChildBuild, outputs: OutputInfo[], cached: boolean) => {
    for (const o of outputs ?? []) {
      const ext = extOf(o);
      const fileName = ext ? `${safeSegment(o.name)}.${ext}` : safeSegment(o.name);
      c.tags.set(`output.${o.name}.digest`, o.digest);
      c.tags.set(`output.${o.name}.bytes`, o.bytes);
      if (o.rows !== undefined) c.tags.set(`output.${o.name}.rows`, o.rows);
      // A cache hit's artifacts are those of the run that computed it (pipeline.computed_by_run;
      // sync links its MLflow run): uploading them again would copy every artifact on every rerun.
      if (cached) continue;
      if (o.kind === 'file') {
        if (o.bytes > maxFile) {
          c.tags.set(`output.${o.name}.artifact`, `not uploaded (${o.bytes} bytes); store digest ${o.digest}`);
          continue;
        }
        c.run.artifacts.push({ artifactPath: `outputs/${fileName}`, file: o.path, digest: o.digest, bytes: o.bytes });
        c.tags.set(`output.${o.name}.artifact`, `outputs/${fileName}`);
        if (REPORT_EXTS.has(ext)) {
          const p = `reports/${safeSegment(c.run.key)}/${fileName}`;
          if (!parentArtifactPaths.has(p)) {
            parentArtifactPaths.add(p);
            parent.artifacts.push({ artifactPath: p, file: o.path, digest: o.digest, bytes: o.bytes });
          }
        }
      } else if (o.bytes <= smallTable) {
        c.run.artifacts.push({ artifactPath: `tables/${fileName}`, file: o.path, digest: o.digest, bytes: o.bytes });
        c.tags.set(`output.${o.name}.artifact`, `tables/${fileName}`);
      } else {
        c.tags.set(`output.${o.name}.artifact`, `not uploaded (${o.bytes} bytes > ${smallTable}); store digest ${o.digest}`);
      }
    }
  };

  const addRecorded = (c: ChildBuild, recorded: Record<string, unknown>) => {
    for (const [k, v] of Object.entries(flattenParams(recorded ?? {}))) c.tags.set(`recorded.${k}`, v);
  };

  /** A computed or cache-hit instance: the same tags, results and FINISHED status. */
  const finishChild = (
    c: ChildBuild,
    e: { key: string; time: number; summary: Record<string, number>; outputs: OutputInfo[]; recorded: Record<string, unknown> },
    how: { cache: 'hit' | 'miss'; computedBy: string; status: 'done' | 'cached' },
  ) => {
    c.tags.set('pipeline.cache_key', e.key);
    c.tags.set('pipeline.cache', how.cache);
    c.tags.set('pipeline.computed_by_run', how.computedBy);
    c.tags.set('pipeline.status', how.status);
    addRecorded(c, e.recorded);
    addSummary(c, e.summary, e.time);
    addOutputs(c, e.outputs, how.cache === 'hit');
    c.run.status = 'FINISHED';
    c.run.endTime = e.time;
  };

  for (const e of events) {
    if (e.runId !== runId) continue;
    lastTime = Math.max(lastTime, e.time);
    switch (e.type) {
      case 'run-start':
        break;
      case 'stage-start': {
        const c = child(e.instance, e.time);
        c.tags.set('pipeline.cache_key', e.key);
        c.tags.set('pipeline.cache', 'miss');
        c.tags.set('pipeline.computed_by_run', runId);
        if (e.resumedFromStep !== undefined) c.tags.set('pipeline.resumed_from_step', e.resumedFromStep);
        break;
      }
      case 'stage-metric': {
        const c = child(e.instance, e.time);
        const key = sanitizeKey(e.name);
        const step = Math.round(num(e.step)) || 0;
        c.run.metrics.push({ key, value: num(e.value), step, timestamp: e.time });
        c.lastStep.set(key, Math.max(step, c.lastStep.get(key) ?? step));
        break;
      }
      case 'stage-done': {
        const c = child(e.instance, e.time - (e.durationMs ?? 0));
        c.tags.set('pipeline.duration_ms', Math.round(e.durationMs));
        finishChild(c, e, { cache: 'miss', computedBy: runId, status: 'done' });
        break;
      }
      case 'stage-cached': {
        finishChild(child(e.instance, e.time), e, { cache: 'hit', computedBy: e.computedByRun, status: 'cached' });
        break;
      }
      case 'stage-failed': {
        const c = child(e.instance, e.time);
        c.tags.set('pipeline.cache_key', e.key);
        c.tags.set('pipeline.status', 'failed');
        c.tags.set('pipeline.error', e.error);
        c.run.status = 'FAILED';
        c.run.endTime = e.time;
        break;
      }
      case 'stage-skipped': {
        const c = child(e.instance, e.time);
        c.tags.set('pipeline.status', 'skipped');
        c.tags.set('pipeline.skip_reason', e.reason);
        c.run.status = 'KILLED';
        c.run.endTime = e.time;
        break;
      }
      case 'run-end': {
        complete = true;
        parent.status = e.status;
        parent.endTime = e.time;
        parentTags.set('pipeline.status', e.status.toLowerCase());
        for (const [k, v] of Object.entries(e.counts ?? {})) {
          parent.metrics.push({ key: `stages.${sanitizeKey(k)}`, value: num(v), step: 0, timestamp: e.time });
        }
        break;
      }
      default:
        break; // stage-progress, stage-log: not tracked in MLflow (they stay in the journal)
    }
  }

  if (!complete && opts.abandoned) {
    complete = true;
    parent.status = 'KILLED';
    parent.endTime = lastTime;
    parentTags.set('pipeline.status', 'abandoned');
  }
  if (complete) {
    for (const c of children.values()) {
      if (c.run.status === 'RUNNING') {
        c.run.status = 'KILLED';
        c.run.endTime = parent.endTime ?? lastTime;
        c.tags.set('pipeline.status', 'interrupted');
      }
    }
  }

  parent.tags = parentTags.list();
  const childRuns = [...children.values()].map((c) => {
    c.run.tags = c.tags.list();
    return c.run;
  });
  return { runId, pipeline: start.pipeline, file: start.file, parent, children: childRuns, complete, lastTime, summaryKeys, instances };
}

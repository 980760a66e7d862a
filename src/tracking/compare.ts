/**
 * Rows for `pipeline compare`: one per stage instance, with the params that tell instances apart
 * (matrix values, seeds, anything that varies) and the summary metrics (score, std, edge fraction…),
 * read from MLflow's child runs or, without a server, from the local journal.
 */
import { closeSync, existsSync, openSync, readSync, realpathSync } from 'node:fs';
import { resolve } from 'node:path';
import type { EngineEvent } from '../engine/events.js';
import { formatTextTable } from '../report/text-table.js';
import { journalPath, listJournals, readJournal } from './journal.js';
import type { MlflowClient, Run } from './mlflow-client.js';
import { buildPlan, type TrackingPlan } from './model.js';

export interface CompareRow {
  instance: string;
  stage: string;
  status: string;
  cache: string;
  params: Record<string, string>;
  metrics: Record<string, number>;
  summaryKeys: string[];
}

export function rowsFromPlan(plan: TrackingPlan): CompareRow[] {
  return plan.children.map((c) => {
    const tags = new Map(c.tags.map((t) => [t.key, t.value]));
    const metrics: Record<string, number> = {};
    const bestStep = new Map<string, number>();
    for (const m of c.metrics) {
      const s = bestStep.get(m.key);
      if (s === undefined || m.step >= s) { bestStep.set(m.key, m.step); metrics[m.key] = m.value; }
    }
    return {
      instance: c.key,
      stage: tags.get('pipeline.stage') ?? c.key.replace(/\[.*$/, ''),
      status: tags.get('pipeline.status') ?? c.status.toLowerCase(),
      cache: tags.get('pipeline.cache') ?? '',
      params: Object.fromEntries(c.params.map((p) => [p.key, p.value])),
      metrics,
      summaryKeys: plan.summaryKeys.get(c.key) ?? [],
    };
  });
}

export function rowsFromRuns(runs: Run[]): CompareRow[] {
  return runs
    .filter((r) => r.data.tags?.some((t) => t.key === 'pipeline.role' && t.value === 'stage'))
    .map((r) => {
      const tags = new Map((r.data.tags ?? []).map((t) => [t.key, t.value]));
      const instance = tags.get('pipeline.instance') ?? r.info.run_name ?? r.info.run_id;
      return {
        instance,
        stage: tags.get('pipeline.stage') ?? instance.replace(/\[.*$/, ''),
        status: tags.get('pipeline.status') ?? r.info.status.toLowerCase(),
        cache: tags.get('pipeline.cache') ?? '',
        params: Object.fromEntries((r.data.params ?? []).map((p) => [p.key, p.value])),
        metrics: Object.fromEntries((r.data.metrics ?? []).map((m) => [m.key, Number(m.value)])),
        summaryKeys: (tags.get('pipeline.summary_keys') ?? '').split(',').filter(Boolean),
      };
    })
    .sort((a, b) => a.instance.localeCompare(b.instance));
}

/** Child runs of a pipeline run from MLflow (searching the given experiments). */
export async function fetchRows(client: MlflowClient, experimentIds: string[], runId: string): Promise<CompareRow[]> {
  const runs = await client.searchRuns({
    experimentIds,
    filter: `tags.\`pipeline.run_id\` = '${runId.replace(/'/g, "\\'")}' and tags.\`pipeline.role\` = 'stage'`,
  });
  return rowsFromRuns(runs);
}

function firstEvent(path: string): EngineEvent | undefined {
  let fd: number | undefined;
  try {
    fd = openSync(path, 'r');
    const buf = Buffer.alloc(1 << 20);
    const n = readSync(fd, buf, 0, buf.length, 0);
    const line = buf.subarray(0, n).toString('utf8').split('\n')[0];
    return JSON.parse(line) as EngineEvent;
  } catch {
    return undefined;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

function canonical(p: string): string {
  const abs = resolve(p);
  try { return realpathSync(abs); } catch { return abs; }
}

/** The runId of the latest journal whose run-start.file is `pipelineFile`. */
export function latestRunForFile(storeDir: string, pipelineFile: string): string | undefined {
  const want = canonical(pipelineFile);
  let best: { runId: string; time: number } | undefined;
  for (const id of listJournals(storeDir)) {
    const e = firstEvent(journalPath(storeDir, id));
    if (!e || e.type !== 'run-start') continue;
    if (canonical(e.file) !== want) continue;
    if (!best || e.time >= best.time) best = { runId: e.runId, time: e.time };
  }
  return best?.runId;
}

export function planFromJournal(storeDir: string, runId: string): TrackingPlan | undefined {
  const p = journalPath(storeDir, runId);
  if (!existsSync(p)) return undefined;
  const j = readJournal(p);
  if (!j.events.some((e) => e.type === 'run-start')) return undefined;
  return buildPlan(j.events);
}

function fmt(v: number | undefined): string {
  if (v === undefined) return '';
  if (Number.isNaN(v)) return 'NaN';
  if (!Number.isFinite(v)) return v > 0 ? 'inf' : '-inf';
  if (Number.isInteger(v) && Math.abs(v) < 1e9) return String(v);
  const a = Math.abs(v);
  return a !== 0 && (a < 1e-3 || a >= 1e6) ? v.toExponential(3) : String(Number(v.toPrecision(4)));
}

const ALWAYS_HIDDEN = new Set(['stage.kind', 'stage.name']);

/** One table per stage: instance, status, cache, the params that vary, the summary metrics. */
export function formatCompare(rows: CompareRow[], opts: { stage?: string; metrics?: string[]; allParams?: boolean } = {}): string {
  const stages: string[] = [];
  for (const r of rows) if (!stages.includes(r.stage)) stages.push(r.stage);
  const out: string[] = [];
  for (const stage of stages) {
    if (opts.stage && stage !== opts.stage) continue;
    const rs = rows.filter((r) => r.stage === stage);
    const paramKeys = [...new Set(rs.flatMap((r) => Object.keys(r.params)))].filter((k) => !ALWAYS_HIDDEN.has(k));
    // A param that only mirrors a matrix value (method ← matrix.method, the seed) is shown once, as the matrix column.
    const mirrorsMatrix = (k: string) => !k.startsWith('matrix.') && paramKeys.includes(`matrix.${k}`) && rs.every((r) => String(r.params[k]) === String(r.params[`matrix.${k}`]));
    const shownParams = paramKeys
      .filter((k) => !mirrorsMatrix(k))
      .filter((k) => opts.allParams || k.startsWith('matrix.') || new Set(rs.map((r) => r.params[k])).size > 1)
      .sort((a, b) => (a.startsWith('matrix.') === b.startsWith('matrix.') ? a.localeCompare(b) : a.startsWith('matrix.') ? -1 : 1));
    let metricKeys = opts.metrics ?? [...new Set(rs.flatMap((r) => r.summaryKeys))];
    if (metricKeys.length === 0 && !opts.metrics) metricKeys = [...new Set(rs.flatMap((r) => Object.keys(r.metrics)))].sort();
    const header = ['instance', 'status', 'cache', ...shownParams.map((k) => k.replace(/^matrix\./, '')), ...metricKeys];
    const align = header.map((_, i): 'left' | 'right' => (i >= 3 + shownParams.length ? 'right' : 'left'));
    const body = rs.map((r) => [r.instance, r.status, r.cache, ...shownParams.map((k) => r.params[k] ?? ''), ...metricKeys.map((k) => fmt(r.metrics[k]))]);
    out.push(`${stage} (${rs.length})\n${formatTextTable(header, body, { align }).trimEnd()}`);
  }
  return out.join('\n\n');
}

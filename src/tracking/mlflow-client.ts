/**
 * A small MLflow tracking-server REST client on axios.
 *
 * - experiments: get-by-name, create, get-or-create (tolerates the create race: RESOURCE_ALREADY_EXISTS)
 * - runs: create, update, get, search (all pages), log-batch chunked to the server's limits
 *   (<= 1000 metrics, <= 100 params, <= 100 tags, <= 1000 items, <= 1 MB per request)
 * - params are write-once: re-logging the same value is accepted by MLflow; a *changed* value is
 *   rejected with INVALID_PARAMETER_VALUE. logBatch drops params the run already has and reports
 *   conflicts instead of failing.
 * - artifacts through the server's proxy (`mlflow server --serve-artifacts`, the default):
 *   `PUT /api/2.0/mlflow-artifacts/artifacts/<artifact_uri minus "mlflow-artifacts:/">/<path>`;
 *   for a server with `--artifacts-destination DIR` a run's artifact_uri is
 *   `mlflow-artifacts:/<experiment_id>/<run_id>/artifacts`.
 * - auth: MLFLOW_TRACKING_TOKEN (bearer) or MLFLOW_TRACKING_USERNAME / MLFLOW_TRACKING_PASSWORD (basic).
 * - retries with exponential backoff (and jitter) on network errors, 429 and 5xx; none on other 4xx.
 * - errors (MlflowError) quote MLflow's error_code and message.
 */
import axios, { type AxiosInstance, type AxiosRequestConfig } from 'axios';
import { readFileSync } from 'node:fs';

export const MLFLOW_LIMITS = {
  metricsPerBatch: 1000,
  paramsPerBatch: 100,
  tagsPerBatch: 100,
  itemsPerBatch: 1000,
  /** The server's limit is 1e6 bytes of JSON; keep a margin. */
  bytesPerBatch: 900_000,
  paramValueLength: 6000,
  tagValueLength: 8000,
  keyLength: 250,
} as const;

export interface MlflowClientOptions {
  /** http(s)://host:port[/prefix] of the tracking server. */
  trackingUri: string;
  token?: string;
  username?: string;
  password?: string;
  /** Retries after the first attempt on network errors / 429 / 5xx. Default 4. */
  retries?: number;
  /** First backoff delay in ms (doubles each retry, +-25% jitter). Default 250. */
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** Per-request timeout in ms. Default 30000. */
  timeoutMs?: number;
}

export interface Metric { key: string; value: number; timestamp: number; step: number }
export interface Param { key: string; value: string }
export interface Tag { key: string; value: string }

export interface Experiment {
  experiment_id: string;
  name: string;
  artifact_location?: string;
  lifecycle_stage?: string;
  tags?: Tag[];
}

/**
 * MLflow 3.x opens an experiment on its GenAI overview page unless this tag says it holds classic
 * model-development runs; ours do, so `pipeline ui` should open on the runs table.
 */
export const EXPERIMENT_KIND_TAG: Tag = { key: 'mlflow.experimentKind', value: 'custom_model_development' };

export interface RunInfo {
  run_id: string;
  experiment_id: string;
  run_name?: string;
  status: 'RUNNING' | 'SCHEDULED' | 'FINISHED' | 'FAILED' | 'KILLED';
  start_time?: number;
  end_time?: number;
  artifact_uri?: string;
  lifecycle_stage?: string;
}

export interface Run {
  info: RunInfo;
  data: { metrics?: Metric[]; params?: Param[]; tags?: Tag[] };
}

export type RunStatus = RunInfo['status'];

export interface FileInfo { path: string; is_dir: boolean; file_size?: number }

/** An MLflow REST error, or a transport failure after retries. */
export class MlflowError extends Error {
  constructor(
    message: string,
    readonly endpoint: string,
    readonly status?: number,
    readonly errorCode?: string,
    readonly mlflowMessage?: string,
    /** True when the failure was transient (network, 429, 5xx) and retries ran out. */
    readonly transient = false,
  ) {
    super(message);
    this.name = 'MlflowError';
  }
}

export function isTransient(err: unknown): boolean {
  return err instanceof MlflowError ? err.transient : true;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Tracking URI from an explicit value, else MLFLOW_TRACKING_URI; undefined means journal only. */
export function resolveTrackingUri(explicit?: string | null): string | undefined {
  const uri = (explicit ?? process.env.MLFLOW_TRACKING_URI ?? '').trim();
  return uri === '' ? undefined : uri;
}

export class MlflowClient {
  readonly trackingUri: string;
  private readonly http: AxiosInstance;
  private readonly retries: number;
  private readonly baseDelayMs: number;
  private readonly maxDelayMs: number;

  constructor(opts: MlflowClientOptions) {
    const uri = opts.trackingUri.replace(/\/+$/, '');
    if (!/^https?:\/\//i.test(uri)) {
      throw new MlflowError(
        `unsupported tracking URI '${opts.trackingUri}': only http(s):// tracking servers are supported ` +
          `(start one with 'pipeline ui' or scripts/mlflow-server.sh)`, 'config');
    }
    this.trackingUri = uri;
    this.retries = opts.retries ?? 4;
    this.baseDelayMs = opts.baseDelayMs ?? 250;
    this.maxDelayMs = opts.maxDelayMs ?? 8000;
    const headers: Record<string, string> = {};
    const cfg: AxiosRequestConfig = { baseURL: uri, timeout: opts.timeoutMs ?? 30_000, headers, proxy: false };
    if (opts.token) headers.Authorization = `Bearer ${opts.token}`;
    else if (opts.username !== undefined && opts.password !== undefined) {
      cfg.auth = { username: opts.username, password: opts.password };
    }
    this.http = axios.create(cfg);
  }

  /** A client for `trackingUri` with credentials from MLFLOW_TRACKING_TOKEN or _USERNAME/_PASSWORD. */
  static fromEnv(trackingUri: string, extra: Partial<MlflowClientOptions> = {}): MlflowClient {
    const env = process.env;
    return new MlflowClient({
      trackingUri,
      token: env.MLFLOW_TRACKING_TOKEN || undefined,
      username: env.MLFLOW_TRACKING_USERNAME || undefined,
      password: env.MLFLOW_TRACKING_PASSWORD || undefined,
      ...extra,
    });
  }

  // ---------------------------------------------------------------- transport

  private async request<T>(method: 'GET' | 'POST' | 'PUT', path: string,
    opts: { params?: Record<string, unknown>; data?: unknown; contentType?: string; retries?: number } = {}): Promise<T> {
    const retries = opts.retries ?? this.retries;
    for (let attempt = 0; ; attempt++) {
      let err: MlflowError;
      try {
        const res = await this.http.request({
          method, url: path, params: opts.params, data: opts.data,
          headers: { 'Content-Type': opts.contentType ?? 'application/json' },
          // Treat every HTTP status as a response; classify below.
          validateStatus: () => true,
          maxBodyLength: Infinity, maxContentLength: Infinity,
          transformResponse: [(d: unknown) => d],
          responseType: 'text',
        });
        const body = typeof res.data === 'string' ? res.data : String(res.data ?? '');
        if (res.status >= 200 && res.status < 300) {
          if (body.trim() === '') return {} as T;
          try { return JSON.parse(body) as T; } catch { return {} as T; }
        }
        err = httpError(method, path, res.status, body);
      } catch (e) {
        const ax = e as { code?: string; message?: string };
        err = new MlflowError(
          `MLflow ${method} ${path}: cannot reach ${this.trackingUri} (${ax.code ?? ''} ${ax.message ?? String(e)})`.replace(/\s+\)/, ')'),
          path, undefined, undefined, undefined, true);
      }
      if (!err.transient || attempt >= retries) throw err;
      const delay = Math.min(this.maxDelayMs, this.baseDelayMs * 2 ** attempt) * (0.75 + Math.random() * 0.5);
      await sleep(delay);
    }
  }

  private get<T>(path: string, params?: Record<string, unknown>) {
    return this.request<T>('GET', `/api/2.0/mlflow/${path}`, { params });
  }

  private post<T>(path: string, data: unknown) {
    return this.request<T>('POST', `/api/2.0/mlflow/${path}`, { data: JSON.stringify(data) });
  }

  /** GET /health: true when the server answers 200 (one attempt, no retries). */
  async health(timeoutMs = 2000): Promise<boolean> {
    try {
      const res = await this.http.get('/health', { timeout: timeoutMs, validateStatus: () => true });
      return res.status === 200;
    } catch {
      return false;
    }
  }

  // ---------------------------------------------------------------- experiments

  async getExperimentByName(name: string): Promise<Experiment | undefined> {
    try {
      const r = await this.get<{ experiment: Experiment }>('experiments/get-by-name', { experiment_name: name });
      return r.experiment;
    } catch (e) {
      if (e instanceof MlflowError && e.errorCode === 'RESOURCE_DOES_NOT_EXIST') return undefined;
      throw e;
    }
  }

  async createExperiment(name: string, tags: Tag[] = []): Promise<string> {
    const r = await this.post<{ experiment_id: string }>('experiments/create', { name, tags });
    return r.experiment_id;
  }

  async setExperimentTag(experimentId: string, tag: Tag): Promise<void> {
    await this.post('experiments/set-experiment-tag', { experiment_id: experimentId, key: tag.key, value: tag.value });
  }

  /**
   * The id of the active experiment `name`, creating it if needed (safe against a concurrent create).
   * Created experiments carry EXPERIMENT_KIND_TAG; an existing one without that tag (made by an
   * older version, or by hand) gets it; one whose kind was set otherwise is left as it is.
   */
  async getOrCreateExperiment(name: string): Promise<string> {
    const found = await this.getExperimentByName(name);
    if (found) return this.tagged(found);
    try {
      return await this.createExperiment(name, [EXPERIMENT_KIND_TAG]);
    } catch (e) {
      if (e instanceof MlflowError && e.errorCode === 'RESOURCE_ALREADY_EXISTS') {
        const again = await this.getExperimentByName(name);
        if (again) return this.tagged(again);
      }
      throw e;
    }
  }

  private async tagged(found: Experiment): Promise<string> {
    if (found.lifecycle_stage === 'deleted') {
      throw new MlflowError(`MLflow experiment '${found.name}' (id ${found.experiment_id}) is deleted; restore it ` +
        `or choose another experiment name`, 'experiments/get-by-name');
    }
    if (!found.tags?.some((t) => t.key === EXPERIMENT_KIND_TAG.key)) await this.setExperimentTag(found.experiment_id, EXPERIMENT_KIND_TAG);
    return found.experiment_id;
  }

  // ---------------------------------------------------------------- runs

  /** runs/create. Pass `{ retries: 0 }` to handle a lost response yourself (a retry could create a duplicate). */
  async createRun(opts: { experimentId: string; runName?: string; startTime?: number; tags?: Tag[] },
    req: { retries?: number } = {}): Promise<Run> {
    const r = await this.request<{ run: Run }>('POST', '/api/2.0/mlflow/runs/create', { retries: req.retries, data: JSON.stringify({
      experiment_id: opts.experimentId,
      run_name: opts.runName,
      start_time: Math.round(opts.startTime ?? Date.now()),
      tags: (opts.tags ?? []).map(clampTag),
    }) });
    return r.run;
  }

  async updateRun(runId: string, update: { status?: RunStatus; endTime?: number; runName?: string }): Promise<RunInfo> {
    const r = await this.post<{ run_info: RunInfo }>('runs/update', {
      run_id: runId,
      status: update.status,
      end_time: update.endTime === undefined ? undefined : Math.round(update.endTime),
      run_name: update.runName,
    });
    return r.run_info;
  }

  async getRun(runId: string): Promise<Run> {
    const r = await this.get<{ run: Run }>('runs/get', { run_id: runId });
    return r.run;
  }

  /** runs/search over all pages (stops after `limit` runs). */
  async searchRuns(opts: { experimentIds: string[]; filter?: string; orderBy?: string[]; limit?: number;
    runViewType?: 'ACTIVE_ONLY' | 'DELETED_ONLY' | 'ALL' }): Promise<Run[]> {
    const out: Run[] = [];
    const limit = opts.limit ?? Infinity;
    let pageToken: string | undefined;
    do {
      const r = await this.post<{ runs?: Run[]; next_page_token?: string }>('runs/search', {
        experiment_ids: opts.experimentIds,
        filter: opts.filter,
        order_by: opts.orderBy,
        run_view_type: opts.runViewType ?? 'ACTIVE_ONLY',
        max_results: Math.min(1000, limit - out.length),
        page_token: pageToken,
      });
      out.push(...(r.runs ?? []));
      pageToken = r.next_page_token || undefined;
    } while (pageToken && out.length < limit);
    return out;
  }

  /**
   * runs/log-batch, split into requests within MLflow's limits. Params the run already holds are
   * dropped before sending (same value: nothing to do; a different value: reported in
   * `paramConflicts`, since MLflow params are write-once).
   */
  async logBatch(runId: string, batch: { metrics?: Metric[]; params?: Param[]; tags?: Tag[] },
    opts: { onChunk?: (sent: { metrics: number; params: number; tags: number }) => void } = {}):
    Promise<{ requests: number; paramConflicts: { key: string; old: string; new: string }[] }> {
    let params = dedupeParams((batch.params ?? []).map(clampParam));
    const paramConflicts: { key: string; old: string; new: string }[] = [];
    if (params.length > 0) {
      const existing = new Map((await this.getRun(runId)).data.params?.map((p) => [p.key, p.value]) ?? []);
      params = params.filter((p) => {
        const old = existing.get(p.key);
        if (old === undefined) return true;
        if (old !== p.value) paramConflicts.push({ key: p.key, old, new: p.value });
        return false;
      });
    }
    const chunks = chunkBatch({ metrics: batch.metrics ?? [], params, tags: (batch.tags ?? []).map(clampTag) });
    for (const c of chunks) {
      await this.post('runs/log-batch', {
        run_id: runId,
        metrics: c.metrics.map(metricJson),
        params: c.params,
        tags: c.tags,
      });
      opts.onChunk?.({ metrics: c.metrics.length, params: c.params.length, tags: c.tags.length });
    }
    return { requests: chunks.length, paramConflicts };
  }

  /** metrics/get-history over all pages. */
  async getMetricHistory(runId: string, metricKey: string): Promise<Metric[]> {
    const out: Metric[] = [];
    let pageToken: string | undefined;
    do {
      const r = await this.get<{ metrics?: Array<Omit<Metric, 'value'> & { value: number | string }>; next_page_token?: string }>(
        'metrics/get-history', { run_id: runId, metric_key: metricKey, max_results: 25000, page_token: pageToken });
      for (const m of r.metrics ?? []) out.push({ ...m, value: Number(m.value), timestamp: Number(m.timestamp), step: Number(m.step ?? 0) });
      pageToken = r.next_page_token || undefined;
    } while (pageToken);
    return out;
  }

  // ---------------------------------------------------------------- artifacts

  /** The proxied-artifact URL path for `artifactPath` in a run whose artifact_uri is `artifactUri`. */
  static artifactProxyPath(artifactUri: string, artifactPath: string): string {
    const m = /^mlflow-artifacts:(?:\/\/[^/]*)?\/?(.*)$/.exec(artifactUri);
    if (!m) {
      throw new MlflowError(`run artifact_uri '${artifactUri}' is not proxied by the tracking server ` +
        `(mlflow-artifacts:/...); start the server with --serve-artifacts / --artifacts-destination`, 'mlflow-artifacts');
    }
    const root = m[1].replace(/^\/+|\/+$/g, '');
    const rel = artifactPath.replace(/^\/+/, '');
    if (rel === '' || rel.split('/').some((s) => s === '' || s === '.' || s === '..')) {
      throw new MlflowError(`invalid artifact path '${artifactPath}'`, 'mlflow-artifacts');
    }
    const enc = (s: string) => s.split('/').map(encodeURIComponent).join('/');
    return `/api/2.0/mlflow-artifacts/artifacts/${enc(root)}/${enc(rel)}`;
  }

  /** Uploads bytes (or a local file) as `artifactPath` of the run. `run` may be a Run or its artifact_uri. */
  async uploadArtifact(run: Run | string, artifactPath: string, content: Buffer | { file: string }): Promise<void> {
    const uri = typeof run === 'string' ? run : run.info.artifact_uri;
    if (!uri) throw new MlflowError('run has no artifact_uri', 'mlflow-artifacts');
    const data = Buffer.isBuffer(content) ? content : readFileSync(content.file);
    await this.request('PUT', MlflowClient.artifactProxyPath(uri, artifactPath),
      { data, contentType: guessContentType(artifactPath) });
  }

  /** artifacts/list for a run (one directory level; `path` relative to the run's artifact root). */
  async listArtifacts(runId: string, path?: string): Promise<FileInfo[]> {
    const out: FileInfo[] = [];
    let pageToken: string | undefined;
    do {
      const r = await this.get<{ files?: FileInfo[]; next_page_token?: string }>('artifacts/list',
        { run_id: runId, path, page_token: pageToken });
      out.push(...(r.files ?? []));
      pageToken = r.next_page_token || undefined;
    } while (pageToken);
    return out;
  }

  /** All artifact files of a run, recursively. */
  async listArtifactsRecursive(runId: string, path?: string): Promise<FileInfo[]> {
    const out: FileInfo[] = [];
    for (const f of await this.listArtifacts(runId, path)) {
      if (f.is_dir) out.push(...(await this.listArtifactsRecursive(runId, f.path)));
      else out.push(f);
    }
    return out;
  }
}

// ---------------------------------------------------------------- helpers (exported for tests)

function httpError(method: string, path: string, status: number, body: string): MlflowError {
  let code: string | undefined;
  let message: string | undefined;
  try {
    const j = JSON.parse(body) as { error_code?: string; message?: string; detail?: unknown };
    code = j.error_code;
    message = j.message ?? (j.detail === undefined ? undefined : typeof j.detail === 'string' ? j.detail : JSON.stringify(j.detail));
  } catch {
    message = body.trim().slice(0, 500) || undefined;
  }
  const transient = status === 429 || status >= 500;
  const text = `MLflow ${method} ${path} failed: HTTP ${status}` +
    (code ? ` ${code}` : '') + (message ? `: ${message}` : '');
  return new MlflowError(text, path, status, code, message, transient);
}

function metricJson(m: Metric) {
  const v = m.value;
  const value = Number.isNaN(v) ? 'NaN' : v === Infinity ? 'Infinity' : v === -Infinity ? '-Infinity' : v;
  return { key: m.key, value, timestamp: Math.round(m.timestamp), step: Math.round(m.step) };
}

function clampParam(p: Param): Param {
  return p.value.length > MLFLOW_LIMITS.paramValueLength ? { key: p.key, value: p.value.slice(0, MLFLOW_LIMITS.paramValueLength) } : p;
}

function clampTag(t: Tag): Tag {
  return t.value.length > MLFLOW_LIMITS.tagValueLength ? { key: t.key, value: t.value.slice(0, MLFLOW_LIMITS.tagValueLength) } : t;
}

/** First value wins for a repeated param key (MLflow rejects a batch with duplicate param keys). */
function dedupeParams(params: Param[]): Param[] {
  const seen = new Set<string>();
  return params.filter((p) => (seen.has(p.key) ? false : (seen.add(p.key), true)));
}

export interface BatchChunk { metrics: Metric[]; params: Param[]; tags: Tag[] }

/** Splits a batch into chunks that satisfy MLflow's per-request limits (order kept within each kind). */
export function chunkBatch(batch: BatchChunk, limits: { metrics: number; params: number; tags: number; items: number; bytes: number } = {
  metrics: MLFLOW_LIMITS.metricsPerBatch, params: MLFLOW_LIMITS.paramsPerBatch, tags: MLFLOW_LIMITS.tagsPerBatch,
  items: MLFLOW_LIMITS.itemsPerBatch, bytes: MLFLOW_LIMITS.bytesPerBatch,
}): BatchChunk[] {
  const chunks: BatchChunk[] = [];
  let cur: BatchChunk = { metrics: [], params: [], tags: [] };
  let bytes = 200; // envelope: run_id and field names
  const flush = () => {
    if (cur.metrics.length + cur.params.length + cur.tags.length > 0) chunks.push(cur);
    cur = { metrics: [], params: [], tags: [] };
    bytes = 200;
  };
  const add = <K extends keyof BatchChunk>(kind: K, item: BatchChunk[K][number], max: number) => {
    const size = Buffer.byteLength(JSON.stringify(kind === 'metrics' ? metricJson(item as Metric) : item)) + 1;
    const items = cur.metrics.length + cur.params.length + cur.tags.length;
    if (cur[kind].length >= max || items >= limits.items || bytes + size > limits.bytes) flush();
    (cur[kind] as BatchChunk[K][number][]).push(item);
    bytes += size;
  };
  for (const p of batch.params) add('params', p, limits.params);
  for (const t of batch.tags) add('tags', t, limits.tags);
  for (const m of batch.metrics) add('metrics', m, limits.metrics);
  flush();
  return chunks;
}

function guessContentType(path: string): string {
  const ext = path.toLowerCase().split('.').pop() ?? '';
  return ({
    png: 'image/png', svg: 'image/svg+xml', html: 'text/html', htm: 'text/html', json: 'application/json',
    txt: 'text/plain', csv: 'text/csv', jpg: 'image/jpeg', jpeg: 'image/jpeg', pdf: 'application/pdf',
  } as Record<string, string>)[ext] ?? 'application/octet-stream';
}

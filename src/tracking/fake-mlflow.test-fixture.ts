/**
 * An in-memory MLflow tracking server behind MlflowClient's interface, for the sync unit tests.
 *
 * It keeps every metric point it is sent (a real server may collapse exact duplicates, so a point
 * sent twice shows here as two), chunks log-batch like the real client (one request per chunk),
 * and can fail requests: `down` fails every request as unreachable (and health() says false);
 * `failNext` fails chosen requests: as lost (before or after they take effect) or as rejected (4xx).
 */
import { readFileSync } from 'node:fs';
import {
  chunkBatch, MlflowClient, MlflowError,
  type Metric, type Param, type Run, type RunInfo, type RunStatus, type Tag,
} from './mlflow-client.js';

export type Endpoint = 'experiments/get-or-create' | 'runs/create' | 'runs/update' | 'runs/get' | 'runs/search' |
  'runs/log-batch' | 'metrics/get-history' | 'artifacts/upload';

export interface Request {
  endpoint: Endpoint;
  /** Metric points in a log-batch request. */
  metrics?: number;
}

interface Fault {
  endpoint: Endpoint;
  match: (r: Request) => boolean;
  /** Matching requests to let through before failing. */
  skip: number;
  /** The request takes effect, then the response is lost. */
  landed: boolean;
  /** The server answers 400 (not transient) instead. */
  rejected: boolean;
}

export interface FakeRun {
  info: RunInfo;
  params: Map<string, string>;
  tags: Map<string, string>;
  /** Every point received, in order. */
  metrics: Metric[];
  /** artifact path -> bytes. */
  artifacts: Map<string, Buffer>;
}

export class FakeMlflow extends MlflowClient {
  readonly experiments = new Map<string, string>();
  readonly runs = new Map<string, FakeRun>();
  /** Every request received (including failed ones), in order. */
  readonly requests: Request[] = [];
  /** Unreachable: every request fails as a transient error, before taking effect. */
  down = false;
  /** Requests answer only after this many ms, with a timeout error (like the client's request timeout). */
  hangMs = 0;
  private faults: Fault[] = [];
  private nextId = 1;

  constructor(trackingUri = 'http://fake-mlflow.test') {
    super({ trackingUri, retries: 0 });
  }

  /**
   * Fails a coming request at `endpoint` (the `skip`+1-th that matches): a transient error (the
   * response lost, after the request took effect when `landed`), or a 400 when `rejected`.
   */
  failNext(endpoint: Endpoint, opts: { landed?: boolean; rejected?: boolean; skip?: number; match?: (r: Request) => boolean } = {}): void {
    this.faults.push({ endpoint, match: opts.match ?? (() => true), skip: opts.skip ?? 0, landed: opts.landed ?? false, rejected: opts.rejected ?? false });
  }

  /** The runs of a pipeline run (tag pipeline.run_id). */
  runsOf(runId: string): FakeRun[] {
    return [...this.runs.values()].filter((r) => r.tags.get('pipeline.run_id') === runId);
  }

  /** A run's points of one metric key. */
  history(run: FakeRun, key: string): Metric[] {
    return run.metrics.filter((m) => m.key === key);
  }

  private async serve<T>(req: Request, apply: () => T): Promise<T> {
    this.requests.push(req);
    if (this.hangMs > 0) {
      await new Promise((r) => setTimeout(r, this.hangMs));
      throw new MlflowError(`MLflow ${req.endpoint} failed: timeout of ${this.hangMs}ms exceeded`, req.endpoint, undefined, undefined, undefined, true);
    }
    if (this.down) throw new MlflowError(`MLflow ${req.endpoint} failed: connect ECONNREFUSED`, req.endpoint, undefined, undefined, undefined, true);
    const i = this.faults.findIndex((f) => f.endpoint === req.endpoint && f.match(req));
    const fault = i >= 0 ? this.faults[i] : undefined;
    if (fault && fault.skip > 0) fault.skip--;
    else if (fault) {
      this.faults.splice(i, 1);
      if (fault.rejected) {
        throw new MlflowError(`MLflow ${req.endpoint} failed: HTTP 400 INVALID_PARAMETER_VALUE: rejected`, req.endpoint, 400, 'INVALID_PARAMETER_VALUE', 'rejected');
      }
      if (fault.landed) apply();
      throw new MlflowError(`MLflow ${req.endpoint} failed: socket hang up`, req.endpoint, undefined, undefined, undefined, true);
    }
    return apply();
  }

  private run(runId: string): FakeRun {
    const r = this.runs.get(runId);
    if (!r) throw new MlflowError(`MLflow runs/get failed: HTTP 404 RESOURCE_DOES_NOT_EXIST: Run '${runId}' not found`, 'runs/get', 404, 'RESOURCE_DOES_NOT_EXIST');
    return r;
  }

  private view(r: FakeRun): Run {
    const pairs = (m: Map<string, string>) => [...m].map(([key, value]) => ({ key, value }));
    const latest = new Map<string, Metric>();
    for (const m of r.metrics) latest.set(m.key, m);
    return { info: { ...r.info }, data: { params: pairs(r.params), tags: pairs(r.tags), metrics: [...latest.values()] } };
  }

  override async health(): Promise<boolean> {
    return !this.down;
  }

  override async getOrCreateExperiment(name: string): Promise<string> {
    return this.serve({ endpoint: 'experiments/get-or-create' }, () => {
      let id = this.experiments.get(name);
      if (id === undefined) this.experiments.set(name, (id = String(this.experiments.size + 1)));
      return id;
    });
  }

  override async createRun(opts: { experimentId: string; runName?: string; startTime?: number; tags?: Tag[] }): Promise<Run> {
    return this.serve({ endpoint: 'runs/create' }, () => {
      const id = `fake-run-${this.nextId++}`;
      const r: FakeRun = {
        info: { run_id: id, experiment_id: opts.experimentId, run_name: opts.runName, status: 'RUNNING', start_time: opts.startTime,
          artifact_uri: `mlflow-artifacts:/${opts.experimentId}/${id}/artifacts`, lifecycle_stage: 'active' },
        params: new Map(), tags: new Map((opts.tags ?? []).map((t) => [t.key, t.value])), metrics: [], artifacts: new Map(),
      };
      if (opts.runName) r.tags.set('mlflow.runName', opts.runName);
      this.runs.set(id, r);
      return this.view(r);
    });
  }

  override async updateRun(runId: string, update: { status?: RunStatus; endTime?: number; runName?: string }): Promise<RunInfo> {
    return this.serve({ endpoint: 'runs/update' }, () => {
      const r = this.run(runId);
      if (update.status) r.info.status = update.status;
      if (update.endTime !== undefined) r.info.end_time = update.endTime;
      if (update.runName) r.info.run_name = update.runName;
      return { ...r.info };
    });
  }

  override async getRun(runId: string): Promise<Run> {
    return this.serve({ endpoint: 'runs/get' }, () => this.view(this.run(runId)));
  }

  /** Understands the filters sync writes: tag equalities joined by `and`. */
  override async searchRuns(opts: { experimentIds: string[]; filter?: string; limit?: number }): Promise<Run[]> {
    return this.serve({ endpoint: 'runs/search' }, () => {
      const conds = [...(opts.filter ?? '').matchAll(/tags\.`([^`]+)`\s*=\s*'((?:[^'\\]|\\.)*)'/g)]
        .map((m) => [m[1], m[2].replace(/\\(.)/g, '$1')] as const);
      return [...this.runs.values()]
        .filter((r) => opts.experimentIds.includes(r.info.experiment_id) && conds.every(([k, v]) => r.tags.get(k) === v))
        .slice(0, opts.limit ?? Infinity)
        .map((r) => this.view(r));
    });
  }

  override async logBatch(runId: string, batch: { metrics?: Metric[]; params?: Param[]; tags?: Tag[] },
    opts: { onChunk?: (sent: { metrics: number; params: number; tags: number }) => void } = {}):
    Promise<{ requests: number; paramConflicts: { key: string; old: string; new: string }[] }> {
    const paramConflicts: { key: string; old: string; new: string }[] = [];
    let params = batch.params ?? [];
    if (params.length > 0) {
      const existing = (await this.getRun(runId)).data.params ?? [];
      const old = new Map(existing.map((p) => [p.key, p.value]));
      params = params.filter((p) => {
        const o = old.get(p.key);
        if (o !== undefined && o !== p.value) paramConflicts.push({ key: p.key, old: o, new: p.value });
        return o === undefined;
      });
    }
    const chunks = chunkBatch({ metrics: batch.metrics ?? [], params, tags: batch.tags ?? [] });
    for (const c of chunks) {
      await this.serve({ endpoint: 'runs/log-batch', metrics: c.metrics.length }, () => {
        const r = this.run(runId);
        for (const p of c.params) if (!r.params.has(p.key)) r.params.set(p.key, p.value);
        for (const t of c.tags) r.tags.set(t.key, t.value);
        r.metrics.push(...c.metrics.map((m) => ({ ...m })));
      });
      opts.onChunk?.({ metrics: c.metrics.length, params: c.params.length, tags: c.tags.length });
    }
    return { requests: chunks.length, paramConflicts };
  }

  override async getMetricHistory(runId: string, metricKey: string): Promise<Metric[]> {
    return this.serve({ endpoint: 'metrics/get-history' }, () => this.history(this.run(runId), metricKey).map((m) => ({ ...m })));
  }

  override async uploadArtifact(run: Run | string, artifactPath: string, content: Buffer | { file: string }): Promise<void> {
    const uri = typeof run === 'string' ? run : run.info.artifact_uri ?? '';
    const data = Buffer.isBuffer(content) ? content : readFileSync(content.file);
    return this.serve({ endpoint: 'artifacts/upload' }, () => {
      const r = [...this.runs.values()].find((x) => x.info.artifact_uri === uri);
      if (!r) throw new MlflowError(`no run with artifact_uri ${uri}`, 'mlflow-artifacts', 404);
      r.artifacts.set(artifactPath, data);
    });
  }
}

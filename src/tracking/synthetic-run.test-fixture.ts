/**
 * A synthetic engine event sequence for a small pipeline run, journaled and synced by the tracking
 * tests (the unit tests beside src/tracking/*.ts and the real-server tests in test/tracking/).
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { EngineEvent, OutputInfo } from '../engine/events.js';
import { createJournal } from './journal.js';

/** Journals `events` in the store as a finished process would (closed: no live writer). */
export function writeJournal(store: string, events: EngineEvent[]): void {
  const j = createJournal(store);
  for (const e of events) j(e);
  j.close();
}

export const uniq = (p: string) => `${p}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 7)}`;

// A valid 1x1 PNG.
export const PNG_1x1 = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==', 'base64');

export interface Synthetic {
  runId: string;
  pipeline: string;
  file: string;
  events: EngineEvent[];
  /** Curve points per instance and metric. */
  curve: { instance: string; metric: string; points: number };
  instances: string[];
}

/**
 * A small pipeline run: `data` (a cache hit computed by an earlier run), `policy[method=awr,seed=0]`
 * (computed, with loss/value curves and a small Arrow table), `report` (PNG + HTML outputs).
 */
export function syntheticRun(opts: { runId?: string; pipeline?: string; curvePoints?: number; t0?: number; dir?: string } = {}): Synthetic {
  const runId = opts.runId ?? uniq('run');
  const pipeline = opts.pipeline ?? uniq('synthetic');
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), 'tracking-outputs-'));
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'pipeline.yaml');
  writeFileSync(file, `name: ${pipeline}\n`);
  const out = (name: string, ext: string, kind: OutputInfo['kind'], data: Buffer | string): OutputInfo => {
    const path = join(dir, `${name}-${runId}.${ext}`);
    writeFileSync(path, data);
    const bytes = Buffer.byteLength(data);
    return { name, kind, path, digest: `sha256-${name}-${bytes}`, bytes, ext, ...(kind === 'table' ? { rows: 3 } : {}) };
  };
  const points = opts.curvePoints ?? 50;
  let t = opts.t0 ?? 1_700_000_000_000;
  const tick = () => (t += 10);
  const P = 'policy[method=awr,seed=0]';
  const events: EngineEvent[] = [];
  events.push({
    type: 'run-start', runId, pipeline, file, time: tick(), host: 'test-host',
    pipelineParams: { env: 'maze2d-umaze', steps: points },
    instances: [
      { instance: 'data', stage: 'data', kind: 'load-dataset', matrix: {}, params: { env: 'maze2d-umaze', size: 1000 }, seed: 0, needs: [] },
      { instance: P, stage: 'policy', kind: 'extract-policy', matrix: { method: 'awr', seed: 0 },
        params: { method: 'awr', beta: 3, net: { hidden: [256, 256], act: 'relu' }, lr: 3e-4 }, seed: 0, needs: ['data'] },
      { instance: 'report', stage: 'report', kind: 'report', matrix: {}, params: { title: 'Synthetic' }, seed: 0, needs: [P] },
    ],
  });
  events.push({ type: 'stage-cached', runId, instance: 'data', key: 'key-data', time: tick(), computedByRun: 'run-earlier',
    summary: { transitions: 1000 }, outputs: [out('dataset', 'arrow', 'table', Buffer.alloc(2048, 1))], recorded: { backend: 'wasm', versions: { tfjs: '4.22.0' } } });
  events.push({ type: 'stage-start', runId, instance: P, key: 'key-policy', time: tick() });
  for (let s = 0; s < points; s++) {
    events.push({ type: 'stage-metric', runId, instance: P, name: 'loss', value: 1 / (s + 1), step: s * 10, time: tick() });
    events.push({ type: 'stage-metric', runId, instance: P, name: 'value', value: s * 0.5, step: s * 10, time: tick() });
    if (s % 10 === 0) events.push({ type: 'stage-progress', runId, instance: P, step: s, total: points, time: tick() });
  }
  events.push({ type: 'stage-done', runId, instance: P, key: 'key-policy', time: tick(), durationMs: 1234,
    summary: { score: 42.5, std: 0.4, edge_fraction: 0.25 }, outputs: [out('policy', 'arrow', 'table', Buffer.alloc(4096, 2))],
    recorded: { backend: 'wasm', versions: { tfjs: '4.22.0' } } });
  events.push({ type: 'stage-start', runId, instance: 'report', key: 'key-report', time: tick() });
  events.push({ type: 'stage-done', runId, instance: 'report', key: 'key-report', time: tick(), durationMs: 50, summary: {},
    outputs: [out('plot', 'png', 'file', PNG_1x1), out('report', 'html', 'file', '<html><body><h1>Synthetic report</h1></body></html>')],
    recorded: { backend: 'cpu' } });
  events.push({ type: 'run-end', runId, time: tick(), status: 'FINISHED', counts: { computed: 2, cached: 1, failed: 0, skipped: 0 } });
  return { runId, pipeline, file, events, curve: { instance: P, metric: 'loss', points }, instances: ['data', P, 'report'] };
}

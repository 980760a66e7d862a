/** Line-by-line rendering of engine events for logs, pipes and CI (no cursor movement). */
import type { EngineEvent } from '../../engine/events.js';
import { formatDuration } from '../common.js';
import { ProgressTracker } from './progress.js';

const PROGRESS_EVERY_MS = 10_000;

export function plainRenderer(write: (line: string) => void = (l) => process.stdout.write(l + '\n')) {
  const progress = new Map<string, ProgressTracker>();
  const lastPrinted = new Map<string, number>();
  const stamp = (t: number) => new Date(t).toISOString().slice(11, 19);
  return (e: EngineEvent) => {
    switch (e.type) {
      case 'run-start':
        write(`${stamp(e.time)} run ${e.runId}: pipeline ${e.pipeline}, ${e.instances.length} stage instances`);
        break;
      case 'stage-cached':
        write(`${stamp(e.time)} cached   ${e.instance} (key ${e.key.slice(0, 12)}, computed by run ${e.computedByRun})`);
        break;
      case 'stage-start':
        progress.set(e.instance, new ProgressTracker());
        write(`${stamp(e.time)} start    ${e.instance} (key ${e.key.slice(0, 12)})`);
        break;
      case 'stage-progress': {
        const p = progress.get(e.instance) ?? new ProgressTracker();
        progress.set(e.instance, p);
        p.update(e.step, e.time, e.total, e.note);
        if (e.time - (lastPrinted.get(e.instance) ?? 0) >= PROGRESS_EVERY_MS) {
          lastPrinted.set(e.instance, e.time);
          write(`${stamp(e.time)} progress ${e.instance} ${p.describe(20)}`);
        }
        break;
      }
      case 'stage-log':
        write(`${stamp(e.time)} log      ${e.instance}: ${e.message}`);
        break;
      case 'stage-done': {
        const s = Object.entries(e.summary).slice(0, 6).map(([k, v]) => `${k}=${fmt(v)}`).join(' ');
        write(`${stamp(e.time)} done     ${e.instance} in ${formatDuration(e.durationMs)}${s ? `  ${s}` : ''}`);
        break;
      }
      case 'stage-failed':
        write(`${stamp(e.time)} FAILED   ${e.instance}: ${e.error}`);
        break;
      case 'stage-skipped':
        write(`${stamp(e.time)} skipped  ${e.instance}: ${e.reason}`);
        break;
      case 'run-end':
        write(`${stamp(e.time)} run ${e.runId} ${e.status}: ${e.counts.computed} computed, ${e.counts.cached} cached, ${e.counts.failed} failed, ${e.counts.skipped} skipped`);
        break;
      case 'stage-metric':
        break;
    }
  };
}

export function fmt(v: number): string {
  if (Number.isInteger(v)) return String(v);
  const a = Math.abs(v);
  return a !== 0 && (a < 1e-3 || a >= 1e5) ? v.toExponential(3) : v.toFixed(4).replace(/0+$/, '').replace(/\.$/, '');
}

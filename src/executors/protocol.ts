/**
 * The line protocol between an instance running on a cluster node (`pipeline exec-instance`) and
 * the controller that tails its log: one JSON value per line after a marker. Anything else in the
 * log is plain text (the controller shows it as the stage's log).
 *
 *   ::iqlp-event:: {JobMessage}                  progress, metric, log, resumed
 *   ::iqlp-failed:: {kind, message, instances?}   the instance failed (not retried)
 *   ::iqlp-done:: {key}                          the entry is committed to the remote store
 */
import type { JobMessage } from '../engine/job.js';

export type Failure =
  | { kind: 'stage-error'; message: string }
  /** Inputs whose entries were corrupt or missing on the remote (set aside there): recompute them. */
  | { kind: 'input-unavailable'; message: string; instances: string[] };

export type ProtocolLine =
  | { type: 'event'; event: JobMessage }
  | { type: 'failed'; failure: Failure }
  | { type: 'done'; key: string }
  | { type: 'text'; text: string };

const MARKERS = { '::iqlp-event:: ': 'event', '::iqlp-failed:: ': 'failed', '::iqlp-done:: ': 'done' } as const;

export const formatEvent = (event: JobMessage): string => `::iqlp-event:: ${JSON.stringify(event)}`;
export const formatFailed = (failure: Failure): string => `::iqlp-failed:: ${JSON.stringify(failure)}`;
export const formatDone = (key: string): string => `::iqlp-done:: ${JSON.stringify({ key })}`;

export function parseLine(line: string): ProtocolLine {
  for (const [marker, type] of Object.entries(MARKERS)) {
    const at = line.indexOf(marker);
    if (at < 0) continue;
    try {
      const v = JSON.parse(line.slice(at + marker.length)) as unknown;
      if (type === 'event') return { type, event: v as JobMessage };
      if (type === 'failed') return { type, failure: v as Failure };
      return { type, key: (v as { key: string }).key };
    } catch {
      break;
    }
  }
  return { type: 'text', text: line };
}

/** Splits a growing log into complete new lines, keeping the offset of what was read. */
export class LogTail {
  private offset = 0;
  /** The complete lines of `log` after what earlier calls returned. */
  next(log: string): string[] {
    if (log.length < this.offset) this.offset = 0; // the log was replaced (a new attempt)
    const end = log.lastIndexOf('\n') + 1;
    if (end <= this.offset) return [];
    const lines = log.slice(this.offset, end).split('\n').slice(0, -1);
    this.offset = end;
    return lines;
  }
}

/**
 * The vocabulary an external stage (a command, or a Python stage through the iqlp package) uses
 * to talk to the engine: one JSON object per line. A command prints them on stdout or stderr
 * prefixed with `::iqlp::` (like GitHub Actions' `::set-output`), so a plain `print` can report
 * progress; a Python stage writes them unprefixed on its private message pipe.
 *
 *   {"type":"progress","step":10,"total":100,"note":"…"}      a progress bar update
 *   {"type":"metric","name":"loss","value":0.3,"step":10}     a training-curve point (MLflow)
 *   {"type":"log","message":"…"}                              a line in the stage log
 *   {"type":"summary","name":"score","value":1.5}             a headline number of the result
 *   {"type":"record","key":"device","value":"cpu"}            how the result was computed (manifest)
 *   {"type":"resumed","step":40}                              the program resumed from its checkpoint
 */
import type { StageContext } from '../engine/stage.js';

export const EVENT_PREFIX = '::iqlp::';

export type StageEvent =
  | { type: 'progress'; step: number; total?: number; note?: string }
  | { type: 'metric'; name: string; value: number; step: number }
  | { type: 'log'; message: string }
  | { type: 'summary'; name: string; value: number }
  | { type: 'record'; key: string; value: unknown }
  | { type: 'resumed'; step: number };

const isNum = (v: unknown): v is number => typeof v === 'number';

/** Checks one decoded message; returns a reason when it is not a well-formed StageEvent. */
export function checkEvent(m: unknown): { event: StageEvent } | { error: string } {
  if (m === null || typeof m !== 'object' || Array.isArray(m)) return { error: 'not a JSON object' };
  const e = m as Record<string, unknown>;
  switch (e['type']) {
    case 'progress':
      if (!isNum(e['step'])) return { error: "progress needs a numeric 'step'" };
      if (e['total'] !== undefined && e['total'] !== null && !isNum(e['total'])) return { error: "progress 'total' must be a number" };
      return { event: { type: 'progress', step: e['step'], total: isNum(e['total']) ? e['total'] : undefined, note: typeof e['note'] === 'string' ? e['note'] : undefined } };
    case 'metric':
      if (typeof e['name'] !== 'string' || !isNum(e['value']) || !isNum(e['step'])) return { error: "metric needs 'name' (string), 'value' and 'step' (numbers)" };
      return { event: { type: 'metric', name: e['name'], value: e['value'], step: e['step'] } };
    case 'log':
      return { event: { type: 'log', message: String(e['message'] ?? '') } };
    case 'summary':
      if (typeof e['name'] !== 'string' || !isNum(e['value'])) return { error: "summary needs 'name' (string) and 'value' (number)" };
      return { event: { type: 'summary', name: e['name'], value: e['value'] } };
    case 'record':
      if (typeof e['key'] !== 'string') return { error: "record needs a string 'key'" };
      return { event: { type: 'record', key: e['key'], value: e['value'] } };
    case 'resumed':
      if (!isNum(e['step'])) return { error: "resumed needs a numeric 'step'" };
      return { event: { type: 'resumed', step: e['step'] } };
    default:
      return { error: `unknown event type ${JSON.stringify(e['type'])}` };
  }
}

/**
 * Parses a `::iqlp::{…}` line. Returns null for an ordinary output line; a malformed event line
 * comes back as an error so the caller can log it rather than drop it silently.
 */
export function parseEventLine(line: string): { event: StageEvent } | { error: string } | null {
  if (!line.startsWith(EVENT_PREFIX)) return null;
  let m: unknown;
  try {
    m = JSON.parse(line.slice(EVENT_PREFIX.length));
  } catch (e) {
    return { error: `bad JSON (${(e as Error).message})` };
  }
  return checkEvent(m);
}

/** Sends an event to the engine through the stage context; summaries are collected in `summary`. */
export function forwardEvent(ctx: StageContext<unknown>, e: StageEvent, summary: Record<string, number>): void {
  switch (e.type) {
    case 'progress': ctx.progress(e.step, e.total, e.note); break;
    case 'metric': ctx.metric(e.name, e.value, e.step); break;
    case 'log': ctx.log(e.message); break;
    case 'summary': summary[e.name] = e.value; break;
    case 'record': ctx.record(e.key, e.value); break;
    // The same words the engine logs when a native stage resumes from a checkpoint.
    case 'resumed': ctx.log(`resuming from checkpoint at step ${e.step}`); break;
  }
}

/** Connects a run's event stream to tracking (journal + MLflow). */
import type { EventListener } from '../engine/events.js';
import type { Plan } from '../engine/plan.js';

export interface RunTracking {
  listener: EventListener;
  /** Flushes; `message` tells the user where the run was recorded and what is left to sync. */
  finish(): Promise<{ message?: string }>;
}

export async function openTracking(_plan: Plan, _opts: { disabled: boolean }): Promise<RunTracking> {
  // Replaced by the journal + MLflow tracker (src/tracking) once it lands.
  return { listener: () => undefined, finish: async () => ({}) };
}

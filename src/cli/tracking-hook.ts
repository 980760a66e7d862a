/** Connects a run's event stream to tracking: the local journal always, MLflow when configured. */
import type { EventListener } from '../engine/events.js';
import type { Plan } from '../engine/plan.js';
import { createTracker } from '../tracking/live-tracker.js';

export interface RunTracking {
  listener: EventListener;
  /** Flushes; `message` tells the user where the run was recorded and what is left to sync. */
  finish(): Promise<{ message?: string }>;
}

export async function openTracking(plan: Plan, opts: { disabled: boolean; trackingUri?: string }): Promise<RunTracking> {
  // --tracking-uri, then MLFLOW_TRACKING_URI (the standard variable), then the file's tracking.uri, as in MLflow itself.
  const trackingUri = opts.trackingUri || process.env['MLFLOW_TRACKING_URI'] || plan.tracking.uri || undefined;
  const t = createTracker({
    storeDir: plan.storeDir,
    trackingUri,
    experiment: plan.tracking.experiment,
    offline: opts.disabled,
    onWarning: (m) => process.stderr.write(`tracking: ${m}\n`),
  });
  return {
    listener: t.listener,
    finish: async () => {
      const r = await t.finish();
      if (r.mode === 'journal') return { message: `run journaled under ${plan.storeDir}/runs (see it with: npx pipeline ui; push later with: npx pipeline sync)` };
      return { message: r.synced ? `logged to MLflow at ${trackingUri}` : `MLflow: ${r.error ?? 'not fully synced'} — the journal keeps everything; run: npx pipeline sync` };
    },
  };
}

/**
 * `pipeline compare <pipeline.yaml | runId>`: a terminal table of a run's stage instances with the
 * params that tell them apart and their summary metrics; from MLflow when a server is configured
 * and reachable, else from the local journal.
 */
import { existsSync } from 'node:fs';
import { parseArgs } from 'node:util';
import type { Command } from '../command.js';
import { fetchRows, formatCompare, latestRunForFile, planFromJournal, rowsFromPlan, type CompareRow } from '../../tracking/compare.js';
import { MlflowClient, resolveTrackingUri } from '../../tracking/mlflow-client.js';
import { experimentFor } from '../../tracking/sync-run.js';
import { loadSyncState } from '../../tracking/sync-state.js';

const usage = `Usage: pipeline compare <pipeline.yaml | runId> [options]

Table of a pipeline run's stage instances: matrix values and other params that differ, and the
summary metrics (score, std, edge fraction, ...). For a pipeline file, the latest run of it.

Options:
  --store DIR          artifact store (default: artifacts)
  --tracking-uri URI   read from this MLflow server (default: $MLFLOW_TRACKING_URI; none: the journal)
  --experiment NAME    MLflow experiment (default: as sync)
  --local              read the local journal even when a server is configured
  --stage NAME         only this stage
  --metrics a,b        only these metrics
  --all-params         show every param, not only those that vary
  --json               print rows as JSON
  -h, --help           show this help`;

const command: Command = {
  name: 'compare',
  summary: 'compare the stage instances of a run: params and summary metrics',
  usage,
  async run(argv: string[]): Promise<number> {
    let values: Record<string, string | boolean | undefined>;
    let positionals: string[];
    try {
      ({ values, positionals } = parseArgs({
        args: argv, allowPositionals: true, options: {
          store: { type: 'string' }, 'tracking-uri': { type: 'string' }, experiment: { type: 'string' },
          local: { type: 'boolean' }, stage: { type: 'string' }, metrics: { type: 'string' },
          'all-params': { type: 'boolean' }, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' },
        },
      }));
    } catch (e) {
      console.error(`pipeline compare: ${(e as Error).message}\n\n${usage}`);
      return 2;
    }
    if (values.help) { console.log(usage); return 0; }
    if (positionals.length !== 1) { console.error(usage); return 2; }
    const store = (values.store as string | undefined) ?? 'artifacts';
    const target = positionals[0];
    const isFile = /\.ya?ml$/i.test(target) || (existsSync(target) && !/^[\w.-]+$/.test(target));
    const runId = isFile ? latestRunForFile(store, target) : target;
    if (!runId) {
      console.error(`pipeline compare: no run of ${target} journaled under ${store}/runs`);
      return 1;
    }
    const plan = planFromJournal(store, runId);
    let rows: CompareRow[] | undefined;
    let source = 'journal';
    const uri = values.local ? undefined : resolveTrackingUri(values['tracking-uri'] as string | undefined);
    if (uri) {
      try {
        const client = MlflowClient.fromEnv(uri, { retries: 1, timeoutMs: 10_000 });
        const state = loadSyncState(store, runId);
        const ids = new Set(Object.values(state.targets).filter((t) => t.trackingUri === client.trackingUri && t.experimentId).map((t) => t.experimentId!));
        const name = experimentFor({ pipeline: plan?.pipeline ?? '' }, values.experiment as string | undefined);
        const exp = await client.getExperimentByName(name);
        if (exp) ids.add(exp.experiment_id);
        if (ids.size > 0) {
          const r = await fetchRows(client, [...ids], runId);
          if (r.length > 0) { rows = r; source = `MLflow ${client.trackingUri}`; }
        }
        if (!rows) console.error(`pipeline compare: run ${runId} is not on ${uri} yet (pipeline sync); using the journal`);
      } catch (e) {
        console.error(`pipeline compare: ${(e as Error).message}; using the journal`);
      }
    }
    if (!rows) {
      if (!plan) { console.error(`pipeline compare: no journal for run ${runId} under ${store}/runs`); return 1; }
      rows = rowsFromPlan(plan);
    }
    if (values.json) { console.log(JSON.stringify(rows, null, 2)); return 0; }
    const metrics = typeof values.metrics === 'string' ? values.metrics.split(',').map((s) => s.trim()).filter(Boolean) : undefined;
    console.log(`run ${runId}${plan ? ` (${plan.pipeline}, ${plan.file})` : ''}, from ${source}\n`);
    console.log(formatCompare(rows, { stage: values.stage as string | undefined, metrics, allParams: Boolean(values['all-params']) }));
    return 0;
  },
};

export default command;

/**
 * `pipeline sync`: push every run journal that is not fully on the MLflow server yet.
 * Idempotent: a second sync sends nothing; an interrupted one resumes.
 */
import { parseArgs } from 'node:util';
import type { Command } from '../command.js';
import { resolveTrackingUri } from '../../tracking/mlflow-client.js';
import { syncAll } from '../../tracking/sync-store.js';

const usage = `Usage: pipeline sync [options] [runId...]

Push run journals (<store>/runs/<runId>.jsonl) to an MLflow tracking server. Runs already
synced are skipped; partial pushes resume; runs still in progress are left to their own tracker.

Options:
  --store DIR          artifact store (default: artifacts)
  --tracking-uri URI   MLflow server, e.g. http://127.0.0.1:5000 (default: $MLFLOW_TRACKING_URI)
  --experiment NAME    MLflow experiment (default: $MLFLOW_EXPERIMENT_NAME, else the pipeline name)
  -h, --help           show this help

Auth: MLFLOW_TRACKING_TOKEN (bearer) or MLFLOW_TRACKING_USERNAME / MLFLOW_TRACKING_PASSWORD.`;

const command: Command = {
  name: 'sync',
  summary: 'push run journals to the MLflow tracking server (idempotent, resumable)',
  usage,
  async run(argv: string[]): Promise<number> {
    let values: { store?: string; 'tracking-uri'?: string; experiment?: string; help?: boolean };
    let positionals: string[];
    try {
      ({ values, positionals } = parseArgs({
        args: argv, allowPositionals: true, options: {
          store: { type: 'string' }, 'tracking-uri': { type: 'string' }, experiment: { type: 'string' },
          help: { type: 'boolean', short: 'h' },
        },
      }));
    } catch (e) {
      console.error(`pipeline sync: ${(e as Error).message}\n\n${usage}`);
      return 2;
    }
    if (values.help) { console.log(usage); return 0; }
    const uri = resolveTrackingUri(values['tracking-uri']);
    if (!uri) {
      console.error('pipeline sync: no MLflow tracking server: pass --tracking-uri or set MLFLOW_TRACKING_URI (or use `pipeline ui`)');
      return 2;
    }
    try {
      const results = await syncAll({
        storeDir: values.store ?? 'artifacts', trackingUri: uri, experiment: values.experiment,
        runIds: positionals.length > 0 ? positionals : undefined, log: (l) => console.log(l),
      });
      if (results.length === 0) console.log(`no run journals under ${values.store ?? 'artifacts'}/runs`);
      return results.some((r) => r.status === 'failed') ? 1 : 0;
    } catch (e) {
      console.error(`pipeline sync: ${(e as Error).message}`);
      return 1;
    }
  },
};

export default command;

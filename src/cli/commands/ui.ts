/**
 * `pipeline ui`: a local MLflow tracking server + UI holding this store's runs.
 * First use creates a venv with MLflow (<project>/.venv-mlflow, or $MLFLOW_VENV); then
 * `mlflow server` with a SQLite backend and artifacts under <store>/mlflow/, waits for /health,
 * syncs every journal, prints the URL and keeps serving (and syncing new runs) until Ctrl-C.
 */
import { parseArgs } from 'node:util';
import type { Command } from '../command.js';
import { MlflowClient } from '../../tracking/mlflow-client.js';
import { startMlflowServer } from '../../tracking/server.js';
import { describeResult, syncAll } from '../../tracking/sync-store.js';

const usage = `Usage: pipeline ui [options]

Start a local MLflow server with this store's runs and print its URL (no browser is opened).
Runs until Ctrl-C. New runs are synced every --interval seconds.

Options:
  --store DIR          artifact store (default: artifacts); MLflow data goes to DIR/mlflow/
  --port N             port (default: 5000)
  --host HOST          interface (default: 127.0.0.1)
  --experiment NAME    MLflow experiment for synced runs (default: the pipeline name)
  --venv DIR           Python venv with MLflow (default: $MLFLOW_VENV or <project>/.venv-mlflow)
  --tracking-uri URI   use a running MLflow server instead of starting one (e.g. the team's, with a
                       PostgreSQL backend and S3 artifacts: see README "Running on a cluster")
  --no-sync            do not push journals
  --interval S         seconds between syncs of new runs (default: 15; 0: only at start)
  -h, --help           show this help`;

const command: Command = {
  name: 'ui',
  summary: 'start a local MLflow UI with the runs of this store',
  usage,
  async run(argv: string[]): Promise<number> {
    let values: Record<string, string | boolean | undefined>;
    try {
      ({ values } = parseArgs({
        args: argv, options: {
          store: { type: 'string' }, port: { type: 'string' }, host: { type: 'string' }, experiment: { type: 'string' },
          venv: { type: 'string' }, 'tracking-uri': { type: 'string' }, 'no-sync': { type: 'boolean' }, interval: { type: 'string' }, help: { type: 'boolean', short: 'h' },
        },
      }));
    } catch (e) {
      console.error(`pipeline ui: ${(e as Error).message}\n\n${usage}`);
      return 2;
    }
    if (values.help) { console.log(usage); return 0; }
    const store = (values.store as string | undefined) ?? 'artifacts';
    const port = Number(values.port ?? 5000);
    const interval = Number(values.interval ?? 15);
    if (!Number.isInteger(port) || port <= 0 || port > 65535) { console.error(`pipeline ui: bad --port ${values.port}`); return 2; }

    let server;
    try {
      const shared = values['tracking-uri'] as string | undefined;
      if (shared && !(await MlflowClient.fromEnv(shared).health())) throw new Error(`no MLflow server answers at ${shared}`);
      server = shared ? { url: shared.replace(/\/+$/, ''), stop: async () => {} } : await startMlflowServer({ storeDir: store, port, host: values.host as string | undefined, venv: values.venv as string | undefined,
        log: (l) => console.error(l) });
    } catch (e) {
      console.error(`pipeline ui: ${(e as Error).message}`);
      return 1;
    }
    if (!values['tracking-uri'] && (!('process' in server) || !server.process)) console.error(`an MLflow server already answers at ${server.url}; using it`);
    const client = MlflowClient.fromEnv(server.url);
    const doSync = async (quiet: boolean) => {
      try {
        const results = await syncAll({ storeDir: store, client, experiment: values.experiment as string | undefined });
        for (const r of results) if (!quiet || (r.status !== 'up-to-date' && r.status !== 'skipped-live')) console.log(describeResult(r));
      } catch (e) {
        console.error(`sync: ${(e as Error).message}`);
      }
    };
    if (!values['no-sync']) await doSync(false);
    console.log(`\nMLflow UI: ${server.url}\n(Ctrl-C to stop)`);

    return await new Promise<number>((resolveExit) => {
      let timer: NodeJS.Timeout | undefined;
      let syncing = false;
      if (!values['no-sync'] && interval > 0) {
        timer = setInterval(() => {
          if (syncing) return;
          syncing = true;
          void doSync(true).finally(() => { syncing = false; });
        }, interval * 1000);
      }
      let stopping = false;
      // Without a server process of its own (a shared server, --interval 0) nothing else keeps this process waiting for Ctrl-C.
      const keepAlive = setInterval(() => {}, 2 ** 30);
      const shutdown = () => {
        stopping = true;
        clearInterval(keepAlive);
        process.off('SIGINT', shutdown);
        process.off('SIGTERM', shutdown);
        if (timer) clearInterval(timer);
        if ('process' in server && server.process) console.error('stopping MLflow server…');
        void server.stop().then(() => resolveExit(0));
      };
      process.on('SIGINT', shutdown);
      process.on('SIGTERM', shutdown);
      server.process?.once('exit', (code) => {
        if (stopping) return;
        clearInterval(keepAlive);
        if (timer) clearInterval(timer);
        process.off('SIGINT', shutdown);
        process.off('SIGTERM', shutdown);
        console.error(`MLflow server exited (${code}); log: ${server.logFile}`);
        resolveExit(1);
      });
    });
  },
};

export default command;

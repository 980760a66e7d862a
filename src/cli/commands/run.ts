import { existsSync, readFileSync } from 'node:fs';
import { fetchEntry } from '../../store/remote-sync.js';
import type { Command } from '../command.js';
import { wantsHelp } from '../command.js';
import { formatDuration, parse, planOptions, planOptionsHelp, planOrReport, selectInstances, UsageError } from '../common.js';
import { ancestors, descendants, restrict } from '../../engine/select.js';
import { ExitCode } from '../../engine/errors.js';
import type { EngineEvent } from '../../engine/events.js';
import { execute, newRunId, type Outcome } from '../../engine/execute.js';
import { computeStatus, computeStatusWithRemote, pipelineStateOf } from '../../engine/status.js';
import type { Executor } from '../../engine/executor.js';
import type { RemoteStore } from '../../store/remote.js';
import { RemoteUnavailable } from '../../store/remote-errors.js';
import { executorFor, executorOptions, executorOptionsHelp, probeRemote, remoteFor, remoteOptions, remoteOptionsHelp } from '../cluster-options.js';
import { Store, type Manifest } from '../../store/store.js';
import { plainRenderer } from '../render/plain.js';
import { listrRenderer } from '../render/listr.js';
import { openTracking } from '../tracking-hook.js';
import { printStatus } from './status.js';

const usage = `usage: pipeline run <pipeline.yaml> [options]

Runs the pipeline: unchanged stages are served from the cache, changed ones recomputed,
an interrupted stage resumes from its last checkpoint.

options:
${planOptionsHelp}
  --only stage[,stage]          run only these stages (or instances); their inputs must be cached or are computed first
  --from stage[,stage]          recompute these stages and everything downstream of them
  --force                       recompute every stage, ignoring the cache
  --dry-run                     show what would run, run nothing
  --jobs, -j N                  stages computed at once (default 2)
  --inline                      run stages in this process instead of worker threads (debugging)
  --plain                       line-by-line output even on a terminal
  --no-tracking                 journal only; do not push to MLflow during the run
  --tracking-uri URI            MLflow server (default: $MLFLOW_TRACKING_URI, else the file's tracking.uri)
${executorOptionsHelp}
${remoteOptionsHelp}

exit codes: 0 all stages succeeded, 1 a stage failed (or was skipped), 2 invalid pipeline or usage, 130 interrupted`;

const command: Command = {
  name: 'run',
  summary: 'run a pipeline (cached stages are not recomputed)',
  usage,
  async run(argv) {
    if (wantsHelp(argv)) { console.log(usage); return ExitCode.ok; }
    let args;
    try {
      args = parse(argv, {
        ...planOptions,
        only: { type: 'string', multiple: true },
        from: { type: 'string', multiple: true },
        force: { type: 'boolean' },
        'dry-run': { type: 'boolean' },
        jobs: { type: 'string', short: 'j' },
        inline: { type: 'boolean' },
        plain: { type: 'boolean' },
        'no-tracking': { type: 'boolean' },
        'tracking-uri': { type: 'string' },
        ...executorOptions,
        ...remoteOptions,
      }, usage);
    } catch (e) {
      console.error((e as Error).message);
      return ExitCode.invalid;
    }
    const { values, positionals } = args;
    const planned = await planOrReport(positionals[0], values, usage);
    if (typeof planned === 'number') return planned;
    let plan = planned;
    let force = new Set<string>();
    try {
      if (values.only) plan = restrict(plan, ancestors(plan, selectInstances(plan, values.only, '--only')));
      if (values.from) force = descendants(plan, selectInstances(plan, values.from, '--from'));
      if (values.force) force = new Set(plan.instances.map((i) => i.name));
    } catch (e) {
      if (e instanceof UsageError) { console.error(e.message); return ExitCode.invalid; }
      throw e;
    }
    const jobs = values.jobs === undefined ? 2 : Number(values.jobs);
    if (!Number.isInteger(jobs) || jobs < 1) { console.error(`--jobs must be a positive integer, got ${values.jobs}`); return ExitCode.invalid; }
    const store = new Store(plan.storeDir);
    let remote: RemoteStore | undefined;
    let executor: Executor;
    try {
      remote = await remoteFor(plan, values);
      if (remote) await probeRemote(remote);
      executor = await executorFor(plan, values, remote, values.inline ? 'inline' : 'worker');
    } catch (e) {
      if (e instanceof UsageError) { console.error(e.message); return ExitCode.invalid; }
      console.error(`${e instanceof RemoteUnavailable ? '' : 'pipeline run: '}${(e as Error).message}\nnothing was run; the local store ${plan.storeDir} is untouched`);
      return ExitCode.stageFailed;
    }

    if (values['dry-run']) {
      const statuses = (remote ? await computeStatusWithRemote(plan, store, remote) : computeStatus(plan, store)).map((s) => (force.has(s.instance) && s.state === 'cached' ? { ...s, state: 'stale' as const, reasons: ['forced'] } : s));
      printStatus(plan, statuses);
      const todo = statuses.filter((s) => s.state !== 'cached').length;
      console.log(`\ndry run: ${todo} of ${statuses.length} instances would be computed; nothing was run`);
      return ExitCode.ok;
    }

    const runId = newRunId();
    const interactive = process.stdout.isTTY && !values.plain && !process.env['CI'];
    const renderer = interactive ? listrRenderer() : undefined;
    const render = renderer ? renderer.listener : plainRenderer();
    const tracking = await openTracking(plan, { disabled: !!values['no-tracking'], trackingUri: values['tracking-uri'] });
    const controller = new AbortController();
    let interrupts = 0;
    const onSigint = () => {
      interrupts++;
      if (interrupts === 1) {
        process.stderr.write('\ninterrupt: stopping running stages (finished results are kept); press Ctrl-C again to quit at once\n');
        controller.abort(new Error('interrupted'));
      } else process.exit(ExitCode.interrupted);
    };
    process.on('SIGINT', onSigint);
    process.on('SIGTERM', onSigint);
    const started = Date.now();
    // Text summaries and reports to show at the end; a remote-only entry is fetched for them.
    const shown: { key: string; path: string; kind: 'summary' | 'report' }[] = [];
    const emit = (e: EngineEvent) => {
      render(e);
      tracking.listener(e);
      if (e.type === 'stage-done' || e.type === 'stage-cached') {
        for (const o of e.outputs) {
          if (o.ext === 'txt' && o.name.endsWith('summary')) shown.push({ key: e.key, path: o.path, kind: 'summary' });
          if (o.ext === 'html') shown.push({ key: e.key, path: o.path, kind: 'report' });
        }
      }
    };
    let result;
    try {
      result = await execute(plan, { runId, store, emit, signal: controller.signal, jobs, force, executor, remote });
    } finally {
      process.off('SIGINT', onSigint);
      process.off('SIGTERM', onSigint);
      await executor.close?.();
    }
    const textSummaries: string[] = [];
    const reports: string[] = [];
    for (const s of shown) {
      if (!existsSync(s.path) && remote) await fetchEntry(store, remote, s.key).catch(() => undefined);
      if (!existsSync(s.path)) continue;
      if (s.kind === 'summary') textSummaries.push(readFileSync(s.path, 'utf8'));
      else reports.push(s.path);
    }
    await renderer?.finished();
    const manifests = new Map<string, Manifest>();
    for (const [name, o] of result.outcomes) if (o.status === 'computed' || o.status === 'cached') manifests.set(name, o.manifest);
    const previous = store.readPipelineState(plan.name);
    const state = pipelineStateOf(plan, manifests);
    store.writePipelineState(plan.name, { ...state, instances: { ...(previous?.instances ?? {}), ...state.instances } });
    if (remote) {
      await remote.writeJson(`pipelines/${plan.name}.json`, { ...state, instances: { ...(previous?.instances ?? {}), ...state.instances } })
        .catch((e: unknown) => console.error(`warning: the run's record was not pushed to ${remote!.describe()}: ${(e as Error).message}`));
      remote.close();
    }
    const sync = await tracking.finish();

    const failed = [...result.outcomes].filter((e): e is [string, Extract<Outcome, { status: 'failed' }>] => e[1].status === 'failed');
    if (interactive) {
      for (const [name, o] of failed) console.error(`FAILED ${name}: ${o.error}`);
    }
    for (const t of textSummaries) console.log(`\n${t.trimEnd()}`);
    for (const r of reports) console.log(`\nreport: ${r}`);
    const c = result.counts;
    console.log(`\n${result.status === 'FINISHED' ? 'finished' : result.status === 'KILLED' ? 'interrupted' : 'failed'} in ${formatDuration(Date.now() - started)}: ${c.computed} computed, ${c.cached} cached, ${c.failed} failed, ${c.skipped} skipped (run ${runId}, store ${plan.storeDir})`);
    if (sync.message) console.log(sync.message);
    return result.status === 'FINISHED' ? ExitCode.ok : result.status === 'KILLED' ? ExitCode.interrupted : ExitCode.stageFailed;
  },
};
export default command;

/**
 * Interactive rendering with listr2: one task per stage instance (nested under its stage for
 * matrices) showing cache hits, a live progress bar with rate and ETA, and durations.
 * Tasks are driven by engine events; the engine never sees listr2.
 */
import { Listr, type ListrTask, type ListrTaskWrapper } from 'listr2';
import type { EngineEvent, InstanceInfo } from '../../engine/events.js';
import { formatDuration } from '../common.js';
import { fmt } from './plain.js';
import { ProgressTracker } from './progress.js';

interface Slot {
  title: string;
  resolve: () => void;
  reject: (e: Error) => void;
  task?: ListrTaskWrapper<unknown, any, any>;
  pending: ((t: ListrTaskWrapper<unknown, any, any>) => void)[];
  progress: ProgressTracker;
  done: Promise<void>;
  skipped?: string;
}

export function listrRenderer() {
  const slots = new Map<string, Slot>();
  let list: Listr | undefined;
  let finished: Promise<void> = Promise.resolve();
  const withTask = (name: string, fn: (t: ListrTaskWrapper<unknown, any, any>) => void) => {
    const s = slots.get(name);
    if (!s) return;
    if (s.task) fn(s.task);
    else s.pending.push(fn);
  };
  const makeTask = (info: InstanceInfo, title: string): ListrTask => {
    let resolve!: () => void;
    let reject!: (e: Error) => void;
    const done = new Promise<void>((res, rej) => { resolve = res; reject = rej; });
    const slot: Slot = { title, resolve, reject, pending: [], progress: new ProgressTracker(), done };
    slots.set(info.instance, slot);
    return {
      title,
      task: async (_ctx, task) => {
        slot.task = task;
        slot.pending.splice(0).forEach((fn) => fn(task));
        await done;
        if (slot.skipped !== undefined) task.skip(`${title} — skipped: ${slot.skipped}`);
      },
      rendererOptions: { outputBar: 1 },
    } as ListrTask;
  };

  const listener = (e: EngineEvent) => {
    switch (e.type) {
      case 'run-start': {
        const byStage = new Map<string, InstanceInfo[]>();
        for (const i of e.instances) byStage.set(i.stage, [...(byStage.get(i.stage) ?? []), i]);
        const tasks: ListrTask[] = [...byStage].map(([stage, insts]) => {
          if (insts.length === 1 && Object.keys(insts[0]!.matrix).length === 0) return makeTask(insts[0]!, `${stage} (${insts[0]!.kind})`);
          const subtasks = insts.map((i) => makeTask(i, Object.entries(i.matrix).map(([k, v]) => `${k}=${v}`).join(' ')));
          return {
            title: `${stage} (${insts[0]!.kind}) ×${insts.length}`,
            task: (_c, t) => t.newListr(subtasks, { concurrent: true, exitOnError: false, rendererOptions: { collapseSubtasks: false } }),
          } as ListrTask;
        });
        list = new Listr(tasks, {
          concurrent: true, exitOnError: false, registerSignalListeners: false,
          rendererOptions: { collapseSubtasks: false, collapseErrors: false, showErrorMessage: true },
        });
        finished = list.run().then(() => undefined, () => undefined);
        break;
      }
      case 'stage-cached':
        withTask(e.instance, (t) => { t.title = `${slots.get(e.instance)!.title} — cached (${e.key.slice(0, 8)})`; });
        slots.get(e.instance)?.resolve();
        break;
      case 'stage-start':
        withTask(e.instance, (t) => { t.title = `${slots.get(e.instance)!.title} — running`; });
        break;
      case 'stage-progress': {
        const s = slots.get(e.instance);
        if (!s) break;
        s.progress.update(e.step, e.time, e.total, e.note);
        withTask(e.instance, (t) => { t.output = s.progress.describe(); });
        break;
      }
      case 'stage-log':
        withTask(e.instance, (t) => { t.output = e.message; });
        break;
      case 'stage-done': {
        const summary = Object.entries(e.summary).slice(0, 4).map(([k, v]) => `${k}=${fmt(v)}`).join(' ');
        withTask(e.instance, (t) => { t.title = `${slots.get(e.instance)!.title} — done in ${formatDuration(e.durationMs)}${summary ? `  ${summary}` : ''}`; });
        slots.get(e.instance)?.resolve();
        break;
      }
      case 'stage-failed':
        slots.get(e.instance)?.reject(new Error(`${slots.get(e.instance)!.title}: ${e.error}`));
        break;
      case 'stage-skipped': {
        const s = slots.get(e.instance);
        if (s) { s.skipped = e.reason; s.resolve(); }
        break;
      }
      default:
        break;
    }
  };
  return { listener, finished: () => finished };
}

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Store } from '../store/store.js';
import type { EngineEvent, EngineEventOf } from './events.js';
import { execute, newRunId } from './execute.js';
import { planPipeline } from './plan.js';

const fixtures = fileURLToPath(new URL('../../../test/fixtures/', import.meta.url));

function collect(): { events: EngineEvent[]; emit: (e: EngineEvent) => void; of<T extends EngineEvent['type']>(t: T, instance?: string): EngineEventOf<T>[] } {
  const events: EngineEvent[] = [];
  return {
    events,
    emit: (e) => events.push(e),
    of: <T extends EngineEvent['type']>(t: T, instance?: string) =>
      events.filter((e): e is EngineEventOf<T> => e.type === t && (instance === undefined || (e as { instance?: string }).instance === instance)),
  };
}

test('a failure and the skips it causes carry typed causes', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'iqlp-exec-'));
  const file = join(dir, 'p.yaml');
  writeFileSync(file, `name: causes
stages:
  data:
    uses: synthetic-table
  broken:
    uses: ${join(fixtures, 'fail-stage.mjs')}
    inputs: { table: data.table }
    with: { fail: true }
  after:
    uses: scale-table
    inputs: { table: broken.table }
    with: { factor: 2 }
`);
  const plan = await planPipeline(file, { cwd: dir });
  const c = collect();
  const r = await execute(plan, { runId: newRunId(), store: new Store(plan.storeDir), emit: c.emit, isolation: 'inline' });
  assert.equal(r.status, 'FAILED');
  const [failed] = c.of('stage-failed', 'broken');
  assert.deepEqual(failed?.cause, { kind: 'stage-error', message: 'deliberate failure for the test' });
  const [skipped] = c.of('stage-skipped', 'after');
  assert.deepEqual(skipped?.cause, { kind: 'upstream-failed', upstream: 'broken' });
  assert.equal(skipped?.reason, 'upstream broken failed');
  assert.deepEqual(r.counts, { computed: 1, cached: 0, failed: 1, skipped: 1 });
});

test('code edited after planning: the stage is keyed by the code it runs, and says so', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'iqlp-exec-'));
  writeFileSync(join(dir, 'helper.mjs'), "export const text = 'one';\n");
  writeFileSync(join(dir, 'stage.mjs'), `import { text } from './helper.mjs';
export default {
  kind: 'say', version: '1', description: 'writes the helper text',
  params: { type: 'object' }, inputs: {}, outputs: { out: { description: 'text' } },
  async run() { return { outputs: { out: { bytes: new TextEncoder().encode(text), ext: 'txt' } } }; },
};
`);
  const file = join(dir, 'p.yaml');
  writeFileSync(file, 'name: late-edit\nstages:\n  say:\n    uses: ./stage.mjs\n');
  const plan = await planPipeline(file, { cwd: dir });
  const planned = plan.byName.get('say')!.code;
  writeFileSync(join(dir, 'helper.mjs'), "export const text = 'two';\n"); // e.g. a rebuild while upstream stages ran
  const c = collect();
  const r = await execute(plan, { runId: newRunId(), store: new Store(plan.storeDir), emit: c.emit, isolation: 'worker' });
  assert.equal(r.status, 'FINISHED');
  const o = r.outcomes.get('say')!;
  assert.ok(o.status === 'computed');
  assert.notEqual(o.manifest.code!.files['helper.mjs'], planned.files['helper.mjs']);
  assert.match(c.of('stage-log', 'say').map((e) => e.message).join('\n'), /code changed since the run was planned \(code changed: helper\.mjs\); keyed by the code as it is now/);
  // A fresh plan computes the same key: the entry is a cache hit, not a stale result under an old key.
  const again = await execute(await planPipeline(file, { cwd: dir }), { runId: newRunId(), store: new Store(plan.storeDir), emit: () => undefined, isolation: 'inline' });
  assert.deepEqual(again.counts, { computed: 0, cached: 1, failed: 0, skipped: 0 });
});

test('a kind that narrows its key parameters: instances differing only in an ignored parameter share one entry', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'iqlp-exec-'));
  writeFileSync(join(dir, 'stage.mjs'), `export default {
  kind: 'modal', version: '1', description: 'uses alpha only in mode b',
  params: { type: 'object', properties: { mode: { enum: ['a', 'b'] }, alpha: { type: 'number', default: 0 } } },
  inputs: {}, outputs: { out: { description: 'text' } },
  keyParams(p) { return p.mode === 'b' ? p : { mode: p.mode }; },
  async run(ctx) {
    const text = ctx.params.mode === 'b' ? 'b ' + ctx.params.alpha : 'a';
    return { outputs: { out: { bytes: new TextEncoder().encode(text), ext: 'txt' } } };
  },
};
`);
  writeFileSync(join(dir, 'p.yaml'), `name: modal
stages:
  s:
    uses: ./stage.mjs
    matrix: { mode: [a, b], alpha: [0, 1] }
    with: { mode: "\${{ matrix.mode }}", alpha: "\${{ matrix.alpha }}" }
`);
  const plan = await planPipeline(join(dir, 'p.yaml'), { cwd: dir });
  const store = new Store(plan.storeDir);
  const c = collect();
  const r = await execute(plan, { runId: newRunId(), store, emit: c.emit, isolation: 'inline', jobs: 1 });
  assert.equal(r.status, 'FINISHED');
  // mode a: one computation serves both alphas; mode b: one per alpha.
  assert.deepEqual(r.counts, { computed: 3, cached: 1, failed: 0, skipped: 0 });
  const keys = new Set(c.of('stage-start').map((e) => e.key));
  const done = c.of('stage-cached').map((e) => e.instance);
  assert.equal(done.length, 1);
  assert.match(done[0]!, /mode=a/);
  const manifest = store.readManifest(c.of('stage-cached')[0]!.key);
  assert.deepEqual(manifest?.params, { mode: 'a' }, 'the manifest records the parameters the result depends on');
  assert.equal(keys.size, 3);
});

test('the checkpoints of an instance are there while it runs and go once its entry is committed', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'iqlp-exec-'));
  const file = join(dir, 'p.yaml');
  writeFileSync(file, `name: checkpoints
stages:
  data:
    uses: synthetic-table
    with: { rows: 20, columns: 2 }
  train:
    uses: toy-train
    inputs: { table: data.table }
    with: { steps: 30, checkpoint_every: 5 }
`);
  const plan = await planPipeline(file, { cwd: dir });
  const store = new Store(plan.storeDir);
  let key = '';
  const checkpointed: string[][] = [];
  const emit = (e: EngineEvent) => {
    if (e.type === 'stage-start' && e.instance === 'train') key = e.key;
    if (e.type === 'stage-metric' && e.instance === 'train' && e.step === 21) {
      checkpointed.push(existsSync(store.checkpointDir(key)) ? readdirSync(store.checkpointDir(key)).sort() : []);
    }
  };
  const r = await execute(plan, { runId: newRunId(), store, emit, isolation: 'inline' });
  assert.equal(r.status, 'FINISHED');
  assert.deepEqual(checkpointed, [['step-000000000015', 'step-000000000020']], 'the newest two while it ran');
  assert.equal(store.verify(key).ok, true);
  assert.equal(existsSync(store.checkpointDir(key)), false, 'gone after the commit');
});

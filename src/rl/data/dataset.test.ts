import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Bool, Field, FixedSizeList, Float32, Table, makeData, RecordBatch, Schema, Struct, tableFromIPC, tableToIPC, vectorFromArray } from 'apache-arrow';
import { transitionsToTable, tableToTransitions, tableInfos, datasetMetadata, validateTransitions, type Transitions } from './dataset.js';

function sample(n: number): Transitions {
  const f = (k: number, s: number) => Float32Array.from({ length: n * k }, (_, i) => i * s);
  return {
    size: n,
    obsDim: 4,
    actDim: 2,
    observations: f(4, 1),
    actions: f(2, 0.5),
    nextObservations: f(4, 2),
    rewards: f(1, 0.25),
    terminals: Float32Array.from({ length: n }, (_, i) => (i % 7 === 6 ? 1 : 0)),
    timeouts: Float32Array.from({ length: n }, (_, i) => (i % 5 === 4 ? 1 : 0)),
    envId: 'maze2d-umaze-v1',
  };
}

test('transitions → table → IPC → transitions round trip, schema and metadata', () => {
  const t = sample(100);
  const goal = Float32Array.from({ length: 200 }, (_, i) => -i);
  const table = transitionsToTable(t, { source: 'generate', generator: { seed: 3, noise: 0.5 }, infos: { goal } });
  assert.deepEqual(table.schema.fields.map((f) => `${f.name}:${f.type}`), [
    'observations:FixedSizeList[4]<Float32>',
    'actions:FixedSizeList[2]<Float32>',
    'next_observations:FixedSizeList[4]<Float32>',
    'rewards:Float32',
    'terminals:Uint8',
    'timeouts:Uint8',
    'infos/goal:FixedSizeList[2]<Float32>',
  ]);
  const back = tableFromIPC(tableToIPC(table, 'file'));
  const r = tableToTransitions(back);
  for (const k of ['observations', 'actions', 'nextObservations', 'rewards', 'terminals', 'timeouts'] as const) assert.deepEqual(r[k], t[k], k);
  assert.equal(r.size, 100);
  assert.equal(r.envId, 'maze2d-umaze-v1');
  assert.deepEqual(tableInfos(back).goal, goal);
  const m = datasetMetadata(back);
  assert.deepEqual(m.generator, { seed: 3, noise: 0.5 });
  assert.equal(m.source, 'generate');
  assert.equal(m.obsDim, 4);
  assert.equal(m.actDim, 2);
  // Zero-copy on the way in: the table's column shares the Float32Array buffer.
  assert.equal(table.getChild('observations')!.data[0]!.children[0]!.values.buffer, t.observations.buffer);
});

test('sliced and multi-chunk tables convert correctly', () => {
  const t = sample(50);
  const table = transitionsToTable(t, { source: 'arrow' });
  const s = tableToTransitions(table.slice(10, 20));
  assert.equal(s.size, 10);
  assert.deepEqual(s.observations, t.observations.slice(40, 80));
  assert.deepEqual(s.actions, t.actions.slice(20, 40));
  assert.deepEqual(s.rewards, t.rewards.slice(10, 20));
  assert.deepEqual(s.timeouts, t.timeouts.slice(10, 20));
  const two = table.slice(0, 20).concat(table.slice(20));
  assert.equal(two.batches.length, 2);
  const c = tableToTransitions(two);
  assert.deepEqual(c.nextObservations, t.nextObservations);
  assert.deepEqual(c.terminals, t.terminals);
});

test('Bool flag columns are accepted; bad tables give clear errors', () => {
  const n = 12;
  const t = sample(n);
  const base = transitionsToTable(t, { source: 'arrow' });
  // Replace terminals with a Bool column (sliced, so bit offsets matter).
  const bools = vectorFromArray(Array.from({ length: n + 3 }, (_, i) => i % 3 === 0), new Bool()).slice(3);
  const fields = base.schema.fields.map((f) => (f.name === 'terminals' ? new Field('terminals', new Bool(), false) : f));
  const children = base.schema.fields.map((f) => (f.name === 'terminals' ? bools.data[0]! : base.getChild(f.name)!.data[0]!));
  const schema = new Schema(fields, base.schema.metadata);
  const withBool = new Table(schema, [new RecordBatch(schema, makeData({ type: new Struct(fields), length: n, nullCount: 0, children }))]);
  assert.deepEqual(Array.from(tableToTransitions(withBool).terminals), Array.from({ length: n }, (_, i) => (i % 3 === 0 ? 1 : 0)));

  const noRewards = new Table(Object.fromEntries(base.schema.fields.filter((f) => f.name !== 'rewards').map((f) => [f.name, base.getChild(f.name)!])));
  assert.throws(() => tableToTransitions(noRewards), /missing column 'rewards'/);
  assert.throws(() => transitionsToTable({ ...t, actions: new Float32Array(5) }, { source: 'arrow' }), /actions: expected 12×2 = 24 values, got 5/);
  const listOf3 = makeData({ type: new FixedSizeList(3, new Field('item', new Float32())), length: n, nullCount: 0, child: makeData({ type: new Float32(), length: 3 * n, data: new Float32Array(3 * n) }) });
  const fields2 = base.schema.fields.map((f) => (f.name === 'next_observations' ? new Field('next_observations', listOf3.type, false) : f));
  const children2 = base.schema.fields.map((f) => (f.name === 'next_observations' ? listOf3 : base.getChild(f.name)!.data[0]!));
  const schema2 = new Schema(fields2, base.schema.metadata);
  const bad = new Table(schema2, [new RecordBatch(schema2, makeData({ type: new Struct(fields2), length: n, nullCount: 0, children: children2 }))]);
  assert.throws(() => tableToTransitions(bad), /next_observations has 3 values per row, observations 4/);
});

test('validateTransitions names the field and row of a non-finite value', () => {
  const t = sample(10);
  validateTransitions(t, 'x.arrow');
  t.actions[2 * 7 + 1] = NaN;
  assert.throws(() => validateTransitions(t, 'x.arrow'), /x\.arrow: 'actions' has a non-finite value \(NaN\) at row 7, column 1/);
  const u = sample(10);
  u.rewards[3] = Infinity;
  assert.throws(() => validateTransitions(u, 'f'), /'rewards' has a non-finite value \(Infinity\) at row 3/);
});

test('conversion is fast: 1M rows without per-row objects', () => {
  const n = 1_000_000;
  const t = sample(n);
  const table = transitionsToTable(t, { source: 'generate' });
  const back = tableToTransitions(tableFromIPC(tableToIPC(table, 'file')));
  assert.equal(back.size, n);
  assert.equal(back.observations[4 * n - 1], t.observations[4 * n - 1]);
});

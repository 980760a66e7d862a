import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { Dictionary, Field, Int32, List, makeData, RecordBatch, Schema, Struct, Table, tableFromArrays, tableToIPC, Utf8, vectorFromArray } from 'apache-arrow';
import { decodeTable, encodeTable } from './arrow-io.js';
import { curve } from './arrow-io.test-fixture.js';
import { sha256 } from './digest.js';

/** What a process does before writing an artifact: build and read other tables (each takes dictionary ids). */
function someHistory(n: number): void {
  for (let i = 0; i < n; i++) decodeTable(tableToIPC(tableFromArrays({ name: [`x${i}`, 'y'] }), 'file'));
}

test('encodeTable: the same table gives the same bytes whatever the process built before', () => {
  const first = encodeTable(curve());
  const raw1 = tableToIPC(curve(), 'file');
  someHistory(7);
  const second = encodeTable(curve());
  const raw2 = tableToIPC(curve(), 'file');
  assert.notDeepEqual(raw1, raw2, 'apache-arrow alone writes different bytes (the test must be able to fail)');
  assert.equal(sha256(second), sha256(first));
  // Content survives: same rows, same schema metadata, dictionary columns still dictionaries.
  const back = decodeTable(second);
  assert.deepEqual(back.toArray().map((r) => r.toJSON()).map((r) => ({ ...r, info: r['info'].toJSON() })), curve().toArray().map((r) => r.toJSON()).map((r) => ({ ...r, info: r['info'].toJSON() })));
  assert.equal(back.schema.metadata.get('env_id'), 'maze2d-umaze-v1');
  assert.ok(back.schema.fields[1]!.type instanceof Dictionary);
  // A decoded table re-encodes to the same bytes (a stage passing an input through).
  assert.equal(sha256(encodeTable(back)), sha256(first));
});

test('encodeTable: another process with another history writes the same bytes', () => {
  const here = sha256(encodeTable(curve()));
  const script = `
    const { tableFromArrays, tableToIPC, tableFromIPC, Dictionary, Utf8, Int32, vectorFromArray } = await import('apache-arrow');
    for (let i = 0; i < 3; i++) tableFromIPC(tableToIPC(tableFromArrays({ other: ['p', 'q' + i] }), 'file'));
    vectorFromArray(['z'], new Dictionary(new Utf8(), new Int32()));
    const { curve } = await import(${JSON.stringify(new URL('./arrow-io.test-fixture.js', import.meta.url).href)});
    const { encodeTable } = await import(${JSON.stringify(new URL('./arrow-io.js', import.meta.url).href)});
    const { sha256 } = await import(${JSON.stringify(new URL('./digest.js', import.meta.url).href)});
    console.log(sha256(encodeTable(curve())));`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', cwd: new URL('.', import.meta.url).pathname });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout.trim(), here);
});

test('encodeTable: a list of dictionaries keeps its values', () => {
  const dictType = new Dictionary(new Utf8(), new Int32());
  const values = vectorFromArray(['u', 'v', 'u'], dictType);
  const listType = new List(new Field('item', dictType, true));
  const data = makeData({ type: listType, length: 2, nullCount: 0, valueOffsets: Int32Array.from([0, 2, 3]), child: values.data[0]! });
  const schema = new Schema([new Field('tags', listType, true)]);
  const table = new Table(schema, [new RecordBatch(schema, makeData({ type: new Struct(schema.fields), length: 2, nullCount: 0, children: [data] }))]);
  const back = decodeTable(encodeTable(table));
  assert.deepEqual(back.getChild('tags')!.toArray().map((v: { toArray(): unknown[] }) => [...v.toArray()]), [['u', 'v'], ['u']]);
});

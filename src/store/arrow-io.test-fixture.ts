/** A table for the canonical-encoding tests, built the same way in this process and in a child process. */
import { Dictionary, Field, Int32, makeData, RecordBatch, Schema, Struct, Table, tableFromArrays, Utf8, vectorFromArray } from 'apache-arrow';

/** A curve-like table (long format, a dictionary-encoded metric column) plus a nested dictionary. */
export function curve(): Table {
  const flat = tableFromArrays({ step: Int32Array.from([10, 10, 20, 20]), metric: ['q1Loss', 'vLoss', 'q1Loss', 'vLoss'], value: Float64Array.from([0.5, 0.25, 0.4, 0.2]) });
  const tags = vectorFromArray(['a', 'b', 'a', 'a'], new Dictionary(new Utf8(), new Int32()));
  const nestedType = new Struct([new Field('tag', tags.type, true)]);
  const nested = makeData({ type: nestedType, length: 4, nullCount: 0, children: [tags.data[0]!] });
  const fields = [...flat.schema.fields, new Field('info', nestedType, true)];
  const schema = new Schema(fields, new Map([['env_id', 'maze2d-umaze-v1']]));
  const row = makeData({ type: new Struct(fields), length: 4, nullCount: 0, children: [...flat.batches[0]!.data.children, nested] });
  return new Table(schema, [new RecordBatch(schema, row)]);
}


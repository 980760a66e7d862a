/**
 * Arrow IPC (file format) encoding, kept in one place so the store and the stages agree.
 *
 * Encoding is canonical: the same table gives the same bytes whatever the process did before.
 * apache-arrow numbers dictionary types from a process-global counter, and the id is written into
 * the schema and the dictionary batches, so a `metric: string[]` column built after another table
 * (a resumed run reads its checkpoint first) would otherwise change the artifact's digest — and
 * with it every downstream cache key. Ids are renumbered 0, 1, … in schema order (depth first).
 * Batching is kept as given: the same table built the same way has the same batches.
 */
import { Data, DataType, Dictionary, Field, FixedSizeList, List, Map_, RecordBatch, Schema, Struct, Table, tableFromIPC, tableToIPC, Vector } from 'apache-arrow';
import { readFile } from 'node:fs/promises';

export function encodeTable(table: Table): Uint8Array {
  return tableToIPC(withCanonicalDictionaryIds(table), 'file');
}

export function decodeTable(bytes: Uint8Array): Table {
  return tableFromIPC(bytes);
}

export async function readTableFile(path: string): Promise<Table> {
  return decodeTable(await readFile(path));
}

/** The table with its dictionary ids renumbered by position in the schema (the same table when already so). */
export function withCanonicalDictionaryIds(table: Table): Table {
  const ids = new Map<number, number>();
  const mapType = (t: DataType): DataType => {
    let out: DataType = t;
    if (DataType.isDictionary(t)) {
      let id = ids.get(t.id);
      if (id === undefined) ids.set(t.id, (id = ids.size));
      const values = mapType(t.dictionary);
      if (id !== t.id || values !== t.dictionary) out = new Dictionary(values, t.indices, id, t.isOrdered);
    } else {
      const children = (t.children ?? []) as Field[];
      const mapped = children.map((f) => mapField(f));
      if (mapped.some((f, i) => f !== children[i])) out = rebuildNested(t, mapped);
    }
    return out;
  };
  const mapField = (f: Field): Field => {
    const type = mapType(f.type);
    return type === f.type ? f : new Field(f.name, type, f.nullable, f.metadata);
  };
  const fields = table.schema.fields.map(mapField);
  if (fields.every((f, i) => f === table.schema.fields[i])) return table;

  // Data follow their fields by position (a decoded table's data need not share its schema's type objects).
  const mapData = (d: Data, type: DataType): Data => {
    if (type === d.type) return d;
    const childTypes = ((type.children ?? []) as Field[]).map((f) => f.type);
    const children = d.children.map((c, i) => mapData(c, childTypes[i] ?? c.type));
    const dictionary = d.dictionary && DataType.isDictionary(type) ? new Vector(d.dictionary.data.map((v) => mapData(v, type.dictionary))) : d.dictionary;
    return new Data(type, d.offset, d.length, d.nullCount, d, children, dictionary);
  };
  const schema = new Schema(fields, table.schema.metadata);
  const row = new Struct(fields);
  return new Table(schema, table.batches.map((b) => new RecordBatch(schema, mapData(b.data, row) as Data<Struct>)));
}

/** A nested type with new child fields (only nested types can hold a dictionary below the top level). */
function rebuildNested(t: DataType, children: Field[]): DataType {
  if (DataType.isStruct(t)) return new Struct(children);
  if (DataType.isList(t)) return new List(children[0]!);
  if (DataType.isFixedSizeList(t)) return new FixedSizeList(t.listSize, children[0]!);
  if (DataType.isMap(t)) return new Map_(children[0]! as Field<Struct>, t.keysSorted);
  throw new Error(`cannot write a canonical Arrow file: a dictionary inside ${String(t)} is not supported`);
}

/**
 * Named weights <-> Arrow table, so checkpoints and trained networks are ordinary Arrow
 * artifacts. One row per tensor:
 *
 *   name: utf8   shape: list<int32>   values: list<float32>
 *
 * plus string key/value metadata on the schema (what the tensors are, hyperparameters, step,
 * RNG state...). Metadata values that are not strings are JSON-encoded by weightsToTable and
 * decoded by readMetadata.
 */
import * as arrow from 'apache-arrow';
import * as tf from '@tensorflow/tfjs';
import { mlpNames, mlpShapes, type MlpArch } from './dense.js';

export interface NamedArray {
  shape: number[];
  values: Float32Array;
}

export type WeightsInput = Record<string, tf.Tensor | NamedArray>;

const shapeType = new arrow.List(new arrow.Field('item', new arrow.Int32(), false));
const valuesType = new arrow.List(new arrow.Field('item', new arrow.Float32(), false));

function listVector<T extends arrow.Int32 | arrow.Float32>(
  type: arrow.List<T>,
  childType: T,
  parts: ReadonlyArray<Int32Array | Float32Array>,
): arrow.Vector<arrow.List<T>> {
  const offsets = new Int32Array(parts.length + 1);
  for (let i = 0; i < parts.length; i++) offsets[i + 1] = offsets[i]! + parts[i]!.length;
  const total = offsets[parts.length]!;
  const flat = childType instanceof arrow.Int32 ? new Int32Array(total) : new Float32Array(total);
  parts.forEach((p, i) => flat.set(p as never, offsets[i]!));
  const child = arrow.makeData({ type: childType as arrow.DataType, length: total, data: flat } as never) as unknown as arrow.Data<T>;
  const data = arrow.makeData({ type, length: parts.length, nullCount: 0, valueOffsets: offsets, child } as never) as unknown as arrow.Data<arrow.List<T>>;
  return arrow.makeVector(data);
}

/**
 * Build a table from named tensors / arrays. Row order = insertion order of `named`.
 * `metadata` values: strings kept as is, anything else JSON.stringify'd.
 */
export function weightsToTable(named: WeightsInput, metadata: Record<string, unknown> = {}): arrow.Table {
  const names: string[] = [];
  const shapes: Int32Array[] = [];
  const values: Float32Array[] = [];
  for (const [name, w] of Object.entries(named)) {
    names.push(name);
    if (w instanceof tf.Tensor) {
      shapes.push(Int32Array.from(w.shape));
      values.push(Float32Array.from(w.dataSync() as Float32Array));
    } else {
      const n = w.shape.reduce((a, b) => a * b, 1);
      if (n !== w.values.length) throw new Error(`weightsToTable: '${name}' shape ${JSON.stringify(w.shape)} needs ${n} values, got ${w.values.length}`);
      shapes.push(Int32Array.from(w.shape));
      values.push(w.values);
    }
  }
  const meta = new Map<string, string>();
  for (const [k, v] of Object.entries(metadata)) meta.set(k, typeof v === 'string' ? v : JSON.stringify(v));
  const fields = [
    new arrow.Field('name', new arrow.Utf8(), false),
    new arrow.Field('shape', shapeType, false),
    new arrow.Field('values', valuesType, false),
  ];
  const schema = new arrow.Schema(fields, meta);
  const nameVec = arrow.vectorFromArray(names, new arrow.Utf8());
  const shapeVec = listVector(shapeType, new arrow.Int32(), shapes);
  const valueVec = listVector(valuesType, new arrow.Float32(), values);
  const data = arrow.makeData({
    type: new arrow.Struct(fields),
    length: names.length,
    nullCount: 0,
    children: [nameVec.data[0]!, shapeVec.data[0]!, valueVec.data[0]!],
  });
  return new arrow.Table(schema, [new arrow.RecordBatch(schema, data)]);
}

/** Rows of a weights table as name → {shape, values} (values copied out of Arrow memory). */
export function tableToWeights(table: arrow.Table): Map<string, NamedArray> {
  const nameCol = table.getChild('name');
  const shapeCol = table.getChild('shape');
  const valueCol = table.getChild('values');
  if (!nameCol || !shapeCol || !valueCol) throw new Error("tableToWeights: table needs columns 'name', 'shape', 'values'");
  const out = new Map<string, NamedArray>();
  for (let i = 0; i < table.numRows; i++) {
    const name = String(nameCol.get(i));
    const s = shapeCol.get(i);
    // shape: list<int32> (preferred) or a JSON string (accepted for hand-written tables)
    const shape: number[] = typeof s === 'string' ? (JSON.parse(s) as number[]) : Array.from(s.toArray() as Int32Array);
    const vals = valueCol.get(i);
    const values = Float32Array.from(vals.toArray() as Float32Array);
    const n = shape.reduce((a, b) => a * b, 1);
    if (n !== values.length) throw new Error(`tableToWeights: '${name}' shape ${JSON.stringify(shape)} needs ${n} values, got ${values.length}`);
    out.set(name, { shape, values });
  }
  return out;
}

/** Schema metadata with JSON values decoded where they parse (plain strings otherwise). */
export function readMetadata(table: arrow.Table): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of table.schema.metadata) {
    try {
      out[k] = JSON.parse(v);
    } catch {
      out[k] = v;
    }
  }
  return out;
}

/** Fetch a row or throw a clear error. */
export function requireWeight(w: Map<string, NamedArray>, name: string, shape?: readonly number[]): NamedArray {
  const a = w.get(name);
  if (!a) throw new Error(`weights table has no row '${name}'`);
  if (shape && (a.shape.length !== shape.length || a.shape.some((d, i) => d !== shape[i]))) {
    throw new Error(`weights row '${name}' has shape ${JSON.stringify(a.shape)}, expected ${JSON.stringify(shape)}`);
  }
  return a;
}

/**
 * The parameters of one MLP stored under `prefix/` (names and shapes of mlpNames/mlpShapes for
 * `sizes` and `arch`), in parameter order. Rows under the prefix that such a net does not have
 * (e.g. LayerNorm rows read as a net without LayerNorm) are an error, not ignored.
 */
export function readMlpWeights(w: Map<string, NamedArray>, prefix: string, sizes: readonly number[], arch: MlpArch, what: string): NamedArray[] {
  const names = mlpNames(sizes, arch).map((n) => `${prefix}/${n}`);
  const extra = [...w.keys()].filter((k) => k.startsWith(`${prefix}/`) && !names.includes(k));
  if (extra.length > 0) {
    throw new Error(`${what}: rows ${extra.join(', ')} do not belong to a ${JSON.stringify(arch)} net of sizes ${JSON.stringify(sizes)} (architecture metadata missing or wrong)`);
  }
  const shapes = mlpShapes(sizes, arch);
  return names.map((n, i) => requireWeight(w, n, shapes[i]));
}

/**
 * The offline dataset as an Arrow table, and its conversion to/from flat typed arrays.
 *
 * Table columns (one row per transition):
 *   observations, actions, next_observations   FixedSizeList<Float32>[obs_dim | act_dim]
 *   rewards                                    Float32
 *   terminals, timeouts                        Uint8 (0/1)  — Uint8 rather than Bool so that the
 *                                              column is a zero-copy byte view; Bool columns are
 *                                              accepted on read.
 *   infos/goal, infos/qpos, infos/qvel         FixedSizeList<Float32> (optional; present for
 *                                              generated and D4RL files)
 * Schema metadata: env_id, source (generate | hdf5 | arrow), generator (JSON of the generator
 * parameters, or of the loader's description), obs_dim, act_dim (+ any `extra.metadata`).
 *
 * Conversions never build per-row JS objects: columns are made from / read into the underlying
 * Float32Array buffers (zero-copy when the table has one contiguous chunk).
 */
import {
  Field,
  FixedSizeList,
  Float32,
  makeData,
  RecordBatch,
  Schema,
  Struct,
  Table,
  Type,
  Uint8,
  type Data,
  type DataType,
  type Vector,
} from 'apache-arrow';

export interface Transitions {
  size: number;
  obsDim: number;
  actDim: number;
  observations: Float32Array;
  actions: Float32Array;
  nextObservations: Float32Array;
  rewards: Float32Array;
  terminals: Float32Array;
  timeouts: Float32Array;
  envId: string;
}

export type DatasetSource = 'generate' | 'hdf5' | 'arrow' | 'exorl';

export interface DatasetInfos {
  goal?: Float32Array;
  qpos?: Float32Array;
  qvel?: Float32Array;
}

export interface TableExtra {
  source: DatasetSource;
  /** Generator parameters (source=generate) or loader description; stored as JSON. */
  generator?: unknown;
  infos?: DatasetInfos;
  /** More schema metadata (string values). */
  metadata?: Record<string, string>;
}

export const DATASET_COLUMNS = {
  observations: 'observations',
  actions: 'actions',
  nextObservations: 'next_observations',
  rewards: 'rewards',
  terminals: 'terminals',
  timeouts: 'timeouts',
  goal: 'infos/goal',
  qpos: 'infos/qpos',
  qvel: 'infos/qvel',
} as const;

function vecField(name: string, dim: number): Field {
  return new Field(name, new FixedSizeList(dim, new Field('item', new Float32(), false)), false);
}

function vecData(flat: Float32Array, dim: number, n: number, name: string): Data {
  if (flat.length !== n * dim) throw new Error(`dataset column ${name}: expected ${n}×${dim} = ${n * dim} values, got ${flat.length}`);
  const child = makeData({ type: new Float32(), length: n * dim, nullCount: 0, data: flat });
  return makeData({
    type: new FixedSizeList(dim, new Field('item', new Float32(), false)),
    length: n,
    nullCount: 0,
    child,
  });
}

function flagsToUint8(a: Float32Array): Uint8Array {
  const out = new Uint8Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = a[i] !== 0 ? 1 : 0;
  return out;
}

/** Builds the dataset table (one record batch, buffers shared with `t` where possible). */
export function transitionsToTable(t: Transitions, extra: TableExtra): Table {
  const n = t.size;
  const fields: Field[] = [
    vecField(DATASET_COLUMNS.observations, t.obsDim),
    vecField(DATASET_COLUMNS.actions, t.actDim),
    vecField(DATASET_COLUMNS.nextObservations, t.obsDim),
    new Field(DATASET_COLUMNS.rewards, new Float32(), false),
    new Field(DATASET_COLUMNS.terminals, new Uint8(), false),
    new Field(DATASET_COLUMNS.timeouts, new Uint8(), false),
  ];
  if (t.rewards.length !== n) throw new Error(`dataset column rewards: expected ${n} values, got ${t.rewards.length}`);
  if (t.terminals.length !== n) throw new Error(`dataset column terminals: expected ${n} values, got ${t.terminals.length}`);
  if (t.timeouts.length !== n) throw new Error(`dataset column timeouts: expected ${n} values, got ${t.timeouts.length}`);
  const children: Data[] = [
    vecData(t.observations, t.obsDim, n, 'observations'),
    vecData(t.actions, t.actDim, n, 'actions'),
    vecData(t.nextObservations, t.obsDim, n, 'next_observations'),
    makeData({ type: new Float32(), length: n, nullCount: 0, data: t.rewards }),
    makeData({ type: new Uint8(), length: n, nullCount: 0, data: flagsToUint8(t.terminals) }),
    makeData({ type: new Uint8(), length: n, nullCount: 0, data: flagsToUint8(t.timeouts) }),
  ];
  const infos = extra.infos ?? {};
  for (const key of ['goal', 'qpos', 'qvel'] as const) {
    const arr = infos[key];
    if (!arr) continue;
    if (arr.length % Math.max(n, 1) !== 0 || (n > 0 && arr.length / n < 1)) {
      throw new Error(`dataset column infos/${key}: ${arr.length} values is not a multiple of ${n} rows`);
    }
    const dim = n > 0 ? arr.length / n : 1;
    fields.push(vecField(DATASET_COLUMNS[key], dim));
    children.push(vecData(arr, dim, n, `infos/${key}`));
  }
  const metadata = new Map<string, string>([
    ['env_id', t.envId],
    ['source', extra.source],
    ['generator', JSON.stringify(extra.generator ?? null)],
    ['obs_dim', String(t.obsDim)],
    ['act_dim', String(t.actDim)],
    ['size', String(n)],
  ]);
  for (const [k, v] of Object.entries(extra.metadata ?? {})) metadata.set(k, v);
  const schema = new Schema(fields, metadata);
  const structData = makeData({ type: new Struct(fields), length: n, nullCount: 0, children });
  return new Table(schema, [new RecordBatch(schema, structData)]);
}

function column(table: Table, name: string): Vector {
  const c = table.getChild(name);
  if (!c) {
    throw new Error(`dataset table: missing column '${name}' (columns: ${table.schema.fields.map((f) => f.name).join(', ')})`);
  }
  return c;
}

function listDim(table: Table, name: string): number {
  const f = table.schema.fields.find((x) => x.name === name);
  if (!f) throw new Error(`dataset table: missing column '${name}'`);
  const type = f.type as DataType;
  if (type.typeId !== Type.FixedSizeList) throw new Error(`dataset table: column '${name}' must be FixedSizeList<Float32>, got ${String(type)}`);
  return (type as FixedSizeList).listSize;
}

/** Flat Float32 values of a FixedSizeList<Float32> or Float32 column (zero-copy when possible). */
export function columnToFloat32(table: Table, name: string): Float32Array {
  const vec = column(table, name);
  const isList = vec.type.typeId === Type.FixedSizeList;
  const dim = isList ? (vec.type as FixedSizeList).listSize : 1;
  const n = vec.length;
  const parts: Float32Array[] = [];
  for (const d of vec.data) {
    const leaf = isList ? d.children[0]! : d;
    // arrow-js slices the value buffers of numeric (and FixedSizeList child) data eagerly:
    // `values[0]` is the chunk's first value whatever `offset` says (only bitmaps use offsets).
    const values = leaf.values as unknown;
    if (leaf.typeId === Type.Float && values instanceof Float32Array) {
      parts.push(values.subarray(0, d.length * dim));
    } else if (leaf.typeId === Type.Float || leaf.typeId === Type.Int) {
      // Other numeric leaf types (Float64, ints): convert.
      const arr = new Float32Array(d.length * dim);
      const v = values as ArrayLike<number | bigint>;
      for (let i = 0; i < arr.length; i++) arr[i] = Number(v[i]);
      parts.push(arr);
    } else {
      throw new Error(`dataset table: column '${name}' must hold Float32 values, got ${String(vec.type)}`);
    }
  }
  if (parts.length === 1) return parts[0]!;
  const out = new Float32Array(n * dim);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** 0/1 flags as Float32 from a Uint8 / Bool / numeric column. */
export function flagColumnToFloat32(table: Table, name: string): Float32Array {
  const vec = column(table, name);
  const out = new Float32Array(vec.length);
  const typeId = vec.type.typeId;
  if (typeId === Type.Bool) {
    let o = 0;
    for (const d of vec.data) {
      const bytes = d.values as Uint8Array;
      for (let i = 0; i < d.length; i++) {
        const bit = d.offset + i;
        out[o++] = (bytes[bit >> 3]! >> (bit & 7)) & 1;
      }
    }
    return out;
  }
  if (typeId === Type.Int || typeId === Type.Float) {
    let o = 0;
    for (const d of vec.data) {
      const v = d.values as ArrayLike<number | bigint>;
      for (let i = 0; i < d.length; i++) out[o++] = Number(v[i]) !== 0 ? 1 : 0;
    }
    return out;
  }
  throw new Error(`dataset table: column '${name}' must be Uint8, Bool or numeric, got ${String(vec.type)}`);
}

/** Reads a dataset table (as written by `transitionsToTable`, or any table with the same columns). */
export function tableToTransitions(table: Table): Transitions {
  const meta = table.schema.metadata;
  const obsDim = listDim(table, DATASET_COLUMNS.observations);
  const actDim = listDim(table, DATASET_COLUMNS.actions);
  const nextDim = listDim(table, DATASET_COLUMNS.nextObservations);
  if (nextDim !== obsDim) throw new Error(`dataset table: next_observations has ${nextDim} values per row, observations ${obsDim}`);
  const metaObs = meta.get('obs_dim');
  if (metaObs !== undefined && Number(metaObs) !== obsDim) {
    throw new Error(`dataset table: metadata obs_dim=${metaObs} but observations has ${obsDim} values per row`);
  }
  const metaAct = meta.get('act_dim');
  if (metaAct !== undefined && Number(metaAct) !== actDim) {
    throw new Error(`dataset table: metadata act_dim=${metaAct} but actions has ${actDim} values per row`);
  }
  return {
    size: table.numRows,
    obsDim,
    actDim,
    observations: columnToFloat32(table, DATASET_COLUMNS.observations),
    actions: columnToFloat32(table, DATASET_COLUMNS.actions),
    nextObservations: columnToFloat32(table, DATASET_COLUMNS.nextObservations),
    rewards: columnToFloat32(table, DATASET_COLUMNS.rewards),
    terminals: flagColumnToFloat32(table, DATASET_COLUMNS.terminals),
    timeouts: flagColumnToFloat32(table, DATASET_COLUMNS.timeouts),
    envId: meta.get('env_id') ?? '',
  };
}

/** The optional infos columns of a dataset table. */
export function tableInfos(table: Table): DatasetInfos {
  const out: DatasetInfos = {};
  for (const key of ['goal', 'qpos', 'qvel'] as const) {
    if (table.getChild(DATASET_COLUMNS[key])) out[key] = columnToFloat32(table, DATASET_COLUMNS[key]);
  }
  return out;
}

/** Parsed schema metadata of a dataset table. */
export function datasetMetadata(table: Table): { envId: string; source: string; generator: unknown; obsDim: number; actDim: number } {
  const m = table.schema.metadata;
  let generator: unknown = null;
  try {
    generator = JSON.parse(m.get('generator') ?? 'null');
  } catch {
    generator = m.get('generator');
  }
  return {
    envId: m.get('env_id') ?? '',
    source: m.get('source') ?? '',
    generator,
    obsDim: Number(m.get('obs_dim') ?? NaN),
    actDim: Number(m.get('act_dim') ?? NaN),
  };
}

/**
 * Checks sizes and finiteness; throws naming `label`, the field and the first bad row.
 * Used by every loader so that NaN/Inf never reach training.
 */
export function validateTransitions(t: Transitions, label: string): void {
  const n = t.size;
  const check = (name: string, a: Float32Array, dim: number) => {
    if (a.length !== n * dim) throw new Error(`${label}: '${name}' has ${a.length} values, expected ${n} rows × ${dim}`);
    for (let i = 0; i < a.length; i++) {
      const x = a[i]!;
      if (x - x !== 0) {
        const row = Math.floor(i / dim);
        throw new Error(`${label}: '${name}' has a non-finite value (${x}) at row ${row}${dim > 1 ? `, column ${i - row * dim}` : ''}`);
      }
    }
  };
  check('observations', t.observations, t.obsDim);
  check('actions', t.actions, t.actDim);
  check('next_observations', t.nextObservations, t.obsDim);
  check('rewards', t.rewards, 1);
  check('terminals', t.terminals, 1);
  check('timeouts', t.timeouts, 1);
}

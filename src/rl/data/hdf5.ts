/**
 * HDF5 dataset loading (h5wasm) for two layouts:
 *
 *  D4RL  — flat datasets at the root: observations [N, obs_dim], actions [N, act_dim],
 *          rewards [N] (or [N, 1]), terminals [N], optional timeouts [N], optional
 *          next_observations [N, obs_dim], optional infos/goal, infos/qpos, infos/qvel [N, k].
 *          terminals/timeouts written by h5py are HDF5 enums (numpy bool): h5wasm 0.10.3 reports
 *          their dtype as unknown but `.value` returns numbers, which is all we use.
 *          When next_observations is absent it is derived as observations[i + 1], following
 *          D4RL's qlearning_dataset: rows whose successor belongs to another episode
 *          (timeouts[i] = 1 and not terminal) and the last row are dropped, since their true next
 *          state is not in the file; the row before a dropped timeout row is marked as the
 *          episode end (timeouts = 1) so that episode boundaries survive.
 *  Minari — groups episode_<k>, each with observations [T + 1, d] (or a group of sub-spaces:
 *          `observation` is used when present, else every sub-dataset concatenated in key order),
 *          actions [T, a], rewards [T], terminations [T], truncations [T]; infos ignored.
 *          obs = observations[0..T-1], next = observations[1..T]; terminals = terminations,
 *          timeouts = truncations, and the last row of an episode is always an episode end.
 *
 * Every error names the file and the key; non-finite values name the row.
 */
import { closeSync, existsSync, fstatSync, openSync, readSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import type { DatasetInfos, Transitions } from './dataset.js';
import { validateTransitions } from './dataset.js';

type H5Module = typeof import('h5wasm');
type H5File = InstanceType<H5Module['File']>;
type H5Group = InstanceType<H5Module['Group']>;
type H5Dataset = InstanceType<H5Module['Dataset']>;

let h5Promise: Promise<H5Module> | null = null;

async function getH5(): Promise<H5Module> {
  if (!h5Promise) {
    h5Promise = (async () => {
      const mod = (await import('h5wasm/node')) as unknown as { default?: H5Module } & H5Module;
      const h5 = (mod.default ?? mod) as H5Module;
      await h5.ready;
      return h5;
    })();
  }
  return h5Promise;
}

export type Hdf5Format = 'd4rl' | 'minari';

export interface Hdf5LoadOptions {
  /** Env id to record in the transitions (default: the file's `env_id`/`env_name` attribute or ''). */
  envId?: string;
  format?: Hdf5Format | 'auto';
}

export interface Hdf5LoadResult {
  transitions: Transitions;
  infos: DatasetInfos;
  format: Hdf5Format;
  /** Absolute path, row counts, derived fields: recorded as the dataset's `generator` metadata. */
  description: Record<string, unknown>;
}

interface NumArray {
  data: Float32Array;
  shape: number[];
}

function isDataset(h5: H5Module, e: unknown): e is H5Dataset {
  return e instanceof h5.Dataset;
}
function isGroup(h5: H5Module, e: unknown): e is H5Group {
  return e instanceof h5.Group;
}

function readNumeric(h5: H5Module, file: string, group: H5Group, key: string, fullKey = key): NumArray {
  const e = group.get(key);
  if (e === null || e === undefined) throw new Error(`${file}: missing key '${fullKey}'`);
  if (!isDataset(h5, e)) throw new Error(`${file}: key '${fullKey}' is not a dataset`);
  const shape = e.shape;
  if (!shape) throw new Error(`${file}: key '${fullKey}' has no shape (scalar or empty dataset)`);
  const v = e.value as unknown;
  return { data: toFloat32(v, file, fullKey), shape: [...shape] };
}

/** Converts an h5wasm value (any numeric typed array, incl. enum-backed bools) to Float32Array. */
export function toFloat32(v: unknown, file: string, key: string): Float32Array {
  if (v instanceof Float32Array) return v;
  if (ArrayBuffer.isView(v) && !(v instanceof DataView)) {
    const src = v as unknown as ArrayLike<number | bigint>;
    const out = new Float32Array(src.length);
    for (let i = 0; i < src.length; i++) out[i] = Number(src[i]);
    return out;
  }
  if (Array.isArray(v) && v.every((x) => typeof x === 'number' || typeof x === 'boolean')) {
    return Float32Array.from(v as Array<number | boolean>, Number);
  }
  throw new Error(`${file}: key '${key}' is not numeric (h5wasm returned ${v === null ? 'null' : typeof v})`);
}

function expectRows(file: string, key: string, a: NumArray, rows: number, rowsFrom: string, dim?: number): number {
  if (a.shape[0] !== rows) {
    throw new Error(`${file}: key '${key}' has ${a.shape[0]} rows, expected ${rows} (as ${rowsFrom})`);
  }
  const rest = a.shape.slice(1);
  const d = rest.reduce((p, x) => p * x, 1);
  if (dim !== undefined && d !== dim) {
    throw new Error(`${file}: key '${key}' has shape [${a.shape.join(', ')}], expected [${rows}, ${dim}]`);
  }
  return d;
}

function expectVector(file: string, key: string, a: NumArray, rows: number, rowsFrom: string): void {
  const ok = a.shape.length === 1 || (a.shape.length === 2 && a.shape[1] === 1);
  if (!ok) throw new Error(`${file}: key '${key}' has shape [${a.shape.join(', ')}], expected [${rows}] (one value per row)`);
  expectRows(file, key, a, rows, rowsFrom);
}

function expectMatrix(file: string, key: string, a: NumArray): number {
  if (a.shape.length !== 2) throw new Error(`${file}: key '${key}' has shape [${a.shape.join(', ')}], expected a 2-D [rows, dim] array`);
  return a.shape[1]!;
}

function fileAttr(f: H5File, names: string[]): string | undefined {
  try {
    const attrs = f.attrs;
    for (const n of names) {
      const a = attrs[n];
      if (a) {
        const v = a.value;
        if (typeof v === 'string') return v;
      }
    }
  } catch {
    // attributes are optional
  }
  return undefined;
}

const HDF5_SIGNATURE = [0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a];

/** The HDF5 superblock signature sits at offset 0, 512, 1024, 2048... (after a user block). */
function hasHdf5Signature(file: string): boolean {
  const fd = openSync(file, 'r');
  try {
    const size = fstatSync(fd).size;
    const buf = Buffer.alloc(8);
    for (let off = 0; off + 8 <= size; off = off === 0 ? 512 : off * 2) {
      readSync(fd, buf, 0, 8, off);
      if (HDF5_SIGNATURE.every((b, i) => buf[i] === b)) return true;
    }
    return false;
  } finally {
    closeSync(fd);
  }
}

export async function loadHdf5Dataset(path: string, opts: Hdf5LoadOptions = {}): Promise<Hdf5LoadResult> {
  const file = resolve(path);
  if (!existsSync(file)) throw new Error(`${file}: HDF5 file not found`);
  if (!statSync(file).isFile()) throw new Error(`${file}: not a file`);
  if (!hasHdf5Signature(file)) throw new Error(`${file}: cannot open as HDF5 (no HDF5 signature; not an HDF5 file)`);
  const h5 = await getH5();
  let f: H5File;
  try {
    f = new h5.File(file, 'r');
  } catch (e) {
    throw new Error(`${file}: cannot open as HDF5 (${(e as Error)?.message ?? String(e)})`);
  }
  try {
    let keys: string[];
    try {
      keys = f.keys();
    } catch (e) {
      throw new Error(`${file}: cannot read as HDF5 (${(e as Error)?.message ?? String(e)})`);
    }
    let format: Hdf5Format;
    if (opts.format && opts.format !== 'auto') format = opts.format;
    else if (keys.includes('observations')) format = 'd4rl';
    else if (keys.some((k) => /^episode_\d+$/.test(k))) format = 'minari';
    else {
      throw new Error(
        `${file}: neither D4RL layout (missing key 'observations') nor Minari layout (no 'episode_<k>' groups); keys: ${keys.join(', ') || '(none)'}`,
      );
    }
    const envId = opts.envId ?? fileAttr(f, ['env_id', 'env_name', 'env_spec_id']) ?? '';
    const result = format === 'd4rl' ? readD4rl(h5, file, f, keys, envId) : readMinari(h5, file, f, keys, envId);
    validateTransitions(result.transitions, file);
    for (const [k, a] of Object.entries(result.infos)) {
      if (!a) continue;
      const dim = a.length / Math.max(result.transitions.size, 1);
      for (let i = 0; i < a.length; i++) {
        if (!Number.isFinite(a[i]!)) throw new Error(`${file}: 'infos/${k}' has a non-finite value (${a[i]}) at row ${Math.floor(i / dim)}`);
      }
    }
    return result;
  } finally {
    f.close();
  }
}

function readD4rl(h5: H5Module, file: string, f: H5File, keys: string[], envId: string): Hdf5LoadResult {
  const obs = readNumeric(h5, file, f, 'observations');
  const obsDim = expectMatrix(file, 'observations', obs);
  const N = obs.shape[0]!;
  const act = readNumeric(h5, file, f, 'actions');
  const actDim = expectMatrix(file, 'actions', act);
  expectRows(file, 'actions', act, N, 'observations');
  const rew = readNumeric(h5, file, f, 'rewards');
  expectVector(file, 'rewards', rew, N, 'observations');
  const term = readNumeric(h5, file, f, 'terminals');
  expectVector(file, 'terminals', term, N, 'observations');
  let tout: NumArray | null = null;
  if (keys.includes('timeouts')) {
    tout = readNumeric(h5, file, f, 'timeouts');
    expectVector(file, 'timeouts', tout, N, 'observations');
  }
  let next: NumArray | null = null;
  if (keys.includes('next_observations')) {
    next = readNumeric(h5, file, f, 'next_observations');
    expectRows(file, 'next_observations', next, N, 'observations', obsDim);
  }
  const infos: DatasetInfos = {};
  const infosGroup = keys.includes('infos') ? f.get('infos') : null;
  const infoKeys = infosGroup && isGroup(h5, infosGroup) ? infosGroup.keys() : [];
  const infoArrays: Partial<Record<'goal' | 'qpos' | 'qvel', NumArray>> = {};
  for (const k of ['goal', 'qpos', 'qvel'] as const) {
    if (!infoKeys.includes(k)) continue;
    const a = readNumeric(h5, file, infosGroup as H5Group, k, `infos/${k}`);
    expectRows(file, `infos/${k}`, a, N, 'observations');
    infoArrays[k] = a;
  }

  const flag = (a: Float32Array) => {
    for (let i = 0; i < a.length; i++) a[i] = a[i] !== 0 ? 1 : 0;
    return a;
  };
  const terminals = flag(term.data);
  const timeouts = tout ? flag(tout.data) : new Float32Array(N);
  const description: Record<string, unknown> = { file, format: 'd4rl', rows_in_file: N, timeouts_in_file: tout !== null };

  if (next) {
    for (const k of Object.keys(infoArrays) as Array<'goal' | 'qpos' | 'qvel'>) infos[k] = infoArrays[k]!.data;
    description.next_observations = 'stored';
    return {
      format: 'd4rl',
      infos,
      description,
      transitions: {
        size: N,
        obsDim,
        actDim,
        observations: obs.data,
        actions: act.data,
        nextObservations: next.data,
        rewards: rew.data,
        terminals,
        timeouts,
        envId,
      },
    };
  }

  // Derive next_observations = observations[i + 1] within episodes (see the header comment).
  const keep = new Uint8Array(N);
  let kept = 0;
  for (let i = 0; i < N - 1; i++) {
    if (timeouts[i] === 1 && terminals[i] !== 1) continue;
    keep[i] = 1;
    kept++;
  }
  const o = new Float32Array(kept * obsDim);
  const no = new Float32Array(kept * obsDim);
  const a = new Float32Array(kept * actDim);
  const r = new Float32Array(kept);
  const te = new Float32Array(kept);
  const to = new Float32Array(kept);
  const inf: Partial<Record<'goal' | 'qpos' | 'qvel', { src: Float32Array; dim: number; dst: Float32Array }>> = {};
  for (const k of Object.keys(infoArrays) as Array<'goal' | 'qpos' | 'qvel'>) {
    const src = infoArrays[k]!;
    const dim = src.data.length / Math.max(N, 1);
    inf[k] = { src: src.data, dim, dst: new Float32Array(kept * dim) };
  }
  let j = 0;
  for (let i = 0; i < N - 1; i++) {
    if (!keep[i]) {
      // Dropped timeout row: the previous kept row ends its episode.
      if (j > 0 && i > 0 && keep[i - 1]) to[j - 1] = 1;
      continue;
    }
    o.set(obs.data.subarray(i * obsDim, (i + 1) * obsDim), j * obsDim);
    no.set(obs.data.subarray((i + 1) * obsDim, (i + 2) * obsDim), j * obsDim);
    a.set(act.data.subarray(i * actDim, (i + 1) * actDim), j * actDim);
    r[j] = rew.data[i]!;
    te[j] = terminals[i]!;
    for (const v of Object.values(inf)) {
      if (v) v.dst.set(v.src.subarray(i * v.dim, (i + 1) * v.dim), j * v.dim);
    }
    j++;
  }
  for (const [k, v] of Object.entries(inf)) if (v) infos[k as 'goal' | 'qpos' | 'qvel'] = v.dst;
  description.next_observations = 'derived';
  description.rows_dropped = N - kept;
  return {
    format: 'd4rl',
    infos,
    description,
    transitions: { size: kept, obsDim, actDim, observations: o, actions: a, nextObservations: no, rewards: r, terminals: te, timeouts: to, envId },
  };
}

function readMinariObservations(h5: H5Module, file: string, g: H5Group, prefix: string): NumArray {
  const e = g.get('observations');
  if (e === null || e === undefined) throw new Error(`${file}: missing key '${prefix}/observations'`);
  if (isDataset(h5, e)) return readNumeric(h5, file, g, 'observations', `${prefix}/observations`);
  if (!isGroup(h5, e)) throw new Error(`${file}: key '${prefix}/observations' is neither a dataset nor a group`);
  const sub = e.keys();
  const parts = sub.includes('observation') ? ['observation'] : [...sub].sort();
  if (parts.length === 0) throw new Error(`${file}: group '${prefix}/observations' is empty`);
  const arrays = parts.map((k) => {
    const a = readNumeric(h5, file, e, k, `${prefix}/observations/${k}`);
    expectMatrix(file, `${prefix}/observations/${k}`, a);
    return a;
  });
  const rows = arrays[0]!.shape[0]!;
  arrays.forEach((a, i) => expectRows(file, `${prefix}/observations/${parts[i]}`, a, rows, `${prefix}/observations/${parts[0]}`));
  const dims = arrays.map((a) => a.shape[1]!);
  const dim = dims.reduce((p, x) => p + x, 0);
  const out = new Float32Array(rows * dim);
  for (let r = 0; r < rows; r++) {
    let off = 0;
    arrays.forEach((a, i) => {
      out.set(a.data.subarray(r * dims[i]!, (r + 1) * dims[i]!), r * dim + off);
      off += dims[i]!;
    });
  }
  return { data: out, shape: [rows, dim] };
}

function readMinari(h5: H5Module, file: string, f: H5File, keys: string[], envId: string): Hdf5LoadResult {
  const eps = keys
    .filter((k) => /^episode_\d+$/.test(k))
    .sort((a, b) => Number(a.slice(8)) - Number(b.slice(8)));
  interface Ep {
    obs: NumArray;
    act: NumArray;
    rew: NumArray;
    term: NumArray;
    trunc: NumArray;
    T: number;
  }
  const loaded: Ep[] = [];
  let obsDim = -1;
  let actDim = -1;
  for (const name of eps) {
    const g = f.get(name);
    if (!g || !isGroup(h5, g)) throw new Error(`${file}: key '${name}' is not a group`);
    const obs = readMinariObservations(h5, file, g, name);
    const od = expectMatrix(file, `${name}/observations`, obs);
    const act = readNumeric(h5, file, g, 'actions', `${name}/actions`);
    const ad = act.shape.length === 1 ? 1 : expectMatrix(file, `${name}/actions`, act);
    const T = act.shape[0]!;
    if (obs.shape[0] !== T + 1) {
      throw new Error(`${file}: key '${name}/observations' has ${obs.shape[0]} rows, expected ${T + 1} (actions rows + 1)`);
    }
    const rew = readNumeric(h5, file, g, 'rewards', `${name}/rewards`);
    expectVector(file, `${name}/rewards`, rew, T, `${name}/actions`);
    const term = readNumeric(h5, file, g, 'terminations', `${name}/terminations`);
    expectVector(file, `${name}/terminations`, term, T, `${name}/actions`);
    const trunc = readNumeric(h5, file, g, 'truncations', `${name}/truncations`);
    expectVector(file, `${name}/truncations`, trunc, T, `${name}/actions`);
    if (obsDim === -1) {
      obsDim = od;
      actDim = ad;
    } else if (od !== obsDim || ad !== actDim) {
      throw new Error(`${file}: episode '${name}' has obs/act dims ${od}/${ad}, earlier episodes ${obsDim}/${actDim}`);
    }
    loaded.push({ obs, act, rew, term, trunc, T });
  }
  const N = loaded.reduce((p, e) => p + e.T, 0);
  const o = new Float32Array(N * obsDim);
  const no = new Float32Array(N * obsDim);
  const a = new Float32Array(N * actDim);
  const r = new Float32Array(N);
  const te = new Float32Array(N);
  const to = new Float32Array(N);
  let j = 0;
  for (const e of loaded) {
    o.set(e.obs.data.subarray(0, e.T * obsDim), j * obsDim);
    no.set(e.obs.data.subarray(obsDim, (e.T + 1) * obsDim), j * obsDim);
    a.set(e.act.data, j * actDim);
    r.set(e.rew.data, j);
    for (let t = 0; t < e.T; t++) {
      te[j + t] = e.term.data[t] !== 0 ? 1 : 0;
      to[j + t] = e.trunc.data[t] !== 0 ? 1 : 0;
    }
    if (e.T > 0 && te[j + e.T - 1] === 0) to[j + e.T - 1] = 1;
    j += e.T;
  }
  return {
    format: 'minari',
    infos: {},
    description: { file, format: 'minari', episodes: loaded.length, rows: N },
    transitions: {
      size: N,
      obsDim: Math.max(obsDim, 0),
      actDim: Math.max(actDim, 0),
      observations: o,
      actions: a,
      nextObservations: no,
      rewards: r,
      terminals: te,
      timeouts: to,
      envId,
    },
  };
}

export interface WriteHdf5Options {
  /** gzip level (0 = none). Default 4. */
  gzip?: number;
  /** Also write next_observations (D4RL files do not). Default false. */
  nextObservations?: boolean;
}

/**
 * Writes transitions in the D4RL layout (terminals/timeouts as uint8: h5wasm cannot write the
 * enum bools h5py produces; readers treat both the same).
 */
export async function writeD4rlHdf5(path: string, t: Transitions, infos: DatasetInfos = {}, opts: WriteHdf5Options = {}): Promise<void> {
  const h5 = await getH5();
  const f = new h5.File(resolve(path), 'w');
  const level = opts.gzip ?? 4;
  const put = (g: H5Group, name: string, data: Float32Array | Uint8Array, shape: number[]) => {
    const chunkRows = Math.max(1, Math.min(shape[0]!, 65536));
    if (level > 0 && shape[0]! > 0) {
      g.create_dataset({ name, data, shape, chunks: [chunkRows, ...shape.slice(1)], compression: 'gzip', compression_opts: level });
    } else {
      g.create_dataset({ name, data, shape });
    }
  };
  try {
    const n = t.size;
    put(f, 'observations', t.observations, [n, t.obsDim]);
    put(f, 'actions', t.actions, [n, t.actDim]);
    put(f, 'rewards', t.rewards, [n]);
    put(f, 'terminals', Uint8Array.from(t.terminals, (x) => (x ? 1 : 0)), [n]);
    put(f, 'timeouts', Uint8Array.from(t.timeouts, (x) => (x ? 1 : 0)), [n]);
    if (opts.nextObservations) put(f, 'next_observations', t.nextObservations, [n, t.obsDim]);
    const present = (['goal', 'qpos', 'qvel'] as const).filter((k) => infos[k]);
    if (present.length) {
      const g = f.create_group('infos');
      for (const k of present) {
        const arr = infos[k]!;
        put(g, k, arr, [n, n > 0 ? arr.length / n : 0]);
      }
    }
    if (t.envId) f.create_attribute('env_id', t.envId);
  } finally {
    f.close();
  }
}

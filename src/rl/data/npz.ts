/**
 * NumPy `.npy` arrays and `.npz` archives (what `np.save` / `np.savez` / `np.savez_compressed`
 * write): a zip of `<name>.npy` members, stored or deflated. Read for ExoRL's episode buffers;
 * the writer exists for tests and fixtures. Little-endian numeric dtypes only; no zip64 (single
 * arrays over 4 GiB), no pickled object arrays.
 */
import { deflateRawSync, inflateRawSync } from 'node:zlib';

export interface NpyArray {
  /** NumPy dtype string as in the header, e.g. '<f4', '<f8', '|u1'. */
  descr: string;
  shape: number[];
  /** Values in C order, converted to float64. */
  data: Float64Array;
}

const DTYPES: Record<string, { size: number; read: (v: DataView, o: number) => number }> = {
  '<f4': { size: 4, read: (v, o) => v.getFloat32(o, true) },
  '<f8': { size: 8, read: (v, o) => v.getFloat64(o, true) },
  '<i4': { size: 4, read: (v, o) => v.getInt32(o, true) },
  '<i8': { size: 8, read: (v, o) => Number(v.getBigInt64(o, true)) },
  '<u4': { size: 4, read: (v, o) => v.getUint32(o, true) },
  '|u1': { size: 1, read: (v, o) => v.getUint8(o) },
  '|i1': { size: 1, read: (v, o) => v.getInt8(o) },
  '|b1': { size: 1, read: (v, o) => v.getUint8(o) },
  '<f2': { size: 2, read: (v, o) => half(v.getUint16(o, true)) },
};

function half(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const f = h & 0x3ff;
  if (e === 0) return s * 2 ** -14 * (f / 1024);
  if (e === 31) return f ? NaN : s * Infinity;
  return s * 2 ** (e - 15) * (1 + f / 1024);
}

/** Parses one `.npy` file. `where` names it in errors. */
export function parseNpy(bytes: Uint8Array, where = 'npy'): NpyArray {
  const magic = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY
  if (bytes.length < 10 || magic.some((b, i) => bytes[i] !== b)) throw new Error(`${where}: not a .npy array (bad magic)`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const major = bytes[6]!;
  const headerLen = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const start = major === 1 ? 10 : 12;
  const header = new TextDecoder('latin1').decode(bytes.subarray(start, start + headerLen));
  const descr = /'descr':\s*'([^']+)'/.exec(header)?.[1];
  const fortran = /'fortran_order':\s*(True|False)/.exec(header)?.[1];
  const shapeText = /'shape':\s*\(([^)]*)\)/.exec(header)?.[1];
  if (!descr || !fortran || shapeText === undefined) throw new Error(`${where}: unreadable .npy header ${JSON.stringify(header.trim())}`);
  const dt = DTYPES[descr];
  if (!dt) throw new Error(`${where}: dtype '${descr}' is not supported (little-endian float/int/bool only)`);
  const shape = shapeText.split(',').map((x) => x.trim()).filter((x) => x !== '').map(Number);
  const n = shape.reduce((a, b) => a * b, 1);
  const off = start + headerLen;
  if (bytes.length < off + n * dt.size) throw new Error(`${where}: truncated: ${n} × ${dt.size} bytes expected after the header, found ${bytes.length - off}`);
  const data = new Float64Array(n);
  for (let i = 0; i < n; i++) data[i] = dt.read(view, off + i * dt.size);
  if (fortran === 'True' && shape.length > 1) return { descr, shape, data: fortranToC(data, shape) };
  return { descr, shape, data };
}

function fortranToC(data: Float64Array, shape: number[]): Float64Array {
  const out = new Float64Array(data.length);
  const nd = shape.length;
  const idx = new Array<number>(nd).fill(0);
  for (let c = 0; c < data.length; c++) {
    let f = 0;
    let stride = 1;
    for (let k = 0; k < nd; k++) {
      f += idx[k]! * stride;
      stride *= shape[k]!;
    }
    out[c] = data[f]!;
    for (let k = nd - 1; k >= 0; k--) {
      idx[k]! += 1;
      if (idx[k]! < shape[k]!) break;
      idx[k] = 0;
    }
  }
  return out;
}

/** Reads every array of an `.npz` archive, keyed by name without `.npy`. */
export function readNpz(bytes: Uint8Array, where = 'npz'): Map<string, NpyArray> {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let eocd = -1;
  for (let i = bytes.length - 22; i >= Math.max(0, bytes.length - 22 - 65535); i--) {
    if (view.getUint32(i, true) === 0x06054b50) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw new Error(`${where}: not an .npz (zip) archive: no end-of-central-directory record`);
  const count = view.getUint16(eocd + 10, true);
  let p = view.getUint32(eocd + 16, true);
  if (p === 0xffffffff) throw new Error(`${where}: zip64 archives are not supported`);
  const out = new Map<string, NpyArray>();
  for (let k = 0; k < count; k++) {
    if (view.getUint32(p, true) !== 0x02014b50) throw new Error(`${where}: corrupt central directory at byte ${p}`);
    const method = view.getUint16(p + 10, true);
    const csize = view.getUint32(p + 20, true);
    const nameLen = view.getUint16(p + 28, true);
    const extraLen = view.getUint16(p + 30, true);
    const commentLen = view.getUint16(p + 32, true);
    const local = view.getUint32(p + 42, true);
    const name = new TextDecoder().decode(bytes.subarray(p + 46, p + 46 + nameLen));
    p += 46 + nameLen + extraLen + commentLen;
    if (csize === 0xffffffff || local === 0xffffffff) throw new Error(`${where}: member ${name} needs zip64, which is not supported`);
    if (view.getUint32(local, true) !== 0x04034b50) throw new Error(`${where}: corrupt local header of ${name}`);
    const dataStart = local + 30 + view.getUint16(local + 26, true) + view.getUint16(local + 28, true);
    const raw = bytes.subarray(dataStart, dataStart + csize);
    let member: Uint8Array;
    if (method === 0) member = raw;
    else if (method === 8) member = inflateRawSync(raw);
    else throw new Error(`${where}: member ${name} uses zip compression method ${method} (only stored and deflate)`);
    out.set(name.replace(/\.npy$/, ''), parseNpy(member, `${where}:${name}`));
  }
  return out;
}

/** Writes float32 arrays as an `.npz` (deflated like np.savez_compressed when `compress`). */
export function writeNpz(arrays: Record<string, { shape: number[]; data: ArrayLike<number> }>, opts: { compress?: boolean } = {}): Uint8Array {
  const locals: Buffer[] = [];
  const central: Buffer[] = [];
  let offset = 0;
  for (const [key, a] of Object.entries(arrays)) {
    const name = Buffer.from(`${key}.npy`);
    const npy = npyBytes(a.shape, a.data);
    const body = opts.compress ? deflateRawSync(npy) : npy;
    const crc = crc32(npy);
    const lh = Buffer.alloc(30);
    lh.writeUInt32LE(0x04034b50, 0);
    lh.writeUInt16LE(20, 4);
    lh.writeUInt16LE(opts.compress ? 8 : 0, 8);
    lh.writeUInt32LE(crc, 14);
    lh.writeUInt32LE(body.length, 18);
    lh.writeUInt32LE(npy.length, 22);
    lh.writeUInt16LE(name.length, 26);
    locals.push(lh, name, Buffer.from(body));
    const ch = Buffer.alloc(46);
    ch.writeUInt32LE(0x02014b50, 0);
    ch.writeUInt16LE(20, 4);
    ch.writeUInt16LE(20, 6);
    ch.writeUInt16LE(opts.compress ? 8 : 0, 10);
    ch.writeUInt32LE(crc, 16);
    ch.writeUInt32LE(body.length, 20);
    ch.writeUInt32LE(npy.length, 24);
    ch.writeUInt16LE(name.length, 28);
    ch.writeUInt32LE(offset, 42);
    central.push(ch, name);
    offset += 30 + name.length + body.length;
  }
  const cd = Buffer.concat(central);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(Object.keys(arrays).length, 8);
  end.writeUInt16LE(Object.keys(arrays).length, 10);
  end.writeUInt32LE(cd.length, 12);
  end.writeUInt32LE(offset, 16);
  return new Uint8Array(Buffer.concat([...locals, cd, end]));
}

function npyBytes(shape: number[], data: ArrayLike<number>): Uint8Array {
  const dims = shape.length === 1 ? `${shape[0]},` : shape.join(', ');
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': (${dims}), }`;
  const total = 10 + header.length + 1;
  header += ' '.repeat((64 - (total % 64)) % 64) + '\n';
  const out = Buffer.alloc(10 + header.length + 4 * data.length);
  Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]).copy(out, 0);
  out.writeUInt16LE(header.length, 8);
  out.write(header, 10, 'latin1');
  for (let i = 0; i < data.length; i++) out.writeFloatLE(data[i]!, 10 + header.length + 4 * i);
  return out;
}

let crcTable: Uint32Array | null = null;
function crc32(b: Uint8Array): number {
  if (!crcTable) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c >>> 0;
    }
  }
  let c = 0xffffffff;
  for (let i = 0; i < b.length; i++) c = crcTable[(c ^ b[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

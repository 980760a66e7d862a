/**
 * Compute backend selection for tfjs: native libtensorflow when installed (the fastest here, see
 * bench/tfjs-node-findings.md), else WebAssembly with SIMD, else pure JS.
 *
 *   const info = await initBackend();          // 'tensorflow' (tfjs-node) > 'wasm' (SIMD) > 'cpu'
 *   const info = await initBackend('cpu');     // force one (tests comparing backends)
 *
 * - tfjs-node (native libtensorflow) is an optional dependency: used when
 *   `import('@tensorflow/tfjs-node')` succeeds and its backend initialises.
 * - wasm: the .wasm binaries are loaded from node_modules/@tensorflow/tfjs-backend-wasm/dist
 *   (a plain directory path handed to `setWasmPaths`, read with fs: no network).
 * - cpu: pure JS, slow, always works.
 *
 * Idempotent: calling again with the same (or no) preference returns the current choice without
 * re-initialising; a different explicit preference switches the active backend.
 */
import * as tf from '@tensorflow/tfjs';
import { createRequire } from 'node:module';
import { dirname, join, sep } from 'node:path';

export type BackendPreference = 'node' | 'wasm' | 'cpu';

export interface BackendInfo {
  /** tfjs backend name actually active: 'tensorflow' | 'wasm' | 'cpu'. */
  name: string;
  /** Threads used by the backend where it says (wasm: XNNPACK threads; cpu: 1). */
  threads?: number;
  /** tfjs version (plus the native/wasm package version where relevant). */
  version: string;
  /** wasm only: whether the SIMD binary was loaded. */
  simd?: boolean;
}

let current: BackendInfo | null = null;
let nodeTried = false;
let nodeAvailable = false;
let wasmRegistered = false;

/** Load tfjs-node if installed; registers the 'tensorflow' backend as a side effect. */
async function tryLoadNode(): Promise<boolean> {
  if (nodeTried) return nodeAvailable;
  nodeTried = true;
  // libtensorflow prints INFO lines (CPU feature notes) on stderr at load; keep warnings and errors.
  process.env['TF_CPP_MIN_LOG_LEVEL'] ??= '2';
  // One intra-op thread per process: at these sizes (256-wide MLPs, batch 256) libtensorflow's
  // thread pool costs more than it gains, and the executor already runs two stages side by side
  // on a 2-core machine. Measured IQL step: 116 steps/s with the default (2 threads) vs 176 with 1
  // (`TF_NUM_INTRAOP_THREADS=1 node dist/bench/iql-speed.js`). A user's own setting wins. Only the
  // main thread can change the real environment: bin/pipeline.js sets it before any worker starts.
  process.env['TF_NUM_INTRAOP_THREADS'] ??= '1';
  try {
    // A variable specifier: the package is optional and absent from the type graph.
    const spec = '@tensorflow/tfjs-node';
    await import(spec);
    nodeAvailable = tf.findBackendFactory('tensorflow') != null;
  } catch {
    nodeAvailable = false;
  }
  return nodeAvailable;
}

/** Register the wasm backend (once) and point it at its binaries inside node_modules. */
async function registerWasm(): Promise<typeof import('@tensorflow/tfjs-backend-wasm')> {
  const wasm = await import('@tensorflow/tfjs-backend-wasm');
  if (!wasmRegistered) {
    const require = createRequire(import.meta.url);
    const pkgDir = dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json'));
    // In Node the emscripten loader reads `prefix + 'tfjs-backend-wasm-simd.wasm'` with fs,
    // so a directory path ending in the separator is what it needs.
    wasm.setWasmPaths(join(pkgDir, 'dist') + sep);
    wasmRegistered = true;
  }
  return wasm;
}

/**
 * tfjs-backend-wasm 4.22's Slice (and SplitV, which calls it) copies the WHOLE input out of the
 * wasm heap (`readSync`) for every slice, even for a contiguous range: splitting a flat
 * parameter vector into 18 tensors copied it 18 times (13% of an IQL step). This replaces both
 * kernels with a version that copies only the requested contiguous range through a heap view,
 * and defers to the original kernel otherwise (strided slices, strings). Same results.
 */
interface WasmBackendLike {
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  typedArrayFromHeap(t: tf.TensorInfo): Float32Array | Int32Array | Uint8Array;
}

function patchWasmSlice(): void {
  const orig = tf.getKernel('Slice', 'wasm');
  if (!orig || (orig as { patched?: boolean }).patched) return;
  const origFn = orig.kernelFunc;
  const fastSlice = (x: tf.TensorInfo, begin: number[], size: number[], backend: WasmBackendLike): tf.TensorInfo | null => {
    if (x.dtype === 'string') return null;
    const [b, s] = tf.slice_util.parseSliceParams(x as tf.Tensor, begin, size);
    if (!tf.slice_util.isSliceContinous(x.shape, b, s)) return null;
    const offset = tf.slice_util.computeFlatOffset(b, tf.util.computeStrides(x.shape));
    const n = tf.util.sizeFromShape(s);
    const out = backend.makeOutput(s, x.dtype);
    if (n > 0) {
      // Views taken after makeOutput: a heap growth there would detach earlier views.
      const src = backend.typedArrayFromHeap(x);
      backend.typedArrayFromHeap(out).set(src.subarray(offset, offset + n) as never);
    }
    return out;
  };
  const sliceConfig = {
    kernelName: 'Slice',
    backendName: 'wasm',
    setupFunc: orig.setupFunc,
    disposeFunc: orig.disposeFunc,
    patched: true,
    kernelFunc: (args: Parameters<tf.KernelFunc>[0]) => {
      const { x } = args.inputs as { x: tf.TensorInfo };
      const { begin, size } = args.attrs as unknown as { begin: number[]; size: number[] };
      return fastSlice(x, begin, size, args.backend as unknown as WasmBackendLike) ?? origFn(args);
    },
  };
  const splitConfig = {
    kernelName: 'SplitV',
    backendName: 'wasm',
    kernelFunc: (args: Parameters<tf.KernelFunc>[0]) => {
      const { x } = args.inputs as { x: tf.TensorInfo };
      const { numOrSizeSplits, axis } = args.attrs as unknown as { numOrSizeSplits: number[] | number; axis: number };
      const ax = tf.util.parseAxisParam(axis, x.shape)[0]!;
      const sizes = tf.backend_util.prepareSplitSize(x as tf.Tensor, numOrSizeSplits, ax);
      const begin = new Array<number>(x.shape.length).fill(0);
      return sizes.map((n) => {
        const size = x.shape.slice();
        size[ax] = n;
        const args2 = { inputs: { x }, attrs: { begin: begin.slice(), size }, backend: args.backend };
        begin[ax]! += n;
        return (sliceConfig.kernelFunc(args2 as never) as tf.TensorInfo);
      });
    },
  };
  // Re-registering logs a warning in tfjs; unregister first.
  tf.unregisterKernel('Slice', 'wasm');
  tf.registerKernel(sliceConfig as tf.KernelConfig);
  if (tf.getKernel('SplitV', 'wasm')) tf.unregisterKernel('SplitV', 'wasm');
  tf.registerKernel(splitConfig as tf.KernelConfig);
}

async function activate(name: string): Promise<boolean> {
  try {
    const ok = await tf.setBackend(name);
    if (!ok) return false;
    await tf.ready();
    return tf.getBackend() === name;
  } catch {
    return false;
  }
}

function describe(name: string, wasm?: typeof import('@tensorflow/tfjs-backend-wasm')): BackendInfo {
  if (name === 'wasm' && wasm) {
    let threads: number | undefined;
    try {
      threads = wasm.getThreadsCount();
    } catch {
      threads = undefined;
    }
    return {
      name,
      threads,
      version: `tfjs ${tf.version.tfjs}, tfjs-backend-wasm ${wasm.version_wasm}`,
      simd: tf.env().getBool('WASM_HAS_SIMD_SUPPORT'),
    };
  }
  if (name === 'tensorflow') {
    const v = (tf.version as Record<string, string>)['tfjs-node'];
    const threads = Number(process.env['TF_NUM_INTRAOP_THREADS']);
    return { name, threads: threads > 0 ? threads : undefined, version: `tfjs ${tf.version.tfjs}${v ? `, tfjs-node ${v}` : ''}` };
  }
  return { name, threads: 1, version: `tfjs ${tf.version.tfjs}` };
}

/**
 * Choose and activate a backend. Without a preference: tfjs-node, else wasm, else cpu.
 * With one, that backend is tried first and the rest of the order follows as fallback.
 */
export async function initBackend(prefer?: BackendPreference): Promise<BackendInfo> {
  if (current && (prefer === undefined || nameOf(prefer) === current.name) && tf.getBackend() === current.name) {
    return current;
  }
  const order: BackendPreference[] =
    prefer === 'cpu' ? ['cpu'] : prefer === 'wasm' ? ['wasm', 'cpu'] : ['node', 'wasm', 'cpu'];
  for (const choice of order) {
    if (choice === 'node') {
      if (!(await tryLoadNode())) continue;
      if (await activate('tensorflow')) return (current = describe('tensorflow'));
    } else if (choice === 'wasm') {
      let wasm: typeof import('@tensorflow/tfjs-backend-wasm');
      try {
        wasm = await registerWasm();
      } catch {
        continue;
      }
      if (await activate('wasm')) {
        patchWasmSlice();
        return (current = describe('wasm', wasm));
      }
    } else {
      if (await activate('cpu')) return (current = describe('cpu'));
    }
  }
  throw new Error('initBackend: no tfjs backend could be initialised');
}

function nameOf(p: BackendPreference): string {
  return p === 'node' ? 'tensorflow' : p;
}

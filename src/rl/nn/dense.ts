/**
 * MLPs with a hand-written backward pass and no autograd tape: the training steps (iql.ts,
 * extract.ts) run `mlpForward`, compute dL/d(out) from their loss by hand, and backpropagate with
 * `mlpBackward` into per-parameter gradients (and dL/dx where asked).
 *
 * Why: tfjs autograd records every op and its matmul gradient uses transposed operands, which the
 * wasm backend runs on a slow scalar loop instead of XNNPACK (DESIGN §3, ≈4x slower end to end).
 * The backward here picks its kernels per backend:
 *
 *   forward   y  = act(x·W + b)
 *   backward  g  = dy ⊙ act'(y)
 *             dW = xᵀ · g,  db = Σ_rows g,  dx = g · Wᵀ
 *
 * Parameters of an MLP with sizes [in, h1, ..., out] are the list [W0, b0, W1, b1, ...],
 * W_l of shape [size_l, size_{l+1}], b_l of shape [size_{l+1}]; ReLU between layers, linear
 * output.
 */
import * as tf from '@tensorflow/tfjs';
import type { Rng } from '../envs/rng.js';

/** Shapes of [W0, b0, W1, b1, ...] for layer sizes [in, h1, ..., out]. */
export function mlpShapes(sizes: readonly number[]): number[][] {
  if (sizes.length < 2) throw new Error(`mlp needs at least [in, out], got ${JSON.stringify(sizes)}`);
  const shapes: number[][] = [];
  for (let l = 0; l + 1 < sizes.length; l++) {
    shapes.push([sizes[l]!, sizes[l + 1]!], [sizes[l + 1]!]);
  }
  return shapes;
}

/** Parameter names matching mlpShapes: `l0/W, l0/b, l1/W, ...`. */
export function mlpNames(sizes: readonly number[]): string[] {
  const names: string[] = [];
  for (let l = 0; l + 1 < sizes.length; l++) names.push(`l${l}/W`, `l${l}/b`);
  return names;
}

export function sizeOf(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/**
 * Deterministic init from an Rng, as PyTorch's nn.Linear default (what CORL's IQL uses):
 * W and b ~ U(−1/√fan_in, 1/√fan_in). `lastLayerScale` multiplies the output layer (e.g. a
 * small policy head). Returns one Float32Array per parameter, in mlpShapes order.
 */
export function initMlp(sizes: readonly number[], rng: Rng, lastLayerScale = 1): Float32Array[] {
  const out: Float32Array[] = [];
  const L = sizes.length - 1;
  for (let l = 0; l < L; l++) {
    const fanIn = sizes[l]!;
    const bound = (1 / Math.sqrt(fanIn)) * (l === L - 1 ? lastLayerScale : 1);
    const W = new Float32Array(fanIn * sizes[l + 1]!);
    for (let i = 0; i < W.length; i++) W[i] = rng.uniform(-bound, bound);
    const b = new Float32Array(sizes[l + 1]!);
    for (let i = 0; i < b.length; i++) b[i] = rng.uniform(-bound, bound);
    out.push(W, b);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Forward / backward building blocks (plain tensor functions, no tape of their own)

const onesRows = new Map<number, tf.Tensor2D>();

/**
 * Σ over rows of g ([B, n] → [n]) as ones[1, B] · g: an untransposed matmul (XNNPACK) is
 * faster on wasm than tf.sum(g, 0), which transposes first.
 */
function columnSum(g: tf.Tensor2D): tf.Tensor1D {
  const B = g.shape[0];
  let ones = onesRows.get(B);
  if (!ones || ones.isDisposed) {
    ones = tf.keep(tf.ones([1, B]) as tf.Tensor2D);
    onesRows.set(B, ones);
  }
  return tf.reshape(tf.matMul(ones, g), [g.shape[1]]);
}

/**
 * dL/d(pre-activation) of a ReLU layer from dL/d(post-activation) `da` and the post-ReLU
 * activation a ≥ 0: da ⊙ 1[a > 0]. Native: libtensorflow's own ReluGrad kernel, one pass (tfjs
 * exposes no kernel for it; called through the backend's op executor). wasm/cpu: da ⊙ step(a).
 */
function reluBackward(da: tf.Tensor, a: tf.Tensor): tf.Tensor {
  if (isNativeBackend()) {
    const be = tf.backend() as unknown as NativeBackend;
    return be.executeSingleOutput('ReluGrad', [{ name: 'T', type: be.binding.TF_ATTR_TYPE, value: be.binding.TF_FLOAT }], [da, a]);
  }
  return tf.mul(da, tf.step(a));
}

/** The part of tfjs-node's backend used to run a libtensorflow op by name. */
interface NativeBackend {
  binding: { TF_ATTR_TYPE: number; TF_FLOAT: number };
  executeSingleOutput(name: string, attrs: Array<{ name: string; type: number; value: unknown }>, inputs: tf.Tensor[]): tf.Tensor;
}

/**
 * Whether the active backend is native libtensorflow (tfjs-node). The hand-written passes pick
 * their kernels by it: native runs transposed and batched matmuls at full speed, so it uses
 * matMul's transpose flags, tf.sum and stacked nets; wasm runs a matmul on XNNPACK only for
 * untransposed 2-D operands, so it materialises transposes and keeps nets separate.
 */
export function isNativeBackend(): boolean {
  return tf.getBackend() === 'tensorflow';
}

// ---------------------------------------------------------------------------------------------
// Tape-free passes

/** Activations [x, a1, ..., a_{L-1}] and the output of one forward pass. */
export interface MlpPass {
  acts: tf.Tensor[];
  out: tf.Tensor;
}

/**
 * Forward keeping the activations. Either one net (x [B, in], W [in, out], b [out]) or a stack
 * of k nets evaluated as batched matmuls (W [k, in, out], b [k, 1, out]; x [B, in] shared by
 * all k, or [k, B, in]); output [B, out] or [k, B, out]. Records nothing on a tape.
 */
export function mlpForward(x: tf.Tensor, params: readonly tf.Tensor[], native = isNativeBackend()): MlpPass {
  const L = params.length / 2;
  const acts: tf.Tensor[] = [x];
  let h = x;
  for (let l = 0; l < L; l++) {
    const W = params[2 * l]!;
    const relu = l < L - 1;
    if (!native && W.rank === 2) {
      h = tf.fused.matMul({ a: h as tf.Tensor2D, b: W as tf.Tensor2D, bias: params[2 * l + 1], activation: relu ? 'relu' : 'linear' });
    } else {
      // tfjs-node's _FusedMatMul is these three kernels behind two extra JS layers.
      h = tf.add(tf.matMul(h, W), params[2 * l + 1]!);
      if (relu) h = tf.relu(h);
    }
    if (relu) acts.push(h);
  }
  return { acts, out: h };
}

/**
 * Backward of mlpForward given dL/d(out) (same shape as out). Returns the parameter gradients
 * in params order and, with `inputGrad`, dL/dx (x [B, in] shared by a stack gets [k, B, in]).
 * `Wt`: transposed weights to reuse (frozen nets, wasm only).
 */
export function mlpBackward(
  dy: tf.Tensor,
  pass: MlpPass,
  params: readonly tf.Tensor[],
  opts: { inputGrad?: boolean; paramGrads?: boolean; native?: boolean; Wt?: readonly tf.Tensor[] } = {},
): { grads: tf.Tensor[]; dx: tf.Tensor | null } {
  const native = opts.native ?? isNativeBackend();
  const paramGrads = opts.paramGrads ?? true;
  const L = params.length / 2;
  const grads: tf.Tensor[] = new Array(2 * L);
  let g = dy;
  let dx: tf.Tensor | null = null;
  for (let l = L - 1; l >= 0; l--) {
    const a = pass.acts[l]!;
    const W = params[2 * l]!;
    const stacked = W.rank === 3;
    if (!paramGrads) {
      // nothing: a frozen net
    } else if (native || stacked) {
      grads[2 * l] = tf.matMul(a, g, true, false); // aᵀ·g; a [B, in] broadcasts over a stack
      grads[2 * l + 1] = tf.sum(g, g.rank - 2, stacked);
    } else {
      grads[2 * l] = tf.matMul(tf.transpose(a as tf.Tensor2D), g as tf.Tensor2D); // untransposed: XNNPACK
      grads[2 * l + 1] = columnSum(g as tf.Tensor2D);
    }
    if (l > 0 || opts.inputGrad) {
      const Wt = opts.Wt?.[l];
      const da =
        Wt && !stacked
          ? tf.matMul(g, Wt) // cached transpose: untransposed on every backend
          : native || stacked
            ? tf.matMul(g, W, false, true)
            : tf.matMul(g as tf.Tensor2D, tf.transpose(W as tf.Tensor2D));
      if (l > 0) g = reluBackward(da, a);
      else dx = da;
    }
  }
  return { grads, dx };
}

/** MLP forward without any tape (inference). */
export function mlpInfer(x: tf.Tensor2D, params: readonly tf.Tensor[]): tf.Tensor2D {
  return tf.tidy(() => mlpForward(x, params).out as tf.Tensor2D);
}

/**
 * A frozen MLP (a trained critic used by policy extraction): parameters are constants and the
 * transposed weights are computed once (mlpBackward's `Wt`, for gradients w.r.t. the input only).
 */
export class FrozenMlp {
  readonly params: tf.Tensor[];
  /** Transposed weights, computed once (the backward's dx = g·Wᵀ without a transpose per step). */
  readonly Wt: tf.Tensor2D[];

  constructor(params: readonly tf.Tensor[]) {
    this.params = params.map((p) => tf.keep(p.clone()));
    this.Wt = this.params.filter((_, i) => i % 2 === 0).map((W) => tf.keep(tf.transpose(W as tf.Tensor2D)));
  }

  /** Forward without tape. */
  infer(x: tf.Tensor2D): tf.Tensor2D {
    return mlpInfer(x, this.params);
  }

  dispose(): void {
    for (const t of [...this.params, ...this.Wt]) t.dispose();
  }
}

// ---------------------------------------------------------------------------------------------
// Flat parameter vectors: a model's parameters live in ONE 1-D tensor so that the optimiser
// and the target update are a handful of big elementwise ops instead of one set per tensor.

/** Describes how a flat parameter vector splits into named, shaped tensors. */
export class ParamLayout {
  readonly names: string[];
  readonly shapes: number[][];
  readonly sizes: number[];
  readonly offsets: number[];
  readonly total: number;

  constructor(entries: ReadonlyArray<{ name: string; shape: number[] }>) {
    this.names = entries.map((e) => e.name);
    this.shapes = entries.map((e) => e.shape.slice());
    this.sizes = this.shapes.map(sizeOf);
    this.offsets = [];
    let o = 0;
    for (const s of this.sizes) {
      this.offsets.push(o);
      o += s;
    }
    this.total = o;
  }

  /** Layout of several MLPs one after the other, names prefixed `prefix/l0/W`... */
  static ofMlps(nets: ReadonlyArray<{ prefix: string; sizes: readonly number[] }>, extra: ReadonlyArray<{ name: string; shape: number[] }> = []): ParamLayout {
    const entries: Array<{ name: string; shape: number[] }> = [];
    for (const n of nets) {
      const shapes = mlpShapes(n.sizes);
      mlpNames(n.sizes).forEach((name, i) => entries.push({ name: `${n.prefix}/${name}`, shape: shapes[i]! }));
    }
    return new ParamLayout([...entries, ...extra]);
  }

  index(name: string): number {
    const i = this.names.indexOf(name);
    if (i < 0) throw new Error(`ParamLayout: no parameter '${name}'`);
    return i;
  }

  /** Split a flat tensor into shaped tensors (differentiable: split's gradient is a concat). */
  unpack(flat: tf.Tensor1D): tf.Tensor[] {
    const parts = tf.split(flat, this.sizes);
    return parts.map((p, i) => (this.shapes[i]!.length === 1 ? p : tf.reshape(p, this.shapes[i]!)));
  }

  /** Pack per-parameter arrays into one flat Float32Array. */
  packArrays(arrays: readonly Float32Array[]): Float32Array {
    if (arrays.length !== this.sizes.length) throw new Error(`ParamLayout.pack: expected ${this.sizes.length} arrays, got ${arrays.length}`);
    const flat = new Float32Array(this.total);
    arrays.forEach((a, i) => {
      if (a.length !== this.sizes[i]) throw new Error(`ParamLayout.pack: '${this.names[i]}' has ${a.length} values, expected ${this.sizes[i]}`);
      flat.set(a, this.offsets[i]);
    });
    return flat;
  }

  /** Views (copies) of each parameter in a flat Float32Array. */
  unpackArrays(flat: Float32Array): Float32Array[] {
    if (flat.length !== this.total) throw new Error(`ParamLayout: flat vector has ${flat.length} values, expected ${this.total}`);
    return this.sizes.map((s, i) => flat.slice(this.offsets[i]!, this.offsets[i]! + s));
  }

  /** Indices [start, end) of a contiguous range of parameters whose names start with prefix. */
  range(prefix: string): [number, number] {
    const idx = this.names.map((n, i) => (n.startsWith(prefix) ? i : -1)).filter((i) => i >= 0);
    if (idx.length === 0) throw new Error(`ParamLayout: no parameters under '${prefix}'`);
    const first = idx[0]!;
    const last = idx[idx.length - 1]!;
    if (last - first + 1 !== idx.length) throw new Error(`ParamLayout: '${prefix}' is not contiguous`);
    return [this.offsets[first]!, this.offsets[last]! + this.sizes[last]!];
  }
}

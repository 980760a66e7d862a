/**
 * MLPs with a hand-written backward pass and no autograd tape: the training steps (iql.ts,
 * extract.ts) run `mlpForward`, compute dL/d(out) from their loss by hand, and backpropagate with
 * `mlpBackward` into per-parameter gradients (and dL/dx where asked).
 *
 * Why: tfjs autograd records every op and its matmul gradient uses transposed operands, which the
 * wasm backend runs on a slow scalar loop instead of XNNPACK (≈4x slower end to end when measured;
 * bench/tfjs-node-findings.md compares the variants).
 * The backward here picks its kernels per backend.
 *
 * Architecture (`MlpArch`): each hidden layer is
 *
 *   z = x·W + b,   n = LN(z) = (z − mean(z))/√(var(z) + 1e-6) ⊙ γ + β  (only with layerNorm),
 *   h = act(n)     act ∈ relu | mish (n·tanh(softplus(n))) | gelu (tanh approximation)
 *
 * and the output layer is linear. This is the order of the note's JAX code (kvfrans/rlbase_stable
 * utils/networks.py MLP: Dense → LayerNorm → activation), with flax's LayerNorm ε = 1e-6 (PyTorch's
 * default is 1e-5) and jax.nn.gelu's default tanh approximation
 * 0.5·n·(1 + tanh(√(2/π)·(n + 0.044715·n³))) (PyTorch's nn.GELU default is the exact erf form).
 * Variance is the biased one (divide by the width), as both frameworks. The backward:
 *
 *   output/any layer   dW = xᵀ·dz,  db = Σ_rows dz,  dx = dz·Wᵀ
 *   activation         dn = dh ⊙ act'(n):  relu 1[n > 0];  mish t + n·(1 − t²)·σ(n), t = tanh(softplus(n));
 *                      gelu ½(1 + T) + ½·n·(1 − T²)·√(2/π)·(1 + 3·0.044715·n²), T the forward's tanh
 *   LayerNorm          dγ = Σ_rows dn ⊙ x̂,  dβ = Σ_rows dn,  g = dn ⊙ γ,
 *                      dz = r ⊙ (g − mean(g) − x̂ ⊙ mean(g ⊙ x̂)),  x̂ = (z − mean z)·r,  r = 1/√(var z + ε)
 *
 * Parameters of an MLP with sizes [in, h1, ..., out] are the list [W0, b0, (γ0, β0,) W1, b1, ...]:
 * W_l of shape [size_l, size_{l+1}], b_l, γ_l, β_l of shape [size_{l+1}]; γ/β only on hidden layers
 * with layerNorm. The plain ReLU net (no LayerNorm) runs exactly the kernels it always ran.
 */
import * as tf from '@tensorflow/tfjs';
import type { Rng } from '../rng.js';

export type Activation = 'relu' | 'mish' | 'gelu';
export const ACTIVATIONS: readonly Activation[] = ['relu', 'mish', 'gelu'];

/** What a hidden layer does after its linear map (sizes are given separately). */
export interface MlpArch {
  activation: Activation;
  /** LayerNorm (learned gain γ and bias β) between each hidden linear layer and its activation. */
  layerNorm: boolean;
}

/** The default net: ReLU, no LayerNorm (what every artifact without architecture metadata is). */
export const PLAIN_RELU: Readonly<MlpArch> = Object.freeze({ activation: 'relu', layerNorm: false });

/** LayerNorm's ε inside the square root: flax.linen.LayerNorm's default (the note's code). */
export const LAYER_NORM_EPS = 1e-6;

function isPlain(arch: MlpArch): boolean {
  return arch.activation === 'relu' && !arch.layerNorm;
}

/** Parameter tensors per hidden layer: W, b (+ γ, β with LayerNorm). */
function perHidden(arch: MlpArch): number {
  return arch.layerNorm ? 4 : 2;
}

/** Number of linear layers of an MLP given its parameter count. */
export function linearLayerCount(nParams: number, arch: MlpArch = PLAIN_RELU): number {
  const L = (nParams - 2) / perHidden(arch) + 1;
  if (!Number.isInteger(L) || L < 1) throw new Error(`mlp: ${nParams} parameter tensors do not fit ${JSON.stringify(arch)}`);
  return L;
}

/** Shapes of [W0, b0, (γ0, β0,) W1, b1, ...] for layer sizes [in, h1, ..., out]. */
export function mlpShapes(sizes: readonly number[], arch: MlpArch = PLAIN_RELU): number[][] {
  if (sizes.length < 2) throw new Error(`mlp needs at least [in, out], got ${JSON.stringify(sizes)}`);
  const shapes: number[][] = [];
  for (let l = 0; l + 1 < sizes.length; l++) {
    const out = sizes[l + 1]!;
    shapes.push([sizes[l]!, out], [out]);
    if (arch.layerNorm && l + 2 < sizes.length) shapes.push([out], [out]);
  }
  return shapes;
}

/** Parameter names matching mlpShapes: `l0/W, l0/b, (l0/ln_scale, l0/ln_bias,) l1/W, ...`. */
export function mlpNames(sizes: readonly number[], arch: MlpArch = PLAIN_RELU): string[] {
  const names: string[] = [];
  for (let l = 0; l + 1 < sizes.length; l++) {
    names.push(`l${l}/W`, `l${l}/b`);
    if (arch.layerNorm && l + 2 < sizes.length) names.push(`l${l}/ln_scale`, `l${l}/ln_bias`);
  }
  return names;
}

/** The architecture as table metadata (what checkpoints and artifacts record). */
export function archMetadata(arch: MlpArch): { activation: Activation; layerNorm: boolean } {
  return { activation: arch.activation, layerNorm: arch.layerNorm };
}

/**
 * The architecture recorded in table metadata (keys `activation`, `layerNorm`, prefixed with
 * `prefix` where a table holds several nets); a table without them is the plain ReLU net.
 */
export function archFromMetadata(meta: Record<string, unknown>, what: string, prefix = ''): MlpArch {
  const act = meta[`${prefix}activation`] ?? 'relu';
  const ln = meta[`${prefix}layerNorm`] ?? false;
  if (!ACTIVATIONS.includes(act as Activation)) throw new Error(`${what}: metadata '${prefix}activation' is ${JSON.stringify(act)}, expected one of ${ACTIVATIONS.join(', ')}`);
  if (typeof ln !== 'boolean') throw new Error(`${what}: metadata '${prefix}layerNorm' is ${JSON.stringify(ln)}, expected true or false`);
  return { activation: act as Activation, layerNorm: ln };
}

export function sizeOf(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/**
 * Deterministic init from an Rng, as PyTorch's nn.Linear default (what CORL's IQL uses):
 * W and b ~ U(−1/√fan_in, 1/√fan_in). `lastLayerScale` multiplies the output layer (e.g. a
 * small policy head). LayerNorm gains start at 1 and biases at 0 and draw nothing from the
 * stream, so the linear layers get the same values with or without LayerNorm. Returns one
 * Float32Array per parameter, in mlpShapes order.
 */
export function initMlp(sizes: readonly number[], rng: Rng, lastLayerScale = 1, arch: MlpArch = PLAIN_RELU): Float32Array[] {
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
    if (arch.layerNorm && l < L - 1) out.push(new Float32Array(sizes[l + 1]!).fill(1), new Float32Array(sizes[l + 1]!));
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

/** What a non-plain hidden layer keeps for its backward. */
interface HiddenCache {
  /** Input of the activation (n: the LayerNorm output, or z without LayerNorm). */
  pre: tf.Tensor;
  /** mish: tanh(softplus(n)); gelu: the tanh of its approximation; relu: null. */
  aux: tf.Tensor | null;
  /** LayerNorm: normalised z and 1/√(var + ε) [.., 1]; null without LayerNorm. */
  xhat: tf.Tensor | null;
  rstd: tf.Tensor | null;
}

/** Activations [x, a1, ..., a_{L-1}] and the output of one forward pass. */
export interface MlpPass {
  acts: tf.Tensor[];
  out: tf.Tensor;
  arch: MlpArch;
  /** Per hidden layer, what its backward needs beyond `acts` (absent for the plain ReLU net). */
  hidden?: HiddenCache[];
}

const GELU_K = Math.sqrt(2 / Math.PI);
const GELU_C = 0.044715;

/** act(n) and what its derivative needs. */
function activationForward(n: tf.Tensor, activation: Activation): { h: tf.Tensor; aux: tf.Tensor | null } {
  if (activation === 'relu') return { h: tf.relu(n), aux: null };
  if (activation === 'mish') {
    const t = tf.tanh(tf.softplus(n));
    return { h: tf.mul(n, t), aux: t };
  }
  // gelu, tanh approximation: T = tanh(k·n·(1 + c·n²)), h = ½·n·(1 + T)
  const T = tf.tanh(tf.mul(n, tf.add(tf.mul(tf.square(n), GELU_K * GELU_C), GELU_K)));
  return { h: tf.mul(tf.mul(n, 0.5), tf.add(T, 1)), aux: T };
}

/** dL/dn from dL/dh (see the header for each derivative). */
function activationBackward(dh: tf.Tensor, h: tf.Tensor, c: HiddenCache, activation: Activation): tf.Tensor {
  if (activation === 'relu') return reluBackward(dh, h);
  const n = c.pre;
  const t = c.aux!;
  const sech2 = tf.sub(1, tf.square(t));
  if (activation === 'mish') return tf.mul(dh, tf.add(t, tf.mul(tf.mul(n, sech2), tf.sigmoid(n))));
  const dInner = tf.add(tf.mul(tf.square(n), 3 * GELU_K * GELU_C), GELU_K);
  return tf.mul(dh, tf.add(tf.mul(tf.add(t, 1), 0.5), tf.mul(tf.mul(tf.mul(n, 0.5), sech2), dInner)));
}

/** One linear layer x·W + b (+ ReLU when `relu`): the same kernels the plain net always ran. */
function linear(h: tf.Tensor, W: tf.Tensor, b: tf.Tensor, native: boolean, relu: boolean): tf.Tensor {
  if (!native && W.rank === 2) {
    return tf.fused.matMul({ a: h as tf.Tensor2D, b: W as tf.Tensor2D, bias: b, activation: relu ? 'relu' : 'linear' });
  }
  // tfjs-node's _FusedMatMul is these three kernels behind two extra JS layers.
  const z = tf.add(tf.matMul(h, W), b);
  return relu ? tf.relu(z) : z;
}

/** Σ over the batch rows: [B, n] → [n] (wasm: untransposed ones·g), stacked [k, B, n] → [k, 1, n]. */
function rowSum(g: tf.Tensor, native: boolean, stacked: boolean): tf.Tensor {
  return native || stacked ? tf.sum(g, g.rank - 2, stacked) : columnSum(g as tf.Tensor2D);
}

/**
 * Forward keeping the activations. Either one net (x [B, in], W [in, out], b [out]) or a stack
 * of k nets evaluated as batched matmuls (W [k, in, out], b/γ/β [k, 1, out]; x [B, in] shared by
 * all k, or [k, B, in]); output [B, out] or [k, B, out]. Records nothing on a tape.
 */
export function mlpForward(x: tf.Tensor, params: readonly tf.Tensor[], arch: MlpArch = PLAIN_RELU, native = isNativeBackend()): MlpPass {
  const plain = isPlain(arch);
  const k = perHidden(arch);
  const L = linearLayerCount(params.length, arch);
  const acts: tf.Tensor[] = [x];
  const hidden: HiddenCache[] = [];
  let h = x;
  for (let l = 0; l < L; l++) {
    const i = l * k;
    const isHidden = l < L - 1;
    h = linear(h, params[i]!, params[i + 1]!, native, plain && isHidden);
    if (!isHidden) break;
    if (!plain) {
      let xhat: tf.Tensor | null = null;
      let rstd: tf.Tensor | null = null;
      let n = h;
      if (arch.layerNorm) {
        const d = tf.sub(h, tf.mean(h, -1, true));
        rstd = tf.rsqrt(tf.add(tf.mean(tf.square(d), -1, true), LAYER_NORM_EPS));
        xhat = tf.mul(d, rstd);
        n = tf.add(tf.mul(xhat, params[i + 2]!), params[i + 3]!);
      }
      const act = activationForward(n, arch.activation);
      hidden.push({ pre: n, aux: act.aux, xhat, rstd });
      h = act.h;
    }
    acts.push(h);
  }
  return plain ? { acts, out: h, arch } : { acts, out: h, arch, hidden };
}

/**
 * Backward of mlpForward given dL/d(out) (same shape as out). Returns the parameter gradients
 * in params order and, with `inputGrad`, dL/dx (x [B, in] shared by a stack gets [k, B, in]).
 * `Wt`: transposed weights of the linear layers to reuse (frozen nets, wasm only).
 */
export function mlpBackward(
  dy: tf.Tensor,
  pass: MlpPass,
  params: readonly tf.Tensor[],
  opts: { inputGrad?: boolean; paramGrads?: boolean; native?: boolean; Wt?: readonly tf.Tensor[] } = {},
): { grads: tf.Tensor[]; dx: tf.Tensor | null } {
  const native = opts.native ?? isNativeBackend();
  const paramGrads = opts.paramGrads ?? true;
  const { arch } = pass;
  const k = perHidden(arch);
  const L = linearLayerCount(params.length, arch);
  const grads: tf.Tensor[] = new Array(params.length);
  let g = dy;
  let dx: tf.Tensor | null = null;
  for (let l = L - 1; l >= 0; l--) {
    const a = pass.acts[l]!;
    const i = l * k;
    const W = params[i]!;
    const stacked = W.rank === 3;
    if (paramGrads) {
      grads[i] =
        native || stacked
          ? tf.matMul(a, g, true, false) // aᵀ·g; a [B, in] broadcasts over a stack
          : tf.matMul(tf.transpose(a as tf.Tensor2D), g as tf.Tensor2D); // untransposed: XNNPACK
      grads[i + 1] = rowSum(g, native, stacked);
    }
    if (l > 0 || opts.inputGrad) {
      const Wt = opts.Wt?.[l];
      const da =
        Wt && !stacked
          ? tf.matMul(g, Wt) // cached transpose: untransposed on every backend
          : native || stacked
            ? tf.matMul(g, W, false, true)
            : tf.matMul(g as tf.Tensor2D, tf.transpose(W as tf.Tensor2D));
      if (l === 0) dx = da;
      else if (!pass.hidden) g = reluBackward(da, a);
      else g = hiddenBackward(da, a, pass.hidden[l - 1]!, params, (l - 1) * k, arch, grads, paramGrads ? { native, stacked } : null);
    }
  }
  return { grads, dx };
}

/**
 * dL/dz of hidden layer j from dL/dh (h its output, c its cache); with LayerNorm also writes
 * dγ, dβ into grads[i + 2], grads[i + 3] (i: index of the layer's W) unless `sum` is null.
 */
function hiddenBackward(
  dh: tf.Tensor,
  h: tf.Tensor,
  c: HiddenCache,
  params: readonly tf.Tensor[],
  i: number,
  arch: MlpArch,
  grads: tf.Tensor[],
  sum: { native: boolean; stacked: boolean } | null,
): tf.Tensor {
  const dn = activationBackward(dh, h, c, arch.activation);
  if (!arch.layerNorm) return dn;
  const xhat = c.xhat!;
  if (sum) {
    grads[i + 2] = rowSum(tf.mul(dn, xhat), sum.native, sum.stacked);
    grads[i + 3] = rowSum(dn, sum.native, sum.stacked);
  }
  const gx = tf.mul(dn, params[i + 2]!);
  const centred = tf.sub(gx, tf.mean(gx, -1, true));
  return tf.mul(tf.sub(centred, tf.mul(xhat, tf.mean(tf.mul(gx, xhat), -1, true))), c.rstd!);
}

/** MLP forward without any tape (inference). */
export function mlpInfer(x: tf.Tensor2D, params: readonly tf.Tensor[], arch: MlpArch = PLAIN_RELU): tf.Tensor2D {
  return tf.tidy(() => mlpForward(x, params, arch).out as tf.Tensor2D);
}

/**
 * A frozen MLP (a trained critic used by policy extraction): parameters are constants and the
 * transposed weights are computed once (mlpBackward's `Wt`, for gradients w.r.t. the input only).
 */
export class FrozenMlp {
  readonly params: tf.Tensor[];
  readonly arch: MlpArch;
  /** Transposed weights of the linear layers, computed once (the backward's dx = g·Wᵀ without a transpose per step). */
  readonly Wt: tf.Tensor2D[];

  constructor(params: readonly tf.Tensor[], arch: MlpArch = PLAIN_RELU) {
    this.arch = { ...arch };
    const k = perHidden(arch);
    const L = linearLayerCount(params.length, arch);
    this.params = params.map((p) => tf.keep(p.clone()));
    this.Wt = Array.from({ length: L }, (_, l) => tf.keep(tf.transpose(this.params[l * k] as tf.Tensor2D)));
  }

  /** Forward without tape. */
  infer(x: tf.Tensor2D): tf.Tensor2D {
    return mlpInfer(x, this.params, this.arch);
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
  static ofMlps(
    nets: ReadonlyArray<{ prefix: string; sizes: readonly number[]; arch?: MlpArch }>,
    extra: ReadonlyArray<{ name: string; shape: number[] }> = [],
  ): ParamLayout {
    const entries: Array<{ name: string; shape: number[] }> = [];
    for (const n of nets) {
      const shapes = mlpShapes(n.sizes, n.arch);
      mlpNames(n.sizes, n.arch).forEach((name, i) => entries.push({ name: `${n.prefix}/${name}`, shape: shapes[i]! }));
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

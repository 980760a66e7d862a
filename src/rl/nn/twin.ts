/**
 * Twin MLPs (IQL's Q1 and Q2: the same sizes, separate weights) laid out so that they run as one
 * net on the native backend.
 *
 * Memory layout. In a flat parameter vector the twins are interleaved per tensor
 * (q1/l0/W, q2/l0/W, q1/l0/b, q2/l0/b, q1/l1/W, ...), so each pair is one contiguous block that
 * reads as a stacked tensor: W [2, in, out], b/γ/β [2, 1, out]. On tfjs-node a layer of both
 * twins is then one batched matmul (mlpForward/mlpBackward on stacked parameters). On wasm/cpu,
 * where batched matmuls are slow, the same vector splits into one tensor per parameter and the
 * twins run one after the other. Checkpoints keep one net after the other (`reorderParams`
 * converts between the two orders by name).
 */
import * as tf from '@tensorflow/tfjs';
import { mlpBackward, mlpForward, mlpNames, mlpShapes, ParamLayout, sizeOf, type MlpArch, type MlpPass } from './dense.js';

/** A piece of a flat vector: its length and the shape it is viewed as. */
export interface Piece {
  size: number;
  shape: number[];
}

/** The stacked shape of a twin pair of tensors of shape `shape`: W [2, in, out], vectors [2, 1, n]. */
export function stackedShape(shape: readonly number[]): number[] {
  return shape.length === 2 ? [2, ...shape] : [2, 1, shape[0]!];
}

/** Q1 and Q2 parameter lists stacked per tensor (the layout of `TwinMlp` on native). */
export function stackTwinParams(a: readonly tf.Tensor[], b: readonly tf.Tensor[]): tf.Tensor[] {
  return a.map((p, i) => (p.rank === 2 ? tf.stack([p, b[i]!]) : tf.reshape(tf.stack([p, b[i]!]), stackedShape(p.shape))));
}

/** Split a flat vector into the given pieces (shaped; 1-D pieces stay 1-D). */
export function splitPieces(flat: tf.Tensor1D, pieces: readonly Piece[]): tf.Tensor[] {
  return tf.split(flat, pieces.map((p) => p.size)).map((t, i) => (pieces[i]!.shape.length === 1 ? t : tf.reshape(t, pieces[i]!.shape)));
}

/** Pieces of a layout, one per parameter. */
export function layoutPieces(layout: ParamLayout): Piece[] {
  return layout.shapes.map((sh) => ({ size: sizeOf(sh), shape: sh }));
}

/** Reorder a flat vector between two layouts holding the same names. */
export function reorderParams(from: ParamLayout, to: ParamLayout, flat: Float32Array): Float32Array {
  const parts = from.unpackArrays(flat);
  return to.packArrays(to.names.map((n) => parts[from.index(n)]!));
}

export class TwinMlp {
  /** The twins' parameters in memory order: interleaved per tensor, names `${prefix}/l0/W`. */
  readonly entries: Array<{ name: string; shape: number[] }>;
  /** How the twins' block of a flat vector splits: stacked pairs (native) or one piece per tensor. */
  readonly pieces: Piece[];

  constructor(
    sizes: readonly number[],
    readonly arch: MlpArch,
    /** Run the twins as stacked nets (batched matmuls): the native backend's choice. */
    readonly stacked: boolean,
    readonly prefixes: readonly [string, string] = ['q1', 'q2'],
  ) {
    const shapes = mlpShapes(sizes, arch);
    this.entries = mlpNames(sizes, arch).flatMap((n, i) => prefixes.map((p) => ({ name: `${p}/${n}`, shape: shapes[i]! })));
    this.pieces = stacked ? shapes.map((sh) => ({ size: 2 * sizeOf(sh), shape: stackedShape(sh) })) : this.entries.map((e) => ({ size: sizeOf(e.shape), shape: e.shape }));
  }

  /** Both twins on x: outputs stacked [2, B, out], and what the backward needs. `params`: the split pieces. */
  forward(x: tf.Tensor, params: readonly tf.Tensor[]): { out: tf.Tensor; passes: MlpPass[] } {
    if (this.stacked) {
      const pass = mlpForward(x, params, this.arch, true);
      return { out: pass.out, passes: [pass] };
    }
    const [p1, p2] = this.unzip(params);
    const a = mlpForward(x, p1, this.arch, false);
    const b = mlpForward(x, p2, this.arch, false);
    return { out: tf.stack([a.out, b.out]), passes: [a, b] };
  }

  /** Parameter gradients in memory order (the pieces' order) from dL/d(out) stacked [2, B, out]. */
  backward(dy: tf.Tensor, passes: readonly MlpPass[], params: readonly tf.Tensor[]): tf.Tensor[] {
    if (this.stacked) return mlpBackward(dy, passes[0]!, params, { native: true }).grads;
    const [p1, p2] = this.unzip(params);
    const [d1, d2] = tf.unstack(dy);
    const g1 = mlpBackward(d1!, passes[0]!, p1, { native: false }).grads;
    const g2 = mlpBackward(d2!, passes[1]!, p2, { native: false }).grads;
    return g1.flatMap((g, i) => [g, g2[i]!]);
  }

  /** Interleaved per-tensor pieces → the two nets' parameter lists. */
  private unzip(params: readonly tf.Tensor[]): [tf.Tensor[], tf.Tensor[]] {
    return [params.filter((_, i) => i % 2 === 0), params.filter((_, i) => i % 2 === 1)];
  }
}

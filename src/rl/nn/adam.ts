/**
 * Adam over ONE flat parameter vector (all of a model's parameters concatenated, see
 * ParamLayout): ~12 elementwise ops per step regardless of how many tensors the model has.
 * Same update as torch.optim.Adam (bias-corrected, ε added to √v̂):
 *
 *   m ← β1·m + (1−β1)·g,  v ← β2·v + (1−β2)·g²
 *   θ ← θ − lr · (m / (1−β1^t)) / (√(v / (1−β2^t)) + ε)
 *
 * Also the Polyak (soft) target update used by IQL: θ' ← θ' + τ·(θ − θ').
 * The optimiser owns θ, m, v (kept tensors): `step` disposes the old ones.
 */
import * as tf from '@tensorflow/tfjs';

export interface AdamConfig {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
}

export const ADAM_DEFAULTS: AdamConfig = { lr: 3e-4, beta1: 0.9, beta2: 0.999, eps: 1e-8 };

export class FlatAdam {
  theta: tf.Tensor1D;
  m: tf.Tensor1D;
  v: tf.Tensor1D;
  /** Number of updates applied so far. */
  t = 0;
  readonly config: AdamConfig;
  /** β1, 1−β1, β2, 1−β2 as kept scalars: a number operand costs a tensor upload per op. */
  private readonly k: tf.Scalar[];

  constructor(theta: Float32Array | tf.Tensor1D, config: Partial<AdamConfig> = {}) {
    this.config = { ...ADAM_DEFAULTS, ...config };
    this.theta = tf.keep(theta instanceof tf.Tensor ? theta.clone() : tf.tensor1d(theta, 'float32'));
    this.m = tf.keep(tf.zerosLike(this.theta));
    this.v = tf.keep(tf.zerosLike(this.theta));
    const { beta1, beta2 } = this.config;
    this.k = [beta1, 1 - beta1, beta2, 1 - beta2].map((x) => tf.keep(tf.scalar(x, 'float32')));
  }

  get size(): number {
    return this.theta.size;
  }

  /**
   * Apply one update with gradient g (same length as θ); lr overrides config.lr (schedules).
   * `lrScale` (same length as θ) multiplies the step per element: parameter groups with their own
   * learning rate in one flat vector (IQL's valueLr ≠ criticLr). Scaling g instead would do
   * nothing — Adam's step is invariant to the gradient's scale.
   */
  step(g: tf.Tensor1D, lr: number = this.config.lr, lrScale?: tf.Tensor1D): void {
    const { beta1, beta2 } = this.config;
    const [b1, c1, b2, c2] = this.k as [tf.Scalar, tf.Scalar, tf.Scalar, tf.Scalar];
    const { eps } = this.config;
    this.t += 1;
    const bc1 = 1 - Math.pow(beta1, this.t);
    const bc2 = 1 - Math.pow(beta2, this.t);
    // m̂/(√v̂ + ε) = m·(√bc2/bc1)/(√v + ε·√bc2): the bias corrections fold into two scalars.
    const sbc2 = Math.sqrt(bc2);
    const [theta, m, v] = tf.tidy(() => {
      const m = tf.add(tf.mul(this.m, b1), tf.mul(g, c1));
      const v = tf.add(tf.mul(this.v, b2), tf.mul(tf.square(g), c2));
      const delta = tf.mul(tf.div(m, tf.add(tf.sqrt(v), eps * sbc2)), (lr * sbc2) / bc1);
      const theta = tf.sub(this.theta, lrScale ? tf.mul(delta, lrScale) : delta);
      return [theta, m, v] as tf.Tensor1D[];
    });
    this.theta.dispose();
    this.m.dispose();
    this.v.dispose();
    this.theta = tf.keep(theta!);
    this.m = tf.keep(m!);
    this.v = tf.keep(v!);
  }

  /** Replace state (checkpoint restore). */
  setState(theta: Float32Array, m: Float32Array, v: Float32Array, t: number): void {
    if (theta.length !== this.size || m.length !== this.size || v.length !== this.size) {
      throw new Error(`FlatAdam.setState: expected ${this.size} values each`);
    }
    this.theta.dispose();
    this.m.dispose();
    this.v.dispose();
    this.theta = tf.keep(tf.tensor1d(theta, 'float32'));
    this.m = tf.keep(tf.tensor1d(m, 'float32'));
    this.v = tf.keep(tf.tensor1d(v, 'float32'));
    this.t = t;
  }

  dispose(): void {
    this.theta.dispose();
    this.m.dispose();
    this.v.dispose();
    for (const k of this.k) k.dispose();
  }
}

/** θ' + τ·(θ − θ') as a new tensor (caller disposes the old target). */
export function polyak(target: tf.Tensor1D, online: tf.Tensor1D, tau: number): tf.Tensor1D {
  return tf.tidy(() => tf.add(target, tf.mul(tf.sub(online, target), tau)));
}

/** Cosine decay to 0 over `total` steps (optax.cosine_decay_schedule, alpha 0). */
export function cosineLr(base: number, step: number, total: number): number {
  if (total <= 0) return base;
  const t = Math.min(Math.max(step, 0), total);
  return base * 0.5 * (1 + Math.cos((Math.PI * t) / total));
}

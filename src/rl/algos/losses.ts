/**
 * The objectives of IQL and of the policy extractions, each written twice, side by side:
 *
 *  - the plain loss (`fooLoss`): the objective as tf ops that autograd can differentiate — its
 *    definition, which the reference tests differentiate with tf.grad;
 *  - its hand-derived gradient (`fooLossGrad`): what the training steps run. It returns the loss
 *    value and dL/d(the network's output) without a tape (the nets backpropagate it with
 *    nn/dense.ts mlpBackward), plus the intermediate tensors the steps report as metrics.
 *
 * B is the batch size; every mean is over the batch. losses.test.ts checks each gradient against
 * autograd of its plain loss; the step tests (iql.test.ts, extract.test.ts) check whole steps.
 *
 *   IQL value (expectile)   L_V = mean_b L₂^τ(u_b),  u = Q̂(s,a) − V(s),  L₂^τ(u) = |τ − 1(u ≤ 0)|·u²
 *                           dL/dV = −2·|τ − 1(u ≤ 0)|·u / B
 *   IQL Q (TD)              L_Q = mean_b (Q(s,a) − y)²  per twin,  y = r + γ(1 − d)·V(s')
 *                           dL/dQ = 2·(Q − y) / B
 *   AWR, Gaussian head      L = −mean_b w_b · log N(a_b | μ_b, σ²),  μ = tanh(o),  log σ = clip(ℓ, lo, hi)
 *                           dL/do = −(w/B)·(a − μ)/σ²·(1 − μ²),  dL/dℓ_d = (Σ_b w_b − Σ_b w_b z²_bd)/B  (0 outside the clip)
 *   AWR, discretised head   L = −mean_b w_b · Σ_d log softmax(o_bd)[bin_bd]
 *                           dL/do = (w/B)·(softmax(o) − onehot(bin))
 *   DDPG(+BC)               L = −λ·mean_b Q(s, π) + α·mean_b ‖π − a‖²,  π = tanh(o),  λ = 1 or 1/mean_b |Q| (a constant)
 *                           dL/do = (−λ·∂Q/∂π / B + 2α(π − a)/B)·(1 − π²)   (∂Q/∂π from the frozen critic)
 *
 * The gradient functions keep the exact op sequence the steps have always run (the pinned digests
 * of the training steps depend on it), so a value such as L_V is computed as mean(w·u · u) there.
 */
import * as tf from '@tensorflow/tfjs';

// ---------------------------------------------------------------------------------------------
// Building blocks of the plain losses (inputs [B, 1] or [B])

/** Mean squared TD error: mean((q − y)²). */
export function tdLoss(q: tf.Tensor, y: tf.Tensor): tf.Scalar {
  return tf.mean(tf.square(tf.sub(q, y)));
}

/**
 * IQL expectile loss on diff = Q(s,a) − V(s): mean(|τ − 1(diff ≤ 0)| · diff²), i.e. weight τ
 * where diff > 0 and 1 − τ elsewhere (as the official code's where(diff > 0, τ, 1 − τ)).
 */
export function expectileLoss(diff: tf.Tensor, tau: number): tf.Scalar {
  const w = tf.add(tf.mul(tf.step(diff), 2 * tau - 1), 1 - tau);
  return tf.mean(tf.mul(w, tf.square(diff)));
}

/** Exponentiated-advantage weights min(exp(β·adv), maxWeight). */
export function awrWeights(adv: tf.Tensor, beta: number, maxWeight: number): tf.Tensor {
  return tf.minimum(tf.exp(tf.mul(adv, beta)), maxWeight);
}

/**
 * Diagonal Gaussian log-density per row: Σ_d −½((a−μ)/σ)² − log σ − ½ log 2π.
 * mean, act: [B, D]; logStd: [D] or [B, D]. Returns [B].
 */
export function gaussianLogProb(mean: tf.Tensor2D, logStd: tf.Tensor, act: tf.Tensor2D): tf.Tensor1D {
  const z = tf.mul(tf.sub(act, mean), tf.exp(tf.neg(logStd)));
  const perDim = tf.sub(tf.mul(tf.square(z), -0.5), tf.add(logStd, 0.5 * Math.log(2 * Math.PI)));
  return tf.sum(perDim, 1) as tf.Tensor1D;
}

/** Weighted negative log-likelihood: −mean(w · logp). */
export function weightedNll(logp: tf.Tensor, w: tf.Tensor): tf.Scalar {
  return tf.neg(tf.mean(tf.mul(tf.reshape(w, [-1]), tf.reshape(logp, [-1]))));
}

/**
 * Factorised categorical log-likelihood of the data bins: logits [B, D, K], bins [B, D] int32.
 * Returns Σ_d log softmax(logits)[b, d, bin] per row: [B].
 */
export function categoricalLogProb(logits: tf.Tensor3D, bins: tf.Tensor2D): tf.Tensor1D {
  const K = logits.shape[2];
  const logp = tf.logSoftmax(logits, -1);
  return tf.sum(tf.mul(logp, tf.cast(tf.oneHot(bins, K), 'float32')), [1, 2]) as tf.Tensor1D;
}

/** mean_b Σ_d x²_bd of a [B, D] difference (the behaviour-cloning distance ‖π − a‖²). */
export function meanRowSq(x: tf.Tensor): tf.Scalar {
  return tf.div(tf.sum(tf.square(x)), x.shape[0]!);
}

// ---------------------------------------------------------------------------------------------
// IQL value loss: expectile regression of V on the target nets' min Q

/** L_V = mean_b L₂^τ(qTarget − v); qTarget, v: [B, 1]. */
export function expectileValueLoss(qTarget: tf.Tensor, v: tf.Tensor, tau: number): tf.Scalar {
  return expectileLoss(tf.sub(qTarget, v), tau);
}

/** L_V, dL_V/dv and the advantage u = qTarget − v (the step's diagnostics). */
export function expectileValueLossGrad(qTarget: tf.Tensor, v: tf.Tensor, tau: number): { loss: tf.Scalar; dV: tf.Tensor; u: tf.Tensor } {
  const B = v.shape[0]!;
  const u = tf.sub(qTarget, v);
  // |τ − 1(u ≤ 0)|·u = τ·leakyRelu(u, (1 − τ)/τ): one kernel for the weighted residual.
  const wu = tau > 0 ? tf.mul(tf.leakyRelu(u, (1 - tau) / tau), tau) : tf.mul(tf.add(tf.mul(tf.step(u), 2 * tau - 1), 1 - tau), u);
  return { loss: tf.mean(tf.mul(wu, u)), dV: tf.mul(wu, -2 / B), u };
}

// ---------------------------------------------------------------------------------------------
// IQL Q loss: TD regression of each twin on y = r + γ(1 − d)·V(s')

/** The twins' TD losses [k] and dL/dq for predictions stacked [k, B, 1] against one target y [B, 1]. */
export function tdLossGrad(q: tf.Tensor, y: tf.Tensor): { losses: tf.Tensor1D; dQ: tf.Tensor } {
  const B = y.shape[0]!;
  const e = tf.sub(q, y);
  return { losses: tf.mean(tf.square(e), [1, 2]) as tf.Tensor1D, dQ: tf.mul(e, 2 / B) };
}

// ---------------------------------------------------------------------------------------------
// AWR with a Gaussian head: mean tanh(o), state-independent log σ clipped to [lo, hi]

export interface LogStdClip {
  min: number;
  max: number;
}

/** L = −mean_b w_b · log N(a_b | tanh(o_b), exp(2·clip(ℓ))); o, act [B, D], rawLogStd [D], w [B, 1]. */
export function awrGaussianLoss(out: tf.Tensor, rawLogStd: tf.Tensor, act: tf.Tensor2D, w: tf.Tensor, clip: LogStdClip): tf.Scalar {
  const logStd = tf.clipByValue(rawLogStd, clip.min, clip.max);
  return weightedNll(gaussianLogProb(tf.tanh(out) as tf.Tensor2D, logStd, act), w);
}

/**
 * L, dL/do, dL/dℓ (zero where ℓ is outside the clip), and for the metrics: the clipped log σ,
 * a − μ and Σ_b w_b.
 */
export function awrGaussianLossGrad(
  out: tf.Tensor,
  rawLogStd: tf.Tensor,
  act: tf.Tensor,
  w: tf.Tensor,
  clip: LogStdClip,
): { loss: tf.Scalar; dOut: tf.Tensor; dLogStd: tf.Tensor; logStd: tf.Tensor; diff: tf.Tensor; sumW: tf.Scalar } {
  const B = out.shape[0]!;
  const mean = tf.tanh(out);
  const logStd = tf.clipByValue(rawLogStd, clip.min, clip.max);
  const inClip = tf.cast(tf.logicalAnd(tf.greaterEqual(rawLogStd, clip.min), tf.lessEqual(rawLogStd, clip.max)), 'float32');
  const diff = tf.sub(act, mean);
  const dI = tf.mul(diff, tf.exp(tf.mul(logStd, -2))); // (a − μ)/σ²
  const dOut = tf.mul(tf.mul(dI, tf.mul(w, -1 / B)), tf.sub(1, tf.square(mean)));
  const wz2 = tf.sum(tf.mul(tf.mul(diff, dI), w), 0); // Σ_b w_b z²_bd  [D]
  const sumW = tf.sum(w) as tf.Scalar;
  const dLogStd = tf.mul(tf.div(tf.sub(sumW, wz2), B), inClip);
  const halfLog2Pi = 0.5 * Math.log(2 * Math.PI);
  const loss = tf.div(tf.add(tf.mul(tf.sum(wz2), 0.5), tf.mul(sumW, tf.sum(tf.add(logStd, halfLog2Pi)))), B) as tf.Scalar;
  return { loss, dOut, dLogStd, logStd, diff, sumW };
}

// ---------------------------------------------------------------------------------------------
// AWR with a discretised head: a factorised categorical over the bins of each action dim

/** L = −mean_b w_b · Σ_d log softmax(logits_bd)[bin_bd]; logits [B, D, K], bins [B, D] int32, w [B, 1]. */
export function awrDiscreteLoss(logits: tf.Tensor3D, bins: tf.Tensor2D, w: tf.Tensor): tf.Scalar {
  return weightedNll(categoricalLogProb(logits, bins), w);
}

/** L, dL/dlogits [B, D, K], and the log-probabilities (the step's std and entropy metrics). */
export function awrDiscreteLossGrad(logits: tf.Tensor3D, bins: tf.Tensor, w: tf.Tensor): { loss: tf.Scalar; dLogits: tf.Tensor; logp: tf.Tensor } {
  const [B, , K] = logits.shape;
  const logp = tf.logSoftmax(logits, -1);
  const prob = tf.exp(logp);
  // int32 one-hot then cast: the wasm OneHot kernel ignores a float32 dtype (writes int bits).
  const onehot = tf.cast(tf.oneHot(bins as tf.Tensor2D, K), 'float32');
  const wB = tf.reshape(w, [B, 1, 1]);
  const dLogits = tf.mul(tf.sub(prob, onehot), tf.div(wB, B));
  const loss = tf.div(tf.neg(tf.sum(tf.mul(tf.mul(onehot, logp), wB))), B) as tf.Scalar;
  return { loss, dLogits, logp };
}

// ---------------------------------------------------------------------------------------------
// DDPG(+BC): a deterministic tanh actor through the frozen critic

/**
 * L = −λ · mean Q(s, π(s)) + α · mean_b ‖π(s) − a‖² (squared L2 norm summed over action dims,
 * averaged over the batch; α = 0 is pure DDPG). λ (`qScale`) is a number, a constant of the loss:
 * 1 without Q normalisation, 1/mean_b |Q| with it (computed by the caller outside any gradient,
 * i.e. stop-gradient). q [B, 1] = Q(s, pi), pi and act [B, D].
 */
export function ddpgLoss(q: tf.Tensor, pi: tf.Tensor2D, act: tf.Tensor2D, alpha: number, qScale = 1): tf.Scalar {
  const qTerm = (qScale === 1 ? tf.neg(tf.mean(q)) : tf.mul(tf.mean(q), -qScale)) as tf.Scalar;
  if (alpha === 0) return qTerm;
  return tf.add(qTerm, tf.mul(tf.mean(tf.sum(tf.square(tf.sub(pi, act)), 1)), alpha)) as tf.Scalar;
}

/**
 * L and dL/do for pi = tanh(o), given q = Q(s, pi) and dqda = ∂q_b/∂pi_b from the critic; with
 * `qNormalize` λ = 1/mean_b |q| of this batch, a constant (no gradient through it). Also returns
 * mean Q and the BC distance mean_b ‖π − a‖² (metrics).
 */
export function ddpgLossGrad(
  q: tf.Tensor,
  dqda: tf.Tensor,
  pi: tf.Tensor,
  act: tf.Tensor,
  alpha: number,
  qNormalize: boolean,
): { loss: tf.Scalar; dOut: tf.Tensor; meanQ: tf.Scalar; bcMse: tf.Scalar } {
  const B = pi.shape[0]!;
  const diff = tf.sub(pi, act);
  // −λ/B as a tensor when normalised (λ = 1/mean|q| of this batch), else the plain −1/B.
  const qCoef = qNormalize ? tf.div(-1 / B, tf.mean(tf.abs(q))) : -1 / B;
  const dPi = alpha === 0 ? tf.mul(dqda, qCoef) : tf.add(tf.mul(dqda, qCoef), tf.mul(diff, (2 * alpha) / B));
  const dOut = tf.mul(dPi, tf.sub(1, tf.square(pi)));
  const meanQ = tf.mean(q) as tf.Scalar;
  const bcMse = meanRowSq(diff);
  const qTerm = qNormalize ? tf.mul(tf.sum(q), qCoef) : tf.neg(meanQ);
  const loss = (alpha === 0 ? qTerm : tf.add(qTerm, tf.mul(bcMse, alpha))) as tf.Scalar;
  return { loss, dOut, meanQ, bcMse };
}

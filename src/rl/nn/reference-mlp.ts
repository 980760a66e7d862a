/**
 * The MLP of dense.ts written plainly with tfjs ops, for tests: tfjs autograd differentiates it,
 * so it is the reference the hand-written backward (mlpBackward) is checked against. Nothing
 * here is shared with dense.ts's passes: LayerNorm through tf.moments, mish and gelu by their
 * textbook formulas.
 */
import * as tf from '@tensorflow/tfjs';
import { LAYER_NORM_EPS, PLAIN_RELU, type Activation, type MlpArch } from './dense.js';

export function referenceActivation(x: tf.Tensor, activation: Activation): tf.Tensor {
  if (activation === 'relu') return tf.relu(x);
  if (activation === 'mish') return tf.mul(x, tf.tanh(tf.log1p(tf.exp(x))));
  // gelu, tanh approximation (jax.nn.gelu's default)
  const inner = tf.mul(Math.sqrt(2 / Math.PI), tf.add(x, tf.mul(0.044715, tf.pow(x, 3))));
  return tf.mul(tf.mul(0.5, x), tf.add(1, tf.tanh(inner)));
}

export function referenceLayerNorm(z: tf.Tensor, gain: tf.Tensor, bias: tf.Tensor): tf.Tensor {
  const { mean, variance } = tf.moments(z, -1, true);
  return tf.add(tf.mul(tf.div(tf.sub(z, mean), tf.sqrt(tf.add(variance, LAYER_NORM_EPS))), gain), bias);
}

/**
 * MLP over a parameter list in mlpShapes order ([W0, b0, (γ0, β0,) W1, ...]) with `layers`
 * linear layers; hidden layers: x·W + b → LayerNorm (optional) → activation; linear output.
 */
export function referenceMlp(x: tf.Tensor, params: readonly tf.Tensor[], layers: number, arch: MlpArch = PLAIN_RELU): tf.Tensor {
  let h = x;
  let i = 0;
  for (let l = 0; l < layers; l++) {
    h = tf.add(tf.matMul(h, params[i++]!), params[i++]!);
    if (l === layers - 1) break;
    if (arch.layerNorm) h = referenceLayerNorm(h, params[i++]!, params[i++]!);
    h = referenceActivation(h, arch.activation);
  }
  if (i !== params.length) throw new Error(`referenceMlp: ${params.length} parameters for ${layers} layers of ${JSON.stringify(arch)}`);
  return h;
}

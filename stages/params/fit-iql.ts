/**
 * The `with:` parameters of the fit-iql stage: the JSON Schema the engine validates them against
 * and fills defaults from, and their TypeScript type, derived from it (json-schema-to-ts).
 */
import type { FromSchema, JSONSchema } from 'json-schema-to-ts';
import { backendParam } from './common.js';

export const fitIqlSchema = {
  title: 'fit-iql parameters',
  description: "Implicit Q-Learning (Kostrikov et al. 2021): twin Q with Polyak targets and V by expectile regression. Defaults are the paper's.",
  type: 'object',
  additionalProperties: false,
  properties: {
    steps: { type: 'integer', minimum: 1, default: 1000000, description: 'Gradient steps (paper: 1M).' },
    hidden: { type: 'array', items: { type: 'integer', minimum: 1 }, minItems: 1, default: [256, 256], description: "Hidden layer sizes of Q1, Q2 and V (any depth and width; the note's code: [512, 512, 512])." },
    activation: { enum: ['relu', 'mish', 'gelu'], default: 'relu', description: "Hidden-layer activation of Q1, Q2 and V: relu; mish = x·tanh(softplus(x)) (the note's code); gelu in its tanh approximation (jax.nn.gelu's default, not PyTorch's exact erf form)." },
    layer_norm: { type: 'boolean', default: false, description: "LayerNorm with learned gain and bias after each hidden linear layer, before the activation (the note's code; flax's ε = 1e-6). Gains start at 1, biases at 0." },
    normalize_observations: { type: 'boolean', default: false, description: "Standardise observations by the dataset's statistics, (s − mean)/(std + 1e-3) per dimension (CORL's normalize: true; population std of the dataset's observations). The critic artifact stores the statistics; extraction, evaluation and diagnosis apply them to raw observations." },
    batch_size: { type: 'integer', minimum: 1, default: 256 },
    discount: { type: 'number', minimum: 0, maximum: 1, default: 0.99 },
    target_tau: { type: 'number', exclusiveMinimum: 0, maximum: 1, default: 0.005, description: 'Polyak rate of the target Q networks.' },
    expectile: { type: 'number', exclusiveMinimum: 0, exclusiveMaximum: 1, default: 0.7, description: 'Expectile τ of the V loss (0.9 for AntMaze).' },
    critic_lr: { type: 'number', exclusiveMinimum: 0, default: 0.0003 },
    value_lr: { type: 'number', exclusiveMinimum: 0, default: 0.0003 },
    reward_transform: { enum: ['none', 'antmaze', 'locomotion'], default: 'none', description: "none; antmaze: r − 1 (also the note's code's maze2d shift: it subtracts 1 from maze2d and AntMaze rewards alike); locomotion: r · 1000 / (max − min episode return)." },
    log_every: { type: 'integer', minimum: 1, default: 1000, description: 'Steps between logged (averaged) metrics.' },
    checkpoint_every: { type: 'integer', minimum: 1, default: 10000, description: 'Steps between checkpoints (resume points).' },
    backend: backendParam,
    compute: { enum: ['auto', 'tfjs', 'kernel'], default: 'auto', description: "Where the IQL step runs. kernel: the native critic kernel (native/iql-kernel, built by scripts/build-kernel.sh: the whole step in one call, GEMMs on OpenBLAS, one thread); tfjs: tfjs ops on `backend`; auto: the kernel when it is built, else tfjs (the log says why). The two agree to float rounding, not bit for bit: the path used is recorded in the manifest (`compute`) and in the critic's and checkpoints' metadata; set it explicitly to make it part of the cache key. Checkpoints of either path resume on the other." },
  },
} as const satisfies JSONSchema;

export type FitIqlParams = FromSchema<typeof fitIqlSchema>;

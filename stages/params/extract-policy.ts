/**
 * The `with:` parameters of the extract-policy stage: the JSON Schema the engine validates them against
 * and fills defaults from, and their TypeScript type, derived from it (json-schema-to-ts).
 */
import type { FromSchema, JSONSchema } from 'json-schema-to-ts';
import { backendParam } from './common.js';

export const extractPolicySchema = {
  title: 'extract-policy parameters',
  description: "Extracts a policy from a frozen IQL critic: Gaussian AWR (as the IQL paper), DDPG (maximise Q through the actor, optionally Q-normalised DDPG+BC) or AWR over a discretised action space. The actor sees observations normalised with the critic's statistics when the critic has them, and the policy artifact carries them.",
  type: 'object',
  additionalProperties: false,
  required: ['method'],
  properties: {
    method: { enum: ['awr', 'ddpg', 'awr-discrete'], description: 'awr: tanh-mean Gaussian, state-independent log std; ddpg: deterministic tanh actor; awr-discrete: factorised categorical over bins.' },
    steps: { type: 'integer', minimum: 1, default: 1000000, description: 'Actor gradient steps (paper: 1M); also the cosine learning-rate horizon.' },
    hidden: { type: 'array', items: { type: 'integer', minimum: 1 }, minItems: 1, default: [256, 256], description: 'Hidden layer sizes of the actor (any depth and width).' },
    activation: { enum: ['relu', 'mish', 'gelu'], default: 'relu', description: "Hidden-layer activation of the actor: relu; mish = x·tanh(softplus(x)); gelu in its tanh approximation (jax.nn.gelu's default)." },
    layer_norm: { type: 'boolean', default: false, description: "LayerNorm (learned gain and bias, ε = 1e-6) after each hidden linear layer of the actor, before the activation. Observation normalisation is not a parameter here: the actor uses the critic's statistics when fit-iql normalised observations." },
    batch_size: { type: 'integer', minimum: 1, default: 256 },
    lr: { type: 'number', exclusiveMinimum: 0, default: 0.0003 },
    lr_schedule: { enum: ['cosine', 'constant'], default: 'cosine' },
    beta: { type: 'number', minimum: 0, default: 3, description: 'AWR inverse temperature (10 for AntMaze).' },
    max_weight: { type: 'number', exclusiveMinimum: 0, default: 100, description: 'Clip of exp(β·A).' },
    log_std_min: { type: 'number', default: -5 },
    log_std_max: { type: 'number', default: 2 },
    q_reduce: { enum: ['min', 'mean', 'q1'], default: 'min', description: 'ddpg: which twin value to maximise.' },
    bc_alpha: { type: 'number', minimum: 0, default: 0, description: "ddpg: weight α of the behaviour-cloning term in −λ·mean Q(s, π(s)) + α·mean ‖π(s) − a‖² (squared norm summed over action dims; 0 = pure DDPG, as in the note). With q_normalize this is exactly ReBRAC's β (actor_bc_coef) and OGBench's DDPG+BC form −Q/mean|Q| + α·BC (OGBench's α = 2·bc_alpha: its BC term is a unit-σ Gaussian −log-likelihood); TD3+BC's α_TD3 (2.5) corresponds to bc_alpha = 1/(α_TD3 · action dims), e.g. 0.2 for 2-D actions." },
    q_normalize: { type: 'boolean', default: false, description: "ddpg: λ = 1/mean_batch |Q(s, π(s))| (a constant of each step, no gradient through it), as TD3+BC, ReBRAC and OGBench normalise the Q term so that bc_alpha means the same across reward scales; false: λ = 1 (today's DDPG)." },
    protocol: { enum: ['frozen', 'joint'], default: 'frozen', description: "frozen: extract from the finished critic for `steps` actor steps. joint: train the actor beside the critic, one actor step per critic step for the critic's whole run (CORL's IQL and the note's code): the critic is retrained from the upstream fit-iql instance's parameters and seed, `steps` is not used, and the cosine horizon (lr_schedule cosine) is the critic's step count. Recorded in the policy's metadata." },
    bins: { type: 'integer', minimum: 2, default: 21, description: 'awr-discrete: bins per action dimension over the action box.' },
    log_every: { type: 'integer', minimum: 1, default: 1000 },
    checkpoint_every: { type: 'integer', minimum: 1, default: 10000 },
    compute: { enum: ['auto', 'tfjs', 'kernel'], default: 'auto', description: "Where the actor step runs. kernel: the native kernel (native/iql-kernel, built by scripts/build-kernel.sh: the whole step in one call — minibatch, AWR weights or DDPG's ∂Q/∂a through the frozen critic, the head's loss, the actor's backward and Adam — GEMMs on OpenBLAS, one thread); tfjs: tfjs ops on `backend`; auto: the kernel when it is built, else tfjs (the log says why). The two agree to float rounding, not bit for bit: the path used is recorded in the manifest (`compute`) and in the policy's and checkpoints' metadata; set it explicitly to make it part of the cache key. Checkpoints of either path resume on the other. Under protocol joint the kernel receives a copy of the critic after every critic step." },
    backend: backendParam,
  },
} as const satisfies JSONSchema;

export type ExtractPolicyParams = FromSchema<typeof extractPolicySchema>;

/**
 * extract-policy: trains a policy from an IQL critic with one of three extraction methods, under
 * one of two protocols:
 *   frozen  from the finished critic, for `steps` actor steps (the pipeline's default);
 *   joint   beside the critic, one actor step per critic step for the critic's whole run, as CORL
 *           and the note's code do: the critic is retrained from the upstream fit-iql instance's
 *           parameters and seed (IQL's critic ignores the actor, so it is the same critic: checked
 *           and recorded as `critic_matches_input`), and `steps` is not used.
 */
import type { InputArtifact, StageContext, StageKind, StageResult } from '../src/engine/stage.js';
import { iqlConfigOf } from './lib/iql-config.js';
import { extractPolicySchema, type ExtractPolicyParams } from './params/extract-policy.js';
import type { FitIqlParams } from './params/fit-iql.js';

const METRICS = ['loss', 'policyStd', 'entropy', 'meanWeight', 'clippedFrac', 'meanQ', 'bcMse', 'lr'] as const;
/** Critic metrics logged beside the actor's in the joint protocol. */
const CRITIC_METRICS = ['q1Loss', 'vLoss', 'meanQ', 'meanV', 'advStd'] as const;

const stage: StageKind<ExtractPolicyParams> = {
  kind: 'extract-policy',
  version: '1',
  description: 'Policy extraction from an IQL critic (frozen, or trained jointly beside it): awr (Gaussian), ddpg, or awr-discrete.',
  params: extractPolicySchema,
  inputs: {
    dataset: { description: 'the dataset the critic was fitted on' },
    critic: { description: 'a fit-iql critic' },
  },
  outputs: {
    policy: { description: 'policy weights (Arrow, format policy; rebuildable from the table alone: sizes, activation, layerNorm and the critic\'s obsNorm statistics in its metadata)' },
    curve: { description: 'training metrics in long format: step, metric, value' },
  },
  keyParams: paramsThatMatter,
  async run(ctx) {
    const p = ctx.params;
    // The backend is chosen before any model code runs so the choice holds for the whole stage.
    await (await import('./lib/backend.js')).useBackend(ctx, p.backend);
    const { tableToTransitions, datasetMetadata } = await import('../src/rl/data/dataset.js');
    const { criticFromTable } = await import('../src/rl/algos/critic.js');
    const { createExtractor, resolveExtractCompute } = await import('../src/rl/algos/extract.js');
    const { kernelStatus } = await import('../src/rl/algos/iql-kernel.js');
    const { trainLoop, withMetadata } = await import('./lib/train-loop.js');
    const dataTable = await (ctx.inputs['dataset'] as InputArtifact).table();
    const data = tableToTransitions(dataTable);
    const criticInput = ctx.inputs['critic'] as InputArtifact;
    const critic = criticFromTable(await criticInput.table());
    const actorConfig = {
      method: p.method, steps: p.steps, hidden: p.hidden, activation: p.activation, layerNorm: p.layer_norm, batchSize: p.batch_size, lr: p.lr, lrSchedule: p.lr_schedule,
      beta: p.beta, maxWeight: p.max_weight, logStdMin: p.log_std_min, logStdMax: p.log_std_max, qReduce: p.q_reduce,
      bcAlpha: p.bc_alpha, qNormalize: p.q_normalize, bins: p.bins,
    };
    const envId = datasetMetadata(dataTable).envId;
    const summaryOf = (last: Partial<Record<string, number>>) => ({
      loss: last['loss'] ?? NaN, policy_std: last['policyStd'] ?? NaN, entropy: last['entropy'] ?? NaN, mean_q: last['meanQ'] ?? NaN,
    });
    // 'auto' resolved here so that this stage's log says why when it falls back to tfjs.
    const compute = resolveExtractCompute(p.compute, (m) => ctx.log(m));
    // The kernel's build stamp is recorded beside the path (its source is in the code identity through @code-depends).
    ctx.record('compute', compute === 'kernel' ? { path: 'kernel', blas: kernelStatus().blas, build: kernelStatus().build } : { path: 'tfjs' });
    ctx.log(`extraction step: ${compute === 'kernel' ? `native kernel (${kernelStatus().blas})` : 'tfjs'}`);
    if (p.protocol === 'joint') {
      try {
        return await runJoint(ctx, p, data, criticInput, critic, { ...actorConfig, compute }, envId, summaryOf);
      } finally {
        critic.dispose();
      }
    }
    const ex = createExtractor(critic, data, { ...actorConfig, compute }, ctx.seed);
    try {
      const t0 = Date.now();
      const result = await trainLoop(ctx, {
        step: (n) => ex.step(n),
        exportState: () => ex.exportState(),
        importState: (t) => ex.importState(t),
      }, { steps: p.steps, logEvery: p.log_every, checkpointEvery: p.checkpoint_every, metrics: METRICS, prefix: `${p.method}/` });
      ctx.record('steps_per_second', (p.steps - result.resumedFrom) / Math.max((Date.now() - t0) / 1000, 1e-9));
      const policy = await withMetadata(ex.exportPolicy(), { env_id: envId, protocol: 'frozen' });
      return { outputs: { policy, curve: result.curve }, summary: { ...summaryOf(result.last), peak_rss_mb: result.peakRssMb } };
    } finally {
      ex.dispose();
      critic.dispose();
    }
  },
};
export default stage;

/**
 * The parameters a result depends on: the DDPG objective's (q_reduce, bc_alpha, q_normalize) only
 * under ddpg, the AWR weights' (beta, max_weight) only under the AWR methods, `steps` only under
 * the frozen protocol (joint runs for the critic's steps). A sweep over bc_alpha beside AWR then
 * reuses the AWR policies; extract-policy.test.ts checks that the outputs are byte-identical.
 */
export function paramsThatMatter(p: ExtractPolicyParams): Record<string, unknown> {
  const ignored = new Set(p.method === 'ddpg' ? ['beta', 'max_weight'] : ['q_reduce', 'bc_alpha', 'q_normalize']);
  if (p.protocol === 'joint') ignored.add('steps');
  return Object.fromEntries(Object.entries(p).filter(([k]) => !ignored.has(k)));
}

type Critic = import('../src/rl/algos/critic.js').Critic;
type ActorConfig = Parameters<typeof import('../src/rl/algos/extract.js').createExtractor>[2];

/**
 * The joint protocol: the critic retrained from the upstream fit-iql parameters and seed, the
 * actor stepped beside it; the curve holds the actor's metrics and the critic's (`critic/…`).
 */
async function runJoint(
  ctx: StageContext<ExtractPolicyParams>,
  p: ExtractPolicyParams,
  data: import('../src/rl/data/dataset.js').Transitions,
  criticInput: InputArtifact,
  inputCritic: Critic,
  actorConfig: ActorConfig,
  envId: string,
  summaryOf: (last: Partial<Record<string, number>>) => Record<string, number>,
): Promise<StageResult> {
  const { createJointLearner } = await import('../src/rl/algos/joint.js');
  const { criticFromTable } = await import('../src/rl/algos/critic.js');
  const { readMetadata } = await import('../src/rl/nn/serialize.js');
  const { trainLoop, withMetadata } = await import('./lib/train-loop.js');
  const fit = criticInput.params as FitIqlParams; // the upstream fit-iql instance's resolved parameters
  const criticMeta = readMetadata(await criticInput.table());
  const criticSeed = Number(criticMeta['seed']);
  if (!Number.isInteger(criticSeed) || !(fit.steps > 0)) {
    throw new Error(`protocol joint: input critic ${criticInput.instance} does not record its seed and fit-iql parameters`);
  }
  const learner = createJointLearner(data, iqlConfigOf(fit), criticSeed, { ...actorConfig, steps: fit.steps }, ctx.seed);
  try {
    const t0 = Date.now();
    const result = await trainLoop(ctx, {
      step: (n) => {
        const m = learner.step(n);
        const out: Record<string, number> = { ...m.actor };
        for (const k of CRITIC_METRICS) out[`critic/${k}`] = m.critic[k];
        return out;
      },
      exportState: () => learner.exportState(),
      importState: (s) => learner.importState(s),
    }, { steps: fit.steps, logEvery: p.log_every, checkpointEvery: p.checkpoint_every, metrics: [...METRICS, ...CRITIC_METRICS.map((k) => `critic/${k}`)], prefix: `${p.method}/` });
    ctx.record('steps_per_second', (fit.steps - result.resumedFrom) / Math.max((Date.now() - t0) / 1000, 1e-9));
    // The retrained critic should be the input critic: same parameters, seed and code.
    const retrained = criticFromTable(learner.iql.exportCritic());
    const matches = sameCritic(retrained, inputCritic, data);
    retrained.dispose();
    ctx.record('critic_matches_input', matches);
    if (!matches) ctx.log(`warning: the jointly trained critic differs from ${criticInput.instance} (another backend or code version?)`);
    const policy = await withMetadata(learner.extractor.exportPolicy(), { env_id: envId, protocol: 'joint', critic_steps: String(fit.steps) });
    return { outputs: { policy, curve: result.curve }, summary: { ...summaryOf(result.last), critic_matches_input: matches ? 1 : 0, peak_rss_mb: result.peakRssMb } };
  } finally {
    learner.dispose();
  }
}

/** Whether two critics give the same Q1, Q2 and V (to float32 rounding) on the first dataset rows. */
function sameCritic(a: Critic, b: Critic, data: import('../src/rl/data/dataset.js').Transitions): boolean {
  const n = Math.min(data.size, 1024);
  const obs = data.observations.subarray(0, n * data.obsDim);
  const act = data.actions.subarray(0, n * data.actDim);
  const x = a.evaluate(obs, act, n);
  const y = b.evaluate(obs, act, n);
  for (const k of ['q1', 'q2', 'v'] as const) {
    for (let i = 0; i < n; i++) if (Math.abs(x[k][i]! - y[k][i]!) > 1e-5 * (1 + Math.abs(y[k][i]!))) return false;
  }
  return true;
}

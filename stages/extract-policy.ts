/** extract-policy: trains a policy from a frozen IQL critic with one of three extraction methods. */
import type { InputArtifact, StageKind } from '../src/engine/stage.js';
import { loadStageSchema } from '../src/engine/stage-schema.js';

interface Params {
  method: 'awr' | 'ddpg' | 'awr-discrete';
  steps: number;
  hidden: number[];
  activation: 'relu' | 'mish' | 'gelu';
  layer_norm: boolean;
  batch_size: number;
  lr: number;
  lr_schedule: 'cosine' | 'constant';
  beta: number;
  max_weight: number;
  log_std_min: number;
  log_std_max: number;
  q_reduce: 'min' | 'mean' | 'q1';
  bc_alpha: number;
  q_normalize: boolean;
  bins: number;
  log_every: number;
  checkpoint_every: number;
  backend: 'auto' | 'node' | 'wasm' | 'cpu';
}

const METRICS = ['loss', 'policyStd', 'entropy', 'meanWeight', 'clippedFrac', 'meanQ', 'bcMse', 'lr'] as const;

const stage: StageKind<Params> = {
  kind: 'extract-policy',
  version: '1',
  description: 'Policy extraction from a frozen IQL critic: awr (Gaussian), ddpg, or awr-discrete.',
  params: loadStageSchema('extract-policy'),
  inputs: {
    dataset: { description: 'the dataset the critic was fitted on' },
    critic: { description: 'a fit-iql critic' },
  },
  outputs: {
    policy: { description: 'policy weights (Arrow, format policy; rebuildable from the table alone: sizes, activation, layerNorm and the critic\'s obsNorm statistics in its metadata)' },
    curve: { description: 'training metrics in long format: step, metric, value' },
  },
  async run(ctx) {
    const p = ctx.params;
    // The backend is chosen before any model code runs so the choice holds for the whole stage.
    await (await import('./lib/backend.js')).useBackend(ctx as never, p.backend);
    const { tableToTransitions, datasetMetadata } = await import('../src/rl/data/dataset.js');
    const { criticFromTable } = await import('../src/rl/algos/critic.js');
    const { createExtractor } = await import('../src/rl/algos/extract.js');
    const { trainLoop, withMetadata } = await import('./lib/train-loop.js');
    const dataTable = await (ctx.inputs['dataset'] as InputArtifact).table();
    const data = tableToTransitions(dataTable);
    const critic = criticFromTable(await (ctx.inputs['critic'] as InputArtifact).table());
    const ex = createExtractor(critic, data, {
      method: p.method, steps: p.steps, hidden: p.hidden, activation: p.activation, layerNorm: p.layer_norm, batchSize: p.batch_size, lr: p.lr, lrSchedule: p.lr_schedule,
      beta: p.beta, maxWeight: p.max_weight, logStdMin: p.log_std_min, logStdMax: p.log_std_max, qReduce: p.q_reduce,
      bcAlpha: p.bc_alpha, qNormalize: p.q_normalize, bins: p.bins,
    }, ctx.seed);
    try {
      const t0 = Date.now();
      const result = await trainLoop(ctx as never, {
        step: (n) => ex.step(n) as unknown as Record<string, number>,
        exportState: () => ex.exportState(),
        importState: (t) => ex.importState(t),
      }, { steps: p.steps, logEvery: p.log_every, checkpointEvery: p.checkpoint_every, metrics: METRICS, prefix: `${p.method}/` });
      ctx.record('steps_per_second', (p.steps - result.resumedFrom) / Math.max((Date.now() - t0) / 1000, 1e-9));
      const policy = await withMetadata(ex.exportPolicy(), { env_id: datasetMetadata(dataTable).envId });
      return {
        outputs: { policy, curve: result.curve },
        summary: { loss: result.last['loss'] ?? NaN, policy_std: result.last['policyStd'] ?? NaN, entropy: result.last['entropy'] ?? NaN, mean_q: result.last['meanQ'] ?? NaN },
      };
    } finally {
      ex.dispose();
      critic.dispose();
    }
  },
};
export default stage;

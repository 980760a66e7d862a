/** fit-iql: learns Q and V from a dataset with IQL; the policy is extracted afterwards. */
import type { InputArtifact, StageKind } from '../src/engine/stage.js';
import { iqlConfigOf } from './lib/iql-config.js';
import { fitIqlSchema, type FitIqlParams } from './params/fit-iql.js';

const METRICS = ['q1Loss', 'q2Loss', 'vLoss', 'meanQ', 'meanV', 'advMean', 'advStd', 'advMax'] as const;

const stage: StageKind<FitIqlParams> = {
  kind: 'fit-iql',
  version: '1',
  description: 'Implicit Q-Learning critic: twin Q (Polyak targets) and V (expectile loss), no policy.',
  params: fitIqlSchema,
  inputs: { dataset: { description: 'a load-dataset dataset table' } },
  outputs: {
    critic: { description: 'target Q1, Q2 and V weights (Arrow, format iql-critic; metadata: sizes, activation, layerNorm, obsNorm statistics)' },
    curve: { description: 'training metrics in long format: step, metric, value' },
  },
  async run(ctx) {
    const p = ctx.params;
    // The backend is chosen before any model code runs so the choice holds for the whole stage.
    await (await import('./lib/backend.js')).useBackend(ctx, p.backend);
    const { tableToTransitions, datasetMetadata } = await import('../src/rl/data/dataset.js');
    const { createIQL, resolveCompute } = await import('../src/rl/algos/iql.js');
    const { kernelStatus } = await import('../src/rl/algos/iql-kernel.js');
    const { trainLoop, withMetadata } = await import('./lib/train-loop.js');
    const table = await (ctx.inputs['dataset'] as InputArtifact).table();
    const data = tableToTransitions(table);
    const meta = datasetMetadata(table);
    // 'auto' resolved here so that this stage's log says why when it falls back to tfjs.
    const compute = resolveCompute(iqlConfigOf(p).compute!, (m) => ctx.log(m));
    const iql = createIQL(data, { ...iqlConfigOf(p), compute }, ctx.seed);
    // The kernel's C++ source is outside the code identity (it follows JS imports): its build stamp is recorded instead.
    ctx.record('compute', iql.compute === 'kernel' ? { path: 'kernel', blas: kernelStatus().blas, build: kernelStatus().build } : { path: 'tfjs' });
    ctx.log(`IQL step: ${iql.compute === 'kernel' ? `native kernel (${kernelStatus().blas})` : 'tfjs'}`);
    try {
      const t0 = Date.now();
      const result = await trainLoop(ctx, {
        step: (n) => iql.step(n),
        exportState: () => iql.exportState(),
        importState: (t) => iql.importState(t),
      }, { steps: p.steps, logEvery: p.log_every, checkpointEvery: p.checkpoint_every, metrics: METRICS, prefix: 'iql/' });
      const secs = (Date.now() - t0) / 1000;
      ctx.record('steps_per_second', (p.steps - result.resumedFrom) / Math.max(secs, 1e-9));
      const critic = await withMetadata(iql.exportCritic(), { env_id: meta.envId, dataset_digest: (ctx.inputs['dataset'] as InputArtifact).digest });
      return {
        outputs: { critic, curve: result.curve },
        summary: { q1_loss: result.last['q1Loss'] ?? NaN, v_loss: result.last['vLoss'] ?? NaN, mean_q: result.last['meanQ'] ?? NaN, mean_v: result.last['meanV'] ?? NaN, adv_std: result.last['advStd'] ?? NaN, peak_rss_mb: result.peakRssMb },
      };
    } finally {
      iql.dispose();
    }
  },
};
export default stage;

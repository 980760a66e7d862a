/**
 * fit-iql's parameters (params/fit-iql.ts) mapped to the IQL configuration, shared by fit-iql and by
 * extract-policy's joint protocol (which retrains the critic an upstream fit-iql instance
 * describes, from that instance's resolved parameters).
 */
import type { IQLConfig } from '../../src/rl/algos/iql.js';
import type { FitIqlParams } from '../params/fit-iql.js';

export function iqlConfigOf(p: FitIqlParams): Partial<IQLConfig> {
  return {
    hidden: p.hidden, activation: p.activation, layerNorm: p.layer_norm, normalizeObservations: p.normalize_observations,
    batchSize: p.batch_size, discount: p.discount, targetTau: p.target_tau, expectile: p.expectile,
    criticLr: p.critic_lr, valueLr: p.value_lr, rewardTransform: p.reward_transform,
    // absent in parameters recorded before the option existed: those critics were trained on tfjs
    compute: p.compute ?? 'tfjs',
  };
}

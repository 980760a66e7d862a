/**
 * fit-iql's parameters and their mapping to the IQL configuration, shared by fit-iql and by
 * extract-policy's joint protocol (which retrains the critic an upstream fit-iql instance
 * describes, from that instance's resolved parameters).
 */
import type { IQLConfig } from '../../src/rl/algos/iql.js';

export interface FitIqlParams {
  steps: number;
  hidden: number[];
  activation: 'relu' | 'mish' | 'gelu';
  layer_norm: boolean;
  normalize_observations: boolean;
  batch_size: number;
  discount: number;
  target_tau: number;
  expectile: number;
  critic_lr: number;
  value_lr: number;
  reward_transform: 'none' | 'antmaze' | 'locomotion';
  log_every: number;
  checkpoint_every: number;
  backend: 'auto' | 'node' | 'wasm' | 'cpu';
}

export function iqlConfigOf(p: FitIqlParams): Partial<IQLConfig> {
  return {
    hidden: p.hidden, activation: p.activation, layerNorm: p.layer_norm, normalizeObservations: p.normalize_observations,
    batchSize: p.batch_size, discount: p.discount, targetTau: p.target_tau, expectile: p.expectile,
    criticLr: p.critic_lr, valueLr: p.value_lr, rewardTransform: p.reward_transform,
  };
}

/**
 * Small synthetic datasets for tests and benchmarks (Transitions with known structure).
 */
import { Rng } from '../envs/rng.js';
import type { Transitions } from './common.js';

/** Random transitions of the given sizes (speed benchmarks): episodes of 300 steps. */
export function syntheticTransitions(size: number, obsDim: number, actDim: number, seed = 0): Transitions {
  const rng = new Rng(seed);
  const f = (n: number, lo = -1, hi = 1) => Float32Array.from({ length: n }, () => rng.uniform(lo, hi));
  const terminals = new Float32Array(size);
  const timeouts = new Float32Array(size);
  for (let i = 299; i < size; i += 300) timeouts[i] = 1;
  return {
    size,
    obsDim,
    actDim,
    observations: f(size * obsDim, 0, 5),
    actions: f(size * actDim),
    nextObservations: f(size * obsDim, 0, 5),
    rewards: f(size, 0, 1),
    terminals,
    timeouts,
    envId: 'synthetic',
  };
}

/**
 * A chain of `n` states 0..n−1 (observation: one-hot). Action a ∈ [−1, 1] (1-D): a > 0 moves
 * right, else left (clamped at 0). Reaching state n−1 gives reward 1 and ends the episode.
 * Transitions start from uniformly random non-terminal states with uniformly random actions.
 */
export function chainMdp(size: number, n = 5, seed = 0): Transitions {
  const rng = new Rng(seed);
  const obs = new Float32Array(size * n);
  const next = new Float32Array(size * n);
  const act = new Float32Array(size);
  const rew = new Float32Array(size);
  const term = new Float32Array(size);
  for (let i = 0; i < size; i++) {
    const s = rng.int(n - 1);
    const a = rng.uniform(-1, 1);
    const s2 = a > 0 ? s + 1 : Math.max(0, s - 1);
    obs[i * n + s] = 1;
    next[i * n + s2] = 1;
    act[i] = a;
    if (s2 === n - 1) {
      rew[i] = 1;
      term[i] = 1;
    }
  }
  return {
    size,
    obsDim: n,
    actDim: 1,
    observations: obs,
    actions: act,
    nextObservations: next,
    rewards: rew,
    terminals: term,
    timeouts: new Float32Array(size),
    envId: 'chain',
  };
}

/**
 * A one-state bandit (observation [1], every step terminal) with a BIMODAL 1-D action dataset:
 * half the actions near −0.9, half near +0.9 (± `spread`), reward `rLow` for the negative mode
 * and `rHigh` for the positive one. The best data action is +0.9.
 */
export function bimodalBandit(size: number, opts: { rLow?: number; rHigh?: number; spread?: number; seed?: number } = {}): Transitions {
  const { rLow = 0.5, rHigh = 1, spread = 0.05, seed = 0 } = opts;
  const rng = new Rng(seed);
  const act = new Float32Array(size);
  const rew = new Float32Array(size);
  for (let i = 0; i < size; i++) {
    const pos = i % 2 === 0;
    act[i] = (pos ? 0.9 : -0.9) + rng.uniform(-spread, spread);
    rew[i] = pos ? rHigh : rLow;
  }
  return {
    size,
    obsDim: 1,
    actDim: 1,
    observations: new Float32Array(size).fill(1),
    actions: act,
    nextObservations: new Float32Array(size).fill(1),
    rewards: rew,
    terminals: new Float32Array(size).fill(1),
    timeouts: new Float32Array(size),
    envId: 'bandit',
  };
}

/**
 * Joint training: the critic and one actor updated step for step, as CORL's IQL and the note's
 * code do, instead of extracting from a finished, frozen critic (extract.ts alone).
 *
 *   for t = 1 … T:
 *     critic step   (iql.ts: Q, V, Polyak target)            on its own minibatch stream
 *     actor step    (extract.ts: awr / ddpg / awr-discrete)   against the critic as it is now
 *
 * IQL's critic never looks at the actor, so the critic trained here is the one fit-iql trains
 * with the same configuration and seed (the stage checks this); only what the actor sees differs:
 * a moving critic for T steps instead of the final one. One difference from CORL's order: CORL's
 * actor uses the advantage computed just before this step's V update, ours the critic just after
 * it (one step of lag, 1/T of the run).
 *
 * The critic runs on the compute path its configuration names (iql.ts `compute`; the stage passes
 * the upstream fit-iql instance's), so the native kernel retrains a kernel-trained critic exactly;
 * the actor on its own (`actorConfig.compute`), reading the critic after every step (tfjs through
 * `iql.critic()`; the extraction kernel takes a copy of `iql.criticWeights()`).
 */
import type * as arrow from 'apache-arrow';
import type { Critic } from './critic.js';
import { createExtractor, type ExtractConfig, type ExtractMethod, type ExtractMetrics, type Extractor } from './extract.js';
import { createIQL, type IQL, type IQLConfig, type IQLMetrics } from './iql.js';
import type { Transitions } from './common.js';

export interface JointMetrics {
  critic: IQLMetrics;
  actor: ExtractMetrics;
}

export interface JointLearner {
  readonly iql: IQL;
  readonly extractor: Extractor;
  readonly stepCount: number;
  /** n joint steps; mean metrics of the critic and of the actor over them. */
  step(n?: number): JointMetrics;
  exportState(): { critic: arrow.Table; actor: arrow.Table };
  importState(state: { critic: arrow.Table; actor: arrow.Table }): void;
  dispose(): void;
}

export function createJointLearner(
  data: Transitions,
  criticConfig: Partial<IQLConfig>,
  criticSeed: number,
  actorConfig: Partial<ExtractConfig> & { method: ExtractMethod },
  actorSeed: number,
): JointLearner {
  const iql = createIQL(data, criticConfig, criticSeed);
  let critic: Critic = iql.critic();
  // The weights move every step: never precompute them from the first critic.
  const extractor = createExtractor(critic, data, { ...actorConfig, precomputeWeights: 'never' }, actorSeed);

  /**
   * Hands the extractor the critic as it is after the latest critic step: an extraction kernel
   * takes the parameters directly (no tensors), tfjs a new Critic.
   */
  function refreshCritic(): void {
    if (extractor.compute === 'kernel') {
      extractor.setCriticWeights(iql.criticWeights());
      return;
    }
    const next = iql.critic();
    extractor.setCritic(next);
    critic.dispose();
    critic = next;
  }

  function step(n = 1): JointMetrics {
    const sums = { critic: new Map<string, number>(), actor: new Map<string, number>() };
    let last: JointMetrics | null = null;
    for (let k = 0; k < n; k++) {
      const c = iql.step(1);
      refreshCritic();
      const a = extractor.step(1);
      accumulate(sums.critic, c);
      accumulate(sums.actor, a);
      last = { critic: c, actor: a };
    }
    return { critic: mean(sums.critic, n, last!.critic), actor: mean(sums.actor, n, last!.actor) };
  }

  return {
    iql,
    extractor,
    get stepCount() {
      return iql.stepCount;
    },
    step,
    exportState: () => ({ critic: iql.exportState(), actor: extractor.exportState() }),
    importState(state) {
      iql.importState(state.critic);
      extractor.importState(state.actor);
      if (iql.stepCount !== extractor.stepCount) {
        throw new Error(`joint checkpoint: critic at step ${iql.stepCount}, actor at step ${extractor.stepCount}`);
      }
      refreshCritic();
    },
    dispose() {
      extractor.dispose();
      critic.dispose();
      iql.dispose();
    },
  };
}

function accumulate(sum: Map<string, number>, m: object): void {
  for (const [k, v] of Object.entries(m)) if (typeof v === 'number') sum.set(k, (sum.get(k) ?? 0) + v);
}

/** Means over n steps; `step` and `advMax`/`lr` keep the last step's value (not averages). */
function mean<T extends object>(sum: Map<string, number>, n: number, last: T): T {
  const out: Record<string, number> = { ...(last as Record<string, number>) };
  for (const [k, v] of sum) if (k !== 'step' && k !== 'lr' && k !== 'advMax') out[k] = v / n;
  return out as T;
}

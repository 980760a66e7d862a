/**
 * evaluate: rolls a policy out in its environment; returns, D4RL-normalised scores, success.
 * Locomotion envs (halfcheetah-v2, cheetah-run) have no goal: success columns are NaN, success_rate
 * is omitted from the summary (NaN), and `trajectories` is an empty table with the same columns
 * and no `layout` metadata (the x, y plots are maze-only).
 *
 * `visited` keeps a bounded sample of the full observations of ALL episodes (every k-th step and
 * each episode's last one; see src/rl/envs/shared/visited.ts), so `diagnose` can examine the states the
 * policy actually reaches, and the report where episodes end.
 */
import type { InputArtifact, StageKind } from '../src/engine/stage.js';
import { evaluateSchema, type EvaluateParams } from './params/evaluate.js';

const stage: StageKind<EvaluateParams> = {
  kind: 'evaluate',
  version: '5',
  description: 'Vectorised evaluation episodes of a policy: return, normalised score, success rate, trajectories.',
  params: evaluateSchema,
  inputs: { policy: { description: 'an extract-policy policy table' } },
  outputs: {
    episodes: { description: 'one row per episode: episode, return, score (D4RL-normalised), success, success_at_end, length, final_goal_distance and final_cells_to_goal (maze2d, antmaze)' },
    trajectories: { description: 'x, y per step of the first episodes (qpos), with the maze layout in the metadata' },
    visited: { description: 'about visited_states observations of all episodes: episode, t, final (1 on the last step), o0.. (the full observation); maze layout in the metadata', optional: true },
  },
  async run(ctx) {
    const p = ctx.params;
    // The backend is chosen before any model code runs so the choice holds for the whole stage.
    await (await import('./lib/backend.js')).useBackend(ctx, p.backend);
    const { policyFromTable } = await import('../src/rl/algos/policy.js');
    const { rollout } = await import('../src/rl/envs/rollout.js');
    const { mazeFrameFor, positionsMetadata } = await import('../src/rl/diagnostics/maze-frame.js');
    const { tableFromArrays } = await import('apache-arrow');
    const { withMetadata } = await import('./lib/train-loop.js');
    const table = await (ctx.inputs['policy'] as InputArtifact).table();
    const envId = p.env || table.schema.metadata.get('env_id') || '';
    if (!envId) throw new Error('the policy table records no env_id; set the `env` parameter');
    const frame = mazeFrameFor(envId);
    const frameMeta = frame?.metadata ?? { env_id: envId };
    const policy = policyFromTable(table, ctx.seed);
    try {
      const r = await rollout(envId, (obs, n) => policy.act(obs, n, { deterministic: p.deterministic }), {
        episodes: p.episodes, seed: ctx.seed, recordTrajectories: p.record_trajectories, recordVisited: p.visited_states, signal: ctx.signal,
        onProgress: (done, total) => ctx.progress(done, total),
      });
      const episodes = tableFromArrays({
        episode: Int32Array.from({ length: r.episodes }, (_, i) => i),
        return: r.returns,
        score: r.normalizedScores,
        // NaN where the env has no goal (locomotion), so reports show "no value" rather than 0 %.
        success: Float64Array.from(r.success, (v) => (Number.isNaN(r.successRate) ? NaN : v)),
        success_at_end: Float64Array.from(r.successAtEnd, (v) => (Number.isNaN(r.successRate) ? NaN : v)),
        length: r.lengths,
        // Where an episode ended relative to the goal (NaN without one): shows progress when success is 0.
        final_goal_distance: r.finalGoalDistance,
        final_cells_to_goal: r.finalCellsToGoal,
      });
      const ep: number[] = [], t: number[] = [], x: number[] = [], y: number[] = [];
      r.trajectories.forEach((xy, k) => {
        for (let i = 0; i < xy.length / 2; i++) { ep.push(k); t.push(i); x.push(xy[2 * i]!); y.push(xy[2 * i + 1]!); }
      });
      const trajectories = await withMetadata(
        tableFromArrays({ episode: Int32Array.from(ep), t: Int32Array.from(t), x: Float32Array.from(x), y: Float32Array.from(y) }),
        frameMeta,
      );
      const outputs: Record<string, import('apache-arrow').Table> = { episodes, trajectories };
      if (r.visited) {
        const { visitedToColumns } = await import('../src/rl/envs/shared/visited.js');
        outputs['visited'] = await withMetadata(tableFromArrays(visitedToColumns(r.visited)), { ...positionsMetadata(envId, frame), stride: String(r.visited.stride) });
      }
      ctx.record('policy_ms', r.policyMs);
      ctx.record('env_ms', r.envMs);
      return {
        outputs,
        summary: {
          score_mean: r.meanScore, score_std: r.stdScore, return_mean: r.meanReturn, success_rate: r.successRate,
          final_goal_distance_mean: r.meanFinalGoalDistance, final_cells_to_goal_mean: r.meanFinalCellsToGoal,
        },
      };
    } finally {
      policy.dispose();
    }
  },
};
export default stage;

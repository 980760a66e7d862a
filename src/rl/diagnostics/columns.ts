/**
 * Diagnostics results → named columns (plain typed arrays) for diagnose's tables, and their
 * summary numbers. Column names are the tables' contract with the report (src/report/maps.ts).
 */
import type { VisitedStates } from '../envs/shared/visited.js';
import { finiteMean, type PolicyVsCritic } from './greedy.js';
import type { PositionGrid, ValueMap } from './maze-maps.js';

export type Columns = Record<string, Int32Array | Float32Array | Float64Array>;

/** Columns prefix0 … prefix{dim−1} of an n × dim row-major array. */
export function splitColumns(prefix: string, values: Float32Array, dim: number): Record<string, Float32Array> {
  const n = values.length / dim;
  const out: Record<string, Float32Array> = {};
  for (let d = 0; d < dim; d++) out[`${prefix}${d}`] = Float32Array.from({ length: n }, (_, i) => values[i * dim + d]!);
  return out;
}

/** a0.., q_pi, v and, with a greedy search, greedy_a0.., q_max, q_gap (= q_max − q_pi), greedy_dist. */
export function policyColumns(r: PolicyVsCritic, actDim: number): Columns {
  const cols: Columns = { ...splitColumns('a', r.action, actDim), q_pi: r.qPi, v: r.v };
  if (r.greedy) Object.assign(cols, splitColumns('greedy_a', r.greedy.action, actDim), { q_max: r.greedy.q, q_gap: r.greedy.qGap, greedy_dist: r.greedy.dist });
  return cols;
}

function gridColumns(grid: PositionGrid): Columns {
  return { gi: grid.gi, gj: grid.gj, x: grid.x, y: grid.y };
}

/** value_map: gi, gj, x, y, v and, with a greedy search, q_max and greedy_a0... */
export function valueMapColumns(grid: PositionGrid, map: ValueMap, actDim: number): Columns {
  const cols: Columns = { ...gridColumns(grid), v: map.v };
  if (map.greedy) Object.assign(cols, { q_max: map.greedy.q }, splitColumns('greedy_a', map.greedy.action, actDim));
  return cols;
}

/** action_field: gi, gj, x, y and the policy columns at those positions. */
export function actionFieldColumns(grid: PositionGrid, r: PolicyVsCritic, actDim: number): Columns {
  return { ...gridColumns(grid), ...policyColumns(r, actDim) };
}

/**
 * visited_gaps: episode, t, final, then (in a maze, where observation components 0 and 1 are the
 * position) x, y, then the policy columns.
 */
export function visitedGapColumns(v: VisitedStates, r: PolicyVsCritic, actDim: number, inMaze: boolean): Columns {
  const n = v.episode.length;
  const comp = (k: number) => Float32Array.from({ length: n }, (_, i) => v.obs[i * v.obsDim + k]!);
  const where: Columns = inMaze ? { x: comp(0), y: comp(1) } : {};
  return { episode: v.episode, t: v.t, final: Int32Array.from(v.final), ...where, ...policyColumns(r, actDim) };
}

/**
 * Means over visited states (prefix `visited_`) and over the episodes' last states (`final_`):
 * Q(s, π(s)) − V(s), and with a greedy search ‖π(s) − argmax_a Q‖ and max_a Q − Q(s, π(s)).
 */
export function visitedGapSummary(v: VisitedStates, r: PolicyVsCritic): Record<string, number> {
  const out: Record<string, number> = { visited_states: v.episode.length };
  const groups: [string, (i: number) => boolean][] = [['visited', () => true], ['final', (i) => v.final[i] === 1]];
  for (const [name, keep] of groups) {
    const pick = (x: ArrayLike<number>) => Array.from(x).filter((_, i) => keep(i));
    out[`${name}_q_pi_minus_v`] = finiteMean(pick(Array.from(r.qPi, (q, i) => q - r.v[i]!)));
    if (r.greedy) {
      out[`${name}_greedy_dist`] = finiteMean(pick(r.greedy.dist));
      out[`${name}_q_grid_gap`] = finiteMean(pick(r.greedy.qGap));
    }
  }
  return out;
}

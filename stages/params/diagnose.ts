/**
 * The `with:` parameters of the diagnose stage: the JSON Schema the engine validates them against
 * and fills defaults from, and their TypeScript type, derived from it (json-schema-to-ts).
 */
import type { FromSchema, JSONSchema } from 'json-schema-to-ts';
import { backendParam } from './common.js';

export const diagnoseSchema = {
  title: 'diagnose parameters',
  type: 'object',
  additionalProperties: false,
  properties: {
    states: { type: 'integer', minimum: 1, default: 2000, description: 'Dataset states sampled (seeded) at which the policy is examined.' },
    edge_tol: { type: 'number', minimum: 0, maximum: 1, default: 0.02, description: 'An action is on the box edge when max|a_i| ≥ 1 − edge_tol, on the unit circle when ‖a‖ ≥ 1 − edge_tol.' },
    neighbour_pool: { type: 'integer', minimum: 1, default: 50000, description: 'Dataset rows searched for the nearest states of each sampled state.' },
    neighbours: { type: 'integer', minimum: 1, default: 32, description: "Nearest dataset states whose actions count as 'data actions here' for the distance-to-data measure." },
    grid_bins: { type: 'integer', minimum: 0, default: 21, description: "Values per action dimension of the grid on which the critic's own greedy action max_a min(Q1,Q2)(s,a) is found (0: skip; skipped when the grid has over 10000 points)." },
    map_per_cell: { type: 'integer', minimum: 0, default: 5, description: "Mazes: positions per cell side of the grid (at rest) on which V, the critic's greedy action and the policy's action are mapped (0: no value_map / action_field)." },
    map_grid_bins: { type: 'integer', minimum: 0, default: 11, description: 'Values per action dimension of the grid searched for the greedy action on the position grid (coarser than grid_bins: it runs at every position; 0: V only).' },
    backend: backendParam,
  },
} as const satisfies JSONSchema;

export type DiagnoseParams = FromSchema<typeof diagnoseSchema>;

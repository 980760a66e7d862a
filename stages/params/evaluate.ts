/**
 * The `with:` parameters of the evaluate stage: the JSON Schema the engine validates them against
 * and fills defaults from, and their TypeScript type, derived from it (json-schema-to-ts).
 */
import type { FromSchema, JSONSchema } from 'json-schema-to-ts';
import { backendParam } from './common.js';

export const evaluateSchema = {
  title: 'evaluate parameters',
  type: 'object',
  additionalProperties: false,
  properties: {
    episodes: { type: 'integer', minimum: 1, default: 100, description: 'Evaluation episodes, all stepped in one vectorised loop.' },
    deterministic: { type: 'boolean', default: true, description: "Act with the mean / argmax (IQL's evaluation); false samples from the policy." },
    record_trajectories: { type: 'integer', minimum: 0, default: 10, description: 'Episodes whose (x, y) path is kept for plots.' },
    visited_states: { type: 'integer', minimum: 0, default: 2000, description: "About this many full observations of all episodes are kept in `visited` (every k-th step plus each episode's last); 0: no `visited` output." },
    env: { type: 'string', default: '', description: "Environment id; empty: the env the policy's dataset came from." },
    backend: backendParam,
  },
} as const satisfies JSONSchema;

export type EvaluateParams = FromSchema<typeof evaluateSchema>;

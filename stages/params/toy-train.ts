/**
 * The `with:` parameters of the toy-train stage: the JSON Schema the engine validates them against
 * and fills defaults from, and their TypeScript type, derived from it (json-schema-to-ts).
 */
import type { FromSchema, JSONSchema } from 'json-schema-to-ts';

export const toyTrainSchema = {
  title: 'toy-train parameters',
  type: 'object',
  additionalProperties: false,
  properties: {
    steps: { type: 'integer', minimum: 1, default: 100 },
    checkpoint_every: { type: 'integer', minimum: 1, default: 10 },
    step_ms: { type: 'integer', minimum: 0, default: 0, description: 'Sleep per step (lets tests kill the run mid-stage).' },
    lr: { type: 'number', exclusiveMinimum: 0, maximum: 0.5, default: 0.05 },
  },
} as const satisfies JSONSchema;

export type ToyTrainParams = FromSchema<typeof toyTrainSchema>;

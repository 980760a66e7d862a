/**
 * The `with:` parameters of the synthetic-table stage: the JSON Schema the engine validates them against
 * and fills defaults from, and their TypeScript type, derived from it (json-schema-to-ts).
 */
import type { FromSchema, JSONSchema } from 'json-schema-to-ts';

export const syntheticTableSchema = {
  title: 'synthetic-table parameters',
  type: 'object',
  additionalProperties: false,
  properties: {
    rows: { type: 'integer', minimum: 0, default: 1000, description: 'Number of rows.' },
    columns: { type: 'integer', minimum: 1, maximum: 1000, default: 4, description: 'Number of float32 columns.' },
    scale: { type: 'number', exclusiveMinimum: 0, default: 1, description: 'Values are uniform in [0, scale).' },
  },
} as const satisfies JSONSchema;

export type SyntheticTableParams = FromSchema<typeof syntheticTableSchema>;

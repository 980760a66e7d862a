/**
 * The `with:` parameters of the scale-table stage: the JSON Schema the engine validates them against
 * and fills defaults from, and their TypeScript type, derived from it (json-schema-to-ts).
 */
import type { FromSchema, JSONSchema } from 'json-schema-to-ts';

export const scaleTableSchema = {
  title: 'scale-table parameters',
  type: 'object',
  additionalProperties: false,
  required: ['factor'],
  properties: {
    factor: { type: 'number', description: 'Multiplier applied to every value.' },
  },
} as const satisfies JSONSchema;

export type ScaleTableParams = FromSchema<typeof scaleTableSchema>;

/**
 * The `with:` parameters of the summarize-tables stage: the JSON Schema the engine validates them against
 * and fills defaults from, and their TypeScript type, derived from it (json-schema-to-ts).
 */
import type { FromSchema, JSONSchema } from 'json-schema-to-ts';

export const summarizeTablesSchema = {
  title: 'summarize-tables parameters',
  type: 'object',
  additionalProperties: false,
  properties: {
    title: { type: 'string', default: 'column means', description: 'First line of the text summary.' },
  },
} as const satisfies JSONSchema;

export type SummarizeTablesParams = FromSchema<typeof summarizeTablesSchema>;

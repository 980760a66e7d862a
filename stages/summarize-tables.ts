/** Fan-in: per input table, the mean of each column; plus a text summary (smoke pipeline). */
import { tableFromArrays } from 'apache-arrow';
import type { InputArtifact, StageKind } from '../src/engine/stage.js';
import { summarizeTablesSchema, type SummarizeTablesParams } from './params/summarize-tables.js';

const stage: StageKind<SummarizeTablesParams> = {
  kind: 'summarize-tables',
  version: '1',
  description: 'Column means of every input table, as a table and a text summary.',
  params: summarizeTablesSchema,
  inputs: { tables: { description: 'any number of numeric tables', many: true } },
  outputs: {
    means: { description: 'one row per (input instance, column) with the column mean' },
    summary: { description: 'a plain-text table of the means (printed at the end of a run)' },
  },
  async run(ctx) {
    const instance: string[] = [];
    const column: string[] = [];
    const mean: number[] = [];
    for (const input of ctx.inputs['tables'] as InputArtifact[]) {
      const t = await input.table();
      for (const f of t.schema.fields) {
        const v = t.getChild(f.name)!.toArray() as ArrayLike<number>;
        let s = 0;
        for (let i = 0; i < v.length; i++) s += v[i]!;
        instance.push(input.instance);
        column.push(f.name);
        mean.push(v.length ? s / v.length : NaN);
      }
    }
    const lines = [ctx.params.title, ...instance.map((n, i) => `${n.padEnd(40)} ${column[i]!.padEnd(6)} ${mean[i]!.toFixed(4)}`)];
    return {
      outputs: {
        means: tableFromArrays({ instance, column, mean: Float64Array.from(mean) }),
        summary: { bytes: new TextEncoder().encode(lines.join('\n') + '\n'), ext: 'txt', mediaType: 'text/plain' },
      },
      summary: { tables: (ctx.inputs['tables'] as InputArtifact[]).length, grand_mean: mean.reduce((a, b) => a + b, 0) / Math.max(1, mean.length) },
    };
  },
};
export default stage;

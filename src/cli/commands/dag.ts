import type { Command } from '../command.js';
import { wantsHelp } from '../command.js';
import { parse, planOptions, planOptionsHelp, planOrReport } from '../common.js';
import { ExitCode } from '../../engine/errors.js';
import type { Plan } from '../../engine/plan.js';

const usage = `usage: pipeline dag <pipeline.yaml> [options]

Prints the pipeline's graph of stage instances.

options:
${planOptionsHelp}
  --format text|mermaid|dot     (default text: a tree from the sources down)
  --stages                      one node per stage instead of per instance`;

interface Graph { nodes: { id: string; label: string }[]; edges: [string, string, string][] }

function graph(plan: Plan, byStage: boolean): Graph {
  if (byStage) {
    const edges = new Map<string, [string, string, string]>();
    for (const inst of plan.instances) {
      for (const [input, b] of Object.entries(inst.inputs)) {
        for (const r of b.refs) {
          const from = plan.byName.get(r.instance)!.stage;
          edges.set(`${from}>${inst.stage}>${input}`, [from, inst.stage, `${r.output} → ${input}`]);
        }
      }
    }
    const nodes = [...plan.stages.keys()].map((s) => ({ id: s, label: `${s} (${plan.byName.get(plan.stages.get(s)![0]!)!.resolved.kind.kind}) ×${plan.stages.get(s)!.length}` }));
    return { nodes, edges: [...edges.values()] };
  }
  const nodes = plan.instances.map((i) => ({ id: i.name, label: `${i.name} (${i.resolved.kind.kind})` }));
  const edges: [string, string, string][] = [];
  for (const inst of plan.instances) for (const [input, b] of Object.entries(inst.inputs)) for (const r of b.refs) edges.push([r.instance, inst.name, `${r.output} → ${input}`]);
  return { nodes, edges };
}

export function renderDag(plan: Plan, format: string, byStage: boolean): string {
  const g = graph(plan, byStage);
  const id = new Map(g.nodes.map((n, i) => [n.id, `n${i}`]));
  if (format === 'mermaid') {
    return ['flowchart TD', ...g.nodes.map((n) => `  ${id.get(n.id)}["${n.label.replace(/"/g, "'")}"]`), ...g.edges.map(([a, b, l]) => `  ${id.get(a)} -->|${l}| ${id.get(b)}`)].join('\n');
  }
  if (format === 'dot') {
    return ['digraph pipeline {', '  rankdir=TB; node [shape=box, fontname="Helvetica"];', ...g.nodes.map((n) => `  ${id.get(n.id)} [label=${JSON.stringify(n.label)}];`), ...g.edges.map(([a, b, l]) => `  ${id.get(a)} -> ${id.get(b)} [label=${JSON.stringify(l)}];`), '}'].join('\n');
  }
  // Text: each node under its first parent; further parents noted.
  const children = new Map<string, string[]>();
  const parents = new Map<string, string[]>();
  for (const [a, b] of g.edges) {
    if (!parents.get(b)?.includes(a)) parents.set(b, [...(parents.get(b) ?? []), a]);
  }
  for (const [b, ps] of parents) children.set(ps[0]!, [...(children.get(ps[0]!) ?? []), b]);
  const label = new Map(g.nodes.map((n) => [n.id, n.label]));
  const lines: string[] = [];
  const walk = (n: string, prefix: string, last: boolean, root: boolean) => {
    const extra = (parents.get(n) ?? []).slice(1);
    lines.push(`${root ? '' : prefix + (last ? '└─ ' : '├─ ')}${label.get(n)}${extra.length ? `  (also needs ${extra.join(', ')})` : ''}`);
    const kids = children.get(n) ?? [];
    kids.forEach((k, i) => walk(k, root ? '' : prefix + (last ? '   ' : '│  '), i === kids.length - 1, false));
  };
  for (const n of g.nodes) if (!parents.has(n.id)) walk(n.id, '', true, true);
  return lines.join('\n');
}

const command: Command = {
  name: 'dag',
  summary: 'print the stage graph (text, Mermaid or DOT)',
  usage,
  async run(argv) {
    if (wantsHelp(argv)) { console.log(usage); return ExitCode.ok; }
    const { values, positionals } = parse(argv, { ...planOptions, format: { type: 'string', default: 'text' }, stages: { type: 'boolean' } }, usage);
    if (!['text', 'mermaid', 'dot'].includes(values.format)) { console.error(`--format must be text, mermaid or dot\n\n${usage}`); return ExitCode.invalid; }
    const plan = await planOrReport(positionals[0], values, usage);
    if (typeof plan === 'number') return plan;
    console.log(renderDag(plan, values.format, !!values.stages));
    return ExitCode.ok;
  },
};
export default command;

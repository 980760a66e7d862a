/**
 * Parts of a plan, for `run --only` (a stage and what it needs) and `run --from` (a stage and
 * what depends on it). Works on instance names; plan.instances is in topological order.
 */
import type { Plan } from './plan.js';

/** The instances downstream of `roots`, roots included (plan.instances is in topological order). */
export function descendants(plan: Plan, roots: Set<string>): Set<string> {
  const out = new Set(roots);
  for (const inst of plan.instances) if (inst.needs.some((n) => out.has(n))) out.add(inst.name);
  return out;
}

/** The instances upstream of `roots`, roots included. */
export function ancestors(plan: Plan, roots: Set<string>): Set<string> {
  const out = new Set(roots);
  for (const inst of [...plan.instances].reverse()) if (out.has(inst.name)) inst.needs.forEach((n) => out.add(n));
  return out;
}

/** The plan restricted to a closed set of instances (order kept). */
export function restrict(plan: Plan, keep: Set<string>): Plan {
  const instances = plan.instances.filter((i) => keep.has(i.name));
  const stages = new Map([...plan.stages].map(([s, names]) => [s, names.filter((n) => keep.has(n))] as [string, string[]]).filter(([, n]) => n.length > 0));
  return { ...plan, instances, byName: new Map(instances.map((i) => [i.name, i])), stages };
}

/**
 * Pipeline file → validated plan, in phases, each a module with one job:
 *
 *   load (load.ts)              YAML → plain value + a locator for line:column
 *   shape (schemas.ts)          the file against schemas/pipeline.schema.json
 *   overrides (overrides.ts)    profiles and --set → pipeline params, per-stage overrides
 *   kinds (registry.ts)         `uses:` → stage kind modules; their code identity (code-identity.ts)
 *   graph (graph.ts)            stage dependencies, cycles, topological order
 *   expand (expand.ts)          matrix / foreach → instance coordinates
 *   params (params.ts)          each instance's parameters (templates, schema defaults) and seed
 *   bind (bind.ts)              each instance's inputs → upstream instances
 *
 * Every problem is a located PipelineError; a phase that later phases cannot survive ends the
 * pass with all errors so far. Nothing runs while any exists. The key material and the running
 * are the fingerprint's and the executor's (fingerprint.ts, execute.ts).
 */
import { resolve } from 'node:path';
import { codeIdentity, type CodeIdentity, type StatCache } from './code-identity.js';
import type { ExecutorDecl, Json, PipelineDecl, RemoteDecl } from './declaration.js';
import { Diagnostics } from './errors.js';
import { bindInputs, checkUnknownInputs, type InputBinding } from './bind.js';
import { expandStages, instanceName, type MatrixCoords } from './expand.js';
import { findCycle, stageDependencies, topoOrder } from './graph.js';
import { loadPipelineFile, type LoadedPipelineFile } from './load.js';
import { checkUnselectedStageTargets, resolveOverrides } from './overrides.js';
import { resolveParams } from './params.js';
import { resolveKind, type ResolvedKind } from './registry.js';
import { checkResources, mergeResources, type Resources } from './resources.js';
import { describeSchemaError, validatorForPipeline } from './schemas.js';

export { findCycle, instanceName, topoOrder };
export type { InputBinding, MatrixCoords };

export interface PlannedInstance {
  name: string;
  stage: string;
  kindId: string;
  resolved: ResolvedKind;
  /** The kind's code identity, computed for this plan (shared by the kind's instances). */
  code: CodeIdentity;
  matrix: MatrixCoords;
  params: Json;
  seed: number;
  inputs: Record<string, InputBinding>;
  /** Upstream instance names, deduplicated. */
  needs: string[];
  /** What the instance asks of the machine that runs it (stage's, else kind's, else defaults). */
  resources: Resources;
}

export interface Plan {
  name: string;
  description?: string;
  file: string;
  storeDir: string;
  tracking: { uri?: string; experiment?: string };
  /** The file's `executor:` and `remote:` (the CLI and project config may override them). */
  executor: ExecutorDecl;
  remote: RemoteDecl;
  params: Json;
  profile?: string;
  /** In topological order. */
  instances: PlannedInstance[];
  byName: Map<string, PlannedInstance>;
  /** Stage name → its instance names (expansion order). */
  stages: Map<string, string[]>;
  /** Things the user should know that do not stop the run (e.g. a source edited but not rebuilt). */
  warnings: string[];
}

export interface PlanOptions {
  /** `stage.param=value` or `params.name=value`; values are parsed as YAML scalars. */
  set?: string[];
  profile?: string;
  /** Overrides the file's `store:`. */
  storeDir?: string;
  cwd?: string;
}

export async function planPipeline(file: string, opts: PlanOptions = {}): Promise<Plan> {
  return planLoaded(loadPipelineFile(file), opts);
}

export async function planLoaded(loaded: LoadedPipelineFile, opts: PlanOptions = {}): Promise<Plan> {
  const d = new Diagnostics(loaded.locate);
  const cwd = opts.cwd ?? process.cwd();

  const validate = validatorForPipeline();
  if (!validate(loaded.raw)) {
    for (const e of validate.errors ?? []) {
      const { path, key, message } = describeSchemaError(e, 'pipeline');
      d.error(message, path, { key });
    }
    d.throwIfAny();
  }
  const decl = loaded.raw as PipelineDecl;

  const overrides = resolveOverrides(decl, opts, d);

  const kinds = await resolveKinds(decl, loaded.file, d);
  checkUnselectedStageTargets(overrides, kinds, d);
  const stats: StatCache = new Map();
  const code = new Map<string, CodeIdentity>();
  for (const r of kinds.values()) if (!code.has(r.id)) code.set(r.id, codeIdentity(r.moduleUrl, stats));

  const deps = stageDependencies(decl, kinds, d);
  const cycle = findCycle(deps);
  if (cycle) {
    d.error(`dependency cycle: ${cycle.join(' → ')} (arrows show data flow)`, ['stages', cycle[0]!], { key: true });
    d.throwIfAny();
  }
  const order = topoOrder(deps);

  const expansion = expandStages(decl, order, overrides.pipelineParams, d);

  const instances: PlannedInstance[] = [];
  const stages = new Map<string, string[]>();
  for (const stage of order) {
    const r = kinds.get(stage);
    if (!r || expansion.failed.has(stage)) continue;
    checkUnknownInputs(decl, stage, r, d);
    const resources = mergeResources(
      checkResources(r.kind.resources, ['stages', stage, 'uses'], d, `stage kind ${r.kind.kind} declares resources: `),
      checkResources(decl.stages[stage]!.resources, ['stages', stage, 'resources'], d),
    );
    const names: string[] = [];
    for (const coords of expansion.coords.get(stage)!) {
      const resolved = resolveParams(decl, stage, r, coords, overrides, cwd, d);
      const bound = bindInputs(decl, stage, r, coords, expansion, d);
      if (!resolved) continue;
      const name = instanceName(stage, coords);
      instances.push({ name, stage, kindId: r.id, resolved: r, code: code.get(r.id)!, matrix: coords, params: resolved.params, seed: resolved.seed, ...bound, resources });
      names.push(name);
    }
    stages.set(stage, names);
  }
  d.throwIfAny();

  return {
    name: decl.name,
    description: decl.description,
    file: resolve(cwd, loaded.file),
    storeDir: resolve(cwd, opts.storeDir ?? decl.store ?? 'artifacts'),
    tracking: decl.tracking ?? {},
    executor: decl.executor ?? {},
    remote: decl.remote ?? {},
    params: overrides.pipelineParams,
    profile: opts.profile,
    instances,
    byName: new Map(instances.map((i) => [i.name, i])),
    stages,
    warnings: unbuiltWarnings(code),
  };
}

/** Phase "kinds": every stage's `uses:` resolved (in parallel: user modules are imported). */
async function resolveKinds(decl: PipelineDecl, file: string, d: Diagnostics): Promise<Map<string, ResolvedKind>> {
  const kinds = new Map<string, ResolvedKind>();
  await Promise.all(
    Object.entries(decl.stages).map(async ([name, s]) => {
      try {
        kinds.set(name, await resolveKind(s.uses, file, s)); // s: command stages are made from their declaration
      } catch (e) {
        d.error((e as Error).message, ['stages', name, 'uses']);
      }
    }),
  );
  return kinds;
}

function unbuiltWarnings(code: Map<string, CodeIdentity>): string[] {
  const labels = [...new Set([...code.values()].flatMap((c) => c.unbuilt))].sort();
  return labels.map((l) => `${l} was edited after it was compiled: stages run (and are keyed by) the compiled code, so the edit takes effect after a rebuild (npm run build)`);
}

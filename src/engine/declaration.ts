/** The pipeline file as declared (after its schema check): the input of every planning phase. */

export type Json = Record<string, unknown>;

export interface StageDecl {
  uses: string;
  description?: string;
  with?: Json;
  inputs?: Record<string, string | string[]>;
  matrix?: Record<string, Array<string | number | boolean> | string>;
  foreach?: string;
  seed?: number | string;
  /** What one instance asks of the machine that runs it (resources.ts). */
  resources?: ResourcesDecl;
}

/** `resources:` as written: numbers of CPUs and GPUs, memory as bytes or a size such as 4GiB. */
export interface ResourcesDecl {
  cpus?: number;
  gpus?: number;
  memory?: number | string;
  /** Named resources of the cluster's nodes (Ray custom resources). */
  custom?: Record<string, number>;
}

/** `executor:` as written (the CLI's --executor and the project config override it). */
export interface ExecutorDecl {
  kind?: 'local' | 'ray';
  /** Ray: the dashboard (Jobs API) address, e.g. http://head:8265. */
  address?: string;
  /** Ray: the command that starts this CLI on a cluster node (default: node <this project>/bin/pipeline.js). */
  entrypoint?: string;
}

/** `remote:` as written: a shared S3 store (credentials come from the AWS environment, never from here). */
export interface RemoteDecl {
  url?: string;
  endpoint?: string;
  region?: string;
}

export interface ProfileDecl {
  description?: string;
  params?: Json;
  set?: Json;
}

export interface PipelineDecl {
  name: string;
  description?: string;
  store?: string;
  tracking?: { uri?: string; experiment?: string };
  executor?: ExecutorDecl;
  remote?: RemoteDecl;
  params?: Json;
  profiles?: Record<string, ProfileDecl>;
  defaults?: { seed?: number; with?: Json };
  stages: Record<string, StageDecl>;
}

/** `up.output` → [up, output]. */
export function splitRef(ref: string): [string, string] {
  return ref.split('.') as [string, string];
}

/** An input declared as one reference or a list of them, as a list. */
export function refList(refs: string | string[]): string[] {
  return Array.isArray(refs) ? refs : [refs];
}

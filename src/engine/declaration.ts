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

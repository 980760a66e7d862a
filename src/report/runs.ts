/**
 * Which run of which method in which setting an upstream artifact belongs to, read from its
 * matrix coordinates (an evaluate or diagnose instance inherits the coordinates of the policy
 * and critic it descends from through `foreach`):
 *
 * - method: the matrix value `method`, else the instance's `method` parameter, else its name;
 * - run: (critic seed, actor seed) = the matrix axes named by `RunAxes` (default `critic_seed`,
 *   the fit-iql stage's axis, and `seed`, the extraction's); a missing axis reads as "0" (one
 *   critic, or one actor seed);
 * - setting: every other matrix axis (dataset, env, expectile...), as `k=v` pairs sorted by axis.
 *
 * Pure: no Arrow, no stage context.
 */
import { sortMethods } from './render.js';

export interface RunAxes {
  /** Matrix axis holding the critic seed (pairing key of method differences). */
  critic: string;
  /** Matrix axis holding the actor (extraction) seed. */
  actor: string;
}

export const DEFAULT_RUN_AXES: RunAxes = { critic: 'critic_seed', actor: 'seed' };

/** What the report knows of an upstream instance (a subset of InputArtifact). */
export interface RunSource {
  instance: string;
  matrix: Record<string, unknown>;
  params: Record<string, unknown>;
}

export interface RunId {
  /** "k=v,k=v" of the setting axes ('' when there are none). */
  setting: string;
  /** The setting axes themselves. */
  settingCoords: Record<string, string>;
  method: string;
  critic: string;
  actor: string;
}

/** The setting coordinates of a matrix: all axes but method and the run axes, sorted by name. */
export function settingCoordsOf(matrix: Record<string, unknown>, axes: RunAxes = DEFAULT_RUN_AXES): Record<string, string> {
  const skip = new Set(['method', axes.critic, axes.actor]);
  return Object.fromEntries(
    Object.keys(matrix)
      .filter((k) => !skip.has(k))
      .sort()
      .map((k) => [k, String(matrix[k])]),
  );
}

export function settingLabel(coords: Record<string, string>): string {
  return Object.entries(coords).map(([k, v]) => `${k}=${v}`).join(',');
}

export function methodOf(src: RunSource): string {
  return String(src.matrix['method'] ?? src.params['method'] ?? src.instance);
}

export function runOf(src: RunSource, axes: RunAxes = DEFAULT_RUN_AXES): RunId {
  const settingCoords = settingCoordsOf(src.matrix, axes);
  return {
    setting: settingLabel(settingCoords),
    settingCoords,
    method: methodOf(src),
    critic: String(src.matrix[axes.critic] ?? 0),
    actor: String(src.matrix[axes.actor] ?? 0),
  };
}

/** Short run label for charts and tables: "c<critic seed>/a<actor seed>". */
export function runLabel(r: { critic: string; actor: string }): string {
  return `c${r.critic}/a${r.actor}`;
}

/** A setting's own axes all agree with `coords` (a dataset input applies to the runs built on it). */
export function appliesTo(own: Record<string, string>, coords: Record<string, string>): boolean {
  return Object.entries(own).every(([k, v]) => !(k in coords) || coords[k] === v);
}

/** Order of (setting, method) groups: settings alphabetically, methods in the study's order. */
export function compareGroups(x: { setting: string; method: string }, y: { setting: string; method: string }): number {
  if (x.setting !== y.setting) return x.setting < y.setting ? -1 : 1;
  if (x.method === y.method) return 0;
  return sortMethods([x.method, y.method])[0] === x.method ? -1 : 1;
}

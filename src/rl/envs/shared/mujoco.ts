/**
 * mujoco-js loading shared by every family's simulation: one wasm module per process, MJCF
 * compilation with useful errors, and the subset of MjModel/MjData the sims use.
 *
 * mujoco-js quirks handled by the sims: array views such as `d.qpos` are fetched on every access
 * (a view goes stale when the wasm heap grows, e.g. after more MjData are created);
 * `loadFromXML` may throw a message-less CppException or return null (turned into an Error
 * naming the model here); models and data are freed with `.delete()`.
 */
import type { MainModule } from 'mujoco-js';

/** The subset of MjData we use (mujoco-js types array views as `any`); the sims extend it. */
export interface MjDataLike {
  readonly qpos: Float64Array;
  readonly qvel: Float64Array;
  readonly ctrl: Float64Array;
  time: number;
  delete(): void;
}

export interface MjModelLike {
  readonly nq: number;
  readonly nv: number;
  readonly nu: number;
  delete(): void;
}

let modulePromise: Promise<MainModule> | null = null;

/** The mujoco wasm module (loaded once per process). */
export function getMujoco(): Promise<MainModule> {
  if (!modulePromise) {
    modulePromise = import('mujoco-js').then((m) => (m.default as unknown as () => Promise<MainModule>)());
  }
  return modulePromise;
}

/** Compiles an MJCF string; throws an Error with a useful message on failure. */
export function compileModel(mj: MainModule, xml: string, name: string): MjModelLike {
  const path = `/iql_${name.replace(/[^A-Za-z0-9_-]/g, '_')}.xml`;
  (mj as unknown as { FS: { writeFile(p: string, s: string): void } }).FS.writeFile(path, xml);
  let m: unknown;
  try {
    m = mj.MjModel.loadFromXML(path);
  } catch (e) {
    const ptr = (e as { excPtr?: unknown })?.excPtr;
    throw new Error(`mujoco: failed to compile model '${name}' (CppException${ptr !== undefined ? ` at ${String(ptr)}` : ''})`);
  }
  if (!m) throw new Error(`mujoco: loadFromXML returned null for model '${name}' (malformed XML?)`);
  return m as MjModelLike;
}

/**
 * mujoco-js glue for the point-mass maze: one shared wasm module, one compiled MjModel per
 * layout (cached for the process), and `MazeSim` = n MjData of that model stepped in a loop.
 *
 * mujoco-js quirks handled here (DESIGN §3): views such as `d.qpos` are fetched on every access
 * (they go stale when the wasm heap grows, e.g. after creating more MjData); `loadFromXML` may
 * throw a message-less CppException or return null; models/data are freed with `.delete()`.
 */
import type { MainModule } from 'mujoco-js';
import { getLayout, mazeXml, type MazeName } from './maze.js';

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

const models = new Map<string, MjModelLike>();

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

export async function getMazeModel(maze: MazeName): Promise<{ mj: MainModule; model: MjModelLike }> {
  const mj = await getMujoco();
  let model = models.get(maze);
  if (!model) {
    model = compileModel(mj, mazeXml(getLayout(maze)), `maze_${maze}`);
    if (model.nq !== 2 || model.nv !== 2 || model.nu !== 2) throw new Error(`maze model ${maze}: unexpected dims`);
    models.set(maze, model);
  }
  return { mj, model };
}

/** Frees the cached models (call only when no MazeSim is alive). */
export function releaseMazeModels(): void {
  for (const m of models.values()) m.delete();
  models.clear();
}

/**
 * n independent point masses in one maze. State is read/written through flat Float64Array
 * mirrors (`qpos`, `qvel`, n×2) kept in sync by `setState`/`step`, so callers never touch wasm views.
 */
export class MazeSim {
  readonly n: number;
  /** Mirrors of the simulator state, n×2 each (qpos in maze coordinates). */
  readonly qpos: Float64Array;
  readonly qvel: Float64Array;
  private datas: MjDataLike[];
  private closed = false;

  private constructor(
    private readonly mj: MainModule,
    private readonly model: MjModelLike,
    n: number,
  ) {
    this.n = n;
    this.datas = [];
    const Ctor = (mj as unknown as { MjData: new (m: MjModelLike) => MjDataLike }).MjData;
    for (let i = 0; i < n; i++) this.datas.push(new Ctor(model));
    this.qpos = new Float64Array(2 * n);
    this.qvel = new Float64Array(2 * n);
  }

  static async create(maze: MazeName, n: number): Promise<MazeSim> {
    if (!Number.isInteger(n) || n < 1) throw new Error(`MazeSim: n must be a positive integer, got ${n}`);
    const { mj, model } = await getMazeModel(maze);
    return new MazeSim(mj, model, n);
  }

  setState(i: number, x: number, y: number, vx: number, vy: number): void {
    const d = this.datas[i]!;
    const q = d.qpos;
    q[0] = x;
    q[1] = y;
    const v = d.qvel;
    v[0] = vx;
    v[1] = vy;
    this.qpos[2 * i] = x;
    this.qpos[2 * i + 1] = y;
    this.qvel[2 * i] = vx;
    this.qvel[2 * i + 1] = vy;
  }

  /**
   * One D4RL MazeEnv.step for body i: action clipped to [-1, 1], velocity clipped to [-5, 5],
   * then one mj_step (frame_skip 1). Updates the qpos/qvel mirrors.
   */
  step(i: number, ax: number, ay: number): void {
    const d = this.datas[i]!;
    const c = d.ctrl;
    c[0] = ax > 1 ? 1 : ax < -1 ? -1 : ax !== ax ? 0 : ax;
    c[1] = ay > 1 ? 1 : ay < -1 ? -1 : ay !== ay ? 0 : ay;
    const v = d.qvel;
    const v0 = v[0]!;
    const v1 = v[1]!;
    v[0] = v0 > 5 ? 5 : v0 < -5 ? -5 : v0;
    v[1] = v1 > 5 ? 5 : v1 < -5 ? -5 : v1;
    this.mj.mj_step(this.model as never, d as never);
    const q = d.qpos;
    const v2 = d.qvel;
    this.qpos[2 * i] = q[0]!;
    this.qpos[2 * i + 1] = q[1]!;
    this.qvel[2 * i] = v2[0]!;
    this.qvel[2 * i + 1] = v2[1]!;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const d of this.datas) d.delete();
    this.datas = [];
  }
}

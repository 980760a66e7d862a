/**
 * The point-mass maze on mujoco-js: one compiled MjModel per layout (cached for the process), and
 * `MazeSim` = n MjData of that model stepped in a loop. Wasm array views are read on every access
 * (they go stale when the heap grows; see shared/mujoco.ts).
 */
import type { MainModule } from 'mujoco-js';
import { compileModel, getMujoco, type MjDataLike, type MjModelLike } from '../shared/mujoco.js';
import { getLayout, mazeXml, type MazeName } from './layout.js';

const models = new Map<string, MjModelLike>();

async function getMazeModel(maze: MazeName): Promise<{ mj: MainModule; model: MjModelLike }> {
  const mj = await getMujoco();
  let model = models.get(maze);
  if (!model) {
    model = compileModel(mj, mazeXml(getLayout(maze)), `maze_${maze}`);
    if (model.nq !== 2 || model.nv !== 2 || model.nu !== 2) throw new Error(`maze model ${maze}: unexpected dims`);
    models.set(maze, model);
  }
  return { mj, model };
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

/**
 * mujoco-js simulation of n ants in one maze (one compiled MjModel per layout, n MjData), with
 * D4RL AntMaze's step/reset/reward/observation semantics (see specs.ts). Flat Float64 mirrors of
 * qpos (n×15), qvel (n×14) and the goals (n×2) are kept for the caller; wasm views are fetched on
 * every access (they go stale when the wasm heap grows; see shared/mujoco.ts).
 *
 * Step: ctrl = clip(a, −1, 1) (NaN → 0); mj_step × 5; reward = 1 if ‖qpos[0:2] − goal‖ ≤ 0.5.
 */
import type { MainModule } from 'mujoco-js';
import { compileModel, getMujoco, type MjDataLike, type MjModelLike } from '../shared/mujoco.js';
import type { Rng } from '../../rng.js';
import { antMazeXml, cellCentre, getAntMazeLayout, type AntMazeLayout, type AntMazeName } from './model.js';

type MjData = MjDataLike;
type MjModel = MjModelLike;

interface Mj {
  MjData: new (m: MjModel) => MjData;
  mj_step(m: MjModel, d: MjData): void;
  mj_forward(m: MjModel, d: MjData): void;
  mj_resetData(m: MjModel, d: MjData): void;
}

export const ANT_NQ = 15;
export const ANT_NV = 14;
export const ANTMAZE_OBS_DIM = 29;
export const ANTMAZE_ACT_DIM = 8;
export const FRAME_SKIP = 5;
export const GOAL_RADIUS = 0.5;

const models = new Map<string, MjModel>();

async function getModel(maze: AntMazeName): Promise<{ mj: Mj; model: MjModel }> {
  const main: MainModule = await getMujoco();
  let m = models.get(maze);
  if (!m) {
    m = compileModel(main, antMazeXml(getAntMazeLayout(maze)), `antmaze_${maze}`) as unknown as MjModel;
    if (m.nq !== ANT_NQ || m.nv !== ANT_NV || m.nu !== ANTMAZE_ACT_DIM) throw new Error(`antmaze model ${maze}: unexpected dims nq=${m.nq} nv=${m.nv} nu=${m.nu}`);
    models.set(maze, m);
  }
  return { mj: main as unknown as Mj, model: m };
}

/** Torso yaw (rad) from the quaternion (w, x, y, z) at qpos[off+3..off+7). */
export function torsoYaw(qpos: ArrayLike<number>, off = 0): number {
  const w = qpos[off + 3]!;
  const x = qpos[off + 4]!;
  const y = qpos[off + 5]!;
  const z = qpos[off + 6]!;
  return Math.atan2(2 * (w * z + x * y), 1 - 2 * (y * y + z * z));
}

/** z component of the torso's up axis (1 upright, < 0 flipped), from the quaternion. */
export function torsoUpZ(qpos: ArrayLike<number>, off = 0): number {
  const w = qpos[off + 3]!;
  const x = qpos[off + 4]!;
  const y = qpos[off + 5]!;
  const z = qpos[off + 6]!;
  const n = w * w + x * x + y * y + z * z;
  return (1 - (2 * (x * x + y * y)) / (n || 1));
}

/**
 * D4RL's goal for a goal cell: centre + U(0, 0.25·s) + U(0, 0.5)·0.25·s per axis, then max(·, 0)
 * (goal_sampler with add_random_noise, as used by set_target_goal()).
 */
export function sampleGoal(layout: AntMazeLayout, cell: readonly [number, number], rng: Rng, out: Float64Array, off = 0): void {
  const [cx, cy] = cellCentre(layout, cell[0], cell[1]);
  const q = 0.25 * layout.scaling;
  const x = cx + rng.uniform(0, q);
  const y = cy + rng.uniform(0, q);
  out[off] = Math.max(x + rng.uniform(0, 0.5) * q, 0);
  out[off + 1] = Math.max(y + rng.uniform(0, 0.5) * q, 0);
}

export class AntMazeSim {
  readonly n: number;
  readonly layout: AntMazeLayout;
  /** n×15 / n×14 mirrors of the state after the last reset/step. */
  readonly qpos: Float64Array;
  readonly qvel: Float64Array;
  /** n×2 goals used by the reward (set by `setGoal` / `sampleGoal`). */
  readonly goals: Float64Array;
  /** Per env: the sparse reward of the last step. */
  readonly rewards: Float64Array;
  private datas: MjData[];
  private closed = false;

  private constructor(
    readonly maze: AntMazeName,
    private readonly mj: Mj,
    private readonly model: MjModel,
    n: number,
  ) {
    this.n = n;
    this.layout = getAntMazeLayout(maze);
    this.datas = [];
    for (let i = 0; i < n; i++) this.datas.push(new mj.MjData(model));
    this.qpos = new Float64Array(ANT_NQ * n);
    this.qvel = new Float64Array(ANT_NV * n);
    this.goals = new Float64Array(2 * n);
    this.rewards = new Float64Array(n);
    const [gx, gy] = cellCentre(this.layout, this.layout.goal[0], this.layout.goal[1]);
    for (let i = 0; i < n; i++) {
      this.goals[2 * i] = gx;
      this.goals[2 * i + 1] = gy;
      this.mirror(i, this.datas[i]!);
    }
  }

  static async create(maze: AntMazeName, n: number): Promise<AntMazeSim> {
    if (!Number.isInteger(n) || n < 1) throw new Error(`AntMazeSim: n must be a positive integer, got ${n}`);
    const { mj, model } = await getModel(maze);
    return new AntMazeSim(maze, mj, model, n);
  }

  setGoal(i: number, x: number, y: number): void {
    this.goals[2 * i] = x;
    this.goals[2 * i + 1] = y;
  }

  /** Draws env i's goal in `cell` (default: the layout's goal cell) with D4RL's noise. */
  sampleGoal(i: number, rng: Rng, cell: readonly [number, number] = this.layout.goal): void {
    sampleGoal(this.layout, cell, rng, this.goals, 2 * i);
  }

  /** gym Ant reset of env i: qpos0 + U(−0.1, 0.1) (15 values), qvel 0.1·N(0, 1) (14 values). */
  reset(i: number, rng: Rng): void {
    const d = this.datas[i]!;
    this.mj.mj_resetData(this.model, d);
    const q = d.qpos;
    for (let k = 0; k < ANT_NQ; k++) q[k] = q[k]! + rng.uniform(-0.1, 0.1);
    const v = d.qvel;
    for (let k = 0; k < ANT_NV; k++) v[k] = 0.1 * rng.normal();
    this.mj.mj_forward(this.model, d);
    this.rewards[i] = 0;
    this.mirror(i, d);
  }

  /** Sets env i's state exactly (tests, scripted starts). */
  setState(i: number, qpos: ArrayLike<number>, qvel: ArrayLike<number>): void {
    const d = this.datas[i]!;
    this.mj.mj_resetData(this.model, d);
    const q = d.qpos;
    for (let k = 0; k < ANT_NQ; k++) q[k] = qpos[k]!;
    const v = d.qvel;
    for (let k = 0; k < ANT_NV; k++) v[k] = qvel[k]!;
    this.mj.mj_forward(this.model, d);
    this.mirror(i, d);
  }

  /** One env step of env i with action a[off..off+8); sets rewards[i] and the mirrors. */
  step(i: number, a: ArrayLike<number>, off: number): void {
    const d = this.datas[i]!;
    const c = d.ctrl;
    for (let k = 0; k < ANTMAZE_ACT_DIM; k++) {
      const x = a[off + k]!;
      c[k] = x > 1 ? 1 : x < -1 ? -1 : x !== x ? 0 : x;
    }
    for (let s = 0; s < FRAME_SKIP; s++) this.mj.mj_step(this.model, d);
    this.mirror(i, d);
    this.rewards[i] = this.distanceToGoal(i) <= GOAL_RADIUS ? 1 : 0;
  }

  distanceToGoal(i: number): number {
    return Math.hypot(this.qpos[ANT_NQ * i]! - this.goals[2 * i]!, this.qpos[ANT_NQ * i + 1]! - this.goals[2 * i + 1]!);
  }

  /** Writes the 29-D observation (qpos[0:15] ++ qvel[0:14]) of env i into out[off..off+29). */
  writeObs(i: number, out: Float32Array, off: number): void {
    const q = this.qpos;
    const v = this.qvel;
    const bq = ANT_NQ * i;
    const bv = ANT_NV * i;
    for (let k = 0; k < ANT_NQ; k++) out[off + k] = q[bq + k]!;
    for (let k = 0; k < ANT_NV; k++) out[off + ANT_NQ + k] = v[bv + k]!;
  }

  private mirror(i: number, d: MjData): void {
    const q = d.qpos;
    const v = d.qvel;
    const bq = ANT_NQ * i;
    const bv = ANT_NV * i;
    for (let k = 0; k < ANT_NQ; k++) this.qpos[bq + k] = q[k]!;
    for (let k = 0; k < ANT_NV; k++) this.qvel[bv + k] = v[k]!;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const d of this.datas) d.delete();
    this.datas = [];
  }
}

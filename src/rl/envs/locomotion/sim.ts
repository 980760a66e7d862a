/**
 * mujoco-js simulation of n cheetahs (one compiled MjModel per family, n MjData), with the exact
 * step/reset/reward/observation semantics of gym HalfCheetah and dm_control cheetah-run.
 * Flat Float64 mirrors of qpos/qvel are kept for the caller; wasm views are fetched per access
 * (they go stale when the wasm heap grows; see shared/mujoco.ts).
 *
 * Step semantics.
 *  - halfcheetah: ctrl = clip(a, −1, 1); mj_step × 5; reward = (x_after − x_before)/0.05 −
 *    0.1·‖a_clipped‖². gym computes the control cost on the unclipped action (MuJoCo clamps ctrl);
 *    we clip first, identical for in-box actions (tanh policies, clipped datasets).
 *  - cheetah-run: dm_control's legacy step: mj_step2 then mj_step1, so position/velocity-dependent
 *    quantities (the speed sensor) describe the new state; reward = clip(speed/10, 0, 1).
 */
import type { MainModule } from 'mujoco-js';
import { compileModel, getMujoco, type MjDataLike, type MjModelLike } from '../shared/mujoco.js';
import { Rng } from '../../rng.js';
import { DMC_CHEETAH_XML, HALF_CHEETAH_XML } from './models.js';
import { runTolerance, type LocomotionFamily } from './spec.js';

interface MjData extends MjDataLike {
  readonly sensordata: Float64Array;
}

interface MjModel extends MjModelLike {
  readonly njnt: number;
  readonly jnt_limited: Uint8Array;
  readonly jnt_range: Float64Array;
}

interface Mj {
  MjData: new (m: MjModel) => MjData;
  mj_step(m: MjModel, d: MjData): void;
  mj_step1(m: MjModel, d: MjData): void;
  mj_step2(m: MjModel, d: MjData): void;
  mj_forward(m: MjModel, d: MjData): void;
  mj_resetData(m: MjModel, d: MjData): void;
}

const models = new Map<LocomotionFamily, MjModel>();

async function getModel(family: LocomotionFamily): Promise<{ mj: Mj; model: MjModel }> {
  const main: MainModule = await getMujoco();
  let m = models.get(family);
  if (!m) {
    m = compileModel(main, family === 'halfcheetah' ? HALF_CHEETAH_XML : DMC_CHEETAH_XML, `loco_${family}`) as unknown as MjModel;
    if (m.nq !== 9 || m.nv !== 9 || m.nu !== 6) throw new Error(`cheetah model ${family}: unexpected dims nq=${m.nq} nv=${m.nv} nu=${m.nu}`);
    models.set(family, m);
  }
  return { mj: main as unknown as Mj, model: m };
}

export const LOCO_OBS_DIM = 17;
export const LOCO_ACT_DIM = 6;

export class CheetahSim {
  readonly n: number;
  /** n×9 mirrors of the state after the last reset/step. */
  readonly qpos: Float64Array;
  readonly qvel: Float64Array;
  /** Per env: the reward of the last step (already computed by `step`). */
  readonly rewards: Float64Array;
  private datas: MjData[];
  private closed = false;
  private readonly limited: Array<[number, number, number]>; // (qpos index, lo, hi) of limited joints

  private constructor(
    readonly family: LocomotionFamily,
    private readonly mj: Mj,
    private readonly model: MjModel,
    n: number,
  ) {
    this.n = n;
    this.datas = [];
    for (let i = 0; i < n; i++) this.datas.push(new mj.MjData(model));
    this.qpos = new Float64Array(9 * n);
    this.qvel = new Float64Array(9 * n);
    this.rewards = new Float64Array(n);
    // Hinge/slide joints have one qpos each, in joint order (nq == njnt, asserted by dm_control).
    const lim = model.jnt_limited;
    const rng = model.jnt_range;
    this.limited = [];
    for (let j = 0; j < model.njnt; j++) if (lim[j]) this.limited.push([j, rng[2 * j]!, rng[2 * j + 1]!]);
  }

  static async create(family: LocomotionFamily, n: number): Promise<CheetahSim> {
    if (!Number.isInteger(n) || n < 1) throw new Error(`CheetahSim: n must be a positive integer, got ${n}`);
    const { mj, model } = await getModel(family);
    return new CheetahSim(family, mj, model, n);
  }

  /** Joint ranges (qpos index, low, high) of the limited joints (radians / metres). */
  limitedJoints(): ReadonlyArray<readonly [number, number, number]> {
    return this.limited;
  }

  /** Episode reset of env i with the family's reset distribution, drawing from `rng`. */
  reset(i: number, rng: Rng): void {
    const d = this.datas[i]!;
    this.mj.mj_resetData(this.model, d);
    if (this.family === 'halfcheetah') {
      // gym: init_qpos + U(−0.1, 0.1), init_qvel + 0.1·N(0, 1); init_* = the model's qpos0 / 0.
      const q = d.qpos;
      for (let k = 0; k < 9; k++) q[k] = q[k]! + rng.uniform(-0.1, 0.1);
      const v = d.qvel;
      for (let k = 0; k < 9; k++) v[k] = 0.1 * rng.normal();
      this.mj.mj_forward(this.model, d);
    } else {
      // dm_control cheetah: limited joints uniform in range, then 200 physics steps to settle.
      const q = d.qpos;
      for (const [j, lo, hi] of this.limited) q[j] = rng.uniform(lo, hi);
      const c = d.ctrl;
      for (let k = 0; k < 6; k++) c[k] = 0;
      for (let s = 0; s < 200; s++) this.mj.mj_step(this.model, d);
      d.time = 0;
      this.mj.mj_forward(this.model, d);
    }
    this.rewards[i] = 0;
    this.mirror(i, d);
  }

  /** Sets env i's state exactly (tests, scripted starts). */
  setState(i: number, qpos: ArrayLike<number>, qvel: ArrayLike<number>): void {
    const d = this.datas[i]!;
    const q = d.qpos;
    for (let k = 0; k < 9; k++) q[k] = qpos[k]!;
    const v = d.qvel;
    for (let k = 0; k < 9; k++) v[k] = qvel[k]!;
    this.mj.mj_forward(this.model, d);
    this.mirror(i, d);
  }

  /** One env step of env i with action a[off..off+6); sets rewards[i] and the mirrors. */
  step(i: number, a: ArrayLike<number>, off: number): void {
    const d = this.datas[i]!;
    const c = d.ctrl;
    let sq = 0;
    for (let k = 0; k < 6; k++) {
      let x = a[off + k]!;
      x = x > 1 ? 1 : x < -1 ? -1 : x !== x ? 0 : x;
      c[k] = x;
      sq += x * x;
    }
    if (this.family === 'halfcheetah') {
      const x0 = this.qpos[9 * i]!;
      for (let s = 0; s < 5; s++) this.mj.mj_step(this.model, d);
      this.mirror(i, d);
      this.rewards[i] = (this.qpos[9 * i]! - x0) / 0.05 - 0.1 * sq;
    } else {
      this.mj.mj_step2(this.model, d);
      this.mj.mj_step1(this.model, d);
      this.mirror(i, d);
      this.rewards[i] = runTolerance(d.sensordata[0]!);
    }
  }

  /** Writes the 17-D observation (qpos[1:] ++ qvel) of env i into out[off..off+17). */
  writeObs(i: number, out: Float32Array, off: number): void {
    const q = this.qpos;
    const v = this.qvel;
    const b = 9 * i;
    for (let k = 1; k < 9; k++) out[off + k - 1] = q[b + k]!;
    for (let k = 0; k < 9; k++) out[off + 8 + k] = v[b + k]!;
  }

  /** dm_control cheetah-run only: the speed sensor (torso subtree linear x velocity) of env i. */
  speed(i: number): number {
    return this.datas[i]!.sensordata[0]!;
  }

  private mirror(i: number, d: MjData): void {
    const q = d.qpos;
    const v = d.qvel;
    const b = 9 * i;
    for (let k = 0; k < 9; k++) {
      this.qpos[b + k] = q[k]!;
      this.qvel[b + k] = v[k]!;
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const d of this.datas) d.delete();
    this.datas = [];
  }
}

/**
 * Vectorised cheetah environments: n episodes stepped together (one MjModel, n MjData).
 * Episodes end only by the 1000-step time limit (no terminal states in either task); `dones[i]`
 * = 1 on the step that hits the limit (a truncation). Without `autoReset` a done env must be
 * reset before it is stepped again; with it, it is reset in place and the obs row holds the new
 * episode's first observation (the finished episode's last one is in `finalObs`).
 * Env i draws its resets from its own PRNG stream (seed, i): deterministic given (id, n, seed)
 * and the actions.
 */
import { Rng } from '../../rng.js';
import { CheetahSim, LOCO_ACT_DIM, LOCO_OBS_DIM } from './sim.js';
import { getLocomotionSpec, type LocomotionEnvSpec } from './spec.js';

export interface LocoStepResult {
  /** n×17 observations after the step (reused buffer: copy to keep). */
  obs: Float32Array;
  rewards: Float32Array;
  dones: Uint8Array;
  finalObs: Float32Array;
}

export interface LocoVecEnv {
  readonly spec: LocomotionEnvSpec;
  readonly n: number;
  readonly obsDim: 17;
  readonly actDim: 6;
  readonly t: Int32Array;
  readonly sim: CheetahSim;
  reset(): Float32Array;
  resetOne(i: number): void;
  step(actions: Float32Array): LocoStepResult;
  observations(): Float32Array;
  close(): void;
}

export async function makeLocoVecEnv(id: string, n: number, seed: number, opts: { autoReset?: boolean; maxEpisodeSteps?: number } = {}): Promise<LocoVecEnv> {
  const spec = getLocomotionSpec(id);
  const sim = await CheetahSim.create(spec.family, n);
  return new CheetahVecEnv(spec, sim, n, seed, opts.autoReset ?? false, opts.maxEpisodeSteps ?? spec.maxEpisodeSteps);
}

class CheetahVecEnv implements LocoVecEnv {
  readonly obsDim = LOCO_OBS_DIM as 17;
  readonly actDim = LOCO_ACT_DIM as 6;
  readonly t: Int32Array;
  private readonly rngs: Rng[];
  private readonly obs: Float32Array;
  private readonly rewards: Float32Array;
  private readonly dones: Uint8Array;
  private readonly finalObs: Float32Array;
  private readonly needsReset: Uint8Array;

  constructor(
    readonly spec: LocomotionEnvSpec,
    readonly sim: CheetahSim,
    readonly n: number,
    seed: number,
    private readonly autoReset: boolean,
    private readonly limit: number,
  ) {
    this.rngs = Array.from({ length: n }, (_, i) => new Rng(seed, i));
    this.obs = new Float32Array(17 * n);
    this.rewards = new Float32Array(n);
    this.dones = new Uint8Array(n);
    this.finalObs = new Float32Array(17 * n);
    this.t = new Int32Array(n);
    this.needsReset = new Uint8Array(n).fill(1);
  }

  reset(): Float32Array {
    for (let i = 0; i < this.n; i++) this.resetOne(i);
    return this.obs;
  }

  resetOne(i: number): void {
    this.sim.reset(i, this.rngs[i]!);
    this.sim.writeObs(i, this.obs, 17 * i);
    this.t[i] = 0;
    this.needsReset[i] = 0;
  }

  observations(): Float32Array {
    return this.obs;
  }

  step(actions: Float32Array): LocoStepResult {
    const n = this.n;
    if (actions.length !== 6 * n) throw new Error(`LocoVecEnv.step: expected ${6 * n} action values (n=${n} × 6), got ${actions.length}`);
    for (let i = 0; i < n; i++) {
      if (this.needsReset[i]) throw new Error(`LocoVecEnv.step: env ${i} is done (or never reset); call reset()${this.autoReset ? '' : ' or use autoReset'}`);
      this.sim.step(i, actions, 6 * i);
      this.sim.writeObs(i, this.obs, 17 * i);
      this.rewards[i] = this.sim.rewards[i]!;
      const t = this.t[i]! + 1;
      this.t[i] = t;
      const done = t >= this.limit ? 1 : 0;
      this.dones[i] = done;
      if (done) {
        this.finalObs.set(this.obs.subarray(17 * i, 17 * i + 17), 17 * i);
        if (this.autoReset) this.resetOne(i);
        else this.needsReset[i] = 1;
      }
    }
    return { obs: this.obs, rewards: this.rewards, dones: this.dones, finalObs: this.finalObs };
  }

  close(): void {
    this.sim.close();
  }
}

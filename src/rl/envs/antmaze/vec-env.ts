/**
 * Vectorised AntMaze environments: n episodes stepped together (one MjModel, n MjData).
 * Each reset draws a new goal in the goal cell (D4RL v2_resets) and then the ant's start state,
 * both from env i's own PRNG stream (seed, i): deterministic given (id, n, seed) and the actions.
 *
 * An episode ends when it reaches the goal (`terminals[i]` = 1, reward 1; D4RL eval=True) — unless
 * `terminateOnSuccess: false` — or at the step limit (700 for umaze; a truncation: `dones[i]` = 1,
 * `terminals[i]` = 0). Without `autoReset` a done env must be reset before it is stepped again;
 * with it, it is reset in place and the obs row holds the new episode's first observation (the
 * finished episode's last one is in `finalObs`).
 */
import { Rng } from '../../rng.js';
import { getAntMazeSpec, type AntMazeEnvSpec } from './spec.js';
import { AntMazeSim, ANTMAZE_ACT_DIM, ANTMAZE_OBS_DIM } from './sim.js';

export interface AntMazeStepResult {
  /** n×29 observations after the step (reused buffer: copy to keep). */
  obs: Float32Array;
  rewards: Float32Array;
  /** 1 when the episode ended on this step (success or time limit). */
  dones: Uint8Array;
  /** 1 when it ended by reaching the goal (a true terminal state). */
  terminals: Uint8Array;
  finalObs: Float32Array;
}

export interface AntMazeVecEnv {
  readonly spec: AntMazeEnvSpec;
  readonly n: number;
  readonly obsDim: 29;
  readonly actDim: 8;
  readonly t: Int32Array;
  readonly sim: AntMazeSim;
  /** n×2 current goals (a view of sim.goals). */
  readonly goals: Float64Array;
  reset(): Float32Array;
  resetOne(i: number): void;
  step(actions: Float32Array): AntMazeStepResult;
  observations(): Float32Array;
  close(): void;
}

export interface AntMazeVecEnvOptions {
  autoReset?: boolean;
  maxEpisodeSteps?: number;
  /** Default: the spec's (true, D4RL eval). */
  terminateOnSuccess?: boolean;
}

export async function makeAntMazeVecEnv(id: string, n: number, seed: number, opts: AntMazeVecEnvOptions = {}): Promise<AntMazeVecEnv> {
  const spec = getAntMazeSpec(id);
  const sim = await AntMazeSim.create(spec.maze, n);
  return new AntVecEnv(spec, sim, n, seed, opts.autoReset ?? false, opts.maxEpisodeSteps ?? spec.maxEpisodeSteps, opts.terminateOnSuccess ?? spec.terminateOnSuccess);
}

const D = ANTMAZE_OBS_DIM;
const A = ANTMAZE_ACT_DIM;

class AntVecEnv implements AntMazeVecEnv {
  readonly obsDim = D as 29;
  readonly actDim = A as 8;
  readonly t: Int32Array;
  readonly goals: Float64Array;
  private readonly rngs: Rng[];
  private readonly obs: Float32Array;
  private readonly rewards: Float32Array;
  private readonly dones: Uint8Array;
  private readonly terminals: Uint8Array;
  private readonly finalObs: Float32Array;
  private readonly needsReset: Uint8Array;

  constructor(
    readonly spec: AntMazeEnvSpec,
    readonly sim: AntMazeSim,
    readonly n: number,
    seed: number,
    private readonly autoReset: boolean,
    private readonly limit: number,
    private readonly terminateOnSuccess: boolean,
  ) {
    this.rngs = Array.from({ length: n }, (_, i) => new Rng(seed, i));
    this.obs = new Float32Array(D * n);
    this.rewards = new Float32Array(n);
    this.dones = new Uint8Array(n);
    this.terminals = new Uint8Array(n);
    this.finalObs = new Float32Array(D * n);
    this.t = new Int32Array(n);
    this.needsReset = new Uint8Array(n).fill(1);
    this.goals = sim.goals;
  }

  reset(): Float32Array {
    for (let i = 0; i < this.n; i++) this.resetOne(i);
    return this.obs;
  }

  resetOne(i: number): void {
    const r = this.rngs[i]!;
    this.sim.sampleGoal(i, r); // D4RL: set_target() before reset_model()
    this.sim.reset(i, r);
    this.sim.writeObs(i, this.obs, D * i);
    this.t[i] = 0;
    this.needsReset[i] = 0;
  }

  observations(): Float32Array {
    return this.obs;
  }

  step(actions: Float32Array): AntMazeStepResult {
    const n = this.n;
    if (actions.length !== A * n) throw new Error(`AntMazeVecEnv.step: expected ${A * n} action values (n=${n} × 8), got ${actions.length}`);
    for (let i = 0; i < n; i++) {
      if (this.needsReset[i]) throw new Error(`AntMazeVecEnv.step: env ${i} is done (or never reset); call reset()${this.autoReset ? '' : ' or use autoReset'}`);
      this.sim.step(i, actions, A * i);
      this.sim.writeObs(i, this.obs, D * i);
      const r = this.sim.rewards[i]!;
      this.rewards[i] = r;
      const t = this.t[i]! + 1;
      this.t[i] = t;
      const term = this.terminateOnSuccess && r === 1 ? 1 : 0;
      const done = term || t >= this.limit ? 1 : 0;
      this.terminals[i] = term;
      this.dones[i] = done;
      if (done) {
        this.finalObs.set(this.obs.subarray(D * i, D * i + D), D * i);
        if (this.autoReset) this.resetOne(i);
        else this.needsReset[i] = 1;
      }
    }
    return { obs: this.obs, rewards: this.rewards, dones: this.dones, terminals: this.terminals, finalObs: this.finalObs };
  }

  close(): void {
    this.sim.close();
  }
}

/**
 * Vectorised D4RL maze2d: n episodes stepped together (one MjModel, n MjData).
 *
 * Evaluation semantics of D4RL maze2d: the target is the layout's fixed `G` cell (exact cell
 * coordinates, no jitter); episodes end only by the time limit (`maxEpisodeSteps`), never on
 * reaching the goal. `dones[i]` is 1 on the step that hits the limit (a truncation, not a terminal).
 * Without `autoReset` a done env must not be stepped again before `reset()`; with `autoReset`
 * it is reset in place and the returned obs row is the new episode's first observation
 * (the last observation of the finished episode is in `finalObs`).
 *
 * Reset distribution (D4RL): a uniformly drawn free cell (empty or goal) + U(-0.1, 0.1) per
 * coordinate, velocity ~ N(0, 0.1²). Env i draws from its own PRNG stream (seed, i), so results
 * are deterministic given (id, n, seed) and the sequence of actions.
 */
import { Rng } from '../../rng.js';
import { MazeSim } from './sim.js';
import { getMaze2dSpec, mazeReward, type Maze2dEnvSpec } from './spec.js';

export interface Maze2dStepResult {
  /** n×4 observations after the step (x, y, vx, vy). Reused buffer: copy to keep. */
  obs: Float32Array;
  rewards: Float32Array;
  /** 1 where the episode reached its time limit on this step. */
  dones: Uint8Array;
  /** With autoReset: n×4 last observations of the episodes that ended (rows of non-done envs are stale). */
  finalObs: Float32Array;
}

export interface Maze2dVecEnvOptions {
  autoReset?: boolean;
  /** Override the evaluation target (qpos coordinates); default: the layout's goal cell. */
  target?: readonly [number, number];
}

export interface Maze2dVecEnv {
  readonly spec: Maze2dEnvSpec;
  readonly n: number;
  readonly obsDim: number;
  readonly actDim: number;
  /** Steps taken in each env's current episode. */
  readonly t: Int32Array;
  readonly target: readonly [number, number];
  /** Resets every env; returns the n×4 observations (reused buffer). */
  reset(): Float32Array;
  /** Resets env i only; writes its observation into the obs buffer. */
  resetOne(i: number): void;
  /** Sets env i's state exactly (tests, scripted starts). */
  setState(i: number, x: number, y: number, vx: number, vy: number): void;
  step(actions: Float32Array): Maze2dStepResult;
  /** Current n×4 observations. */
  observations(): Float32Array;
  close(): void;
}

export async function makeMaze2dVecEnv(id: string, n: number, seed: number, opts: Maze2dVecEnvOptions = {}): Promise<Maze2dVecEnv> {
  const spec = getMaze2dSpec(id);
  const sim = await MazeSim.create(spec.maze, n);
  return new MazeVecEnv(spec, sim, n, seed, opts);
}

class MazeVecEnv implements Maze2dVecEnv {
  readonly obsDim = 4;
  readonly actDim = 2;
  readonly t: Int32Array;
  readonly target: readonly [number, number];
  private readonly rngs: Rng[];
  private readonly obs: Float32Array;
  private readonly rewards: Float32Array;
  private readonly dones: Uint8Array;
  private readonly finalObs: Float32Array;
  private readonly autoReset: boolean;
  private readonly needsReset: Uint8Array;

  constructor(
    readonly spec: Maze2dEnvSpec,
    private readonly sim: MazeSim,
    readonly n: number,
    seed: number,
    opts: Maze2dVecEnvOptions,
  ) {
    this.rngs = Array.from({ length: n }, (_, i) => new Rng(seed, i));
    this.obs = new Float32Array(4 * n);
    this.rewards = new Float32Array(n);
    this.dones = new Uint8Array(n);
    this.finalObs = new Float32Array(4 * n);
    this.t = new Int32Array(n);
    this.needsReset = new Uint8Array(n).fill(1);
    this.autoReset = opts.autoReset ?? false;
    this.target = opts.target ? [opts.target[0], opts.target[1]] : [spec.goalCell[0], spec.goalCell[1]];
  }

  reset(): Float32Array {
    for (let i = 0; i < this.n; i++) this.resetOne(i);
    return this.obs;
  }

  resetOne(i: number): void {
    const rng = this.rngs[i]!;
    const cells = this.spec.layout.freeCells;
    const cell = cells[rng.int(cells.length)]!;
    const x = cell[0] + rng.uniform(-0.1, 0.1);
    const y = cell[1] + rng.uniform(-0.1, 0.1);
    const vx = rng.normal(0, 0.1);
    const vy = rng.normal(0, 0.1);
    this.setState(i, x, y, vx, vy);
  }

  setState(i: number, x: number, y: number, vx: number, vy: number): void {
    this.sim.setState(i, x, y, vx, vy);
    this.writeObs(i);
    this.t[i] = 0;
    this.needsReset[i] = 0;
  }

  private writeObs(i: number): void {
    const q = this.sim.qpos;
    const v = this.sim.qvel;
    this.obs[4 * i] = q[2 * i]!;
    this.obs[4 * i + 1] = q[2 * i + 1]!;
    this.obs[4 * i + 2] = v[2 * i]!;
    this.obs[4 * i + 3] = v[2 * i + 1]!;
  }

  observations(): Float32Array {
    return this.obs;
  }

  step(actions: Float32Array): Maze2dStepResult {
    const n = this.n;
    if (actions.length !== 2 * n) throw new Error(`VecEnv.step: expected ${2 * n} action values (n=${n} × 2), got ${actions.length}`);
    const [tx, ty] = this.target;
    const type = this.spec.rewardType;
    const limit = this.spec.maxEpisodeSteps;
    const q = this.sim.qpos;
    for (let i = 0; i < n; i++) {
      if (this.needsReset[i]) {
        throw new Error(`VecEnv.step: env ${i} is done (or never reset); call reset()${this.autoReset ? '' : ' or use autoReset'}`);
      }
      this.sim.step(i, actions[2 * i]!, actions[2 * i + 1]!);
      this.writeObs(i);
      this.rewards[i] = mazeReward(type, q[2 * i]!, q[2 * i + 1]!, tx, ty);
      const t = this.t[i]! + 1;
      this.t[i] = t;
      const done = t >= limit ? 1 : 0;
      this.dones[i] = done;
      if (done) {
        this.finalObs.set(this.obs.subarray(4 * i, 4 * i + 4), 4 * i);
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

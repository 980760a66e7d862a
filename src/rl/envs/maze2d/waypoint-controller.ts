/**
 * D4RL's maze2d waypoint controller (the behaviour policy of the maze2d datasets), re-implemented
 * from its documented behaviour:
 *  - targets are "gridified" with round(); a new plan is made only when the target's cell changes;
 *  - the plan is the shortest grid path (4-neighbourhood) from the current cell to the target
 *    cell, ties broken in D4RL's action order (see NEIGHBOUR_DI/DJ); each waypoint is the next
 *    cell's coordinates minus U(0, 0.2) per axis, except the final one (the target cell, exact);
 *  - action = 10 · (waypoint − pos) − 1 · vel, clipped to [-1, 1];
 *  - "velocity" for the arrival tests is the displacement since the previous call;
 *    a waypoint is passed when within 0.1 of it with displacement < 0.1; the task is solved
 *    (returned `done`) when within 0.1 of the target cell with displacement < 0.1, and then the
 *    controller steers to the target cell itself.
 * Deterministic given the Rng used for the jitter.
 */
import { bfsDistances, isWall, NEIGHBOUR_DI, NEIGHBOUR_DJ } from '../shared/grid.js';
import { gridCell, type MazeLayout } from './layout.js';
import type { Rng } from '../../rng.js';

export interface WaypointControllerOptions {
  pGain?: number;
  dGain?: number;
  solveThresh?: number;
  velThresh?: number;
  /** Waypoint jitter: waypoint = cell − U(0, jitter) per axis. D4RL: 0.2. */
  jitter?: number;
}

const MAX_PLAN = 100;

export class WaypointController {
  readonly pGain: number;
  readonly dGain: number;
  readonly solveThresh: number;
  readonly velThresh: number;
  readonly jitter: number;
  private targetI = NaN;
  private targetJ = NaN;
  private readonly wp = new Float64Array(2 * MAX_PLAN);
  private nWp = 0;
  private wpIdx = 0;
  private prevX = 0;
  private prevY = 0;
  private readonly distCache = new Map<number, Int32Array>();

  constructor(
    readonly layout: MazeLayout,
    private readonly rng: Rng,
    opts: WaypointControllerOptions = {},
  ) {
    this.pGain = opts.pGain ?? 10;
    this.dGain = opts.dGain ?? -1;
    this.solveThresh = opts.solveThresh ?? 0.1;
    this.velThresh = opts.velThresh ?? 0.1;
    this.jitter = opts.jitter ?? 0.2;
  }

  /** Forget the current plan (the next call re-plans). */
  reset(): void {
    this.targetI = NaN;
    this.targetJ = NaN;
    this.nWp = 0;
    this.wpIdx = 0;
  }

  /** Number of waypoints of the current plan (for tests). */
  get planLength(): number {
    return this.nWp;
  }

  /** Waypoint k of the current plan (for tests). */
  waypoint(k: number): [number, number] {
    return [this.wp[2 * k]!, this.wp[2 * k + 1]!];
  }

  private distances(ti: number, tj: number): Int32Array {
    const key = ti * this.layout.nCols + tj;
    let d = this.distCache.get(key);
    if (!d) {
      d = bfsDistances(this.layout, ti, tj);
      this.distCache.set(key, d);
    }
    return d;
  }

  private plan(x: number, y: number, ti: number, tj: number): void {
    const L = this.layout;
    const dist = this.distances(ti, tj);
    let ci = gridCell(x);
    let cj = gridCell(y);
    const distOf = (i: number, j: number): number => {
      if (isWall(L, i, j)) return Infinity;
      const d = dist[i * L.nCols + j]!;
      return d < 0 ? Infinity : d;
    };
    let n = 0;
    for (let k = 0; k < MAX_PLAN; k++) {
      let bi = ci;
      let bj = cj;
      if (!(ci === ti && cj === tj)) {
        // Best legal move; staying put unless a move strictly improves (D4RL's NOOP comes first).
        let best = distOf(ci, cj);
        for (let m = 0; m < 4; m++) {
          const ni = ci + NEIGHBOUR_DI[m]!;
          const nj = cj + NEIGHBOUR_DJ[m]!;
          const d = distOf(ni, nj);
          if (d < best) {
            best = d;
            bi = ni;
            bj = nj;
          }
        }
      }
      const atTarget = bi === ti && bj === tj;
      if (atTarget) {
        this.wp[2 * n] = bi;
        this.wp[2 * n + 1] = bj;
      } else {
        this.wp[2 * n] = bi - this.rng.random() * this.jitter;
        this.wp[2 * n + 1] = bj - this.rng.random() * this.jitter;
      }
      n++;
      ci = bi;
      cj = bj;
      if (atTarget) break;
    }
    this.nWp = n;
    this.wpIdx = 0;
    this.targetI = ti;
    this.targetJ = tj;
    this.prevX = gridCell(x);
    this.prevY = gridCell(y);
  }

  /**
   * Computes the controller action for position (x, y), velocity (vx, vy) and target (tx, ty),
   * writes it (clipped) to out[offset], out[offset + 1]; returns true when the target is reached.
   */
  act(x: number, y: number, vx: number, vy: number, tx: number, ty: number, out: Float32Array | Float64Array, offset = 0): boolean {
    const ti = gridCell(tx);
    const tj = gridCell(ty);
    if (ti !== this.targetI || tj !== this.targetJ) this.plan(x, y, ti, tj);

    const dist = Math.hypot(x - ti, y - tj);
    const velNorm = Math.hypot(this.prevX - x, this.prevY - y);
    const notSolved = dist >= this.solveThresh || velNorm >= this.velThresh;
    let wx: number;
    let wy: number;
    if (notSolved) {
      wx = this.wp[2 * this.wpIdx]!;
      wy = this.wp[2 * this.wpIdx + 1]!;
    } else {
      wx = ti;
      wy = tj;
    }
    let ax = this.pGain * (wx - x) + this.dGain * vx;
    let ay = this.pGain * (wy - y) + this.dGain * vy;
    if (notSolved && velNorm < this.velThresh && Math.hypot(x - wx, y - wy) < this.solveThresh) {
      if (this.wpIdx < this.nWp - 1) this.wpIdx++;
    }
    this.prevX = x;
    this.prevY = y;
    ax = ax > 1 ? 1 : ax < -1 ? -1 : ax;
    ay = ay > 1 ? 1 : ay < -1 ? -1 : ay;
    out[offset] = ax;
    out[offset + 1] = ay;
    return !notSolved;
  }
}

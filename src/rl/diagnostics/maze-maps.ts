/**
 * The critic and a policy over a dense grid of positions in a maze, at rest (zero velocity): V(s),
 * the critic's greedy action and value, and the policy's action there. What the report draws as
 * the value map and the action fields.
 */
import type { MazeFrame } from './maze-frame.js';
import { greedyOnGrid, policyVsCritic, type ActionSource, type PolicyVsCritic, type QEvaluator } from './greedy.js';

/** Positions on a `perCell` × `perCell` lattice inside every free cell, with their rest observations. */
export interface PositionGrid {
  n: number;
  perCell: number;
  /** Lattice indices along the rows and the columns of the whole maze (cell · perCell + k). */
  gi: Int32Array;
  gj: Int32Array;
  /** Observation (x, y) of each position. */
  x: Float32Array;
  y: Float32Array;
  /** n × obsDim rest observations. */
  obs: Float32Array;
}

/** Sub-cell centres of every free cell, cells in row-major order, then rows, then columns inside a cell. */
export function positionGrid(frame: MazeFrame, perCell: number): PositionGrid {
  if (!Number.isInteger(perCell) || perCell < 1) throw new Error(`positionGrid: perCell must be a positive integer, got ${perCell}`);
  const free: [number, number][] = [];
  for (let i = 0; i < frame.nRows; i++) for (let j = 0; j < frame.nCols; j++) if (!frame.wall[i * frame.nCols + j]) free.push([i, j]);
  const n = free.length * perCell * perCell;
  const grid: PositionGrid = {
    n, perCell,
    gi: new Int32Array(n), gj: new Int32Array(n),
    x: new Float32Array(n), y: new Float32Array(n),
    obs: new Float32Array(n * frame.obsDim),
  };
  let r = 0;
  for (const [i, j] of free) {
    for (let a = 0; a < perCell; a++) {
      for (let b = 0; b < perCell; b++, r++) {
        const [x, y] = frame.cellPoint(i, j, (a + 0.5) / perCell, (b + 0.5) / perCell);
        grid.gi[r] = i * perCell + a;
        grid.gj[r] = j * perCell + b;
        grid.x[r] = x;
        grid.y[r] = y;
        frame.restObservation(x, y, grid.obs, r * frame.obsDim);
      }
    }
  }
  return grid;
}

/** The critic over a position grid: V, and (with an action grid) the greedy action and its value. */
export interface ValueMap {
  v: Float32Array;
  greedy?: { action: Float32Array; q: Float32Array };
}

export function valueMap(critic: QEvaluator, grid: PositionGrid, actions: Float32Array | null): ValueMap {
  // V does not depend on the action; any action row serves.
  const v = critic.evaluate(grid.obs, new Float32Array(grid.n * critic.actDim), grid.n).v;
  return actions ? { v: Float32Array.from(v), greedy: greedyOnGrid(critic, grid.obs, grid.n, actions) } : { v: Float32Array.from(v) };
}

/** A policy's action field on the grid, compared with the critic's greedy field of `map` (when it has one). */
export function actionField(critic: QEvaluator, policy: ActionSource, grid: PositionGrid, map: ValueMap): PolicyVsCritic {
  return policyVsCritic(critic, policy, grid.obs, grid.n, map.greedy ? { greedy: map.greedy } : null);
}

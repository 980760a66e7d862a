/**
 * Grid searches on a maze layout (maze2d's and AntMaze's layouts both have `nRows`, `nCols` and a
 * row-major wall mask): wall tests, BFS distances to a target cell, and the BFS lookup rollouts
 * report as "cells to goal".
 */

/** What grid searches need of a layout. */
export interface GridLayout {
  readonly nRows: number;
  readonly nCols: number;
  /** 1 where the cell is a wall, row-major (i * nCols + j). */
  readonly wall: Uint8Array;
}

export function isWall(layout: GridLayout, i: number, j: number): boolean {
  if (i < 0 || j < 0 || i >= layout.nRows || j >= layout.nCols) return true;
  return layout.wall[i * layout.nCols + j] === 1;
}

/**
 * Shortest-path distances (in cell moves, 4-neighbourhood) from every cell to `target`;
 * -1 for walls and unreachable cells. Row-major like `layout.wall`.
 */
export function bfsDistances(layout: GridLayout, ti: number, tj: number): Int32Array {
  const { nRows, nCols } = layout;
  const dist = new Int32Array(nRows * nCols).fill(-1);
  if (isWall(layout, ti, tj)) return dist;
  const queue = new Int32Array(nRows * nCols);
  let head = 0;
  let tail = 0;
  dist[ti * nCols + tj] = 0;
  queue[tail++] = ti * nCols + tj;
  while (head < tail) {
    const k = queue[head++]!;
    const i = (k / nCols) | 0;
    const j = k - i * nCols;
    const d = dist[k]! + 1;
    for (let m = 0; m < 4; m++) {
      const ni = i + NEIGHBOUR_DI[m]!;
      const nj = j + NEIGHBOUR_DJ[m]!;
      if (isWall(layout, ni, nj)) continue;
      const nk = ni * nCols + nj;
      if (dist[nk] !== -1) continue;
      dist[nk] = d;
      queue[tail++] = nk;
    }
  }
  return dist;
}

/**
 * Neighbour order of D4RL's grid planner (its action order UP, DOWN, LEFT, RIGHT, as
 * (Δrow, Δcol) = (0,-1), (0,+1), (-1,0), (+1,0)); ties between equally short moves are broken
 * by this order, as D4RL's argmax does.
 */
export const NEIGHBOUR_DI: readonly number[] = [0, 0, -1, 1];
export const NEIGHBOUR_DJ: readonly number[] = [-1, 1, 0, 0];

/** BFS cells from (i, j) to the goal (`dist` from bfsDistances); NaN inside a wall or off the grid. */
export function cellsAway(dist: Int32Array, nCols: number, i: number, j: number): number {
  if (i < 0 || j < 0 || j >= nCols || i * nCols + j >= dist.length) return NaN;
  const d = dist[i * nCols + j]!;
  return d < 0 ? NaN : d;
}

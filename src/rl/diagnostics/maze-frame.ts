/**
 * Where an agent is in a maze, in the coordinates its observations use: the layout, the goal and
 * its reward radius, the position at a fraction (u, v) of a cell, and the observation of an agent
 * at rest there. One interface for maze2d (qpos: x follows rows, y follows columns, a ball "in"
 * cell (i, j) sits at (i, j), 0.2 off its box's centre) and AntMaze (world metres: x follows
 * columns, y follows rows, cell (i, j) centred at (j·s − x0, i·s − y0)). Locomotion envs have no
 * maze: `mazeFrameFor` returns null.
 */
import { getAntMazeLayout, cellCentre, ANT_TORSO_Z } from '../envs/antmaze/model.js';
import { BODY_OFFSET } from '../envs/maze2d/layout.js';
import { getEnvSpec, hasEnv } from '../envs/registry.js';

export interface MazeFrame {
  envId: string;
  kind: 'maze2d' | 'antmaze';
  /** Layout rows, top to bottom (`#` wall). */
  rows: readonly string[];
  nRows: number;
  nCols: number;
  /** 1 where cell (i, j) is a wall, row-major. */
  wall: Uint8Array;
  obsDim: number;
  /** The evaluation goal (observation x, y) and the distance within which it counts as reached. */
  goal: readonly [number, number];
  goalRadius: number;
  /** Observation (x, y) at fraction u ∈ [0, 1] along the rows and v along the columns of cell (i, j). */
  cellPoint(i: number, j: number, u: number, v: number): [number, number];
  /** Writes the observation of the agent at rest at (x, y) into out[off .. off + obsDim). */
  restObservation(x: number, y: number, out: Float32Array, off: number): void;
  /** How positions of this frame are drawn: the metadata evaluate's `trajectories` table carries. */
  metadata: Record<string, string>;
}

/** The maze of an environment id, or null when it has none (locomotion, or an id no env is registered under). */
export function mazeFrameFor(envId: string): MazeFrame | null {
  if (!hasEnv(envId)) return null;
  const spec = getEnvSpec(envId);
  if (spec.kind === 'maze2d') {
    const l = spec.layout;
    return {
      envId,
      kind: 'maze2d',
      rows: l.rows,
      nRows: l.nRows,
      nCols: l.nCols,
      wall: l.wall,
      obsDim: spec.obsDim,
      goal: [spec.goalCell[0], spec.goalCell[1]],
      goalRadius: spec.goalRadius,
      // Cell (i, j)'s box is centred at world (i + 1, j + 1), i.e. qpos (i + 1 − 1.2, j + 1 − 1.2).
      cellPoint: (i, j, u, v) => [i + 0.5 - BODY_OFFSET + u, j + 0.5 - BODY_OFFSET + v],
      // Observation = (qpos x, y, qvel x, y).
      restObservation: (x, y, out, off) => {
        out[off] = x;
        out[off + 1] = y;
        out[off + 2] = 0;
        out[off + 3] = 0;
      },
      metadata: { env_id: envId, layout: l.rows.join('\n') },
    };
  }
  if (spec.kind === 'antmaze') {
    const l = getAntMazeLayout(spec.maze);
    const s = l.scaling;
    const [gx, gy] = cellCentre(l, l.goal[0], l.goal[1]);
    // D4RL draws each episode's goal at the goal cell's centre + U(0, s/4) + U(0, 0.5)·s/4 per
    // axis; its mean (centre + 3s/16) stands for them in the figures.
    const meanOffset = (3 * s) / 16;
    return {
      envId,
      kind: 'antmaze',
      rows: l.rows,
      nRows: l.nRows,
      nCols: l.nCols,
      wall: l.wall,
      obsDim: spec.obsDim,
      goal: [gx + meanOffset, gy + meanOffset],
      goalRadius: spec.goalRadius,
      cellPoint: (i, j, u, v) => {
        const [cx, cy] = cellCentre(l, i, j);
        return [cx + (v - 0.5) * s, cy + (u - 0.5) * s];
      },
      // Observation = qpos[0:15] ++ qvel[0:14]; at rest: the model's initial pose (torso upright at
      // its initial height, joints at 0) moved to (x, y), all velocities 0.
      restObservation: (x, y, out, off) => {
        out.fill(0, off, off + spec.obsDim);
        out[off] = x;
        out[off + 1] = y;
        out[off + 2] = ANT_TORSO_Z;
        out[off + 3] = 1;
      },
      metadata: { env_id: envId, layout: l.rows.join('\n'), frame: 'antmaze-world', cell_size: String(s), origin: `${l.origin[0]},${l.origin[1]}` },
    };
  }
  return null;
}

/**
 * Metadata of a table of positions in this env: the frame's metadata plus the goal ("x,y") and its
 * radius in observation units, which the report draws; just the env id without a maze.
 */
export function positionsMetadata(envId: string, frame: MazeFrame | null): Record<string, string> {
  return frame ? { ...frame.metadata, goal: frame.goal.join(','), goal_radius: String(frame.goalRadius) } : { env_id: envId };
}

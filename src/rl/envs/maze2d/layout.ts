/**
 * D4RL maze2d layouts and the point-mass MJCF model generated from a layout.
 *
 * Coordinates. Layout cell (i, j) = (row i from the top, column j). Its wall box is centred at
 * world (i + 1, j + 1) (world x follows rows, world y follows columns, as in D4RL). The particle
 * body sits at world (1.2, 1.2) and moves on two slide joints, so world = qpos + 1.2 and a ball
 * at qpos (i, j) is 0.2 off the centre of cell (i, j) in both axes (a D4RL quirk we keep). All
 * targets, goals and observations are in qpos coordinates, where "cell (i, j)" means qpos ≈ (i, j).
 *
 *  - `gridCell(q)` = round(q): the cell D4RL's planner assigns to a position (used by the
 *    waypoint controller, exactly as D4RL does).
 *  - `physicalCell(q)` = round(q + 0.2): the cell whose 1×1 box actually contains the ball centre
 *    (used for occupancy statistics and wall checks).
 */
import { isWall } from '../shared/grid.js';

export type MazeName = 'open' | 'umaze' | 'medium' | 'large' | 'umaze-eval' | 'medium-eval' | 'large-eval';

/** Rows top to bottom; `#` wall, `O` free, `G` goal (free). */
export const LAYOUTS: Readonly<Record<MazeName, readonly string[]>> = {
  open: ['#######', '#OOOOO#', '#OOGOO#', '#OOOOO#', '#######'],
  umaze: ['#####', '#GOO#', '###O#', '#OOO#', '#####'],
  medium: ['########', '#OO##OO#', '#OO#OOO#', '##OOO###', '#OO#OOO#', '#O#OO#O#', '#OOO#OG#', '########'],
  large: [
    '############',
    '#OOOO#OOOOO#',
    '#O##O#O#O#O#',
    '#OOOOOO#OOO#',
    '#O####O###O#',
    '#OO#O#OOOOO#',
    '##O#O#O#O###',
    '#OO#OOO#OGO#',
    '############',
  ],
  'umaze-eval': ['#####', '#OOG#', '#O###', '#OOO#', '#####'],
  'medium-eval': ['########', '#OOOOOG#', '#O#O##O#', '#OOOO#O#', '###OO###', '#OOOOOO#', '#OO##OO#', '########'],
  'large-eval': [
    '############',
    '#OO#OOO#OGO#',
    '##O###O#O#O#',
    '#OO#O#OOOOO#',
    '#O##O#OO##O#',
    '#OOOOOO#OOO#',
    '#O##O#O#O###',
    '#OOOO#OOOOO#',
    '############',
  ],
};

export interface MazeLayout {
  name: string;
  rows: readonly string[];
  nRows: number;
  nCols: number;
  /** 1 where the cell is a wall, row-major (i * nCols + j). */
  wall: Uint8Array;
  /**
   * Free cells in D4RL's order: the empty (`O`) cells sorted by (row, col), then the goal cell.
   * Resets and random targets are drawn uniformly from this list.
   */
  freeCells: ReadonlyArray<readonly [number, number]>;
  /** The `G` cell (evaluation target). */
  goal: readonly [number, number];
}

export function parseMaze(name: string, rows: readonly string[]): MazeLayout {
  if (rows.length === 0) throw new Error(`maze ${name}: empty layout`);
  const nRows = rows.length;
  const nCols = rows[0]!.length;
  const wall = new Uint8Array(nRows * nCols);
  const empty: Array<[number, number]> = [];
  const goals: Array<[number, number]> = [];
  for (let i = 0; i < nRows; i++) {
    const row = rows[i]!;
    if (row.length !== nCols) throw new Error(`maze ${name}: row ${i} has length ${row.length}, expected ${nCols}`);
    for (let j = 0; j < nCols; j++) {
      const c = row[j];
      if (c === '#') wall[i * nCols + j] = 1;
      else if (c === 'G') goals.push([i, j]);
      else if (c === 'O' || c === ' ' || c === '0') empty.push([i, j]);
      else throw new Error(`maze ${name}: unknown tile '${c}' at row ${i}, column ${j}`);
    }
  }
  if (goals.length > 1) throw new Error(`maze ${name}: more than one goal cell`);
  const goal: [number, number] = goals[0] ?? empty[0]!;
  if (!goal) throw new Error(`maze ${name}: no free cell`);
  return { name, rows: [...rows], nRows, nCols, wall, freeCells: [...empty, ...goals], goal };
}

const layoutCache = new Map<string, MazeLayout>();

export function getLayout(name: MazeName): MazeLayout {
  let l = layoutCache.get(name);
  if (!l) {
    const rows = LAYOUTS[name];
    if (!rows) throw new Error(`unknown maze layout '${name}' (known: ${Object.keys(LAYOUTS).join(', ')})`);
    l = parseMaze(name, rows);
    layoutCache.set(name, l);
  }
  return l;
}

/** D4RL's planner cell of a qpos coordinate. */
export function gridCell(q: number): number {
  return Math.round(q);
}

/** Offset between qpos and world coordinates (the particle body's position). */
export const BODY_OFFSET = 1.2;
export const BALL_RADIUS = 0.1;

/** The cell whose box contains the ball centre, from a qpos coordinate. */
export function physicalCell(q: number): number {
  return Math.round(q + BODY_OFFSET - 1);
}

/**
 * Distance from the ball centre (qpos coordinates) to the nearest wall box (0 when inside one).
 * Only the 3×3 neighbourhood of the containing cell is checked (boxes are 1×1).
 */
export function distanceToWalls(layout: MazeLayout, qx: number, qy: number): number {
  const wx = qx + BODY_OFFSET;
  const wy = qy + BODY_OFFSET;
  const ci = physicalCell(qx);
  const cj = physicalCell(qy);
  let best = Infinity;
  for (let i = ci - 1; i <= ci + 1; i++) {
    for (let j = cj - 1; j <= cj + 1; j++) {
      if (!isWall(layout, i, j)) continue;
      const dx = Math.max(i + 0.5 - wx, 0, wx - (i + 1.5));
      const dy = Math.max(j + 0.5 - wy, 0, wy - (j + 1.5));
      const d = Math.hypot(dx, dy);
      if (d < best) best = d;
    }
  }
  return best;
}

/**
 * MJCF of D4RL's point maze: sphere r 0.1 on slide joints x, y (damping 1), motors gear 100 with
 * ctrlrange [-1, 1], timestep 0.01 Euler, no gravity, one 1×1×0.4 box per wall cell. Visual-only
 * assets (textures, skybox, sites) are left out: they do not affect the dynamics.
 */
export function mazeXml(layout: MazeLayout): string {
  const walls: string[] = [];
  for (let i = 0; i < layout.nRows; i++) {
    for (let j = 0; j < layout.nCols; j++) {
      if (layout.wall[i * layout.nCols + j]) {
        walls.push(
          `    <geom name="wall_${i}_${j}" type="box" conaffinity="1" pos="${i + 1} ${j + 1} 0" size="0.5 0.5 0.2"/>`,
        );
      }
    }
  }
  return `<mujoco model="point_maze_${layout.name}">
  <compiler inertiafromgeom="true" angle="radian" coordinate="local"/>
  <option timestep="0.01" gravity="0 0 0" iterations="20" integrator="Euler"/>
  <size memory="256K"/>
  <default>
    <joint damping="1" limited="false"/>
    <geom friction=".5 .1 .1" density="1000" margin="0.002" condim="1" contype="2" conaffinity="1"/>
  </default>
  <worldbody>
    <geom name="ground" size="40 40 0.25" pos="0 0 -0.1" type="plane" contype="1" conaffinity="0"/>
    <body name="particle" pos="${BODY_OFFSET} ${BODY_OFFSET} 0">
      <geom name="particle_geom" type="sphere" size="${BALL_RADIUS}" contype="1"/>
      <joint name="ball_x" type="slide" pos="0 0 0" axis="1 0 0"/>
      <joint name="ball_y" type="slide" pos="0 0 0" axis="0 1 0"/>
    </body>
${walls.join('\n')}
  </worldbody>
  <actuator>
    <motor joint="ball_x" ctrlrange="-1 1" ctrllimited="true" gear="100"/>
    <motor joint="ball_y" ctrlrange="-1 1" ctrllimited="true" gear="100"/>
  </actuator>
</mujoco>
`;
}

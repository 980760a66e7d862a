/**
 * AntMaze model: D4RL's Ant (d4rl/locomotion/assets/ant.xml) plus maze walls generated from a
 * layout grid as D4RL's `MazeEnv` does (d4rl/locomotion/maze_env.py). Written here from those
 * facts; the XML below is our own text.
 *
 * The ant (checked against D4RL, which differs from gym's Ant-v2 in two physical ways):
 *  - torso sphere r 0.25 at z 0.75 on a free joint; four legs at 45°, 135°, 225°, 315°, each a
 *    hip (axis z, range ±30°) and an ankle (ranges 30…70° for legs 1 and 4, −70…−30° for legs
 *    2 and 3); joint armature 1, damping 1; geoms density 5, friction (1, 0.5, 0.5), margin 0.01,
 *    solref (.02, 1), solimp (.8, .8, .01); the body cannot collide with itself (conaffinity 0).
 *  - D4RL: timestep 0.02 with RK4, frame_skip 5 (env dt = 0.1 s); motors with gear 1 and ctrlrange
 *    ±30, driven through `NormalizedBoxEnv` which maps an action in [−1, 1] linearly onto ±30.
 *    We write the equivalent gear 30 with ctrlrange [−1, 1] (same torque for every action).
 *    gym's Ant-v2 instead has timestep 0.01 and gear 150 (5× the torque): NOT what AntMaze uses.
 *  - Actuator order (= action order): hip_4, ankle_4, hip_1, ankle_1, hip_2, ankle_2, hip_3,
 *    ankle_3. qpos order: root (x, y, z, qw, qx, qy, qz), hip_1, ankle_1, …, hip_4, ankle_4.
 *  - Visual-only parts (textures, materials, light, skybox) are left out; `<size memory>` keeps
 *    MjData small.
 *
 * Walls: every `#` cell (i, j) is a box of half-size (s/2, s/2, h·s/2) centred at
 * (j·s − x0, i·s − y0, h·s/2), with s = maze_size_scaling = 4, h = maze_height = 0.5 (so walls
 * are 2 m tall), (x0, y0) = (j_R·s, i_R·s) of the reset cell `R`: the world origin is the start
 * cell's centre. World x follows layout columns, world y follows layout rows.
 */

/** Rows top to bottom: `#` wall, `O` free, `R` reset (start) cell, `G` goal cell. */
import { isWall } from '../shared/grid.js';

export const ANTMAZE_LAYOUTS = {
  // D4RL maze_env.U_MAZE / U_MAZE_TEST (antmaze-umaze-v2): start (1, 1), goal (3, 1).
  umaze: ['#####', '#ROO#', '###O#', '#GOO#', '#####'],
  // No walls at all (a flat floor): used to optimise and measure gaits away from walls.
  free: ['ROOOG'],
} as const;

export type AntMazeName = keyof typeof ANTMAZE_LAYOUTS;

export interface AntMazeLayout {
  name: string;
  rows: readonly string[];
  nRows: number;
  nCols: number;
  /** 1 where the cell is a wall, row-major (i * nCols + j). */
  wall: Uint8Array;
  start: readonly [number, number];
  goal: readonly [number, number];
  /** maze_size_scaling (cell edge in metres). */
  scaling: number;
  /** maze_height (walls are height·scaling tall). */
  height: number;
  /** World position of the start cell's centre before the shift (x0, y0). */
  origin: readonly [number, number];
}

export const MAZE_SIZE_SCALING = 4;
export const MAZE_HEIGHT = 0.5;

export function parseAntMaze(name: string, rows: readonly string[], scaling = MAZE_SIZE_SCALING, height = MAZE_HEIGHT): AntMazeLayout {
  const nRows = rows.length;
  const nCols = rows[0]?.length ?? 0;
  if (nRows === 0 || nCols === 0) throw new Error(`antmaze ${name}: empty layout`);
  const wall = new Uint8Array(nRows * nCols);
  let start: [number, number] | null = null;
  let goal: [number, number] | null = null;
  for (let i = 0; i < nRows; i++) {
    const r = rows[i]!;
    if (r.length !== nCols) throw new Error(`antmaze ${name}: row ${i} has length ${r.length}, expected ${nCols}`);
    for (let j = 0; j < nCols; j++) {
      const c = r[j];
      if (c === '#') wall[i * nCols + j] = 1;
      else if (c === 'R') start = [i, j];
      else if (c === 'G') goal = [i, j];
      else if (c !== 'O') throw new Error(`antmaze ${name}: unknown tile '${c}' at (${i}, ${j})`);
    }
  }
  if (!start || !goal) throw new Error(`antmaze ${name}: layout needs one R and one G cell`);
  return { name, rows: [...rows], nRows, nCols, wall, start, goal, scaling, height, origin: [start[1] * scaling, start[0] * scaling] };
}

const layouts = new Map<string, AntMazeLayout>();

export function getAntMazeLayout(name: AntMazeName): AntMazeLayout {
  let l = layouts.get(name);
  if (!l) {
    const rows = ANTMAZE_LAYOUTS[name];
    if (!rows) throw new Error(`unknown antmaze layout '${name}'`);
    l = parseAntMaze(name, rows);
    layouts.set(name, l);
  }
  return l;
}

export function isAntMazeWall(l: AntMazeLayout, i: number, j: number): boolean {
  return isWall(l, i, j);
}

/** World (x, y) of the centre of cell (i, j): (j·s − x0, i·s − y0). */
export function cellCentre(l: AntMazeLayout, i: number, j: number): [number, number] {
  return [j * l.scaling - l.origin[0], i * l.scaling - l.origin[1]];
}

/** The cell (i, j) containing world point (x, y) (nearest centre). */
export function cellOf(l: AntMazeLayout, x: number, y: number): [number, number] {
  return [Math.round((y + l.origin[1]) / l.scaling), Math.round((x + l.origin[0]) / l.scaling)];
}

/** Initial torso height (body pos z) — also qpos0[2]. */
export const ANT_TORSO_Z = 0.75;
/** Torque gear equivalent to D4RL's ctrlrange ±30 with gear 1 behind NormalizedBoxEnv. */
export const ANT_GEAR = 30;

function leg(k: number, sx: number, sy: number, ankleRange: string, ankleAxis: string): string {
  const a = `${0.2 * sx} ${0.2 * sy} 0`;
  const f = `${0.4 * sx} ${0.4 * sy} 0`;
  return `      <body name="leg_${k}" pos="0 0 0">
        <geom name="aux_${k}_geom" type="capsule" size="0.08" fromto="0 0 0 ${a}"/>
        <body name="aux_${k}" pos="${a}">
          <joint name="hip_${k}" type="hinge" pos="0 0 0" axis="0 0 1" range="-30 30"/>
          <geom name="leg_${k}_geom" type="capsule" size="0.08" fromto="0 0 0 ${a}"/>
          <body name="foot_${k}" pos="${a}">
            <joint name="ankle_${k}" type="hinge" pos="0 0 0" axis="${ankleAxis}" range="${ankleRange}"/>
            <geom name="ankle_${k}_geom" type="capsule" size="0.08" fromto="0 0 0 ${f}"/>
          </body>
        </body>
      </body>`;
}

/** MJCF of the ant in `layout` (walls as world box geoms). */
export function antMazeXml(layout: AntMazeLayout): string {
  const s = layout.scaling;
  const hz = (layout.height / 2) * s;
  const walls: string[] = [];
  for (let i = 0; i < layout.nRows; i++) {
    for (let j = 0; j < layout.nCols; j++) {
      if (!layout.wall[i * layout.nCols + j]) continue;
      const [x, y] = cellCentre(layout, i, j);
      walls.push(`    <geom name="block_${i}_${j}" type="box" contype="1" conaffinity="1" pos="${x} ${y} ${hz}" size="${s / 2} ${s / 2} ${hz}"/>`);
    }
  }
  return `<mujoco model="antmaze_${layout.name}">
  <compiler inertiafromgeom="true" angle="degree"/>
  <option timestep="0.02" integrator="RK4"/>
  <size memory="1M"/>
  <default>
    <joint limited="true" armature="1" damping="1"/>
    <geom condim="3" conaffinity="0" margin="0.01" friction="1 0.5 0.5" solref=".02 1" solimp=".8 .8 .01" density="5.0"/>
    <motor ctrllimited="true" ctrlrange="-1 1" gear="${ANT_GEAR}"/>
  </default>
  <worldbody>
    <geom name="floor" pos="0 0 0" size="40 40 40" type="plane" conaffinity="1" condim="3"/>
    <body name="torso" pos="0 0 ${ANT_TORSO_Z}">
      <geom name="torso_geom" type="sphere" size="0.25" pos="0 0 0"/>
      <joint name="root" type="free" limited="false" pos="0 0 0" axis="0 0 1" margin="0.01" armature="0" damping="0"/>
${leg(1, 1, 1, '30 70', '-1 1 0')}
${leg(2, -1, 1, '-70 -30', '1 1 0')}
${leg(3, -1, -1, '-70 -30', '-1 1 0')}
${leg(4, 1, -1, '30 70', '1 1 0')}
    </body>
${walls.join('\n')}
  </worldbody>
  <actuator>
    <motor name="hip_4" joint="hip_4"/>
    <motor name="ankle_4" joint="ankle_4"/>
    <motor name="hip_1" joint="hip_1"/>
    <motor name="ankle_1" joint="ankle_1"/>
    <motor name="hip_2" joint="hip_2"/>
    <motor name="ankle_2" joint="ankle_2"/>
    <motor name="hip_3" joint="hip_3"/>
    <motor name="ankle_3" joint="ankle_3"/>
  </actuator>
</mujoco>
`;
}

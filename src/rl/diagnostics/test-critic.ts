/**
 * A hand-made maze2d critic whose greedy action is known exactly (tests): a one-hidden-layer ReLU
 * network written as an 'iql-critic' table, so it goes through the real `criticFromTable`.
 *
 *   a*(s)      = (0.2·x − 0.3, 0.1 − 0.2·y)            (inside the action box for maze positions)
 *   Q1(s, a)   = −|a0 − a*0(s)| − |a1 − a*1(s)|         (4 hidden units: relu(±(a_d − a*_d)))
 *   Q2(s, a)   = Q1(s, a) + 0.5                          (so min(Q1, Q2) = Q1)
 *   V(s)       = relu(x) + 2·relu(y)
 *
 * obs = (x, y, vx, vy), act = (a0, a1); velocities do not enter.
 */
import type { Table } from 'apache-arrow';
import { weightsToTable } from '../nn/serialize.js';

export function targetAction(x: number, y: number): [number, number] {
  return [0.2 * x - 0.3, 0.1 - 0.2 * y];
}

export function handQ(x: number, y: number, a0: number, a1: number): number {
  const [t0, t1] = targetAction(x, y);
  return -Math.abs(a0 - t0) - Math.abs(a1 - t1);
}

export function handV(x: number, y: number): number {
  return Math.max(0, x) + 2 * Math.max(0, y);
}

export function handCriticTable(): Table {
  // Q input rows: x, y, vx, vy, a0, a1; hidden units h = relu(±(a0 − 0.2x + 0.3)), relu(±(a1 + 0.2y − 0.1)).
  const qW = Float32Array.from([
    -0.2, 0.2, 0, 0, // x
    0, 0, 0.2, -0.2, // y
    0, 0, 0, 0, // vx
    0, 0, 0, 0, // vy
    1, -1, 0, 0, // a0
    0, 0, 1, -1, // a1
  ]);
  const qb = Float32Array.from([0.3, -0.3, -0.1, 0.1]);
  const qOut = Float32Array.from([-1, -1, -1, -1]);
  const vW = Float32Array.from([1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
  const w = (values: Float32Array, shape: number[]) => ({ values, shape });
  return weightsToTable(
    {
      'q1/l0/W': w(qW, [6, 4]), 'q1/l0/b': w(qb, [4]), 'q1/l1/W': w(qOut, [4, 1]), 'q1/l1/b': w(Float32Array.from([0]), [1]),
      'q2/l0/W': w(qW, [6, 4]), 'q2/l0/b': w(qb, [4]), 'q2/l1/W': w(qOut, [4, 1]), 'q2/l1/b': w(Float32Array.from([0.5]), [1]),
      'v/l0/W': w(vW, [4, 4]), 'v/l0/b': w(new Float32Array(4), [4]), 'v/l1/W': w(Float32Array.from([1, 2, 0, 0]), [4, 1]), 'v/l1/b': w(Float32Array.from([0]), [1]),
    },
    { format: 'iql-critic', version: 1, obsDim: 4, actDim: 2, hidden: [4] },
  );
}

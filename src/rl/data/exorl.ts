/**
 * ExoRL episode buffers (Yarats et al. 2022: `<domain>/<agent>/buffer/*.npz`, one episode per
 * file) → Transitions. Each file holds T+1 rows: observation (s_0 … s_T), action and reward with a
 * zero first row (row t+1 holds a_t and r_{t+1} of the step from s_t), discount (0 at a terminal)
 * and physics (the MuJoCo state qpos ++ qvel after each step). Transition t = 0 … T−1:
 *   (s_t, action[t+1], reward[t+1], s_{t+1}, terminal = discount[t+1] == 0), timeout on the last row.
 *
 * Rewards: ExoRL's data were collected by reward-free exploration agents and the papers relabel
 * rewards per task from `physics`. `reward: 'relabel'` does that for cheetah-run on our cheetah
 * model (dm_control's run reward from the torso speed after setting the state); 'stored' keeps the
 * file's reward column.
 */
import type { Transitions } from './dataset.js';
import { readNpz, type NpyArray } from './npz.js';

export interface ExorlFile {
  name: string;
  bytes: Uint8Array;
}

export interface ExorlOptions {
  envId: string;
  obsDim: number;
  actDim: number;
  /** Reward source; 'relabel' needs `relabel` (the task's reward of a physics state). */
  reward: 'stored' | 'relabel';
  relabel?: (physics: Float64Array) => number;
}

export interface ExorlDataset {
  transitions: Transitions;
  infos: { physics: Float32Array };
  episodes: number;
  physicsDim: number;
}

export function exorlToTransitions(files: readonly ExorlFile[], opts: ExorlOptions): ExorlDataset {
  if (files.length === 0) throw new Error('exorl: no episode files (.npz) found');
  const eps = files.map((f) => {
    const m = readNpz(f.bytes, f.name);
    const get = (key: string, cols: number | null): NpyArray => {
      const a = m.get(key);
      if (!a) throw new Error(`${f.name}: no '${key}' array (ExoRL episodes hold observation, action, reward, discount, physics; found ${[...m.keys()].join(', ')})`);
      const c = a.shape.length === 1 ? 1 : a.shape.slice(1).reduce((x, y) => x * y, 1);
      if (cols !== null && c !== cols) throw new Error(`${f.name}: '${key}' has ${c} columns per row, expected ${cols}`);
      return a;
    };
    const obs = get('observation', opts.obsDim);
    const T1 = obs.shape[0]!;
    const rows = (a: NpyArray, key: string) => {
      if (a.shape[0] !== T1) throw new Error(`${f.name}: '${key}' has ${a.shape[0]} rows, observation has ${T1}`);
      return a;
    };
    const act = rows(get('action', opts.actDim), 'action');
    const rew = rows(get('reward', 1), 'reward');
    const disc = m.has('discount') ? rows(get('discount', 1), 'discount') : null;
    const phys = m.has('physics') ? rows(get('physics', null), 'physics') : null;
    if (T1 < 2) throw new Error(`${f.name}: an episode needs at least 2 observation rows, found ${T1}`);
    if (opts.reward === 'relabel' && !phys) throw new Error(`${f.name}: reward 'relabel' needs the 'physics' array`);
    return { name: f.name, obs, act, rew, disc, phys, T: T1 - 1 };
  });
  const physicsDim = eps[0]!.phys ? eps[0]!.phys.data.length / (eps[0]!.T + 1) : 0;
  const size = eps.reduce((s, e) => s + e.T, 0);
  const { obsDim: D, actDim: A } = opts;
  const t: Transitions = {
    envId: opts.envId, size, obsDim: D, actDim: A,
    observations: new Float32Array(size * D), actions: new Float32Array(size * A), nextObservations: new Float32Array(size * D),
    rewards: new Float32Array(size), terminals: new Float32Array(size), timeouts: new Float32Array(size),
  };
  const physics = new Float32Array(size * physicsDim);
  let r = 0;
  for (const e of eps) {
    const P = e.phys ? e.phys.data.length / (e.T + 1) : 0;
    if (P !== physicsDim) throw new Error(`${e.name}: physics has ${P} values per row, the first episode ${physicsDim}`);
    for (let k = 0; k < e.T; k++, r++) {
      t.observations.set(e.obs.data.subarray(k * D, k * D + D), r * D);
      t.nextObservations.set(e.obs.data.subarray((k + 1) * D, (k + 2) * D), r * D);
      t.actions.set(e.act.data.subarray((k + 1) * A, (k + 2) * A), r * A);
      if (e.phys) physics.set(e.phys.data.subarray(k * P, k * P + P), r * P);
      t.rewards[r] = opts.reward === 'relabel' ? opts.relabel!(e.phys!.data.subarray((k + 1) * P, (k + 2) * P)) : e.rew.data[k + 1]!;
      t.terminals[r] = e.disc && e.disc.data[k + 1] === 0 ? 1 : 0;
      t.timeouts[r] = k === e.T - 1 && !t.terminals[r] ? 1 : 0;
    }
  }
  return { transitions: t, infos: { physics }, episodes: eps.length, physicsDim };
}

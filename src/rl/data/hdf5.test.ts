import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import h5wasm from 'h5wasm/node';
import { loadHdf5Dataset, writeD4rlHdf5 } from './hdf5.js';
import type { Transitions } from './dataset.js';

const dir = mkdtempSync(join(tmpdir(), 'iql-hdf5-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

function sample(n: number, timeoutsAt: number[] = []): Transitions {
  const obs = Float32Array.from({ length: 4 * n }, (_, i) => i / 4);
  return {
    size: n,
    obsDim: 4,
    actDim: 2,
    observations: obs,
    actions: Float32Array.from({ length: 2 * n }, (_, i) => Math.sin(i)),
    nextObservations: Float32Array.from({ length: 4 * n }, (_, i) => i / 4 + 1),
    rewards: Float32Array.from({ length: n }, (_, i) => i % 3),
    terminals: new Float32Array(n),
    timeouts: Float32Array.from({ length: n }, (_, i) => (timeoutsAt.includes(i) ? 1 : 0)),
    envId: 'maze2d-umaze-v1',
  };
}

type Data = Float32Array | Uint8Array | Float64Array;
async function writeRaw(name: string, items: Record<string, { data: Data; shape: number[]; gzip?: boolean }>): Promise<string> {
  await h5wasm.ready;
  const file = join(dir, name);
  const f = new h5wasm.File(file, 'w');
  for (const [key, v] of Object.entries(items)) {
    const parts = key.split('/');
    let g: InstanceType<typeof h5wasm.Group> = f;
    for (const p of parts.slice(0, -1)) g = (g.get(p) as InstanceType<typeof h5wasm.Group> | null) ?? g.create_group(p);
    g.create_dataset({ name: parts.at(-1)!, data: v.data, shape: v.shape, ...(v.gzip ? { chunks: v.shape, compression: 'gzip' as const } : {}) });
  }
  f.close();
  return file;
}

test('D4RL layout round trip (gzip), next_observations derived within episodes', async () => {
  const n = 20;
  const t = sample(n, [6, 13]);
  const goal = Float32Array.from({ length: 2 * n }, (_, i) => i);
  const file = join(dir, 'd4rl.hdf5');
  await writeD4rlHdf5(file, t, { goal, qpos: t.observations.slice().filter((_, i) => i % 4 < 2) });
  await h5wasm.ready;
  const raw = new h5wasm.File(file, 'r');
  assert.equal((raw.get('observations') as InstanceType<typeof h5wasm.Dataset>).filters[0]?.name, 'deflate', 'written gzip-compressed');
  raw.close();

  const r = await loadHdf5Dataset(file);
  assert.equal(r.format, 'd4rl');
  // Rows 6 and 13 (timeouts) and the last row have no next state in the file: dropped.
  assert.equal(r.transitions.size, n - 3);
  assert.equal(r.description.rows_dropped, 3);
  const keptRows = Array.from({ length: n - 1 }, (_, i) => i).filter((i) => i !== 6 && i !== 13);
  keptRows.forEach((row, j) => {
    assert.deepEqual(r.transitions.observations.slice(4 * j, 4 * j + 4), t.observations.slice(4 * row, 4 * row + 4));
    assert.deepEqual(r.transitions.nextObservations.slice(4 * j, 4 * j + 4), t.observations.slice(4 * row + 4, 4 * row + 8));
    assert.equal(r.transitions.rewards[j], t.rewards[row]);
    assert.deepEqual(r.infos.goal!.slice(2 * j, 2 * j + 2), goal.slice(2 * row, 2 * row + 2));
  });
  // Episode ends survive: the rows before the dropped timeouts (5 and 12) end episodes.
  assert.deepEqual(Array.from(r.transitions.timeouts).flatMap((x, j) => (x ? [keptRows[j]] : [])), [5, 12]);
  assert.equal(r.transitions.envId, 'maze2d-umaze-v1');

  // With stored next_observations nothing is dropped.
  const file2 = join(dir, 'd4rl-next.hdf5');
  await writeD4rlHdf5(file2, t, {}, { nextObservations: true, gzip: 0 });
  const r2 = await loadHdf5Dataset(file2, { envId: 'other' });
  assert.equal(r2.transitions.size, n);
  assert.deepEqual(r2.transitions.nextObservations, t.nextObservations);
  assert.deepEqual(r2.transitions.timeouts, t.timeouts);
  assert.equal(r2.transitions.envId, 'other');
});

test('h5py enum booleans (dtype unknown in h5wasm) read as 0/1', async () => {
  // h5wasm cannot write HDF5 enums; h5wasm's own test file holds an h5py bool dataset.
  const arrayH5 = join(fileURLToPath(import.meta.resolve('h5wasm/node')).replace(/dist[\\/].*$/, ''), 'test', 'array.h5');
  if (!existsSync(arrayH5)) return; // package shipped without its test files
  await h5wasm.ready;
  const f = new h5wasm.File(arrayH5, 'r');
  const ds = f.get('bool') as InstanceType<typeof h5wasm.Dataset>;
  assert.equal((ds.metadata as { type: number }).type, 8, 'an HDF5 enum');
  const { toFloat32 } = await import('./hdf5.js');
  assert.deepEqual(Array.from(toFloat32(ds.value, arrayH5, 'bool')), [0, 1, 1, 0]);
  f.close();
});

test('Minari layout: episodes as groups, observations T+1 rows, dict observations', async () => {
  const items: Record<string, { data: Data; shape: number[]; gzip?: boolean }> = {};
  const lens = [3, 5];
  lens.forEach((T, e) => {
    items[`episode_${e}/observations/observation`] = { data: Float32Array.from({ length: 4 * (T + 1) }, (_, i) => 100 * e + i), shape: [T + 1, 4] };
    items[`episode_${e}/observations/desired_goal`] = { data: new Float32Array(2 * (T + 1)), shape: [T + 1, 2] };
    items[`episode_${e}/actions`] = { data: Float32Array.from({ length: 2 * T }, (_, i) => i / 10), shape: [T, 2], gzip: true };
    items[`episode_${e}/rewards`] = { data: Float64Array.from({ length: T }, (_, i) => i), shape: [T] };
    items[`episode_${e}/terminations`] = { data: Uint8Array.from({ length: T }, (_, i) => (e === 1 && i === T - 1 ? 1 : 0)), shape: [T] };
    items[`episode_${e}/truncations`] = { data: new Uint8Array(T), shape: [T] };
  });
  const file = await writeRaw('minari.hdf5', items);
  const r = await loadHdf5Dataset(file, { envId: 'maze2d-umaze-v1' });
  assert.equal(r.format, 'minari');
  assert.equal(r.transitions.size, 8);
  assert.equal(r.transitions.obsDim, 4);
  assert.deepEqual(Array.from(r.transitions.observations.slice(0, 4)), [0, 1, 2, 3]);
  assert.deepEqual(Array.from(r.transitions.nextObservations.slice(8, 12)), [12, 13, 14, 15]); // ep 0, t=2 → obs row 3
  assert.deepEqual(Array.from(r.transitions.observations.slice(12, 16)), [100, 101, 102, 103]); // ep 1 starts
  assert.deepEqual(Array.from(r.transitions.timeouts), [0, 0, 1, 0, 0, 0, 0, 0]);
  assert.deepEqual(Array.from(r.transitions.terminals), [0, 0, 0, 0, 0, 0, 0, 1]);
  assert.deepEqual(Array.from(r.transitions.rewards), [0, 1, 2, 0, 1, 2, 3, 4]);
});

test('malformed files give errors naming the file, key and row', async () => {
  const n = 6;
  const ok = {
    observations: { data: new Float32Array(4 * n), shape: [n, 4] },
    actions: { data: new Float32Array(2 * n), shape: [n, 2] },
    rewards: { data: new Float32Array(n), shape: [n] },
    terminals: { data: new Uint8Array(n), shape: [n] },
  };
  const cases: Array<[string, Record<string, { data: Data; shape: number[] }>, RegExp]> = [
    ['missing.h5', { observations: ok.observations, actions: ok.actions, terminals: ok.terminals }, /missing\.h5: missing key 'rewards'/],
    ['shape.h5', { ...ok, actions: { data: new Float32Array(2 * n), shape: [2 * n] } }, /shape\.h5: key 'actions' has shape \[12\], expected a 2-D/],
    ['rows.h5', { ...ok, rewards: { data: new Float32Array(n - 1), shape: [n - 1] } }, /rows\.h5: key 'rewards' has 5 rows, expected 6 \(as observations\)/],
    ['rshape.h5', { ...ok, rewards: { data: new Float32Array(2 * n), shape: [n, 2] } }, /rshape\.h5: key 'rewards' has shape \[6, 2\], expected \[6\]/],
    ['nan.h5', { ...ok, observations: { data: Float32Array.from({ length: 4 * n }, (_, i) => (i === 4 * 3 + 2 ? NaN : 0)), shape: [n, 4] } }, /nan\.h5: 'observations' has a non-finite value \(NaN\) at row 3, column 2/],
    ['inf.h5', { ...ok, rewards: { data: Float32Array.from({ length: n }, (_, i) => (i === 1 ? Infinity : 0)), shape: [n] } }, /inf\.h5: 'rewards' has a non-finite value \(Infinity\) at row 1/],
    ['timeouts.h5', { ...ok, timeouts: { data: new Uint8Array(n + 2), shape: [n + 2] } }, /timeouts\.h5: key 'timeouts' has 8 rows, expected 6/],
    ['neither.h5', { foo: ok.rewards }, /neither\.h5: neither D4RL layout \(missing key 'observations'\) nor Minari layout.*keys: foo/],
    ['minari-bad.h5', {
      'episode_0/observations': { data: new Float32Array(4 * 3), shape: [3, 4] },
      'episode_0/actions': { data: new Float32Array(2 * 3), shape: [3, 2] },
      'episode_0/rewards': { data: new Float32Array(3), shape: [3] },
      'episode_0/terminations': { data: new Uint8Array(3), shape: [3] },
      'episode_0/truncations': { data: new Uint8Array(3), shape: [3] },
    }, /minari-bad\.h5: key 'episode_0\/observations' has 3 rows, expected 4 \(actions rows \+ 1\)/],
  ];
  for (const [name, items, re] of cases) {
    const file = await writeRaw(name, items);
    await assert.rejects(loadHdf5Dataset(file), re, name);
  }
  const junk = join(dir, 'junk.hdf5');
  writeFileSync(junk, 'not an hdf5 file at all');
  await assert.rejects(loadHdf5Dataset(junk), /junk\.hdf5: cannot (open|read) as HDF5/);
  await assert.rejects(loadHdf5Dataset(join(dir, 'absent.hdf5')), /absent\.hdf5: HDF5 file not found/);
});

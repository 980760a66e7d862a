/** Checkpoints on real files: save, latest, pruning, and falling back past a damaged one. */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { tableFromArrays } from 'apache-arrow';
import { DirCheckpointer, type CheckpointState } from './checkpoint.js';

const newDir = () => join(mkdtempSync(join(tmpdir(), 'iqlp-ckpt-')), 'checkpoints', 'key');
const state = (step: number): CheckpointState => ({
  step,
  meta: { rng: [1, 2, 3], note: `at ${step}` },
  tables: { weights: tableFromArrays({ w: Float64Array.from([step, step / 2]) }), 'curve/loss': tableFromArrays({ loss: Float64Array.from([0.5, 0.25]) }) },
});
const stepDir = (dir: string, step: number) => join(dir, `step-${String(step).padStart(12, '0')}`);
const weights = (s: CheckpointState | null) => Array.from(s!.tables['weights']!.getChild('w')!.toArray() as Float64Array);

/** Flips the last byte of a checkpoint's weights table: same size, other content. */
function corrupt(dir: string, step: number): void {
  const f = join(stepDir(dir, step), 'weights.arrow');
  const b = readFileSync(f);
  b[b.length - 1] ^= 0xff;
  writeFileSync(f, b);
}

describe('DirCheckpointer', () => {
  it('nothing saved: latest() is null, latestStep() undefined', async () => {
    const ck = new DirCheckpointer(newDir());
    assert.equal(await ck.latest(), null);
    assert.equal(ck.latestStep(), undefined);
  });

  it('save then latest(): the same step, meta and tables', async () => {
    const dir = newDir();
    const ck = new DirCheckpointer(dir);
    await ck.save(state(10));
    const got = await ck.latest();
    assert.equal(got?.step, 10);
    assert.deepEqual(got?.meta, { rng: [1, 2, 3], note: 'at 10' });
    assert.deepEqual(weights(got), [10, 5]);
    assert.deepEqual(Array.from(got!.tables['curve/loss']!.getChild('loss')!.toArray() as Float64Array), [0.5, 0.25]);
    assert.deepEqual(readdirSync(stepDir(dir, 10)).sort(), ['checkpoint.json', 'curve_loss.arrow', 'weights.arrow'], 'table names made file-safe');
    assert.equal(ck.latestStep(), 10);
  });

  it('the newest by step wins (9 < 10 < 100) and only the newest two are kept', async () => {
    const dir = newDir();
    const ck = new DirCheckpointer(dir);
    for (const s of [9, 10, 100]) await ck.save(state(s));
    assert.equal(ck.latestStep(), 100);
    assert.equal((await ck.latest())?.step, 100);
    assert.deepEqual(readdirSync(dir).sort(), ['step-000000000010', 'step-000000000100']);
    await ck.save(state(100)); // the same step again replaces it
    assert.deepEqual(readdirSync(dir).sort(), ['step-000000000010', 'step-000000000100']);
  });

  it('a damaged newest checkpoint is skipped for the one before: a changed byte (digest), a truncated file (size), an unreadable index', async () => {
    for (const damage of [
      (dir: string) => corrupt(dir, 20),
      (dir: string) => truncateSync(join(stepDir(dir, 20), 'weights.arrow'), 10),
      (dir: string) => writeFileSync(join(stepDir(dir, 20), 'checkpoint.json'), '{"step": 2'),
    ]) {
      const dir = newDir();
      const ck = new DirCheckpointer(dir);
      await ck.save(state(10));
      await ck.save(state(20));
      damage(dir);
      const got = await ck.latest();
      assert.equal(got?.step, 10);
      assert.deepEqual(weights(got), [10, 5]);
    }
  });

  it('latestStep() checks sizes only: it names a same-size corrupt checkpoint that latest() then passes over', async () => {
    const dir = newDir();
    const ck = new DirCheckpointer(dir);
    await ck.save(state(10));
    await ck.save(state(20));
    corrupt(dir, 20);
    assert.equal(ck.latestStep(), 20);
    assert.equal((await ck.latest())?.step, 10);
    truncateSync(join(stepDir(dir, 20), 'weights.arrow'), 10);
    assert.equal(ck.latestStep(), 10);
  });

  it('a save cut off before its rename (a temp dir left behind) is not a checkpoint', async () => {
    const dir = newDir();
    const ck = new DirCheckpointer(dir);
    await ck.save(state(10));
    mkdirSync(join(dir, '.tmp-123-0badc0de'));
    writeFileSync(join(dir, '.tmp-123-0badc0de', 'checkpoint.json'), JSON.stringify({ step: 50, meta: {}, tables: {} }));
    assert.equal(ck.latestStep(), 10);
    assert.equal((await ck.latest())?.step, 10);
  });

  it('adopt moves a complete checkpoint directory into place as a step and prunes to two', async () => {
    const dir = newDir();
    const ck = new DirCheckpointer(dir);
    await ck.save(state(10));
    await ck.save(state(20));
    const fetched = join(mkdtempSync(join(tmpdir(), 'iqlp-ckpt-fetched-')), 'step');
    await new DirCheckpointer(fetched).save(state(30));
    await ck.adopt(stepDir(fetched, 30), 30);
    assert.equal((await ck.latest())?.step, 30);
    assert.deepEqual(readdirSync(dir).sort(), ['step-000000000020', 'step-000000000030']);
  });
});

/** The content-addressed store on real files in a temp dir: commit, verify, quarantine, temp dirs. */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, truncateSync, unlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { describe, it, mock } from 'node:test';
import { sha256 } from './digest.js';
import { HEARTBEAT_MS, STALE_MS } from './liveness.js';
import { deadPid } from './pids.test-fixture.js';
import { Store, type Manifest } from './store.js';

const KEY = 'ab'.padEnd(64, '0');
const newStore = () => new Store(mkdtempSync(join(tmpdir(), 'iqlp-store-')));

/** Sets the mtime of `path` `ageMs` into the past. */
function age(path: string, ageMs: number): void {
  const t = new Date(Date.now() - ageMs);
  utimesSync(path, t, t);
}

/** A dir under the store's tmp/, written `ageMs` ago. */
function tempDir(store: Store, name: string, ageMs = 0): string {
  const d = join(store.root, 'tmp', name);
  mkdirSync(d, { recursive: true });
  age(d, ageMs);
  return d;
}

/** A finished temp dir holding one output file, and the manifest that describes it. */
function stage(store: Store, key = KEY, content = 'the output bytes'): { tmp: string; manifest: Manifest } {
  const tmp = store.newTempDir(`instance ${key.slice(0, 6)}`);
  writeFileSync(join(tmp, 'out.txt'), content);
  const manifest: Manifest = {
    format: 1, key, kind: 'k', version: '1', stage: 's', instance: 's', pipeline: 'p', matrix: {}, params: {}, seed: 0,
    inputs: {}, summary: {}, recorded: {}, runId: 'run-1', startedAt: '', finishedAt: '', durationMs: 0, host: 'h', versions: {},
    outputs: { out: { file: 'out.txt', kind: 'file', ext: 'txt', digest: sha256(content), bytes: Buffer.byteLength(content) } },
  };
  return { tmp, manifest };
}

function committed(content?: string): { store: Store; file: string } {
  const store = newStore();
  const { tmp, manifest } = stage(store, KEY, content);
  store.commit(tmp, manifest);
  return { store, file: join(store.entryDir(KEY), 'out.txt') };
}

describe('Store', () => {
  it('commit files the temp dir under its key with the manifest; verify reads it back', () => {
    const store = newStore();
    const { tmp, manifest } = stage(store);
    store.commit(tmp, manifest);
    assert.equal(existsSync(tmp), false, 'the temp dir is renamed, not copied');
    assert.equal(store.entryDir(KEY), join(store.root, 'entries', 'ab', KEY));
    assert.deepEqual(store.readManifest(KEY), manifest);
    assert.deepEqual(store.verify(KEY), { ok: true, manifest });
    assert.deepEqual(store.listEntries(), [KEY]);
    assert.equal(store.entryBytes(KEY), readdirSync(store.entryDir(KEY)).reduce((s, f) => s + readFileSync(join(store.entryDir(KEY), f)).length, 0));
  });

  it('a crash before the commit (outputs written, no manifest or no rename) leaves no entry anyone can read', () => {
    const store = newStore();
    const { tmp, manifest } = stage(store);
    assert.deepEqual(store.verify(KEY), { ok: false, reason: 'not in the store', exists: false });
    writeFileSync(join(tmp, 'manifest.json'), JSON.stringify(manifest)); // the manifest written, the rename not done
    assert.deepEqual(store.verify(KEY), { ok: false, reason: 'not in the store', exists: false });
    assert.equal(store.readManifest(KEY), null);
    assert.deepEqual(store.listEntries(), []);
  });

  it('temp dirs of this host are stale when their process is gone (gc and the next run remove them), however fresh; a live one\'s are not, however old', () => {
    const store = newStore();
    const dead = deadPid();
    const mine = store.newTempDir('mine');
    age(mine, 10 * STALE_MS);
    const gone = tempDir(store, basename(mine).replace(`-${process.pid}-`, `-${dead}-`)); // the same name, a dead pid
    assert.notEqual(gone, mine);
    // A lock a killed process was building (lock.ts) goes too; a lock does not.
    mkdirSync(store.lockPath(KEY));
    const lockTemp = `${store.lockPath(KEY)}${gone.slice(gone.lastIndexOf('@'))}`;
    mkdirSync(lockTemp);
    assert.deepEqual(store.staleTempDirs().sort(), [gone, lockTemp].sort());
  });

  it('temp dirs of another host (a store on a shared file system) are judged by their heartbeat, not by a pid that means nothing here', () => {
    const store = newStore();
    const dead = deadPid();
    const old = STALE_MS + 5000;
    // This process's pid is alive here, the dead one is not: neither says anything about the other host.
    const liveLookingFresh = tempDir(store, `a@other-host-${process.pid}-0123abcd`);
    const liveLookingOld = tempDir(store, `b@other-host-${process.pid}-0123abce`, old);
    const deadLookingFresh = tempDir(store, `c@other-host.example.org-${dead}-0123abcf`);
    const deadLookingOld = tempDir(store, `d@other-host.example.org-${dead}-0123abd0`, old);
    assert.ok(existsSync(liveLookingFresh) && existsSync(deadLookingFresh));
    assert.deepEqual(store.staleTempDirs().sort(), [liveLookingOld, deadLookingOld].sort());
  });

  it('temp dirs named by older versions (a pid, no host) or with no pid: kept while the pid lives here or they were written in the last STALE_MS', () => {
    const store = newStore();
    const dead = deadPid();
    const old = STALE_MS + 5000;
    tempDir(store, `x-${dead}-0123abcd`); // fresh: maybe another host's
    const deadOld = tempDir(store, `y-${dead}-0123abce`, old);
    tempDir(store, `z-${process.pid}-0123abcf`, old); // maybe this process's
    tempDir(store, 'no-pid-here');
    const oddOld = tempDir(store, 'no-pid-there', old);
    assert.deepEqual(store.staleTempDirs().sort(), [deadOld, oddOld].sort());
  });

  it('the maker of a temp dir refreshes its mtime every HEARTBEAT_MS (what another host judges it by) until it is committed or removed', () => {
    mock.timers.enable({ apis: ['setInterval'] });
    try {
      const store = newStore();
      const { tmp, manifest } = stage(store);
      const other = store.newTempDir('other');
      for (const d of [tmp, other]) age(d, 30_000);
      mock.timers.tick(HEARTBEAT_MS);
      for (const d of [tmp, other]) assert.ok(Date.now() - statSync(d).mtimeMs < 5_000, 'heartbeat');
      store.commit(tmp, manifest);
      rmSync(other, { recursive: true });
      age(store.entryDir(KEY), 30_000);
      mock.timers.tick(HEARTBEAT_MS); // must not throw, recreate `other` or touch the committed entry
      assert.ok(Date.now() - statSync(store.entryDir(KEY)).mtimeMs > 25_000, 'the committed entry is not touched');
      assert.equal(existsSync(other), false);
    } finally {
      mock.timers.reset();
    }
  });

  it('verify: a blob with a byte changed (same size) is corrupt; quickCheck, which reads sizes only, passes it', () => {
    const { store, file } = committed('0123456789');
    writeFileSync(file, '0123456780');
    assert.deepEqual(store.verify(KEY), { ok: false, reason: "output 'out' digest mismatch (corrupted)", exists: true });
    assert.equal(store.quickCheck(KEY).ok, true);
  });

  it('verify and quickCheck: a truncated or missing blob, a missing or foreign manifest', () => {
    const { store, file } = committed('0123456789');
    truncateSync(file, 4);
    for (const check of [store.verify(KEY), store.quickCheck(KEY)]) {
      assert.deepEqual(check, { ok: false, reason: "output 'out' has 4 bytes, manifest says 10 (truncated?)", exists: true });
    }
    unlinkSync(file);
    assert.deepEqual(store.verify(KEY), { ok: false, reason: "output 'out' file is missing", exists: true });
    const m = join(store.entryDir(KEY), 'manifest.json');
    writeFileSync(m, JSON.stringify({ ...store.readManifest(KEY), key: 'cd'.padEnd(64, '0') }));
    assert.deepEqual(store.verify(KEY), { ok: false, reason: 'manifest missing or unreadable', exists: true });
    writeFileSync(m, '{"format": 1, "ke');
    assert.deepEqual(store.verify(KEY), { ok: false, reason: 'manifest missing or unreadable', exists: true });
    unlinkSync(m);
    assert.deepEqual(store.verify(KEY), { ok: false, reason: 'manifest missing or unreadable', exists: true });
  });

  it('quarantine moves a bad entry to trash/ for inspection; it then reads as not in the store', () => {
    const { store, file } = committed('0123456789');
    writeFileSync(file, 'corrupt!!!');
    store.quarantine(KEY);
    assert.deepEqual(store.verify(KEY), { ok: false, reason: 'not in the store', exists: false });
    const trash = readdirSync(join(store.root, 'trash'));
    assert.equal(trash.length, 1);
    assert.match(trash[0]!, new RegExp(`^${KEY}-\\d+-[0-9a-f]{6}$`));
    assert.equal(readFileSync(join(store.root, 'trash', trash[0]!, 'out.txt'), 'utf8'), 'corrupt!!!');
    store.quarantine(KEY); // nothing there: nothing to do
  });

  it('committing a key again (--force) replaces the entry and keeps the old one in trash/', () => {
    const { store } = committed('first');
    const { tmp, manifest } = stage(store, KEY, 'second');
    store.commit(tmp, manifest);
    assert.equal(readFileSync(join(store.entryDir(KEY), 'out.txt'), 'utf8'), 'second');
    assert.equal(store.verify(KEY).ok, true);
    const [old] = readdirSync(join(store.root, 'trash'));
    assert.equal(readFileSync(join(store.root, 'trash', old!, 'out.txt'), 'utf8'), 'first');
  });

  it('removeEntry removes the entry and its checkpoints', () => {
    const { store } = committed();
    mkdirSync(join(store.checkpointDir(KEY), 'step-000000000010'), { recursive: true });
    assert.equal(store.checkpointDir(KEY), join(store.root, 'checkpoints', KEY));
    store.removeEntry(KEY);
    assert.equal(existsSync(store.entryDir(KEY)), false);
    assert.equal(existsSync(store.checkpointDir(KEY)), false);
    assert.deepEqual(store.listEntries(), []);
    assert.equal(store.entryBytes(KEY), 0);
  });

  it('pipeline states: written whole, read back, listed', () => {
    const store = newStore();
    assert.equal(store.readPipelineState('p'), null);
    assert.deepEqual(store.listPipelineStates(), []);
    const state = { pipeline: 'p', file: 'p.yaml', updatedAt: 'now', instances: { a: { key: KEY, kind: 'k', version: '1', params: {}, seed: 0, inputs: {} } } };
    store.writePipelineState('p', state);
    store.writePipelineState('q', { ...state, pipeline: 'q' });
    assert.deepEqual(store.readPipelineState('p'), state);
    assert.deepEqual(store.listPipelineStates().map((s) => s.pipeline).sort(), ['p', 'q']);
    assert.deepEqual(readdirSync(join(store.root, 'pipelines')).sort(), ['p.json', 'q.json'], 'no temp file left');
  });
});

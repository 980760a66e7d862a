import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { appendFileSync, existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { EngineEvent } from '../engine/events.js';
import { createJournal, journalPath, listJournals, liveWriter, lockPath, readJournal } from './journal.js';

const start = (runId: string): EngineEvent => ({ type: 'run-start', runId, pipeline: 'p', file: 'p.yaml', time: 1, instances: [], pipelineParams: {}, host: 'h' });
const metric = (runId: string, step: number, value: number): EngineEvent => ({ type: 'stage-metric', runId, instance: 'a', name: 'loss', value, step, time: 2 + step });

describe('run journal', () => {
  it('appends events as JSONL, holds a lock while live, releases it at run end', () => {
    const store = mkdtempSync(join(tmpdir(), 'journal-'));
    const j = createJournal(store);
    j(start('r1'));
    j(metric('r1', 0, NaN));
    j(metric('r1', 1, Infinity));
    assert.equal(liveWriter(store, 'r1'), process.pid);
    assert.equal(readFileSync(journalPath(store, 'r1'), 'utf8').split('\n').length, 4, 'written as it goes');
    j({ type: 'run-end', runId: 'r1', time: 9, status: 'FINISHED', counts: { computed: 0, cached: 0, failed: 0, skipped: 0 } });
    assert.equal(existsSync(lockPath(store, 'r1')), false);
    j.close();
    const c = readJournal(journalPath(store, 'r1'));
    assert.equal(c.events.length, 4);
    assert.equal(c.truncatedTail, false);
    const m = c.events[1] as Extract<EngineEvent, { type: 'stage-metric' }>;
    assert.ok(Number.isNaN(Number(m.value)));
    assert.equal(Number((c.events[2] as typeof m).value), Infinity);
    assert.deepEqual(listJournals(store), ['r1']);
  });

  it('tolerates a truncated last line', () => {
    const store = mkdtempSync(join(tmpdir(), 'journal-'));
    const j = createJournal(store);
    j(start('r2'));
    j(metric('r2', 0, 1));
    j.close();
    appendFileSync(journalPath(store, 'r2'), '{"type":"stage-metric","runId":"r2","inst');
    const c = readJournal(journalPath(store, 'r2'));
    assert.equal(c.events.length, 2);
    assert.equal(c.truncatedTail, true);
  });

  it('survives kill -9 of the writing process', async () => {
    const store = mkdtempSync(join(tmpdir(), 'journal-'));
    const ts = import.meta.url.endsWith('.ts');
    const mod = new URL(ts ? './journal.ts' : './journal.js', import.meta.url).href;
    const code = `
      const { createJournal } = await import(${JSON.stringify(mod)});
      const j = createJournal(${JSON.stringify(store)});
      j({ type: 'run-start', runId: 'k', pipeline: 'p', file: 'p.yaml', time: 1, instances: [], pipelineParams: {}, host: 'h' });
      let i = 0;
      for (;;) { j({ type: 'stage-log', runId: 'k', instance: 'a', message: 'x'.repeat(i % 5000), time: i++ }); if (i === 200) process.stdout.write('go\\n'); }
    `;
    const child = spawn(process.execPath, [...(ts ? ['--import', 'tsx'] : []), '--input-type=module', '-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((r) => child.stdout!.once('data', () => r()));
    await new Promise((r) => setTimeout(r, 100));
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    const c = readJournal(journalPath(store, 'k'));
    assert.ok(c.events.length > 200, `read ${c.events.length} events`);
    assert.equal(c.badLines, 0);
    assert.equal(liveWriter(store, 'k'), undefined, 'a dead writer is not live');
  });
});

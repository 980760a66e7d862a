import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatDone, formatEvent, formatFailed, LogTail, parseLine } from './protocol.js';

test('protocol lines round-trip; other lines are text, even a marker with broken JSON', () => {
  assert.deepEqual(parseLine(formatEvent({ type: 'metric', name: 'loss', value: 0.5, step: 3 })), { type: 'event', event: { type: 'metric', name: 'loss', value: 0.5, step: 3 } });
  assert.deepEqual(parseLine(`2026-11-30 INFO ${formatFailed({ kind: 'input-unavailable', message: 'm', instances: ['a'] })}`), { type: 'failed', failure: { kind: 'input-unavailable', message: 'm', instances: ['a'] } });
  assert.deepEqual(parseLine(formatDone('k')), { type: 'done', key: 'k' });
  assert.deepEqual(parseLine('::iqlp-event:: {broken'), { type: 'text', text: '::iqlp-event:: {broken' });
});

test('a log tail returns each complete line once, holds a partial last line, and restarts on a replaced log', () => {
  const t = new LogTail();
  assert.deepEqual(t.next('a\nb'), ['a']);
  assert.deepEqual(t.next('a\nb'), []);
  assert.deepEqual(t.next('a\nbc\nd\n'), ['bc', 'd']);
  assert.deepEqual(t.next('x\n'), ['x']);
});

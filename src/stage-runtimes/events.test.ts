import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseEventLine } from './events.js';

test('::iqlp:: lines become events; other lines are not events; malformed ones say why', () => {
  assert.equal(parseEventLine('plain output'), null);
  assert.deepEqual(parseEventLine('::iqlp::{"type":"progress","step":3,"total":10}'), { event: { type: 'progress', step: 3, total: 10, note: undefined } });
  assert.deepEqual(parseEventLine('::iqlp::{"type":"metric","name":"loss","value":0.5,"step":2}'), { event: { type: 'metric', name: 'loss', value: 0.5, step: 2 } });
  assert.deepEqual(parseEventLine('::iqlp::{"type":"summary","name":"score","value":1}'), { event: { type: 'summary', name: 'score', value: 1 } });
  assert.match((parseEventLine('::iqlp::{"type":"metric","name":"loss"}') as { error: string }).error, /metric needs/);
  assert.match((parseEventLine('::iqlp::{not json') as { error: string }).error, /bad JSON/);
  assert.match((parseEventLine('::iqlp::{"type":"shout"}') as { error: string }).error, /unknown event type "shout"/);
});

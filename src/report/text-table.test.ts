import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatNumber, formatTextTable, isNumericCell, terminalText } from './text-table.js';

test('formatTextTable / formatNumber', () => {
  const t = formatTextTable(['name', 'value'], [['a', 1.5], ['bbbb', null], ['c', 12]]);
  assert.equal(t, 'name  value\n────  ─────\na     1.500\nbbbb      —\nc        12\n');
  assert.equal(formatNumber(NaN), '—');
  assert.equal(formatNumber(0.0001, 2), '1.0e-4');
  assert.equal(formatNumber(-1.234, 1), '-1.2');
});

test('formatTextTable: alignment per column overrides the numeric detection; non-ASCII symbols fold', () => {
  const rows = [['a', '0', '1.5'], ['bbb', '12', '']];
  assert.equal(formatTextTable(['name', 'seed', 'score'], rows), 'name  seed  score\n────  ────  ─────\na        0  1.5\nbbb     12\n');
  assert.equal(formatTextTable(['name', 'seed', 'score'], rows, { align: ['left', 'left', 'right'] }), 'name  seed  score\n────  ────  ─────\na     0       1.5\nbbb   12\n');
  assert.ok(isNumericCell('8.50 [7.21, 9.80]') && isNumericCell('0.39 ± 0.01') && isNumericCell('-inf') && !isNumericCell('awr'));
  assert.equal(terminalText('‖a‖ ≤ π'), '|a| <= pi');
});

/**
 * The dataset coverage table: one row per dataset from load-dataset's coverage figures. Fractions
 * are always printed as fractions (1.000, not 1) and visited maze cells as "visited/free", so no
 * cell reads as a count when it is a share.
 */
import type { TextTable } from './comparison.js';

interface CoverageColumn {
  key: string;
  label: string;
  kind: 'count' | 'fraction' | 'value';
}

const COLUMNS: readonly CoverageColumn[] = [
  { key: 'transitions', label: 'transitions', kind: 'count' },
  { key: 'action_coarse_occupied_fraction', label: 'coarse occupancy', kind: 'fraction' },
  { key: 'action_coarse_entropy', label: 'coarse entropy', kind: 'value' },
  { key: 'action_hist_entropy', label: 'marginal entropy', kind: 'value' },
  { key: 'action_edge_fraction', label: 'on edge', kind: 'fraction' },
  { key: 'action_std_mean', label: 'action std', kind: 'value' },
  { key: 'cells_visited_fraction', label: 'cells visited', kind: 'fraction' },
];

export interface CoverageRow {
  dataset: string;
  summary: Record<string, number>;
}

function cell(c: CoverageColumn, s: Record<string, number>): string {
  const v = s[c.key];
  if (typeof v !== 'number' || Number.isNaN(v)) return '—';
  if (c.key === 'cells_visited_fraction' && Number.isInteger(s['cells_visited']) && Number.isInteger(s['cells_free'])) return `${s['cells_visited']}/${s['cells_free']}`;
  return c.kind === 'count' ? String(Math.round(v)) : v.toFixed(3);
}

export const COVERAGE_TEXT =
  'Action coverage of each dataset (load-dataset): coarse occupancy = fraction of the 4^d cells of the action box that hold data; entropies are normalised to [0, 1]; on edge = fraction of action components at the box bound; cells visited = free maze cells the data visit / free cells.';

export function coverageTable(rows: readonly CoverageRow[]): TextTable {
  const cols = COLUMNS.filter((c) => rows.some((r) => typeof r.summary[c.key] === 'number'));
  return { columns: ['dataset', ...cols.map((c) => c.label)], rows: rows.map((r) => [r.dataset, ...cols.map((c) => cell(c, r.summary))]) };
}

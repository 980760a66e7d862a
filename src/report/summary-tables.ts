/**
 * The report's tables, assembled once for both places they appear: as sections of the HTML report
 * and as the plain-text summary printed at the end of a run. In order: the note's claims with their
 * verdicts, the comparison of methods with bootstrap intervals, the other diagnostics (mean ± std
 * over runs) and the datasets' coverage. A table without rows is left out.
 */
import { CLAIMS_TEXT, claimsTable, type ClaimRow, type SettingFacts } from './claims.js';
import { comparisonTable, diagnosticsTable, type GroupSummary, type RunRow, type TextTable } from './comparison.js';
import { COVERAGE_TEXT, coverageTable, type CoverageRow } from './coverage-table.js';
import type { ReportSection } from './html.js';
import { BOOTSTRAP_SAMPLES } from './stats.js';
import { formatTextTable } from './text-table.js';

export interface SummaryTable {
  /** The HTML report's section (title, explanation, the full table). */
  section: ReportSection;
  /** The columns the terminal summary shows. */
  terminal: TextTable;
}

export interface SummaryTablesInput {
  runs: readonly RunRow[];
  groups: readonly GroupSummary[];
  claims: readonly ClaimRow[];
  facts: readonly SettingFacts[];
  coverage: readonly CoverageRow[];
  bootstrap: { samples?: number; seed: number };
}

/** The claims' columns a terminal has room for. */
const TERMINAL_CLAIM_COLUMNS = ['claim', 'setting', 'measured [95% CI]', 'runs A / B', 'verdict', 'note'];

export function summaryTables(input: SummaryTablesInput): SummaryTable[] {
  const tables: SummaryTable[] = [];
  if (input.runs.length) {
    const claims = claimsTable(input.claims);
    const keep = TERMINAL_CLAIM_COLUMNS.map((c) => claims.columns.indexOf(c));
    const settings = input.facts
      .map((f) => `${f.setting || f.envId || '(one setting)'} — env ${f.envId ?? 'unknown'}, ${f.coverage ? `${f.coverage} data (${f.coverageFrom})` : 'coverage unknown'}`)
      .join('; ');
    tables.push({
      section: { title: 'Claims of the note', text: CLAIMS_TEXT + `\n\nSettings: ${settings}.`, table: claims },
      terminal: { columns: keep.map((i) => claims.columns[i]!), rows: claims.rows.map((row) => keep.map((i) => row[i]!)) },
    });
    const comparison = comparisonTable(input.groups);
    const nBoot = (input.bootstrap.samples ?? BOOTSTRAP_SAMPLES).toLocaleString('en-US');
    tables.push({
      section: {
        title: 'Comparison',
        text: `A run is one policy: one critic seed × one actor seed. Per (setting, method): the mean and the interquartile mean (IQM) over runs with 95 % percentile-bootstrap confidence intervals (${nBoot} resamples of the runs, seed ${input.bootstrap.seed}; rliable, Agarwal et al. 2021). Score: D4RL-normalised return of deterministic (mean / argmax) evaluation episodes, averaged per run. Policy std and edge fraction are measured at dataset states. A lone run shows its value without an interval.`,
        table: comparison,
      },
      terminal: comparison,
    });
  }
  const diag = diagnosticsTable(input.runs);
  if (diag) {
    tables.push({ section: { title: 'Diagnostics', text: 'Mean ± std over runs.', table: { columns: diag.columns, rows: diag.rows } }, terminal: { columns: diag.columns, rows: diag.rows } });
  }
  if (input.coverage.length) {
    const cov = coverageTable(input.coverage);
    tables.push({ section: { title: 'Dataset coverage', text: COVERAGE_TEXT, table: cov }, terminal: cov });
  }
  return tables;
}

/** The plain-text summary: the title, then each table under its section title. */
export function summaryText(title: string, tables: readonly SummaryTable[]): string {
  return [title, ...tables.map((t) => `\n${t.section.title}\n${formatTextTable(t.terminal.columns, t.terminal.rows).trimEnd()}`)].join('\n') + '\n';
}

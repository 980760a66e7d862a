/**
 * The project's one plain-text table renderer (the report's terminal summary, `pipeline compare`)
 * and the cell formatting it shares with the HTML tables. No dependencies: any layer may use it.
 */

export type Cell = string | number | boolean | null | undefined;

export interface TextTableOptions {
  /** Per column: 'left', 'right' or 'auto' (right when every cell is numeric; the default). */
  align?: readonly ('left' | 'right' | 'auto')[];
}

/** Format a number for a table: fixed `digits` decimals, "—" for NaN/missing. */
export function formatNumber(x: number | null | undefined, digits = 2): string {
  if (x === null || x === undefined || Number.isNaN(x)) return '—';
  if (!Number.isFinite(x)) return x > 0 ? 'inf' : '-inf';
  const abs = Math.abs(x);
  if (abs !== 0 && (abs >= 1e6 || abs < 10 ** -digits)) return x.toExponential(Math.max(1, digits - 1));
  return x.toFixed(digits);
}

function cellText(c: Cell): string {
  if (c === null || c === undefined) return '—';
  if (typeof c === 'number') return Number.isInteger(c) ? String(c) : formatNumber(c, 3);
  return String(c);
}

const NUMBER = String.raw`[+-]?(?:\d[\d,]*(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?`;
/** A numeric cell: a number, "mean ± std", "estimate [low, high]", a percentage, ±inf. */
const NUMERIC_CELL = new RegExp(String.raw`^(?:${NUMBER}(?: ± ${NUMBER}| \[${NUMBER}, ${NUMBER}\])?%?|-?inf)$`);

/** Whether a formatted cell holds a number (right-aligned in text and HTML tables). */
export function isNumericCell(s: string): boolean {
  return NUMERIC_CELL.test(s.trim());
}

/**
 * Terminal tables keep to ASCII plus the rule (─), ± and the dash for missing values: terminals
 * and their fonts disagree on the width of ‖, π, −, ≈ and × (East Asian "ambiguous" characters),
 * so a header holding them ran past its rule.
 */
const TERMINAL_FOLD: Record<string, string> = { '‖': '|', 'π': 'pi', '−': '-', '≈': '~', '×': 'x', '≤': '<=', '≥': '>=', '·': '.' };
export function terminalText(s: string): string {
  return s.replace(/[‖π−≈×≤≥·]/g, (c) => TERMINAL_FOLD[c]!);
}

/** Width of a string in terminal columns (counts code points; good enough for our tables). */
function width(s: string): number {
  return [...s].length;
}

/**
 * A monospace text table: header, a rule, rows. Numeric columns are right-aligned, the others
 * left-aligned (unless `opts.align` says otherwise). Cells with newlines are flattened to spaces; non-ASCII symbols other than ─ ± —
 * are folded to ASCII (`terminalText`).
 */
export function formatTextTable(columns: readonly string[], rows: readonly (readonly Cell[])[], opts: TextTableOptions = {}): string {
  const head = columns.map((c) => terminalText(String(c)));
  const body = rows.map((r) => columns.map((_, i) => terminalText(cellText(r[i]).replace(/\s*\n\s*/g, ' '))));
  const widths = head.map((h, i) => Math.max(width(h), ...body.map((r) => width(r[i]!))));
  const numeric = head.map((_, i) => {
    const align = opts.align?.[i] ?? 'auto';
    if (align !== 'auto') return align === 'right';
    return body.length > 0 && body.every((r) => r[i] === '—' || isNumericCell(r[i]!));
  });
  const pad = (s: string, i: number) => {
    const fill = ' '.repeat(widths[i]! - width(s));
    return numeric[i] ? fill + s : s + fill;
  };
  const line = (cells: string[]) => cells.map(pad).join('  ').replace(/\s+$/, '');
  return [line(head), widths.map((w) => '─'.repeat(w)).join('  '), ...body.map(line)].join('\n') + '\n';
}

/**
 * A self-contained HTML report: one file, no scripts, no external resources (a CSP meta tag
 * forbids them). Figures are inlined as SVG (ids prefixed per figure so several Vega SVGs can
 * share one document) or as PNG data: URIs; when both are given, the SVG is shown and the PNG is
 * offered as a download link (a plain `<a download>`, no script).
 */
import { formatNumber, isNumericCell, type Cell } from './text-table.js';

export interface ReportImage {
  /** Short identifier, also the PNG download file name (`<name>.png`). */
  name: string;
  svg?: string;
  png?: Uint8Array;
  caption?: string;
  /** Pixel density of `png` (default 2): shown at width / scale CSS px when there is no SVG. */
  scale?: number;
}

export interface ReportTable {
  columns: string[];
  /** Rows as arrays (in column order) or objects keyed by column name. */
  rows: (readonly Cell[] | Record<string, Cell>)[];
  caption?: string;
}

export interface ReportSection {
  title: string;
  /** Plain text; blank lines separate paragraphs, `code` in backticks is set in monospace. */
  text?: string;
  images?: ReportImage[];
  table?: ReportTable;
}

export interface HtmlReportInput {
  title: string;
  subtitle?: string;
  sections: ReportSection[];
  /** Pipeline parameters (any JSON-serialisable object); shown flattened and as JSON. */
  params: object;
  /** Stage instance → cache key. */
  cacheKeys: Record<string, string>;
  /** When the report was made; omit it for a deterministic artifact (no "Generated" line then). */
  generatedAt?: Date | string;
}

const ESC: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Escape text for HTML content and attribute values. */
export function escapeHtml(s: unknown): string {
  return String(s ?? '').replace(/[&<>"']/g, (c) => ESC[c]!);
}

function slug(s: string, used: Set<string>): string {
  const base =
    s
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-+|-+$/g, '') || 'section';
  let id = base;
  for (let k = 2; used.has(id); k++) id = `${base}-${k}`;
  used.add(id);
  return id;
}

function paragraphs(text: string): string {
  return text
    .split(/\n\s*\n/)
    .map((p) => p.trim())
    .filter(Boolean)
    .map((p) => `<p>${escapeHtml(p).replace(/`([^`]+)`/g, '<code>$1</code>')}</p>`)
    .join('\n');
}

function base64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
}

function pngWidth(png: Uint8Array): number | undefined {
  if (png.length < 24 || png[12] !== 0x49 || png[13] !== 0x48 || png[14] !== 0x44 || png[15] !== 0x52) return undefined;
  return new DataView(png.buffer, png.byteOffset, png.byteLength).getUint32(16);
}

/**
 * Prepare an SVG document for inlining: drop the XML prolog/doctype, prefix every id (and the
 * `url(#…)` / `href="#…"` references to it) with `prefix`, drop scripts and event handlers,
 * and label it for screen readers.
 */
export function inlineSvg(svg: string, prefix: string, label?: string): string {
  let s = svg
    .replace(/<\?xml[^>]*\?>/g, '')
    .replace(/<!DOCTYPE[^>]*>/gi, '')
    .replace(/<script\b[\s\S]*?<\/script>/gi, '')
    .replace(/\son[a-z]+="[^"]*"/gi, '')
    .trim();
  s = s
    .replace(/\sid="([^"]+)"/g, (_, id: string) => ` id="${prefix}${id}"`)
    .replace(/url\(#([^)]+)\)/g, (_, id: string) => `url(#${prefix}${id})`)
    .replace(/(\s(?:xlink:)?href)="#([^"]+)"/g, (_, attr: string, id: string) => `${attr}="#${prefix}${id}"`);
  const attrs = ` role="img" focusable="false"${label ? ` aria-label="${escapeHtml(label)}"` : ''}`;
  return s.replace(/^<svg\b/, `<svg${attrs}`);
}

function figure(img: ReportImage, idx: string, used: Set<string>): string {
  const cap = img.caption ? `<figcaption>${escapeHtml(img.caption)}</figcaption>` : '';
  let body: string;
  let link = '';
  const pngUri = img.png ? `data:image/png;base64,${base64(img.png)}` : undefined;
  if (img.svg) {
    body = `<div class="svg">${inlineSvg(img.svg, `f${idx}-`, img.caption ?? img.name)}</div>`;
    if (pngUri) link = `<a class="dl" download="${escapeHtml(img.name)}.png" href="${pngUri}">PNG</a>`;
  } else if (pngUri) {
    const w = pngWidth(img.png!);
    const width = w ? ` width="${Math.round(w / (img.scale ?? 2))}"` : '';
    body = `<img src="${pngUri}"${width} alt="${escapeHtml(img.caption ?? img.name)}">`;
  } else {
    body = `<p class="missing">(figure <code>${escapeHtml(img.name)}</code> not available)</p>`;
  }
  return `<figure id="${slug(`fig-${img.name}`, used)}">${body}${cap || link ? `<div class="cap">${cap}${link}</div>` : ''}</figure>`;
}

function cellHtml(c: Cell): { text: string; num: boolean } {
  if (c === null || c === undefined) return { text: '—', num: false };
  if (typeof c === 'number') return { text: Number.isInteger(c) ? String(c) : formatNumber(c, 3), num: true };
  const s = String(c);
  return { text: s, num: isNumericCell(s) };
}

/** An HTML table; numeric cells (also "mean ± std" strings) are right-aligned. */
export function tableHtml(t: ReportTable): string {
  const head = t.columns.map((c) => `<th>${escapeHtml(c)}</th>`).join('');
  const body = t.rows
    .map((r) => {
      const cells = t.columns.map((c, i) => (Array.isArray(r) ? (r as readonly Cell[])[i] : (r as Record<string, Cell>)[c]));
      return `<tr>${cells
        .map((c) => {
          const { text, num } = cellHtml(c);
          return `<td${num ? ' class="num"' : ''}>${escapeHtml(text)}</td>`;
        })
        .join('')}</tr>`;
    })
    .join('\n');
  const cap = t.caption ? `<caption>${escapeHtml(t.caption)}</caption>` : '';
  return `<div class="table-wrap"><table>${cap}<thead><tr>${head}</tr></thead><tbody>\n${body}\n</tbody></table></div>`;
}

/** Flatten nested objects to dotted keys (arrays of scalars stay one value). */
export function flattenParams(obj: unknown, prefix = '', out: [string, string][] = []): [string, string][] {
  if (obj !== null && typeof obj === 'object' && !Array.isArray(obj)) {
    const entries = Object.entries(obj as Record<string, unknown>);
    if (entries.length === 0 && prefix) out.push([prefix, '{}']);
    for (const [k, v] of entries) flattenParams(v, prefix ? `${prefix}.${k}` : k, out);
  } else if (Array.isArray(obj) && obj.some((v) => v !== null && typeof v === 'object')) {
    obj.forEach((v, i) => flattenParams(v, `${prefix}[${i}]`, out));
  } else {
    out.push([prefix, typeof obj === 'string' ? obj : JSON.stringify(obj) ?? String(obj)]);
  }
  return out;
}

const CSS = `
:root { --fg: #1d1d1f; --muted: #5f6368; --rule: #dadce0; --bg: #ffffff; --alt: #f6f7f9; --accent: #0072B2; }
* { box-sizing: border-box; }
html { -webkit-text-size-adjust: 100%; }
body { margin: 0; background: var(--bg); color: var(--fg); font: 15px/1.55 "DejaVu Sans", system-ui, -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; }
main { max-width: 1120px; margin: 0 auto; padding: 28px 28px 64px; }
header { border-bottom: 2px solid var(--fg); margin-bottom: 18px; padding-bottom: 10px; }
h1 { font-size: 26px; margin: 0 0 4px; letter-spacing: -0.01em; }
h2 { font-size: 19px; margin: 34px 0 10px; padding-top: 6px; border-top: 1px solid var(--rule); }
.sub, .meta { color: var(--muted); margin: 0; font-size: 14px; }
nav.toc { font-size: 14px; margin: 8px 0 0; }
nav.toc ol { margin: 4px 0; padding-left: 20px; columns: 2; }
nav.toc a, a { color: var(--accent); text-decoration: none; }
nav.toc a:hover, a:hover { text-decoration: underline; }
p { margin: 6px 0 10px; max-width: 80ch; }
code, pre, .mono { font-family: "DejaVu Sans Mono", ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 13px; }
code { background: var(--alt); padding: 1px 4px; border-radius: 3px; }
figure { margin: 14px 0 22px; }
figure .svg svg, figure img { display: block; max-width: 100%; height: auto; }
.cap { display: flex; gap: 12px; align-items: baseline; margin-top: 4px; }
figcaption { color: var(--muted); font-size: 13.5px; flex: 1; max-width: 90ch; }
a.dl { font-size: 12px; border: 1px solid var(--rule); border-radius: 3px; padding: 0 6px; white-space: nowrap; }
.missing { color: var(--muted); font-style: italic; }
.table-wrap { overflow-x: auto; margin: 10px 0 18px; }
table { border-collapse: collapse; font-size: 14px; min-width: 40%; }
caption { text-align: left; color: var(--muted); font-size: 13px; padding-bottom: 4px; }
th, td { padding: 5px 12px; border-bottom: 1px solid var(--rule); text-align: left; vertical-align: top; }
th { border-bottom: 2px solid var(--fg); font-weight: 600; white-space: nowrap; }
tbody tr:nth-child(even) td { background: var(--alt); }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.key { word-break: break-all; }
details { margin: 8px 0; }
summary { cursor: pointer; color: var(--muted); font-size: 14px; }
pre { background: var(--alt); padding: 10px 12px; border-radius: 4px; overflow-x: auto; }
footer { margin-top: 40px; color: var(--muted); font-size: 12.5px; border-top: 1px solid var(--rule); padding-top: 8px; }
@media print { main { max-width: none; padding: 0; } h2 { break-after: avoid; } figure { break-inside: avoid; } a.dl, nav.toc { display: none; } }
`;

/** Build the report as one self-contained HTML string. */
export function buildHtmlReport(input: HtmlReportInput): string {
  const used = new Set<string>(['parameters', 'cache-keys']);
  const generated = input.generatedAt === undefined ? undefined : input.generatedAt instanceof Date ? input.generatedAt.toISOString() : String(input.generatedAt);
  const ids = input.sections.map((s) => slug(s.title, used));
  const toc = [...input.sections.map((s, i) => `<li><a href="#${ids[i]}">${escapeHtml(s.title)}</a></li>`), '<li><a href="#parameters">Pipeline parameters</a></li>', '<li><a href="#cache-keys">Cache keys</a></li>'].join('');
  const sections = input.sections
    .map((s, i) => {
      const parts = [`<section id="${ids[i]}">`, `<h2>${escapeHtml(s.title)}</h2>`];
      if (s.text) parts.push(paragraphs(s.text));
      if (s.table) parts.push(tableHtml(s.table));
      (s.images ?? []).forEach((img, k) => parts.push(figure(img, `${i}-${k}`, used)));
      parts.push('</section>');
      return parts.join('\n');
    })
    .join('\n');
  const flat = flattenParams(input.params);
  const paramsTable = flat.length
    ? tableHtml({ columns: ['parameter', 'value'], rows: flat })
    : '<p class="missing">(no parameters)</p>';
  const keys = Object.entries(input.cacheKeys).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const keysTable = keys.length
    ? `<div class="table-wrap"><table><thead><tr><th>stage instance</th><th>cache key</th></tr></thead><tbody>\n${keys
        .map(([k, v]) => `<tr><td class="mono">${escapeHtml(k)}</td><td class="mono key">${escapeHtml(v)}</td></tr>`)
        .join('\n')}\n</tbody></table></div>`
    : '<p class="missing">(no cache keys)</p>';
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src data:; style-src 'unsafe-inline'">
<meta name="generator" content="iql-pipeline report">
<title>${escapeHtml(input.title)}</title>
<style>${CSS}</style>
</head>
<body>
<main>
<header>
<h1>${escapeHtml(input.title)}</h1>
${input.subtitle ? `<p class="sub">${escapeHtml(input.subtitle)}</p>` : ''}
${generated ? `<p class="meta">Generated <time datetime="${escapeHtml(generated)}">${escapeHtml(generated)}</time></p>\n` : ''}<nav class="toc" aria-label="Contents"><ol>${toc}</ol></nav>
</header>
${sections}
<section id="parameters">
<h2>Pipeline parameters</h2>
${paramsTable}
<details><summary>as JSON</summary><pre>${escapeHtml(JSON.stringify(input.params, null, 2))}</pre></details>
</section>
<section id="cache-keys">
<h2>Cache keys</h2>
<p>Each stage instance's cache key: digest of its kind, version, resolved parameters, input digests and seed.</p>
${keysTable}
</section>
<footer>iql-pipeline report · self-contained file, no scripts, no external resources.</footer>
</main>
</body>
</html>
`;
}

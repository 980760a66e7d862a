/**
 * Headless chart rendering: Vega-Lite spec → Vega → SVG (vega View, renderer 'none', `toSVG()`),
 * SVG → PNG with @resvg/resvg-js. Also home of the one theme every figure uses (fonts, sizes,
 * the fixed per-method palette), so `awr`, `ddpg` and `awr-discrete` look the same everywhere.
 *
 * Fonts: resvg draws text only with fonts it has loaded. We load DejaVu Sans (Debian package
 * `fonts-dejavu-core`) explicitly by file path, and keep `loadSystemFonts` as a fallback. Override
 * with `IQL_REPORT_FONT=/path/a.ttf:/path/b.ttf`.
 */
import { existsSync } from 'node:fs';
import { Resvg } from '@resvg/resvg-js';
import * as vega from 'vega';
import { compile } from 'vega-lite';
import type { Config, TopLevelSpec } from 'vega-lite';
import { ESTIMATED_METRICS, loadFontMetrics, type FontMetrics } from './font-metrics.js';

// ---------------------------------------------------------------------------------------------
// Theme
// ---------------------------------------------------------------------------------------------

/** Family names written into the SVG; the first one is the font we load for resvg. */
export const FONT_FAMILY = 'DejaVu Sans, Helvetica, Arial, sans-serif';
const PRIMARY_FAMILY = 'DejaVu Sans';

/** Paper-figure sizes in CSS pixels (the PNG is rendered at 2x of these). */
export const SIZES = {
  /** Side of one square facet cell (action scatter, maze cells scale from it). */
  cell: 170,
  /** Width/height of a histogram facet cell. */
  histWidth: 170,
  histHeight: 120,
  /** Small-multiple training curve cell. */
  curveWidth: 200,
  curveHeight: 130,
  /** Returns chart: width per method band, and height. */
  bandWidth: 56,
  returnsHeight: 200,
  /** Maze plot: pixels per maze cell. */
  mazeCellPx: 22,
} as const;

/**
 * Fixed colours (Okabe–Ito, colour-blind safe) for the methods of the study. Any other method
 * gets a colour from `FALLBACK_COLORS` chosen by a hash of its name, so it is also stable
 * from figure to figure.
 */
export const METHOD_COLORS: Readonly<Record<string, string>> = {
  awr: '#0072B2', // blue
  ddpg: '#D55E00', // vermillion
  'awr-discrete': '#009E73', // bluish green
  bc: '#CC79A7', // reddish purple
  td3bc: '#E69F00', // orange
  data: '#7F7F7F', // grey: dataset actions / behaviour policy
  dataset: '#7F7F7F',
};

/** Canonical order of the known methods in legends and on category axes. */
export const METHOD_ORDER: readonly string[] = ['awr', 'awr-discrete', 'ddpg', 'bc', 'td3bc', 'data', 'dataset'];

export const FALLBACK_COLORS: readonly string[] = ['#56B4E9', '#F0E442', '#882255', '#44AA99', '#332288', '#AA4499', '#117733', '#000000'];

function hashString(s: string): number {
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 16777619);
  }
  return h >>> 0;
}

/** The colour of a method: fixed for the known ones, hash-stable for the rest. */
export function methodColor(method: string): string {
  return METHOD_COLORS[method] ?? FALLBACK_COLORS[hashString(method) % FALLBACK_COLORS.length]!;
}

/** Sort methods: known ones in `METHOD_ORDER`, then the others alphabetically. */
export function sortMethods(methods: Iterable<string>): string[] {
  const uniq = [...new Set(methods)];
  const rank = (m: string) => {
    const i = METHOD_ORDER.indexOf(m);
    return i < 0 ? METHOD_ORDER.length : i;
  };
  return uniq.sort((a, b) => rank(a) - rank(b) || (a < b ? -1 : a > b ? 1 : 0));
}

/** A Vega-Lite colour scale with the fixed palette for exactly these methods. */
export function methodColorScale(methods: Iterable<string>): { domain: string[]; range: string[] } {
  const domain = sortMethods(methods);
  return { domain, range: domain.map(methodColor) };
}

/** The one Vega-Lite config object of all report figures. */
export const THEME: Config = {
  font: FONT_FAMILY,
  // No per-mark ARIA labels: they triple the SVG size of a scatter (the HTML report labels each figure).
  aria: false,
  background: 'white',
  padding: 6,
  view: { stroke: '#9a9a9a', strokeWidth: 0.8 },
  axis: {
    labelFontSize: 10,
    titleFontSize: 11,
    titleFontWeight: 'normal',
    labelColor: '#333333',
    titleColor: '#111111',
    domainColor: '#666666',
    tickColor: '#666666',
    gridColor: '#e8e8e8',
    titlePadding: 6,
  },
  legend: {
    labelFontSize: 11,
    titleFontSize: 11,
    titleFontWeight: 'normal',
    symbolSize: 90,
    symbolStrokeWidth: 2,
    labelLimit: 200,
  },
  header: {
    labelFontSize: 11,
    labelFontWeight: 'bold',
    titleFontSize: 11,
    titleFontWeight: 'normal',
    labelPadding: 4,
  },
  title: { fontSize: 13, fontWeight: 'bold', anchor: 'start', offset: 8, subtitleFontSize: 10, subtitleColor: '#555555' },
  line: { strokeWidth: 1.5 },
  point: { size: 14, filled: true },
  bar: { binSpacing: 0.5 },
  facet: { spacing: 14 },
  concat: { spacing: 14 },
};

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Deep merge for config objects: `over` wins; arrays are replaced, not merged. */
export function mergeConfig<T>(base: T, over: unknown): T {
  if (!isPlainObject(base) || !isPlainObject(over)) return (over === undefined ? base : over) as T;
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over)) out[k] = k in out ? mergeConfig(out[k], v) : v;
  return out as T;
}

// ---------------------------------------------------------------------------------------------
// Fonts
// ---------------------------------------------------------------------------------------------

const FONT_CANDIDATES = [
  '/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf',
  '/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf',
  '/usr/share/fonts/truetype/dejavu/DejaVuSans-Oblique.ttf',
  '/usr/share/fonts/dejavu/DejaVuSans.ttf', // Fedora/Alpine layouts
  '/usr/share/fonts/dejavu/DejaVuSans-Bold.ttf',
  '/usr/share/fonts/TTF/DejaVuSans.ttf', // Arch
  '/usr/share/fonts/TTF/DejaVuSans-Bold.ttf',
  '/Library/Fonts/Arial.ttf', // macOS fallbacks
];

let fontCache: string[] | undefined;

/** Font files handed to resvg: `IQL_REPORT_FONT` (colon-separated) or the DejaVu Sans files found. */
export function findFontFiles(): string[] {
  if (fontCache) return fontCache;
  const env = process.env.IQL_REPORT_FONT;
  const wanted = env ? env.split(':').filter(Boolean) : FONT_CANDIDATES;
  fontCache = wanted.filter((p) => existsSync(p));
  return fontCache;
}

let metricsInstalled = false;

/**
 * Make Vega measure text with the advance widths of the font resvg draws with (regular and bold
 * DejaVu Sans), instead of its 0.8 em/char estimate. Process-wide and idempotent; called by
 * `renderSvg`.
 */
export function installTextMetrics(): void {
  if (metricsInstalled) return;
  metricsInstalled = true;
  const files = findFontFiles();
  const load = (re: RegExp): FontMetrics | undefined => {
    const f = files.find((p) => re.test(p));
    if (!f) return undefined;
    try {
      return loadFontMetrics(f);
    } catch {
      return undefined;
    }
  };
  const regular = load(/DejaVuSans\.ttf$/) ?? load(/\.ttf$/i) ?? ESTIMATED_METRICS;
  const bold = load(/DejaVuSans-Bold\.ttf$/) ?? regular;
  // vega re-exports vega-scenegraph's textMetrics at runtime; its typings do not declare it.
  const tm = (vega as unknown as { textMetrics: { width: (item: any, text: unknown) => number } }).textMetrics;
  tm.width = (item: any, text: unknown) => {
    const size = item?.fontSize != null ? Number(item.fontSize) || 0 : 11;
    const s = text == null ? '' : String(text).trim();
    if (size <= 0 || !s) return 0;
    const w = item?.fontWeight;
    const isBold = w === 'bold' || w === 'bolder' || (typeof w === 'number' && w >= 600) || (typeof w === 'string' && Number(w) >= 600);
    return (isBold ? bold : regular).widthEm(s) * size;
  };
}

// ---------------------------------------------------------------------------------------------
// Rendering
// ---------------------------------------------------------------------------------------------

export interface RenderOptions {
  /** Apply `THEME` under the spec's own `config` (default true). */
  theme?: boolean;
  /** PNG scale factor relative to the SVG's CSS pixels (default 2). */
  scale?: number;
  /** PNG background (default white). */
  background?: string;
}

export interface RenderedChart {
  svg: string;
  png: Uint8Array;
  /** SVG size in CSS pixels; the PNG is `scale` times this. */
  width: number;
  height: number;
  scale: number;
}

/** Compile a Vega-Lite spec (with the theme merged under its config) to a Vega spec. */
export function compileSpec(spec: TopLevelSpec, opts: Pick<RenderOptions, 'theme'> = {}): vega.Spec {
  const themed = opts.theme === false ? spec : ({ ...spec, config: mergeConfig(THEME, spec.config ?? {}) } as TopLevelSpec);
  const warnings: string[] = [];
  const logger = {
    level(): any {
      return logger;
    },
    info(): any {
      return logger;
    },
    debug(): any {
      return logger;
    },
    warn(...args: unknown[]): any {
      warnings.push(args.map(String).join(' '));
      return logger;
    },
    error(...args: unknown[]): any {
      throw new Error(`vega-lite: ${args.map(String).join(' ')}`);
    },
  };
  const out = compile(themed, { logger: logger as any }).spec;
  if (warnings.length && process.env.IQL_REPORT_DEBUG) for (const w of warnings) console.warn(`vega-lite warning: ${w}`);
  return out;
}

/** Render a Vega-Lite spec to an SVG string, headless (no DOM, no canvas). */
export async function renderSvg(spec: TopLevelSpec, opts: Pick<RenderOptions, 'theme'> = {}): Promise<string> {
  installTextMetrics();
  const vg = compileSpec(spec, opts);
  const view = new vega.View(vega.parse(vg), { renderer: 'none', logLevel: vega.Warn });
  try {
    return canonicalClipIds(compactSvg(await view.toSVG()));
  } finally {
    view.finalize();
  }
}

/**
 * Vega numbers clip paths with a process-wide counter (clip1, clip2, … across every chart made),
 * so the same chart rendered twice in one process differed; renumber them per chart, in order of
 * first appearance, so equal specs give equal bytes.
 */
export function canonicalClipIds(svg: string): string {
  const ids = new Map<string, string>();
  return svg.replace(/(id="|url\(#)(clip\d+)/g, (_, lead: string, id: string) => {
    let v = ids.get(id);
    if (!v) ids.set(id, (v = `clip${ids.size + 1}`));
    return lead + v;
  });
}

/** Round coordinates in `transform` and `d` attributes to 2 decimals (≈ halves a scatter's SVG). */
export function compactSvg(svg: string): string {
  return svg.replace(/\s(transform|d)="([^"]*)"/g, (_, attr: string, v: string) => ` ${attr}="${v.replace(/(\d+\.\d\d)\d+/g, '$1')}"`);
}

/** Rasterise an SVG to PNG bytes at `scale` (default 2) with the report font loaded. */
export function svgToPng(svg: string, opts: Omit<RenderOptions, 'theme'> = {}): Uint8Array {
  const scale = opts.scale ?? 2;
  const fontFiles = findFontFiles();
  const resvg = new Resvg(svg, {
    fitTo: { mode: 'zoom', value: scale },
    background: opts.background ?? 'white',
    font: {
      fontFiles,
      // Fallback when no known font file exists on this machine (slower: scans the system).
      loadSystemFonts: fontFiles.length === 0,
      defaultFontFamily: PRIMARY_FAMILY,
      sansSerifFamily: PRIMARY_FAMILY,
    },
    shapeRendering: 2,
    textRendering: 1,
    logLevel: 'off',
  });
  const png = resvg.render().asPng();
  return new Uint8Array(png.buffer, png.byteOffset, png.byteLength);
}

/** Width/height attributes of a root `<svg>` element (CSS pixels). */
export function svgSize(svg: string): { width: number; height: number } {
  const head = /<svg\b[^>]*>/.exec(svg)?.[0] ?? '';
  const w = /\swidth="([\d.]+)"/.exec(head);
  const h = /\sheight="([\d.]+)"/.exec(head);
  if (!w || !h) throw new Error('svgSize: root <svg> has no width/height');
  return { width: Number(w[1]), height: Number(h[1]) };
}

/** Read width/height from a PNG's IHDR chunk (throws if the bytes are not a PNG). */
export function pngSize(png: Uint8Array): { width: number; height: number } {
  const sig = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
  if (png.length < 24 || sig.some((b, i) => png[i] !== b)) throw new Error('pngSize: not a PNG');
  const dv = new DataView(png.buffer, png.byteOffset, png.byteLength);
  const type = String.fromCharCode(png[12]!, png[13]!, png[14]!, png[15]!);
  if (type !== 'IHDR') throw new Error('pngSize: first chunk is not IHDR');
  return { width: dv.getUint32(16), height: dv.getUint32(20) };
}

/** Spec → SVG and PNG (at 2x by default). */
export async function renderChart(spec: TopLevelSpec, opts: RenderOptions = {}): Promise<RenderedChart> {
  const svg = await renderSvg(spec, opts);
  const scale = opts.scale ?? 2;
  const png = svgToPng(svg, { scale, background: opts.background });
  const { width, height } = svgSize(svg);
  return { svg, png, width, height, scale };
}

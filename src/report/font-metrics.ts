/**
 * Text widths for Vega's layout in Node. Without a canvas, Vega estimates a string's width as
 * 0.8 × fontSize per character, which over-sizes legends, titles and rotated labels. We read the
 * advance widths of the font that resvg draws with (DejaVu Sans) straight from its TrueType
 * tables (cmap format 4 + hmtx) and hand Vega a width function (`vega.textMetrics.width`, the
 * documented hook that vl-convert uses too). Kerning is ignored; that is a few % at most.
 */
import { readFileSync } from 'node:fs';

export interface FontMetrics {
  /** Advance width of a string in em (multiply by the font size in px). */
  widthEm(text: string): number;
}

interface Parsed {
  unitsPerEm: number;
  advances: Uint16Array;
  glyphOf: (code: number) => number;
}

function parseTtf(bytes: Uint8Array): Parsed {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const numTables = dv.getUint16(4);
  const tables = new Map<string, number>();
  for (let i = 0; i < numTables; i++) {
    const rec = 12 + 16 * i;
    const tag = String.fromCharCode(bytes[rec]!, bytes[rec + 1]!, bytes[rec + 2]!, bytes[rec + 3]!);
    tables.set(tag, dv.getUint32(rec + 8));
  }
  const need = (t: string) => {
    const o = tables.get(t);
    if (o === undefined) throw new Error(`font has no '${t}' table`);
    return o;
  };
  const unitsPerEm = dv.getUint16(need('head') + 18);
  const numH = dv.getUint16(need('hhea') + 34);
  const hmtx = need('hmtx');
  const advances = new Uint16Array(numH);
  for (let g = 0; g < numH; g++) advances[g] = dv.getUint16(hmtx + 4 * g);

  const cmap = need('cmap');
  const n = dv.getUint16(cmap + 2);
  let sub = -1;
  for (let i = 0; i < n; i++) {
    const platform = dv.getUint16(cmap + 4 + 8 * i);
    const encoding = dv.getUint16(cmap + 4 + 8 * i + 2);
    const off = cmap + dv.getUint32(cmap + 4 + 8 * i + 4);
    if (dv.getUint16(off) !== 4) continue;
    if ((platform === 3 && encoding === 1) || platform === 0) {
      sub = off;
      if (platform === 3) break;
    }
  }
  if (sub < 0) throw new Error('font has no cmap format 4 subtable');
  const segX2 = dv.getUint16(sub + 6);
  const endCodes = sub + 14;
  const startCodes = endCodes + segX2 + 2;
  const idDeltas = startCodes + segX2;
  const idRangeOffsets = idDeltas + segX2;
  const glyphOf = (code: number): number => {
    if (code > 0xffff) return 0;
    for (let s = 0; s < segX2; s += 2) {
      if (dv.getUint16(endCodes + s) < code) continue;
      const start = dv.getUint16(startCodes + s);
      if (start > code) return 0;
      const delta = dv.getUint16(idDeltas + s);
      const ro = dv.getUint16(idRangeOffsets + s);
      if (ro === 0) return (code + delta) & 0xffff;
      const addr = idRangeOffsets + s + ro + 2 * (code - start);
      const g = dv.getUint16(addr);
      return g === 0 ? 0 : (g + delta) & 0xffff;
    }
    return 0;
  };
  return { unitsPerEm, advances, glyphOf };
}

/** Metrics of a TrueType font file (throws if it cannot be parsed). */
export function loadFontMetrics(path: string): FontMetrics {
  const p = parseTtf(readFileSync(path));
  const cache = new Map<number, number>();
  const last = p.advances.length - 1;
  const adv = (code: number) => {
    let w = cache.get(code);
    if (w === undefined) {
      const g = p.glyphOf(code);
      w = p.advances[Math.min(g, last)]! / p.unitsPerEm;
      cache.set(code, w);
    }
    return w;
  };
  return {
    widthEm(text: string) {
      let w = 0;
      for (const ch of text) w += adv(ch.codePointAt(0)!);
      return w;
    },
  };
}

/** Fallback when no font file is available: 0.6 em per character (close to DejaVu Sans). */
export const ESTIMATED_METRICS: FontMetrics = { widthEm: (text) => 0.6 * [...text].length };

/** Small regex helpers to inspect Vega's SVG output (flat, predictable markup). */

/** Inner markup of every `<g class="mark-<type> role-mark <name>_marks">` group (one per facet/series). */
export function markGroups(svg: string, name: string): string[] {
  const re = new RegExp(`<g class="mark-[a-z]+ role-mark ${name}_marks"[^>]*>([\\s\\S]*?)</g>`, 'g');
  return [...svg.matchAll(re)].map((m) => m[1]!);
}

/** Number of `<tag` elements inside all groups of mark `name`. */
export function countInMark(svg: string, name: string, tag = 'path'): number {
  return markGroups(svg, name).reduce((n, g) => n + (g.match(new RegExp(`<${tag}\\b`, 'g'))?.length ?? 0), 0);
}

/** Texts of the elements inside groups with the given role class (e.g. 'role-axis-title'). */
export function roleTexts(svg: string, role: string): string[] {
  const re = new RegExp(`<g class="mark-text ${role}"[^>]*>([\\s\\S]*?)</g>`, 'g');
  const out: string[] = [];
  for (const m of svg.matchAll(re)) for (const t of m[1]!.matchAll(/<text\b[^>]*>([^<]*)<\/text>/g)) out.push(decode(t[1]!));
  return out;
}

function decode(s: string): string {
  return s.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&amp;/g, '&');
}

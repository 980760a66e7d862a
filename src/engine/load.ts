/**
 * Reads a pipeline file: YAML → plain value, keeping a locator that maps a field path back to
 * its line and column so that every later error can point into the file.
 */
import { readFileSync } from 'node:fs';
import { isAlias, isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, visit, type Document, type Node } from 'yaml';
import { PipelineError, PipelineErrors, type FieldPath, type Locator, type SourceLocation } from './errors.js';

export type { FieldPath, Locator };

export interface LoadedPipelineFile {
  file: string;
  raw: unknown;
  locate: Locator;
}

export function loadPipelineFile(file: string): LoadedPipelineFile {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new PipelineErrors([new PipelineError(`cannot read pipeline file: ${(e as Error).message}`, { file, line: 1, col: 1 }, undefined)]);
  }
  return parsePipelineText(text, file);
}

export function parsePipelineText(text: string, file: string): LoadedPipelineFile {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, uniqueKeys: true, prettyErrors: false });
  const pos = (offset: number): SourceLocation => {
    const { line, col } = lineCounter.linePos(offset);
    return { file, line, col };
  };
  if (doc.errors.length > 0) {
    // A syntax error cascades into many follow-up errors; the first per line is the useful one.
    const lines = new Set<number>();
    const first = doc.errors.filter((e) => {
      const line = pos(e.pos[0]).line;
      if (lines.has(line)) return false;
      lines.add(line);
      return true;
    });
    throw new PipelineErrors(
      first.slice(0, 3).map((e) => {
        const at = pos(e.pos[0]);
        const lineText = text.split('\n')[at.line - 1] ?? '';
        let message = e.code === 'DUPLICATE_KEY' ? `duplicate key: ${e.message.split('\n')[0]}` : `YAML syntax: ${e.message.split('\n')[0]}`;
        if (lineText.includes('${{') && /[{[]/.test(lineText.replace(/\$\{\{[^}]*\}\}/g, ''))) message += ' (a ${{ }} template inside { } or [ ] must be quoted)';
        return new PipelineError(message, at, undefined);
      }),
    );
  }
  let raw: unknown;
  try {
    raw = doc.toJS({ maxAliasCount: MAX_ALIAS_NODES });
  } catch (e) {
    // yaml refuses aliases that expand beyond the limit (a "billion laughs" file) without saying where.
    let first: Node | undefined;
    visit(doc, { Alias(_k, node) { first = node; return visit.BREAK; } });
    const at = first?.range ? pos(first.range[0]) : { file, line: 1, col: 1 };
    const why = /Excessive alias count/.test((e as Error).message)
      ? `YAML aliases expand to more than ${MAX_ALIAS_NODES} nodes (an alias bomb?); the first alias is here`
      : `YAML: ${(e as Error).message}`;
    throw new PipelineErrors([new PipelineError(why, at, undefined)]);
  }
  // Found on the plain value (fast); located on the document only when there is one.
  if (hasNonFiniteNumber(raw)) throw new PipelineErrors(nonFiniteNumbers(doc, pos));
  const locate: Locator = { at: (path, opts) => locateIn(doc, path, opts?.key ?? false, pos) };
  return { file, raw, locate };
}

/** How many nodes the aliases of one file may expand to (yaml's guard against alias bombs). */
const MAX_ALIAS_NODES = 1000;

/**
 * Numbers YAML reads as infinite or NaN (`1e400`, `.inf`, `.nan`): no parameter can mean them,
 * and JSON Schema's integer check lets Infinity through.
 */
function hasNonFiniteNumber(v: unknown): boolean {
  if (typeof v === 'number') return !Number.isFinite(v);
  if (v === null || typeof v !== 'object') return false;
  return (Array.isArray(v) ? v : Object.values(v as Record<string, unknown>)).some(hasNonFiniteNumber);
}

function nonFiniteNumbers(doc: Document, pos: (o: number) => SourceLocation): PipelineError[] {
  const errors: PipelineError[] = [];
  visit(doc, {
    Scalar(_k, node, path) {
      if (typeof node.value !== 'number' || Number.isFinite(node.value)) return;
      const field: string[] = [];
      let parent: unknown = undefined;
      for (const p of [...path, node]) {
        if (isPair(p) && isScalar(p.key)) field.push(String(p.key.value));
        else if (isSeq(parent)) field.push(String(parent.items.indexOf(p as never)));
        parent = p;
      }
      if (isPair(path[path.length - 1]) && (path[path.length - 1] as { key: unknown }).key === node) return; // a key, not a value
      const text = (node as { source?: string }).source ?? String(node.value);
      errors.push(new PipelineError(`${JSON.stringify(text)} is not a finite number (YAML reads it as ${node.value})`, node.range ? pos(node.range[0]) : undefined, field.join('.') || undefined));
    },
  });
  return errors;
}

function locateIn(doc: Document, path: FieldPath, key: boolean, pos: (o: number) => SourceLocation): SourceLocation {
  let node: unknown = doc.contents;
  let best: Node | null = (doc.contents as Node | null) ?? null;
  for (let i = 0; i < path.length; i++) {
    const seg = path[i];
    const last = i === path.length - 1;
    if (isMap(node)) {
      const pair = node.items.find((p) => String((p.key as { value?: unknown } | null)?.value ?? p.key) === String(seg));
      if (!pair) break;
      if (last && key && pair.key) {
        best = pair.key as Node;
        break;
      }
      node = pair.value;
      if (node) best = node as Node;
    } else if (isSeq(node) && typeof seg === 'number') {
      node = node.items[seg];
      if (!node) break;
      best = node as Node;
    } else break;
  }
  const range = best?.range;
  return range ? pos(range[0]) : { file: pos(0).file, line: 1, col: 1 };
}

/**
 * Reads a pipeline file: YAML → plain value, keeping a locator that maps a field path back to
 * its line and column so that every later error can point into the file.
 */
import { readFileSync } from 'node:fs';
import { isMap, isSeq, LineCounter, parseDocument, type Document, type Node } from 'yaml';
import { PipelineError, PipelineErrors, type SourceLocation } from './errors.js';

export type FieldPath = ReadonlyArray<string | number>;

export interface Locator {
  /** Location of the value at `path` (or of its key when `key` is set), falling back to the nearest existing parent. */
  at(path: FieldPath, opts?: { key?: boolean }): SourceLocation;
}

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
  const locate: Locator = { at: (path, opts) => locateIn(doc, path, opts?.key ?? false, pos) };
  return { file, raw: doc.toJS({ maxAliasCount: 1000 }), locate };
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

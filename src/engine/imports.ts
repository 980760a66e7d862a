/**
 * The module specifiers a JavaScript/TypeScript file imports: static `import … from '…'`,
 * `import '…'`, `export … from '…'`, dynamic `import('…')` and `require('…')` with a string literal.
 * A small lexer (comments, strings, template literals and regular expressions skipped) rather than
 * a regular expression over the text, so an `import('x')` inside a comment or a string is not
 * taken for an import. Specifiers computed at run time (`import(name)`) cannot be seen; that is
 * what a stage kind's `version` is for. `import type` / `export type` are skipped: TypeScript erases them.
 */

export interface ImportSpec {
  specifier: string;
  dynamic: boolean;
}

type Token =
  | { t: 'id'; v: string }
  | { t: 'str'; v: string }
  | { t: 'punct'; v: string }
  /** A template literal with no `${}` is a plain string; with substitutions it is opaque. */
  | { t: 'tmpl'; v: string | null }
  | { t: 'other' };

/** Identifiers after which a `/` begins a regular expression rather than a division. */
const REGEX_AFTER_KEYWORD = new Set(['return', 'typeof', 'instanceof', 'in', 'of', 'new', 'delete', 'void', 'throw', 'case', 'do', 'else', 'yield', 'await', 'extends']);

// Character classes by code unit (charCodeAt is several times faster than a regular expression per character).
const ID_PART = new Uint8Array(128);
for (let c = 0; c < 128; c++) {
  const ch = String.fromCharCode(c);
  ID_PART[c] = /[A-Za-z0-9_$]/.test(ch) ? 1 : 0;
}
const isIdPart = (c: number) => c >= 128 || ID_PART[c] === 1;
const isIdStart = (c: number) => isIdPart(c) && !(c >= 48 && c <= 57);
const SLASH = 47, STAR = 42, BACKSLASH = 92, NEWLINE = 10, QUOTE = 39, DQUOTE = 34, BACKTICK = 96, DOLLAR = 36;
const LBRACE = 123, RBRACE = 125, LBRACKET = 91, RBRACKET = 93;

function tokenize(src: string): Token[] {
  const out: Token[] = [];
  let i = src.startsWith('#!') ? src.indexOf('\n') : 0;
  if (i < 0) return out;
  /** Brace depths at which a template literal's `${` was opened: its `}` resumes the template. */
  const templateBraces: number[] = [];
  let depth = 0;
  const n = src.length;
  const regexAllowed = (): boolean => {
    const last = out[out.length - 1];
    if (!last) return true;
    if (last.t === 'punct') return !(last.v === ')' || last.v === ']' || last.v === '}');
    if (last.t === 'id') return REGEX_AFTER_KEYWORD.has(last.v);
    return false;
  };
  const readString = (quote: number): string => {
    const start = ++i;
    let escaped = false;
    while (i < n) {
      const c = src.charCodeAt(i);
      if (c === quote || c === NEWLINE) break; // a newline ends an unterminated string
      if (c === BACKSLASH) { escaped = true; i += 2; continue; }
      i++;
    }
    const raw = src.slice(start, Math.min(i, n));
    i++;
    return escaped ? raw.replace(/\\(.)/g, '$1') : raw;
  };
  /** Reads template text from i (just after ` or a closing }) up to ` (end) or ${ (substitution). */
  const readTemplatePart = (): { text: string; open: boolean } => {
    const start = i;
    while (i < n) {
      const c = src.charCodeAt(i);
      if (c === BACKSLASH) { i += 2; continue; }
      if (c === BACKTICK) { i++; return { text: src.slice(start, i - 1), open: false }; }
      if (c === DOLLAR && src.charCodeAt(i + 1) === LBRACE) { i += 2; return { text: '', open: true }; }
      i++;
    }
    return { text: src.slice(start), open: false };
  };
  while (i < n) {
    const c = src.charCodeAt(i);
    if (c <= 32) { i++; continue; }
    if (c === SLASH) {
      const d = src.charCodeAt(i + 1);
      if (d === SLASH) { const e = src.indexOf('\n', i); i = e < 0 ? n : e; continue; }
      if (d === STAR) { const e = src.indexOf('*/', i + 2); i = e < 0 ? n : e + 2; continue; }
      if (regexAllowed()) {
        i++;
        let inClass = false;
        while (i < n) {
          const r = src.charCodeAt(i);
          if (r === NEWLINE) break;
          if (r === BACKSLASH) { i += 2; continue; }
          if (r === LBRACKET) inClass = true;
          else if (r === RBRACKET) inClass = false;
          else if (r === SLASH && !inClass) break;
          i++;
        }
        i++;
        while (i < n && isIdPart(src.charCodeAt(i))) i++; // flags
        out.push({ t: 'other' });
        continue;
      }
    }
    if (c === QUOTE || c === DQUOTE) { out.push({ t: 'str', v: readString(c) }); continue; }
    if (c === BACKTICK) {
      i++;
      const part = readTemplatePart();
      if (part.open) { templateBraces.push(depth); depth++; out.push({ t: 'tmpl', v: null }); }
      else out.push({ t: 'tmpl', v: part.text });
      continue;
    }
    if (isIdStart(c)) {
      const s = i;
      while (i < n && isIdPart(src.charCodeAt(i))) i++;
      out.push({ t: 'id', v: src.slice(s, i) });
      continue;
    }
    if (c >= 48 && c <= 57) {
      while (i < n && (isIdPart(src.charCodeAt(i)) || src.charCodeAt(i) === 46)) i++;
      out.push({ t: 'other' });
      continue;
    }
    if (c === LBRACE) depth++;
    else if (c === RBRACE) {
      depth--;
      if (templateBraces.length > 0 && templateBraces[templateBraces.length - 1] === depth) {
        // End of a `${ … }` substitution: the template literal continues.
        templateBraces.pop();
        i++;
        const part = readTemplatePart();
        if (part.open) { templateBraces.push(depth); depth++; }
        continue;
      }
    }
    out.push({ t: 'punct', v: src[i]! });
    i++;
  }
  return out;
}

/** The string value of a string token or of a template literal without substitutions. */
function literal(tok: Token | undefined): string | null {
  if (!tok) return null;
  if (tok.t === 'str') return tok.v;
  if (tok.t === 'tmpl') return tok.v;
  return null;
}

const isPunct = (tok: Token | undefined, v: string) => tok?.t === 'punct' && tok.v === v;
const isId = (tok: Token | undefined, v: string) => tok?.t === 'id' && tok.v === v;

/** Tokens a static import/export clause may contain before `from`. */
function isClauseToken(tok: Token): boolean {
  return tok.t === 'id' || (tok.t === 'punct' && (tok.v === '{' || tok.v === '}' || tok.v === ',' || tok.v === '*'));
}

export function findImports(source: string): ImportSpec[] {
  const toks = tokenize(source);
  const out: ImportSpec[] = [];
  for (let k = 0; k < toks.length; k++) {
    const tok = toks[k]!;
    if (tok.t !== 'id' || isPunct(toks[k - 1], '.')) continue;
    if (tok.v === 'import' || tok.v === 'require') {
      if (isPunct(toks[k + 1], '(')) {
        const spec = literal(toks[k + 2]);
        if (spec !== null && (isPunct(toks[k + 3], ')') || isPunct(toks[k + 3], ','))) out.push({ specifier: spec, dynamic: tok.v === 'import' });
        continue;
      }
      if (tok.v === 'require') continue;
      const direct = literal(toks[k + 1]);
      if (direct !== null && toks[k + 1]!.t === 'str') { out.push({ specifier: direct, dynamic: false }); continue; }
      if (isId(toks[k + 1], 'type') && !isPunct(toks[k + 2], ',') && !isId(toks[k + 2], 'from')) continue; // import type … (TypeScript)
    } else if (tok.v === 'export') {
      if (isId(toks[k + 1], 'type')) continue;
      if (!isPunct(toks[k + 1], '*') && !isPunct(toks[k + 1], '{')) continue;
    } else continue;
    // import/export clause … from '…'
    let j = k + 1;
    while (j < toks.length && isClauseToken(toks[j]!) && !isId(toks[j], 'from')) j++;
    if (isId(toks[j], 'from') && toks[j + 1]?.t === 'str') out.push({ specifier: (toks[j + 1] as { v: string }).v, dynamic: false });
  }
  return out;
}

// Small text helpers shared by the preprocessor and the parser: comment stripping and
// comma splitting that respect strings and brace groups, identifier scanning.

import { isIdChar, isIdStart } from './lexer.ts';

/** Index of the `;` that starts a comment, or the line length. */
export function commentStart(line: string): number {
  let q = '';
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (q) {
      if (c === q) q = '';
      else if (q === '`' && c === '\\') i++;
    } else if (c === '"' || c === "'" || c === '`') q = c;
    else if (c === ';') return i;
  }
  return line.length;
}

/** Splits macro arguments at top-level commas; `{a,b}` groups one argument (braces removed). */
export function splitArgs(text: string): string[] {
  const out: string[] = [];
  let cur = '';
  let q = '';
  let depth = 0;
  let paren = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (q) {
      cur += c;
      if (c === q) q = '';
      else if (q === '`' && c === '\\' && i + 1 < text.length) cur += text[++i];
      continue;
    }
    if (c === '"' || c === "'" || c === '`') {
      q = c;
      cur += c;
    } else if (c === '{') {
      if (depth++ > 0) cur += c;
    } else if (c === '}') {
      if (--depth > 0) cur += c;
      if (depth < 0) depth = 0;
    } else if (c === '(' && depth === 0) {
      paren++;
      cur += c;
    } else if (c === ')' && depth === 0) {
      paren--;
      cur += c;
    } else if (c === ',' && depth === 0 && paren <= 0) {
      out.push(cur.trim());
      cur = '';
    } else cur += c;
  }
  out.push(cur.trim());
  return out;
}

export interface IdSpan {
  start: number;
  end: number;
  name: string;
}

/** Calls `fn` for every identifier outside strings (and not part of a number). */
export function forEachIdentifier(text: string, fn: (span: IdSpan) => void): void {
  let i = 0;
  const n = text.length;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (c === 34 || c === 39 || c === 96) {
      const q = c;
      i++;
      while (i < n && text.charCodeAt(i) !== q) {
        if (q === 96 && text.charCodeAt(i) === 92) i++;
        i++;
      }
      i++;
      continue;
    }
    if (c >= 48 && c <= 57) {
      while (i < n && isIdChar(text.charCodeAt(i))) i++;
      continue;
    }
    if (isIdStart(c) || (c === 37 && text.charCodeAt(i + 1) === 37)) {
      const start = i;
      if (c === 37) i += 2;
      else i++;
      while (i < n && isIdChar(text.charCodeAt(i))) i++;
      fn({ start, end: i, name: text.slice(start, i) });
      continue;
    }
    i++;
  }
}

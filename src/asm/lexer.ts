// Tokenizer for one (already preprocessed) source line of NASM syntax.
// Numbers follow NASM's rules: radix prefixes (0x 0h 0d 0t 0o 0q 0b 0y, $), radix suffixes
// (h x d t q o b y) and underscores; strings come in '...', "..." and `...` (with C escapes).

export type TokKind = 'id' | 'num' | 'float' | 'str' | 'op' | 'here' | 'base';

export interface Token {
  k: TokKind;
  /** Source text (for 'id' the identifier without a leading `$` escape; for 'str' the decoded bytes as chars 0-255). */
  s: string;
  /** Value of a 'num' token. */
  v: bigint;
  /** 0-based column in the line. */
  col: number;
  /** For 'id': written with a `$` prefix, so never a register or keyword. */
  escaped?: boolean;
  /** For 'str': the quote character. */
  q?: string;
}

export interface LexError {
  col: number;
  message: string;
}

const OPS3 = ['<<<', '>>>', '<=>'];
const OPS2 = ['<<', '>>', '//', '%%', '==', '!=', '<>', '<=', '>=', '&&', '||', '^^'];

export function isIdStart(c: number): boolean {
  return (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95 || c === 46 || c === 63 || c === 64;
}
export function isIdChar(c: number): boolean {
  return isIdStart(c) || (c >= 48 && c <= 57) || c === 36 || c === 35 || c === 126;
}
function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

function radixLetter(ch: string): number {
  switch (ch) {
    case 'b': case 'y': return 2;
    case 'o': case 'q': return 8;
    case 'd': case 't': return 10;
    case 'h': case 'x': return 16;
  }
  return 0;
}

/** Parses a NASM integer literal; undefined when it is not a valid number. */
export function parseNumber(text: string): bigint | undefined {
  let s = text.toLowerCase().replace(/_/g, '');
  let radix = 0;
  if (s.startsWith('$')) {
    s = s.slice(1);
    radix = 16;
  } else if (s.length > 2 && s[0] === '0' && (radix = radixLetter(s[1]!)) !== 0) {
    s = s.slice(2);
  } else if (s.length > 1 && (radix = radixLetter(s[s.length - 1]!)) !== 0) {
    s = s.slice(0, -1);
  } else radix = 10;
  if (s.length === 0) return undefined;
  let v = 0n;
  const r = BigInt(radix);
  for (const ch of s) {
    const d = parseInt(ch, 16);
    if (Number.isNaN(d) || d >= radix) return undefined;
    v = v * r + BigInt(d);
  }
  return BigInt.asUintN(64, v);
}

const ESCAPES: Record<string, number> = { n: 10, t: 9, r: 13, a: 7, b: 8, f: 12, v: 11, e: 27, '0': 0, "'": 39, '"': 34, '`': 96, '\\': 92, '?': 63 };

function utf8(codePoint: number): string {
  const bytes = new TextEncoder().encode(String.fromCodePoint(codePoint));
  return String.fromCharCode(...bytes);
}

/** Reads a quoted string starting at `i`; returns decoded chars (bytes) and the index after it, or -1 if unterminated. */
function readString(line: string, i: number): { s: string; end: number } {
  const q = line[i]!;
  let j = i + 1;
  let out = '';
  while (j < line.length) {
    const c = line[j]!;
    if (c === q) return { s: out, end: j + 1 };
    if (q === '`' && c === '\\' && j + 1 < line.length) {
      const e = line[j + 1]!;
      if (e in ESCAPES && !(e === '0' && /[0-7]/.test(line[j + 2] ?? ''))) {
        out += String.fromCharCode(ESCAPES[e]!);
        j += 2;
        continue;
      }
      if (/[0-7]/.test(e)) {
        const m = /^[0-7]{1,3}/.exec(line.slice(j + 1))![0];
        out += String.fromCharCode(parseInt(m, 8) & 255);
        j += 1 + m.length;
        continue;
      }
      if (e === 'x') {
        const m = /^[0-9a-fA-F]{1,2}/.exec(line.slice(j + 2));
        if (m) {
          out += String.fromCharCode(parseInt(m[0], 16));
          j += 2 + m[0].length;
          continue;
        }
      }
      if (e === 'u' || e === 'U') {
        const n = e === 'u' ? 4 : 8;
        const m = new RegExp(`^[0-9a-fA-F]{${n}}`).exec(line.slice(j + 2));
        if (m) {
          out += utf8(parseInt(m[0], 16));
          j += 2 + n;
          continue;
        }
      }
      out += e;
      j += 2;
      continue;
    }
    const cp = line.codePointAt(j)!;
    if (cp > 127) {
      out += utf8(cp);
      j += cp > 0xffff ? 2 : 1;
    } else {
      out += c;
      j++;
    }
  }
  return { s: out, end: -1 };
}

/** Splits a line into tokens, stopping at a `;` comment. */
export function tokenize(line: string): { toks: Token[]; error?: LexError } {
  const toks: Token[] = [];
  const n = line.length;
  let i = 0;
  while (i < n) {
    const c = line.charCodeAt(i);
    if (c === 32 || c === 9 || c === 13 || c === 12 || c === 11) {
      i++;
      continue;
    }
    if (c === 59) break; // ;
    const start = i;
    if (isDigit(c) || (c === 36 && isDigit(line.charCodeAt(i + 1)))) {
      i++;
      while (i < n) {
        const d = line.charCodeAt(i);
        if (isIdChar(d) && d !== 36 && d !== 35 && d !== 126 && d !== 64 && d !== 63) i++;
        else if ((d === 43 || d === 45) && /[eEpP]/.test(line[i - 1]!) && line.slice(start, i).includes('.')) i++;
        else break;
      }
      const text = line.slice(start, i);
      if (text.includes('.')) {
        toks.push({ k: 'float', s: text, v: 0n, col: start });
        continue;
      }
      const v = parseNumber(text);
      if (v === undefined) return { toks, error: { col: start, message: `'${text}' is not a valid number` } };
      toks.push({ k: 'num', s: text, v, col: start });
      continue;
    }
    if (c === 36) {
      // $ : here, $$ : section base, $name : escaped identifier
      if (line.charCodeAt(i + 1) === 36) {
        toks.push({ k: 'base', s: '$$', v: 0n, col: start });
        i += 2;
        continue;
      }
      if (isIdStart(line.charCodeAt(i + 1))) {
        i++;
        while (i < n && isIdChar(line.charCodeAt(i))) i++;
        toks.push({ k: 'id', s: line.slice(start + 1, i), v: 0n, col: start, escaped: true });
        continue;
      }
      toks.push({ k: 'here', s: '$', v: 0n, col: start });
      i++;
      continue;
    }
    if (c === 63 && !isIdChar(line.charCodeAt(i + 1))) {
      toks.push({ k: 'op', s: '?', v: 0n, col: start }); // the ?: operator, not an identifier
      i++;
      continue;
    }
    if (isIdStart(c)) {
      i++;
      while (i < n && isIdChar(line.charCodeAt(i))) i++;
      toks.push({ k: 'id', s: line.slice(start, i), v: 0n, col: start });
      continue;
    }
    if (c === 39 || c === 34 || c === 96) {
      const r = readString(line, i);
      if (r.end < 0) return { toks, error: { col: start, message: `unterminated string: missing closing ${line[i]}` } };
      toks.push({ k: 'str', s: r.s, v: 0n, col: start, q: line[i] });
      i = r.end;
      continue;
    }
    const three = line.substr(i, 3);
    if (OPS3.includes(three)) {
      toks.push({ k: 'op', s: three, v: 0n, col: start });
      i += 3;
      continue;
    }
    const two = line.substr(i, 2);
    if (OPS2.includes(two)) {
      toks.push({ k: 'op', s: two, v: 0n, col: start });
      i += 2;
      continue;
    }
    if ('+-*/%()[],:~!&|^<>=?{}'.includes(line[i]!)) {
      toks.push({ k: 'op', s: line[i]!, v: 0n, col: start });
      i++;
      continue;
    }
    return { toks, error: { col: start, message: `unexpected character '${line[i]}'` } };
  }
  return { toks };
}

/** The little-endian number a character constant like 'ab' stands for. */
export function charConstant(s: string): bigint {
  let v = 0n;
  for (let i = Math.min(s.length, 8) - 1; i >= 0; i--) v = (v << 8n) | BigInt(s.charCodeAt(i) & 255);
  return v;
}

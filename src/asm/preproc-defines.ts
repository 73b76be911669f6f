// Single-line macros: %define/%xdefine/%idefine (with parameters), %undef, %assign, %strlen,
// %defstr, NASM's built-ins (__LINE__, __FILE__ ...), their expansion into a line, and the
// preprocessor's own expressions (numbers and %define'd names only).

import { ExprError, ExprParser, evaluate } from './expr.ts';
import { tokenize } from './lexer.ts';
import { forEachIdentifier, splitArgs } from './textutil.ts';
import type { RawLine, Report } from './preproc-source.ts';
import type { Severity } from './types.ts';

interface SDef {
  params: string[] | null;
  body: string;
}

const NO_NAMES: ReadonlySet<string> = new Set();

/** NASM's predefined single-line macros that depend on where they are used. */
function builtin(name: string, raw: RawLine): SDef | undefined {
  if (name === '__LINE__' || name === '__?LINE?__') return { params: null, body: String(raw.line) };
  if (name === '__FILE__' || name === '__?FILE?__') return { params: null, body: `'${raw.file.replace(/'/g, '')}'` };
  if (name === '__NASM_MAJOR__' || name === '__?NASM_MAJOR?__') return { params: null, body: '2' };
  if (name === '__NASM_MINOR__' || name === '__?NASM_MINOR?__') return { params: null, body: '16' };
  return undefined;
}

/** Index of the `)` that closes the `(` at `open`, skipping strings; -1 when the line ends first. */
function closingParen(text: string, open: number): number {
  let depth = 0;
  let q = '';
  for (let k = open; k < text.length; k++) {
    const c = text[k]!;
    if (q) {
      if (c === q) q = '';
    } else if (c === '"' || c === "'" || c === '`') q = c;
    else if (c === '(') depth++;
    else if (c === ')' && --depth === 0) return k;
  }
  return -1;
}

export class SingleLineMacros {
  private defines = new Map<string, SDef>();
  /** %idefine'd names, keyed in lower case. */
  private idefines = new Map<string, SDef>();

  constructor(
    private report: Report,
    initial: Record<string, string> | undefined,
  ) {
    for (const [k, v] of Object.entries(initial ?? {})) this.defines.set(k, { params: null, body: v });
  }

  lookup(name: string): SDef | undefined {
    return this.defines.get(name) ?? this.idefines.get(name.toLowerCase());
  }

  /**
   * Expands single-line macros. As in NASM, a macro is not expanded again inside its own
   * expansion (so `twice(twice(1))` leaves the inner call alone, and `%define X X` terminates).
   */
  expand(text: string, raw: RawLine, depth = 0, active: ReadonlySet<string> = NO_NAMES): string {
    if (this.defines.size === 0 && this.idefines.size === 0 && text.indexOf('__') < 0) return text;
    if (depth > 64) {
      this.report('error', raw.file, raw.line, 1, 'single-line macros nest more than 64 deep here');
      return text;
    }
    let out = '';
    let last = 0;
    let changed = false;
    let skipUntil = -1;
    forEachIdentifier(text, (span) => {
      if (span.start < skipUntil || active.has(span.name)) return;
      const def = this.lookup(span.name) ?? builtin(span.name, raw);
      if (!def) return;
      let end = span.end;
      let body = def.body;
      if (def.params) {
        let j = end;
        while (text[j] === ' ' || text[j] === '\t') j++;
        if (text[j] !== '(') return;
        const k = closingParen(text, j);
        if (k < 0) return;
        const args = splitArgs(text.slice(j + 1, k));
        if (args.length !== def.params.length && !(def.params.length === 0 && args.length === 1 && args[0] === '')) return;
        body = body.replace(/[A-Za-z_.?@$][A-Za-z0-9_.?@$#~]*/g, (id) => {
          const p = def.params!.indexOf(id);
          return p >= 0 ? args[p]! : id;
        });
        end = k + 1;
      }
      const inner = new Set(active);
      inner.add(span.name);
      out += text.slice(last, span.start) + this.expand(body, raw, depth + 1, inner);
      last = end;
      skipUntil = end;
      changed = true;
    });
    if (!changed) return text;
    return out + text.slice(last);
  }

  /** Handles the directives that define single-line macros; false for any other directive. */
  directive(name: string, args: string, raw: RawLine, argCol: number): boolean {
    const at = (c: number, msg: string, sev: Severity = 'error') => this.report(sev, raw.file, raw.line, c + 1, msg);
    switch (name) {
      case 'define':
      case 'xdefine':
      case 'idefine':
      case 'ixdefine': {
        const m = /^([A-Za-z_.?@$][A-Za-z0-9_.?@$#~]*)(\(([^)]*)\))?\s?(.*)$/.exec(args);
        if (!m) {
          at(argCol, `expected a macro name after %${name}, found '${args}'`);
          return true;
        }
        let body = m[4]!.trim();
        if (name.endsWith('xdefine')) body = this.expand(body, raw);
        const params = m[2] ? m[3]!.split(',').map((s) => s.trim()).filter((s) => s !== '') : null;
        this.set(m[1]!, { params, body }, name.startsWith('i'));
        return true;
      }
      case 'undef':
        this.defines.delete(args.trim());
        this.idefines.delete(args.trim().toLowerCase());
        return true;
      case 'assign':
      case 'iassign': {
        const m = /^([A-Za-z_.?@$][A-Za-z0-9_.?@$#~]*)\s+(.*)$/.exec(args);
        if (!m) {
          at(argCol, `expected '%assign NAME EXPRESSION', found '%assign ${args}'`);
          return true;
        }
        const v = this.evaluate(raw, m[2]!, argCol + m[0].indexOf(m[2]!, m[1]!.length));
        if (v !== undefined) this.set(m[1]!, { params: null, body: String(v) }, name === 'iassign');
        return true;
      }
      case 'strlen': {
        const m = /^([A-Za-z_.?@$][A-Za-z0-9_.?@$#~]*)\s+(["'`])(.*)\2\s*$/.exec(this.expand(args, raw));
        if (!m) {
          at(argCol, "expected '%strlen NAME \"string\"'");
          return true;
        }
        this.set(m[1]!, { params: null, body: String(m[3]!.length) }, false);
        return true;
      }
      case 'defstr': {
        const m = /^([A-Za-z_.?@$][A-Za-z0-9_.?@$#~]*)\s*(.*)$/.exec(args);
        if (!m) {
          at(argCol, "expected '%defstr NAME text'");
          return true;
        }
        this.set(m[1]!, { params: null, body: `'${this.expand(m[2]!, raw)}'` }, false);
        return true;
      }
    }
    return false;
  }

  private set(name: string, def: SDef, caseless: boolean): void {
    if (caseless) this.idefines.set(name.toLowerCase(), def);
    else this.defines.set(name, def);
  }

  /** Evaluates a preprocessor expression (numbers and %define'd names only). */
  evaluate(raw: RawLine, text: string, col: number): bigint | undefined {
    const expanded = this.expand(text, raw);
    const { toks, error } = tokenize(expanded);
    const exact = expanded === text;
    const c = (k: number) => (exact ? col + k : col) + 1;
    if (error) {
      this.report('error', raw.file, raw.line, c(error.col), error.message);
      return undefined;
    }
    try {
      const p = new ExprParser(toks, 0, expanded.length);
      const e = p.parse();
      if (p.pos < toks.length) throw new ExprError(toks[p.pos]!.col, `expected the end of the expression, found '${toks[p.pos]!.s}'`);
      const r = evaluate(e, { lookup: () => undefined, here: () => ({ n: 0n, seg: -1 }), base: () => ({ n: 0n, seg: -1 }) });
      if (r.unknown) {
        this.report('error', raw.file, raw.line, c(r.missing!.col), `'${r.missing!.name}' is not defined: preprocessor expressions can only use numbers and %define'd names`);
        return undefined;
      }
      return r.n;
    } catch (e) {
      if (e instanceof ExprError) this.report('error', raw.file, raw.line, c(e.col), e.message);
      else this.report('error', raw.file, raw.line, c(0), 'cannot evaluate this expression');
      return undefined;
    }
  }
}

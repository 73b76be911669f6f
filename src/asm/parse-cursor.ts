// The token cursor the line parser is built on: position in one line's tokens, small lookahead
// helpers, expressions with local labels (.x) qualified under the last global label, and the
// error a parse stops with (Fail: a column and a message).

import { ExprParser, describe, type Expr } from './expr.ts';
import type { Token } from './lexer.ts';
import type { SizeKw } from './ast.ts';

/** A syntax error at a column; the parser reports it and marks the line bad. */
export class Fail extends Error {
  constructor(
    readonly col: number,
    message: string,
  ) {
    super(message);
  }
}

export const SIZES: Record<string, SizeKw> = { byte: 8, word: 16, dword: 32, qword: 64, tword: 80, oword: 128 };
/** Mnemonics of long mode only: named as such instead of "unknown instruction". */
const LONG_ONLY = new Set(['syscall', 'sysret', 'swapgs', 'cdqe', 'cqo', 'movsxd', 'iretq', 'pushfq', 'popfq', 'lodsq', 'stosq', 'movsq', 'cmpsq', 'scasq']);

/** The error for a word that is no instruction vizor knows (a long-mode one is named as such). */
export function unknownInstruction(t: Token): Fail {
  if (LONG_ONLY.has(t.s.toLowerCase())) return new Fail(t.col, `'${t.s}' is a 64-bit instruction; vizor assembles 16- and 32-bit code for the 486`);
  return new Fail(t.col, `unknown instruction '${t.s}'`);
}

/** The error for a 64-bit register name (rax, r8d ...). */
export function longModeRegister(t: Token): Fail {
  return new Fail(t.col, `'${t.s}' is a 64-bit register; vizor assembles 16- and 32-bit code only`);
}

export class TokenCursor {
  protected toks: Token[] = [];
  protected pos = 0;
  /** Column just past the line (or past the bracketed text while inside `[...]`). */
  protected end = 0;
  /** The last non-local label: `.x` after it means `lastGlobal.x`. */
  lastGlobal = '';

  /** Expands a local label name (.x) to its full name under the last global label. */
  qualify(name: string): string {
    if (name.startsWith('..')) return name;
    if (name.startsWith('.')) return this.lastGlobal + name;
    return name;
  }

  protected peek(): Token | undefined {
    return this.toks[this.pos];
  }

  protected isOp(s: string, at = this.pos): boolean {
    const t = this.toks[at];
    return t !== undefined && t.k === 'op' && t.s === s;
  }

  /** The identifier at `at`, lower case ('' for anything else, or an escaped $name). */
  protected word(at = this.pos): string {
    const t = this.toks[at];
    return t && t.k === 'id' && !t.escaped ? t.s.toLowerCase() : '';
  }

  protected colHere(): number {
    return this.toks[this.pos]?.col ?? this.end;
  }

  protected expr(): Expr {
    const p = new ExprParser(this.toks, this.pos, this.end);
    const e = p.parse();
    this.pos = p.pos;
    return this.qualifyExpr(e);
  }

  private qualifyExpr(e: Expr): Expr {
    switch (e.k) {
      case 'sym': {
        if (!e.name.startsWith('.')) return e;
        return { ...e, name: this.qualify(e.name) };
      }
      case 'un': return { ...e, a: this.qualifyExpr(e.a) };
      case 'bin': return { ...e, a: this.qualifyExpr(e.a), b: this.qualifyExpr(e.b) };
      case 'cond': return { ...e, c: this.qualifyExpr(e.c), a: this.qualifyExpr(e.a), b: this.qualifyExpr(e.b) };
    }
    return e;
  }

  protected expectEnd(what: string): void {
    if (this.pos < this.toks.length) throw new Fail(this.colHere(), `expected the end of the line after ${what}, found ${describe(this.peek())}`);
  }
}

// Expressions: parsed once into a tree (cached per line), evaluated in every pass.
// Values are 64-bit signed (BigInt) as in NASM, tagged with the section they are relative to,
// because NASM treats labels as relocatable: only + and - apply to them, and an address is never
// "small" for optimisation purposes (mov ax,[bx+label] keeps a 16-bit displacement).

import type { Token } from './lexer.ts';
import { charConstant } from './lexer.ts';

export type Expr =
  | { k: 'num'; v: bigint }
  | { k: 'sym'; name: string; col: number }
  | { k: 'here'; col: number }
  | { k: 'base'; col: number }
  | { k: 'un'; op: string; a: Expr; col: number }
  | { k: 'bin'; op: string; a: Expr; b: Expr; col: number }
  | { k: 'cond'; c: Expr; a: Expr; b: Expr; col: number };

/** A value: `seg` is -1 for a plain number, else the index of the section the address lies in. */
export interface Value {
  n: bigint;
  seg: number;
}

export interface EvalContext {
  /** undefined: not (yet) defined. */
  lookup(name: string, col: number): Value | undefined;
  here(): Value;
  base(): Value;
}

export class ExprError extends Error {
  constructor(
    readonly col: number,
    message: string,
  ) {
    super(message);
  }
}

/** Parses tokens[pos..] as an expression; `stop` ends it (e.g. at `,` `]` `:`). */
export class ExprParser {
  pos: number;
  constructor(
    private toks: Token[],
    pos: number,
    private endCol: number,
  ) {
    this.pos = pos;
  }

  private peek(): Token | undefined {
    return this.toks[this.pos];
  }
  private isOp(s: string): boolean {
    const t = this.toks[this.pos];
    return t !== undefined && t.k === 'op' && t.s === s;
  }
  private col(): number {
    return this.toks[this.pos]?.col ?? this.endCol;
  }

  parse(): Expr {
    return this.cond();
  }

  private cond(): Expr {
    const c = this.binary(0);
    if (this.isOp('?')) {
      const col = this.col();
      this.pos++;
      const a = this.cond();
      if (!this.isOp(':')) throw new ExprError(this.col(), `expected ':' in a ? : expression, found ${describe(this.peek())}`);
      this.pos++;
      const b = this.cond();
      return { k: 'cond', c, a, b, col };
    }
    return c;
  }

  private static LEVELS: string[][] = [
    ['||'],
    ['^^'],
    ['&&'],
    ['=', '==', '<>', '!=', '<', '<=', '>', '>=', '<=>'],
    ['|'],
    ['^'],
    ['&'],
    ['<<', '>>', '<<<', '>>>'],
    ['+', '-'],
    ['*', '/', '//', '%', '%%'],
  ];

  private binary(level: number): Expr {
    if (level >= ExprParser.LEVELS.length) return this.unary();
    const ops = ExprParser.LEVELS[level]!;
    let a = this.binary(level + 1);
    for (;;) {
      const t = this.peek();
      if (!t || t.k !== 'op' || !ops.includes(t.s)) return a;
      this.pos++;
      const b = this.binary(level + 1);
      a = fold({ k: 'bin', op: t.s, a, b, col: t.col });
    }
  }

  private unary(): Expr {
    const t = this.peek();
    if (t && t.k === 'op' && (t.s === '-' || t.s === '+' || t.s === '~' || t.s === '!')) {
      this.pos++;
      const a = this.unary();
      return fold({ k: 'un', op: t.s, a, col: t.col });
    }
    return this.primary();
  }

  private primary(): Expr {
    const t = this.peek();
    if (!t) throw new ExprError(this.endCol, 'expected an expression, found the end of the line');
    this.pos++;
    switch (t.k) {
      case 'num':
        return { k: 'num', v: BigInt.asIntN(64, t.v) };
      case 'str':
        return { k: 'num', v: BigInt.asIntN(64, charConstant(t.s)) };
      case 'here':
        return { k: 'here', col: t.col };
      case 'base':
        return { k: 'base', col: t.col };
      case 'id':
        return { k: 'sym', name: t.s, col: t.col };
      case 'op':
        if (t.s === '(') {
          const e = this.cond();
          if (!this.isOp(')')) throw new ExprError(this.col(), `expected ')' to close the '(' at column ${t.col + 1}, found ${describe(this.peek())}`);
          this.pos++;
          return e;
        }
        break;
      case 'float':
        throw new ExprError(t.col, `floating-point constant '${t.s}' is only allowed in dd/dq data`);
    }
    this.pos--;
    throw new ExprError(t.col, `expected an expression, found ${describe(t)}`);
  }
}

export function describe(t: Token | undefined): string {
  if (!t) return 'the end of the line';
  if (t.k === 'str') return `the string ${t.q}${t.s}${t.q}`;
  return `'${t.s}'`;
}

/** Folds constant sub-trees at parse time so later passes do no work for them. */
function fold(e: Expr): Expr {
  if (!((e.k === 'un' && e.a.k === 'num') || (e.k === 'bin' && e.a.k === 'num' && e.b.k === 'num'))) return e;
  const savedUnknown = unknownFlag;
  const savedMissing = missingSym;
  unknownFlag = false;
  try {
    return { k: 'num', v: evalNode(e, NO_CONTEXT).n };
  } catch {
    return e; // e.g. division by zero: reported when evaluated in context
  } finally {
    unknownFlag = savedUnknown;
    missingSym = savedMissing;
  }
}

const NO_CONTEXT: EvalContext = {
  lookup: () => undefined,
  here: () => ({ n: 0n, seg: -1 }),
  base: () => ({ n: 0n, seg: -1 }),
};

/** Result of evaluating: `unknown` when a symbol is not defined yet (a forward reference). */
export interface EvalResult extends Value {
  unknown: boolean;
  /** The name of the first undefined symbol, for the final-pass diagnostic. */
  missing?: { name: string; col: number };
}

let unknownFlag = false;
let missingSym: { name: string; col: number } | undefined;

export function evaluate(e: Expr, ctx: EvalContext): EvalResult {
  if (e.k === 'num') return { n: e.v, seg: -1, unknown: false };
  unknownFlag = false;
  missingSym = undefined;
  const v = evalNode(e, ctx);
  return { n: v.n, seg: v.seg, unknown: unknownFlag, missing: missingSym };
}

const SCALAR_ONLY: Record<string, string> = {
  '*': 'multiplication', '/': 'division', '//': 'division', '%': 'modulo', '%%': 'modulo',
  '<<': 'shift', '>>': 'shift', '<<<': 'shift', '>>>': 'shift', '&': 'AND', '|': 'OR', '^': 'XOR',
};

const s64 = (v: bigint) => BigInt.asIntN(64, v);
const u64 = (v: bigint) => BigInt.asUintN(64, v);

function evalNode(e: Expr, ctx: EvalContext): Value {
  switch (e.k) {
    case 'num':
      return { n: e.v, seg: -1 };
    case 'here':
      return ctx.here();
    case 'base':
      return ctx.base();
    case 'sym': {
      const v = ctx.lookup(e.name, e.col);
      if (v === undefined) {
        unknownFlag = true;
        if (!missingSym) missingSym = { name: e.name, col: e.col };
        return { n: 0n, seg: -1 };
      }
      return v;
    }
    case 'cond': {
      const c = evalNode(e.c, ctx);
      return c.n !== 0n ? evalNode(e.a, ctx) : evalNode(e.b, ctx);
    }
    case 'un': {
      const a = evalNode(e.a, ctx);
      if (e.op === '+') return a;
      if (a.seg >= 0 && !unknownFlag) throw new ExprError(e.col, `unary '${e.op}' can only be applied to a number, not to an address`);
      if (e.op === '-') return { n: s64(-a.n), seg: -1 };
      if (e.op === '~') return { n: s64(~a.n), seg: -1 };
      return { n: a.n === 0n ? 1n : 0n, seg: -1 };
    }
    case 'bin':
      return evalBinary(e.op, evalNode(e.a, ctx), evalNode(e.b, ctx), e.col);
  }
}

function bool(c: boolean): Value {
  return { n: c ? 1n : 0n, seg: -1 };
}

function evalBinary(op: string, a: Value, b: Value, col: number): Value {
  if (op === '+') {
    if (a.seg >= 0 && b.seg >= 0 && !unknownFlag) throw new ExprError(col, 'cannot add two addresses together');
    return { n: s64(a.n + b.n), seg: a.seg >= 0 ? a.seg : b.seg };
  }
  if (op === '-') {
    if (b.seg >= 0) {
      if (a.seg < 0 && !unknownFlag) throw new ExprError(col, 'cannot subtract an address from a number');
      return { n: s64(a.n - b.n), seg: -1 };
    }
    return { n: s64(a.n - b.n), seg: a.seg };
  }
  const name = SCALAR_ONLY[op];
  if (name && (a.seg >= 0 || b.seg >= 0) && !unknownFlag)
    throw new ExprError(col, `the ${name} operator '${op}' can only be applied to numbers, not to addresses (use label-$$ for an offset)`);
  const x = a.n;
  const y = b.n;
  switch (op) {
    case '*': return { n: s64(x * y), seg: -1 };
    case '/':
    case '//':
    case '%':
    case '%%':
      if (y === 0n) {
        if (unknownFlag) return { n: 0n, seg: -1 };
        throw new ExprError(col, 'division by zero');
      }
      if (op === '/') return { n: s64(u64(x) / u64(y)), seg: -1 };
      if (op === '%') return { n: s64(u64(x) % u64(y)), seg: -1 };
      if (op === '//') return { n: s64(x / y), seg: -1 };
      return { n: s64(x % y), seg: -1 };
    case '<<':
    case '<<<':
      return { n: y >= 64n || y < 0n ? 0n : s64(x << y), seg: -1 };
    case '>>':
      return { n: y >= 64n || y < 0n ? 0n : s64(u64(x) >> y), seg: -1 };
    case '>>>':
      return { n: y >= 64n || y < 0n ? (x < 0n ? -1n : 0n) : x >> y, seg: -1 };
    case '&': return { n: x & y, seg: -1 };
    case '|': return { n: x | y, seg: -1 };
    case '^': return { n: x ^ y, seg: -1 };
    case '=':
    case '==': return bool(x === y && a.seg === b.seg);
    case '!=':
    case '<>': return bool(x !== y || a.seg !== b.seg);
    case '<': return bool(x < y);
    case '<=': return bool(x <= y);
    case '>': return bool(x > y);
    case '>=': return bool(x >= y);
    case '<=>': return { n: x < y ? -1n : x > y ? 1n : 0n, seg: -1 };
    case '&&': return bool(x !== 0n && y !== 0n);
    case '||': return bool(x !== 0n || y !== 0n);
    case '^^': return bool((x !== 0n) !== (y !== 0n));
  }
  throw new ExprError(col, `unknown operator '${op}'`);
}

/** Names of symbols an expression refers to (for circular-equ detection and forward-ref checks). */
export function symbolsOf(e: Expr, out: string[] = []): string[] {
  switch (e.k) {
    case 'sym': out.push(e.name); break;
    case 'un': symbolsOf(e.a, out); break;
    case 'bin': symbolsOf(e.a, out); symbolsOf(e.b, out); break;
    case 'cond': symbolsOf(e.c, out); symbolsOf(e.a, out); symbolsOf(e.b, out); break;
  }
  return out;
}

/** Does the expression use `$` or `$$` (so its value changes with the position)? */
export function usesHere(e: Expr): boolean {
  switch (e.k) {
    case 'here': case 'base': return true;
    case 'un': return usesHere(e.a);
    case 'bin': return usesHere(e.a) || usesHere(e.b);
    case 'cond': return usesHere(e.c) || usesHere(e.a) || usesHere(e.b);
  }
  return false;
}

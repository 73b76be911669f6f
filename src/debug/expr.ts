// Condition expressions for breakpoints: `eax == 3 && [esp+4] > 0x1000`.
// A small Pratt parser compiles the text once into a closure tree; evaluation reads registers and
// memory through an EvalContext (side-effect free: no MMIO, no accessed bits), so a condition can
// be checked before every instruction without disturbing the machine.
//
// Values are unsigned 32-bit integers; comparisons are unsigned (addresses are the common case);
// logical operators yield 0 or 1. Memory operands: `[expr]` (dword), `byte [expr]`, `word [expr]`,
// `dword [expr]`. Numbers: decimal, 0x hex, 0b binary, NASM-style trailing h (`0ffh`).

/** What an expression may read. */
export interface EvalContext {
  /** A register or flag by lower-case name (see REGISTER_NAMES / FLAG_NAMES). */
  register(name: string): number;
  /** `size` bytes (1, 2 or 4) at linear address `addr`, little-endian; unreadable memory reads as 0xFF.. */
  memory(addr: number, size: 1 | 2 | 4): number;
  /** A symbol's value (labels from the assembler), or undefined when unknown. */
  symbol?(name: string): number | undefined;
}

export type Compiled = (ctx: EvalContext) => number;

/** A parse error; `column` is 1-based into the expression text. */
export class ExprError extends Error {
  constructor(
    message: string,
    readonly column: number,
  ) {
    super(`${message} at column ${column}`);
  }
}

export const REGISTER_NAMES: ReadonlySet<string> = new Set([
  'eax', 'ecx', 'edx', 'ebx', 'esp', 'ebp', 'esi', 'edi', 'eip', 'eflags',
  'ax', 'cx', 'dx', 'bx', 'sp', 'bp', 'si', 'di', 'ip', 'flags',
  'al', 'cl', 'dl', 'bl', 'ah', 'ch', 'dh', 'bh',
  'cs', 'ds', 'es', 'fs', 'gs', 'ss', 'cr0', 'cr2', 'cr3', 'cr4',
]);

/** EFLAGS bit of each flag name. */
export const FLAG_BITS: Readonly<Record<string, number>> = {
  cf: 0, pf: 2, af: 4, zf: 6, sf: 7, tf: 8, if: 9, df: 10, of: 11,
};

type Tok = { kind: 'num' | 'id' | 'op' | 'end'; text: string; value: number; col: number };

const OPS = ['<<', '>>', '<=', '>=', '==', '!=', '&&', '||', '+', '-', '*', '/', '%', '&', '|', '^', '~', '!', '<', '>', '(', ')', '[', ']'];

function tokenize(src: string): Tok[] {
  const toks: Tok[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i]!;
    if (c === ' ' || c === '\t') {
      i++;
      continue;
    }
    const col = i + 1;
    const word = /^[A-Za-z_.$][\w.$@]*|^[0-9][0-9A-Za-z_]*/.exec(src.slice(i));
    if (word) {
      const text = word[0];
      i += text.length;
      if (/^[0-9]/.test(text)) toks.push({ kind: 'num', text, value: parseNumber(text, col), col });
      else toks.push({ kind: 'id', text, value: 0, col });
      continue;
    }
    const op = OPS.find((o) => src.startsWith(o, i));
    if (!op) throw new ExprError(`unexpected character '${c}'`, col);
    toks.push({ kind: 'op', text: op, value: 0, col });
    i += op.length;
  }
  toks.push({ kind: 'end', text: '', value: 0, col: src.length + 1 });
  return toks;
}

function parseNumber(text: string, col: number): number {
  const t = text.replace(/_/g, '').toLowerCase();
  let v: number;
  if (/^0x[0-9a-f]+$/.test(t)) v = parseInt(t.slice(2), 16);
  else if (/^0b[01]+$/.test(t)) v = parseInt(t.slice(2), 2);
  else if (/^[0-9][0-9a-f]*h$/.test(t)) v = parseInt(t.slice(0, -1), 16);
  else if (/^[0-9]+$/.test(t)) v = parseInt(t, 10);
  else throw new ExprError(`bad number '${text}'`, col);
  if (v > 0xffffffff) throw new ExprError(`number '${text}' does not fit in 32 bits`, col);
  return v >>> 0;
}

/** Binding power of each binary operator (higher binds tighter), as in C. */
const BINARY: Record<string, number> = {
  '||': 1, '&&': 2, '|': 3, '^': 4, '&': 5, '==': 6, '!=': 6,
  '<': 7, '<=': 7, '>': 7, '>=': 7, '<<': 8, '>>': 8, '+': 9, '-': 9, '*': 10, '/': 10, '%': 10,
};

const SIZES: Record<string, 1 | 2 | 4> = { byte: 1, word: 2, dword: 4 };

class Parser {
  private pos = 0;
  constructor(private readonly toks: Tok[]) {}

  private peek(): Tok {
    return this.toks[this.pos]!;
  }
  private next(): Tok {
    return this.toks[this.pos++]!;
  }
  private expect(text: string, what: string): void {
    const t = this.next();
    if (t.text !== text || t.kind !== 'op') throw new ExprError(`expected ${what}${describe(t)}`, t.col);
  }

  parseAll(): Compiled {
    const e = this.parseExpr(0);
    const t = this.peek();
    if (t.kind !== 'end') throw new ExprError(`unexpected '${t.text}'`, t.col);
    return e;
  }

  parseExpr(minPower: number): Compiled {
    let left = this.parseUnary();
    for (;;) {
      const t = this.peek();
      const power = t.kind === 'op' ? BINARY[t.text] : undefined;
      if (power === undefined || power <= minPower) return left;
      this.next();
      const right = this.parseExpr(power);
      left = binary(t.text, left, right, t.col);
    }
  }

  private parseUnary(): Compiled {
    const t = this.peek();
    if (t.kind === 'op' && (t.text === '-' || t.text === '~' || t.text === '!' || t.text === '+')) {
      this.next();
      const e = this.parseUnary();
      if (t.text === '-') return (c) => -e(c) >>> 0;
      if (t.text === '~') return (c) => ~e(c) >>> 0;
      if (t.text === '!') return (c) => (e(c) === 0 ? 1 : 0);
      return e;
    }
    return this.parsePrimary();
  }

  private parsePrimary(): Compiled {
    const t = this.next();
    if (t.kind === 'num') {
      const v = t.value;
      return () => v;
    }
    if (t.kind === 'op' && t.text === '(') {
      const e = this.parseExpr(0);
      this.expect(')', "')'");
      return e;
    }
    if (t.kind === 'op' && t.text === '[') return this.memoryOperand(4, t);
    if (t.kind === 'id') {
      const name = t.text.toLowerCase();
      const size = SIZES[name];
      if (size !== undefined) {
        const open = this.next();
        if (open.kind !== 'op' || open.text !== '[') throw new ExprError(`expected '[' after '${t.text}'${describe(open)}`, open.col);
        return this.memoryOperand(size, open);
      }
      if (REGISTER_NAMES.has(name)) return (c) => c.register(name) >>> 0;
      const bit = FLAG_BITS[name];
      if (bit !== undefined) return (c) => (c.register('eflags') >>> bit) & 1;
      const sym = t.text;
      return (c) => {
        const v = c.symbol?.(sym);
        if (v === undefined) throw new ExprError(`unknown name '${sym}'`, t.col);
        return v >>> 0;
      };
    }
    throw new ExprError(`expected a number, register, flag or [address]${describe(t)}`, t.col);
  }

  private memoryOperand(size: 1 | 2 | 4, _open: Tok): Compiled {
    const addr = this.parseExpr(0);
    this.expect(']', "']'");
    return (c) => c.memory(addr(c), size) >>> 0;
  }
}

function describe(t: Tok): string {
  return t.kind === 'end' ? ', found the end' : `, found '${t.text}'`;
}

function binary(op: string, a: Compiled, b: Compiled, col: number): Compiled {
  switch (op) {
    case '+': return (c) => (a(c) + b(c)) >>> 0;
    case '-': return (c) => (a(c) - b(c)) >>> 0;
    case '*': return (c) => Math.imul(a(c), b(c)) >>> 0;
    case '/':
    case '%':
      return (c) => {
        const d = b(c);
        if (d === 0) throw new ExprError('division by zero', col);
        return (op === '/' ? Math.floor(a(c) / d) : a(c) % d) >>> 0;
      };
    case '<<': return (c) => (a(c) << (b(c) & 31)) >>> 0;
    case '>>': return (c) => a(c) >>> (b(c) & 31);
    case '&': return (c) => (a(c) & b(c)) >>> 0;
    case '|': return (c) => (a(c) | b(c)) >>> 0;
    case '^': return (c) => (a(c) ^ b(c)) >>> 0;
    case '==': return (c) => (a(c) === b(c) ? 1 : 0);
    case '!=': return (c) => (a(c) !== b(c) ? 1 : 0);
    case '<': return (c) => (a(c) < b(c) ? 1 : 0);
    case '<=': return (c) => (a(c) <= b(c) ? 1 : 0);
    case '>': return (c) => (a(c) > b(c) ? 1 : 0);
    case '>=': return (c) => (a(c) >= b(c) ? 1 : 0);
    case '&&': return (c) => (a(c) !== 0 && b(c) !== 0 ? 1 : 0);
    case '||': return (c) => (a(c) !== 0 || b(c) !== 0 ? 1 : 0);
  }
  throw new ExprError(`unknown operator '${op}'`, col);
}

/** Compiles `text`; throws ExprError (with a 1-based column) when it does not parse. */
export function compileExpression(text: string): Compiled {
  if (text.trim() === '') throw new ExprError('empty expression', 1);
  return new Parser(tokenize(text)).parseAll();
}

/** Parse-only check for UIs: undefined when fine, else the error. */
export function checkExpression(text: string): ExprError | undefined {
  try {
    compileExpression(text);
    return undefined;
  } catch (e) {
    if (e instanceof ExprError) return e;
    throw e;
  }
}

// Breakpoint conditions: a small C-like expression over registers, flags and memory,
// e.g. `eax == 3 && [esp+4] > 0x1000`. Parsed once into a closure, evaluated at every hit.
// (Temporary until src/debug's own evaluator lands; same syntax as issue 6 describes.)
import type { CpuView } from './protocol.ts';

export interface EvalContext {
  cpu: CpuView;
  /** Reads a little-endian value of `size` bytes at a linear address. */
  readLinear(address: number, size: 1 | 2 | 4): number;
}

export type Condition = (ctx: EvalContext) => number;

export class ConditionError extends Error {}

const REG32 = ['eax', 'ecx', 'edx', 'ebx', 'esp', 'ebp', 'esi', 'edi', 'eip', 'eflags', 'cr0', 'cr2', 'cr3', 'cr4'] as const;
const REG16: Record<string, (typeof REG32)[number]> = { ax: 'eax', cx: 'ecx', dx: 'edx', bx: 'ebx', sp: 'esp', bp: 'ebp', si: 'esi', di: 'edi' };
const REG8: Record<string, [(typeof REG32)[number], number]> = {
  al: ['eax', 0], cl: ['ecx', 0], dl: ['edx', 0], bl: ['ebx', 0], ah: ['eax', 8], ch: ['ecx', 8], dh: ['edx', 8], bh: ['ebx', 8],
};
const FLAGS: Record<string, number> = { cf: 0, pf: 2, af: 4, zf: 6, sf: 7, tf: 8, if: 9, df: 10, of: 11 };
const SEGS = ['cs', 'ds', 'es', 'fs', 'gs', 'ss'] as const;

// Binary operators by precedence, loosest first.
const LEVELS: string[][] = [['||'], ['&&'], ['|'], ['^'], ['&'], ['==', '!='], ['<', '<=', '>', '>='], ['<<', '>>'], ['+', '-'], ['*', '/', '%']];

function tokenize(text: string): string[] {
  const re = /\s*(0x[0-9a-f_]+|[0-9][0-9a-f_]*h\b|\d+|[a-z_][a-z0-9_]*|<<|>>|<=|>=|==|!=|&&|\|\||[-+*/%&|^~!()[\]<>])/giy;
  const out: string[] = [];
  let pos = 0;
  while (pos < text.length) {
    if (/^\s*$/.test(text.slice(pos))) break;
    re.lastIndex = pos;
    const m = re.exec(text);
    if (!m) throw new ConditionError(`unexpected '${text.slice(pos).trim()[0]}' at column ${pos + 1}`);
    out.push(m[1].toLowerCase());
    pos = re.lastIndex;
  }
  return out;
}

function parseNumber(tok: string): number | null {
  const t = tok.replace(/_/g, '');
  if (/^0x[0-9a-f]+$/.test(t)) return parseInt(t.slice(2), 16);
  if (/^[0-9][0-9a-f]*h$/.test(t)) return parseInt(t.slice(0, -1), 16);
  if (/^\d+$/.test(t)) return parseInt(t, 10);
  return null;
}

function apply(op: string, a: number, b: number): number {
  switch (op) {
    case '||': return a !== 0 || b !== 0 ? 1 : 0;
    case '&&': return a !== 0 && b !== 0 ? 1 : 0;
    case '|': return (a | b) >>> 0;
    case '^': return (a ^ b) >>> 0;
    case '&': return (a & b) >>> 0;
    case '==': return a === b ? 1 : 0;
    case '!=': return a !== b ? 1 : 0;
    case '<': return a < b ? 1 : 0;
    case '<=': return a <= b ? 1 : 0;
    case '>': return a > b ? 1 : 0;
    case '>=': return a >= b ? 1 : 0;
    case '<<': return (a << b) >>> 0;
    case '>>': return a >>> b;
    case '+': return (a + b) >>> 0;
    case '-': return (a - b) >>> 0;
    case '*': return Math.imul(a, b) >>> 0;
    case '/': return b === 0 ? 0 : Math.floor(a / b) >>> 0;
    case '%': return b === 0 ? 0 : a % b;
  }
  throw new ConditionError(`unknown operator ${op}`);
}

/** Compiles a condition; throws ConditionError with a message a student understands. */
export function compileCondition(text: string): Condition {
  const toks = tokenize(text);
  let i = 0;
  const peek = () => toks[i];
  const expect = (t: string) => {
    if (toks[i] !== t) throw new ConditionError(`expected '${t}' but found ${toks[i] ? `'${toks[i]}'` : 'the end'}`);
    i++;
  };

  const binary = (level: number): Condition => {
    if (level === LEVELS.length) return unary();
    let left = binary(level + 1);
    while (LEVELS[level].includes(peek())) {
      const op = toks[i++];
      const l = left;
      const r = binary(level + 1);
      left = (c) => apply(op, l(c), r(c));
    }
    return left;
  };

  const unary = (): Condition => {
    const t = peek();
    if (t === '-' || t === '~' || t === '!') {
      i++;
      const inner = unary();
      if (t === '-') return (c) => (-inner(c)) >>> 0;
      if (t === '~') return (c) => ~inner(c) >>> 0;
      return (c) => (inner(c) === 0 ? 1 : 0);
    }
    return primary();
  };

  const memory = (size: 1 | 2 | 4): Condition => {
    expect('[');
    const addr = binary(0);
    expect(']');
    return (c) => c.readLinear(addr(c) >>> 0, size);
  };

  const primary = (): Condition => {
    const t = toks[i];
    if (t === undefined) throw new ConditionError('the condition ends too early');
    if (t === '(') {
      i++;
      const inner = binary(0);
      expect(')');
      return inner;
    }
    if (t === '[') return memory(4);
    if (t === 'byte' || t === 'word' || t === 'dword') {
      i++;
      return memory(t === 'byte' ? 1 : t === 'word' ? 2 : 4);
    }
    i++;
    const n = parseNumber(t);
    if (n !== null) return () => n >>> 0;
    if ((REG32 as readonly string[]).includes(t)) {
      const r = t as (typeof REG32)[number];
      return (c) => c.cpu[r] >>> 0;
    }
    if (t in REG16) return (c) => c.cpu[REG16[t]] & 0xffff;
    if (t in REG8) {
      const [r, shift] = REG8[t];
      return (c) => (c.cpu[r] >>> shift) & 0xff;
    }
    if (t in FLAGS) return (c) => (c.cpu.eflags >>> FLAGS[t]) & 1;
    if ((SEGS as readonly string[]).includes(t)) return (c) => c.cpu[t as (typeof SEGS)[number]].selector;
    throw new ConditionError(`unknown name '${t}' (use registers like eax, al, flags like zf, numbers, or [address])`);
  };

  const expr = binary(0);
  if (i < toks.length) throw new ConditionError(`unexpected '${toks[i]}'`);
  return expr;
}

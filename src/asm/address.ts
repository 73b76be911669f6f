// Memory operands: separating the registers of an address expression from its displacement, and
// choosing base and index the way NASM does (see nasm's process_ea): an explicit `*` marks the
// index, [eax*2] becomes [eax+eax] unless `nosplit`, esp is never an index, 16-bit forms are checked.

import type { MemOperand } from './ast.ts';
import { ExprError, type Expr } from './expr.ts';
import { LONG_MODE_REGS, register, type Reg } from './registers.ts';

interface Term {
  reg: Reg;
  scale: number;
  explicit: boolean;
  col: number;
}

/** Separates the registers of an address expression from its displacement. */
export function splitAddress(e: Expr, m: MemOperand): void {
  const terms: Term[] = [];
  const disp = collect(e, 1, terms);
  m.disp = disp;
  if (terms.length === 0) return;
  chooseBaseIndex(terms, m);
}

function regOf(e: Expr): Reg | undefined {
  return e.k === 'sym' ? register(e.name) : undefined;
}

function hasReg(e: Expr): boolean {
  switch (e.k) {
    case 'sym': return register(e.name) !== undefined;
    case 'un': return hasReg(e.a);
    case 'bin': return hasReg(e.a) || hasReg(e.b);
    case 'cond': return hasReg(e.c) || hasReg(e.a) || hasReg(e.b);
  }
  return false;
}

/** Collects register terms (sign must be +) and returns the remaining displacement. */
function collect(e: Expr, sign: number, terms: Term[]): Expr | null {
  const r = regOf(e);
  if (r) {
    if (sign < 0) throw new ExprError(e.k === 'sym' ? e.col : 0, `a register cannot be subtracted in an address ('-${r.name}')`);
    if (LONG_MODE_REGS.test(r.name)) throw new ExprError(0, `'${r.name}' is a 64-bit register`);
    terms.push({ reg: r, scale: 1, explicit: false, col: (e as { col: number }).col });
    return null;
  }
  if (!hasReg(e)) return sign < 0 ? { k: 'un', op: '-', a: e, col: 0 } : e;
  if (e.k === 'bin' && (e.op === '+' || e.op === '-')) {
    const a = collect(e.a, sign, terms);
    const b = collect(e.b, e.op === '-' ? -sign : sign, terms);
    if (a && b) return { k: 'bin', op: '+', a, b, col: e.col };
    return a ?? b;
  }
  if (e.k === 'bin' && e.op === '*') {
    const reg = regOf(e.a) ?? regOf(e.b);
    const other = regOf(e.a) ? e.b : e.a;
    if (reg && other.k === 'num' && sign > 0) {
      terms.push({ reg, scale: Number(other.v), explicit: true, col: e.col });
      return null;
    }
    throw new ExprError(e.col, 'a register can only be multiplied by a constant scale (1, 2, 4 or 8)');
  }
  if (e.k === 'un' && e.op === '+') return collect(e.a, sign, terms);
  if (e.k === 'un' && e.op === '-') return collect(e.a, -sign, terms);
  throw new ExprError((e as { col?: number }).col ?? 0, 'registers in an address can only be added (base + index*scale + displacement)');
}

/** NASM's choice of base and index (see nasm's process_ea): explicit `*` marks the index. */
function chooseBaseIndex(terms: Term[], m: MemOperand): void {
  const cls = terms[0]!.reg.cls;
  for (const t of terms) {
    if (t.reg.cls !== 'r16' && t.reg.cls !== 'r32') throw new ExprError(t.col, `'${t.reg.name}' cannot be used in an address`);
    if (t.reg.cls !== cls) throw new ExprError(t.col, 'an address cannot mix 16-bit and 32-bit registers');
  }
  const scaled = terms.filter((t) => t.explicit && t.scale !== 1);
  const plain = terms.filter((t) => !(t.explicit && t.scale !== 1));
  let base: Term | undefined;
  let index: Term | undefined;
  if (scaled.length > 1) throw new ExprError(scaled[1]!.col, 'only one register in an address can be scaled');
  if (scaled.length === 1) {
    index = scaled[0];
    if (plain.length > 1) throw new ExprError(plain[1]!.col, 'too many registers in this address (at most a base and an index)');
    base = plain[0];
  } else {
    // `reg*1` written explicitly is the index when another register is the base
    const explicitOne = plain.findIndex((t) => t.explicit);
    if (explicitOne >= 0 && plain.length === 2) {
      index = plain[explicitOne];
      base = plain[1 - explicitOne];
    } else {
      base = plain[0];
      index = plain[1];
      if (plain.length > 2) throw new ExprError(plain[2]!.col, 'too many registers in this address (at most a base and an index)');
    }
  }
  let scale = index ? index.scale : 0;
  if (scale === 0 && index) scale = 1;
  if (cls === 'r16') {
    if (index && index.explicit && index.scale !== 1) throw new ExprError(index.col, '16-bit addresses cannot scale a register (use 32-bit registers for [reg*N])');
    const regs = [base, index].filter((t): t is Term => t !== undefined).map((t) => t.reg);
    const b = regs.find((r) => r.name === 'bx' || r.name === 'bp');
    const i = regs.find((r) => r.name === 'si' || r.name === 'di');
    const bad = regs.find((r) => r !== b && r !== i);
    if (bad || (regs.length === 2 && (!b || !i))) {
      throw new ExprError(terms[0]!.col, `invalid 16-bit address [${regs.map((r) => r.name).join('+')}]: use bx or bp, optionally plus si or di`);
    }
    m.base = b ?? null;
    m.index = i ?? null;
    m.scale = i ? 1 : 0;
    return;
  }
  if (![1, 2, 3, 4, 5, 8, 9].includes(scale) && index) throw new ExprError(index.col, `invalid scale ${scale}: an index register can be multiplied by 1, 2, 4 or 8`);
  let b: Reg | null = base?.reg ?? null;
  let i: Reg | null = index?.reg ?? null;
  if (i && scale === 1 && !b) {
    b = i;
    i = null;
  }
  if (i && !b && !m.nosplit && (scale === 2 || scale === 3 || scale === 5 || scale === 9)) {
    b = i;
    scale -= 1;
  }
  if (i && (scale === 3 || scale === 5 || scale === 9)) throw new ExprError(index!.col, `invalid scale ${scale}: an index register can be multiplied by 1, 2, 4 or 8`);
  if (i && i.num === 4) {
    if (scale === 1 && b && b.num !== 4) {
      const t: Reg | null = b;
      b = i;
      i = t;
    }
    else throw new ExprError(index!.col, 'esp cannot be used as an index register');
  }
  m.base = b;
  m.index = i;
  m.scale = i ? scale : 0;
}

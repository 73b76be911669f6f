// Execute functions for arithmetic, logic, shifts, multiply/divide, bit operations, BCD and flags.
// Each factory runs once at decode time and returns a closure with the operands baked in; the hot
// 32-bit register forms get their own closures without any operand-kind dispatch.
import type { Decoded } from '../../x86/decode.ts';
import type { Cpu } from './cpu.ts';
import type { Exec } from './compile.ts';
import { A_ADD, A_AND, A_CMP, A_OR, A_SUB, A_TEST, A_XOR, ALU_INDEX, SHIFT_INDEX, alu, dec, doubleShift, imul32, inc, mul32, mulFlags, shift, szp } from './alu.ts';
import { O_MEM, O_REG, addrOf, operand, readAt, readReg, sext, signOf, maskOf, writeAt, writeReg, type Opnd, ea } from './operands.ts';
import { F_AF, F_CF, F_DF, F_OF, F_PF, F_SF, F_ZF, L_ADD, L_DEC, L_INC, L_LOGIC, L_SUB, STATUS } from './state.ts';

const SIGN32 = 0x80000000 | 0;
const tmp64 = new Int32Array(2);

/** ALU op (add..cmp, test) in any form. */
export function compileAlu(cpu: Cpu, d: Decoded): Exec {
  const row = d.row!;
  const op = ALU_INDEX[row.op]!;
  const dst = operand(d, row.operands[0]!);
  const src = operand(d, row.operands[1]!);
  const r = cpu.regs;
  const writes = op !== A_CMP && op !== A_TEST;
  if (dst.kind === O_REG && dst.size === 32) {
    const di = dst.reg;
    if (src.kind === O_REG) {
      const si = src.reg;
      switch (op) {
        case A_ADD: return (c) => { const a = r[di]!, b = r[si]!, x = (a + b) | 0; r[di] = x; c.setLazy(L_ADD, a, b, x, SIGN32); };
        case A_SUB: return (c) => { const a = r[di]!, b = r[si]!, x = (a - b) | 0; r[di] = x; c.setLazy(L_SUB, a, b, x, SIGN32); };
        case A_CMP: return (c) => { const a = r[di]!, b = r[si]!; c.setLazy(L_SUB, a, b, (a - b) | 0, SIGN32); };
        case A_XOR: return (c) => { const x = r[di]! ^ r[si]!; r[di] = x; c.setLazy(L_LOGIC, 0, 0, x, SIGN32); };
        case A_AND: return (c) => { const x = r[di]! & r[si]!; r[di] = x; c.setLazy(L_LOGIC, 0, 0, x, SIGN32); };
        case A_OR: return (c) => { const x = r[di]! | r[si]!; r[di] = x; c.setLazy(L_LOGIC, 0, 0, x, SIGN32); };
        case A_TEST: return (c) => { c.setLazy(L_LOGIC, 0, 0, r[di]! & r[si]!, SIGN32); };
      }
    } else if (src.kind !== O_MEM) {
      const b = src.imm | 0;
      switch (op) {
        case A_ADD: return (c) => { const a = r[di]!, x = (a + b) | 0; r[di] = x; c.setLazy(L_ADD, a, b, x, SIGN32); };
        case A_SUB: return (c) => { const a = r[di]!, x = (a - b) | 0; r[di] = x; c.setLazy(L_SUB, a, b, x, SIGN32); };
        case A_CMP: return (c) => { const a = r[di]!; c.setLazy(L_SUB, a, b, (a - b) | 0, SIGN32); };
        case A_AND: return (c) => { const x = r[di]! & b; r[di] = x; c.setLazy(L_LOGIC, 0, 0, x, SIGN32); };
        case A_OR: return (c) => { const x = r[di]! | b; r[di] = x; c.setLazy(L_LOGIC, 0, 0, x, SIGN32); };
        case A_XOR: return (c) => { const x = r[di]! ^ b; r[di] = x; c.setLazy(L_LOGIC, 0, 0, x, SIGN32); };
        case A_TEST: return (c) => { c.setLazy(L_LOGIC, 0, 0, r[di]! & b, SIGN32); };
      }
    } else {
      const s = src.seg, bi = src.base, ii = src.index, sc = src.scale, dp = src.disp, am = src.am;
      switch (op) {
        case A_ADD: return (c) => { const a = r[di]!, b = c.rd32(s, (r[bi]! + (r[ii]! << sc) + dp) & am), x = (a + b) | 0; r[di] = x; c.setLazy(L_ADD, a, b, x, SIGN32); };
        case A_SUB: return (c) => { const a = r[di]!, b = c.rd32(s, (r[bi]! + (r[ii]! << sc) + dp) & am), x = (a - b) | 0; r[di] = x; c.setLazy(L_SUB, a, b, x, SIGN32); };
        case A_CMP: return (c) => { const a = r[di]!, b = c.rd32(s, (r[bi]! + (r[ii]! << sc) + dp) & am); c.setLazy(L_SUB, a, b, (a - b) | 0, SIGN32); };
      }
    }
  }
  if (dst.kind === O_MEM && dst.size === 32 && src.kind !== O_MEM && op === A_CMP) {
    const s = dst.seg, bi = dst.base, ii = dst.index, sc = dst.scale, dp = dst.disp, am = dst.am;
    if (src.kind === O_REG) {
      const si = src.reg;
      return (c) => { const a = c.rd32(s, (r[bi]! + (r[ii]! << sc) + dp) & am), b = r[si]!; c.setLazy(L_SUB, a, b, (a - b) | 0, SIGN32); };
    }
    const b = src.imm | 0;
    return (c) => { const a = c.rd32(s, (r[bi]! + (r[ii]! << sc) + dp) & am); c.setLazy(L_SUB, a, b, (a - b) | 0, SIGN32); };
  }
  const size = dst.size;
  if (!writes) return (c) => { const addr = addrOf(c, dst); alu(c, op, readAt(c, dst, addr), readAt(c, src, addrOf(c, src)), size); };
  if (dst.kind === O_MEM) {
    return (c) => {
      const addr = ea(c, dst);
      c.checkWrite(dst.seg, addr, size >> 3);
      const a = readAt(c, dst, addr);
      writeAt(c, dst, addr, alu(c, op, a, readAt(c, src, 0), size));
    };
  }
  return (c) => {
    const b = readAt(c, src, addrOf(c, src));
    writeReg(c, dst, alu(c, op, readReg(c, dst), b, size));
  };
}

/** Generic read-modify-write helper: `f(a)` computes the new value of `o`. */
function rmw(o: Opnd, f: (c: Cpu, a: number) => number): Exec {
  if (o.kind === O_REG) return (c) => writeReg(c, o, f(c, readReg(c, o)));
  const bytes = o.size >> 3;
  return (c) => {
    const addr = ea(c, o);
    c.checkWrite(o.seg, addr, bytes);
    writeAt(c, o, addr, f(c, readAt(c, o, addr)));
  };
}

export function compileIncDec(cpu: Cpu, d: Decoded): Exec {
  const row = d.row!;
  const o = operand(d, row.operands[0]!);
  const isInc = row.op === 'inc';
  const r = cpu.regs;
  if (o.kind === O_REG && o.size === 32) {
    const i = o.reg;
    return isInc
      ? (c) => { const a = r[i]!, x = (a + 1) | 0; r[i] = x; c.setLazyKeepCF(L_INC, a, x, SIGN32); }
      : (c) => { const a = r[i]!, x = (a - 1) | 0; r[i] = x; c.setLazyKeepCF(L_DEC, a, x, SIGN32); };
  }
  const size = o.size;
  return rmw(o, isInc ? (c, a) => inc(c, a, size) : (c, a) => dec(c, a, size));
}

export function compileUnary(_cpu: Cpu, d: Decoded): Exec {
  const row = d.row!;
  const o = operand(d, row.operands[0]!);
  const size = o.size;
  if (row.op === 'not') return rmw(o, (_c, a) => ~a & maskOf(size));
  // NEG: 0 - a
  return rmw(o, (c, a) => alu(c, A_SUB, 0, a, size));
}

export function compileShift(_cpu: Cpu, d: Decoded): Exec {
  const row = d.row!;
  const op = SHIFT_INDEX[row.op]!;
  const o = operand(d, row.operands[0]!);
  const cnt = operand(d, row.operands[1]!);
  const size = o.size;
  if (cnt.kind === O_REG) return rmw(o, (c, a) => shift(c, op, a, c.regs[1]! & 0xff, size));
  const n = cnt.imm;
  return rmw(o, (c, a) => shift(c, op, a, n, size));
}

export function compileDoubleShift(_cpu: Cpu, d: Decoded): Exec {
  const row = d.row!;
  const o = operand(d, row.operands[0]!);
  const src = operand(d, row.operands[1]!);
  const cnt = operand(d, row.operands[2]!);
  const left = row.op === 'shld';
  const size = o.size;
  const fixed = cnt.kind === O_REG ? -1 : cnt.imm;
  return rmw(o, (c, a) => doubleShift(c, left, a, readReg(c, src), fixed >= 0 ? fixed : c.regs[1]! & 0xff, size));
}

/** MUL / IMUL r/m (one operand), DIV, IDIV. */
export function compileMulDiv(_cpu: Cpu, d: Decoded): Exec {
  const row = d.row!;
  const o = operand(d, row.operands[0]!);
  const size = o.size;
  const get = (c: Cpu) => readAt(c, o, addrOf(c, o));
  switch (row.op) {
    case 'mul':
      return (c) => {
        const b = get(c), r = c.regs;
        if (size === 8) {
          const x = (r[0]! & 0xff) * b;
          r[0] = (r[0]! & ~0xffff) | x;
          mulFlags(c, x & 0xff, 8, x > 0xff);
        } else if (size === 16) {
          const x = (r[0]! & 0xffff) * b;
          r[0] = (r[0]! & ~0xffff) | (x & 0xffff);
          r[2] = (r[2]! & ~0xffff) | (x >>> 16);
          mulFlags(c, x & 0xffff, 16, x > 0xffff);
        } else {
          mul32(r[0]!, b, tmp64);
          r[0] = tmp64[0]!;
          r[2] = tmp64[1]!;
          mulFlags(c, tmp64[0]!, 32, tmp64[1] !== 0);
        }
      };
    case 'imul1':
      return (c) => {
        const b = sext(get(c), size), r = c.regs;
        if (size === 8) {
          const x = ((r[0]! << 24) >> 24) * b;
          r[0] = (r[0]! & ~0xffff) | (x & 0xffff);
          mulFlags(c, x & 0xff, 8, x !== (x << 24) >> 24);
        } else if (size === 16) {
          const x = ((r[0]! << 16) >> 16) * b;
          r[0] = (r[0]! & ~0xffff) | (x & 0xffff);
          r[2] = (r[2]! & ~0xffff) | ((x >> 16) & 0xffff);
          mulFlags(c, x & 0xffff, 16, x !== (x << 16) >> 16);
        } else {
          imul32(r[0]!, b, tmp64);
          r[0] = tmp64[0]!;
          r[2] = tmp64[1]!;
          mulFlags(c, tmp64[0]!, 32, tmp64[1] !== tmp64[0]! >> 31);
        }
      };
    case 'div':
      return (c) => divide(c, get(c), size, false);
    default:
      return (c) => divide(c, get(c), size, true);
  }
}

function divide(c: Cpu, divisor: number, size: number, signed: boolean): void {
  const r = c.regs;
  if ((divisor & maskOf(size)) === 0) c.raise(0);
  if (size === 8) {
    const n = signed ? (r[0]! << 16) >> 16 : r[0]! & 0xffff;
    const dv = signed ? (divisor << 24) >> 24 : divisor & 0xff;
    const q = Math.trunc(n / dv), m = n - q * dv;
    if (signed ? q > 127 || q < -128 : q > 0xff) c.raise(0);
    r[0] = (r[0]! & ~0xffff) | ((m & 0xff) << 8) | (q & 0xff);
  } else if (size === 16) {
    const raw = ((r[2]! & 0xffff) << 16) | (r[0]! & 0xffff);
    const n = signed ? raw : raw >>> 0;
    const dv = signed ? (divisor << 16) >> 16 : divisor & 0xffff;
    const q = Math.trunc(n / dv), m = n - q * dv;
    if (signed ? q > 32767 || q < -32768 : q > 0xffff) c.raise(0);
    r[0] = (r[0]! & ~0xffff) | (q & 0xffff);
    r[2] = (r[2]! & ~0xffff) | (m & 0xffff);
  } else {
    const n = (BigInt(r[2]!) << 32n) | BigInt(r[0]! >>> 0);
    const num = signed ? BigInt.asIntN(64, n) : BigInt.asUintN(64, n);
    const dv = signed ? BigInt(divisor | 0) : BigInt(divisor >>> 0);
    const q = num / dv, m = num % dv;
    if (signed ? q > 0x7fffffffn || q < -0x80000000n : q > 0xffffffffn) c.raise(0);
    r[0] = Number(BigInt.asIntN(32, q));
    r[2] = Number(BigInt.asIntN(32, m));
  }
  // Flags are undefined after DIV; QEMU leaves them as they were.
}

/** IMUL r, r/m (imul2) and IMUL r, r/m, imm (imul3). */
export function compileImulN(_cpu: Cpu, d: Decoded): Exec {
  const row = d.row!;
  const dst = operand(d, row.operands[0]!);
  const src = operand(d, row.operands[1]!);
  const imm = row.op === 'imul3' ? operand(d, row.operands[2]!) : null;
  const size = dst.size;
  return (c) => {
    const a = sext(readAt(c, src, addrOf(c, src)), size);
    const b = imm !== null ? sext(imm.imm, size) : sext(readReg(c, dst), size);
    let low: number, overflow: boolean;
    if (size === 16) {
      const x = a * b;
      low = x & 0xffff;
      overflow = x !== (x << 16) >> 16;
    } else {
      imul32(a, b, tmp64);
      low = tmp64[0]!;
      overflow = tmp64[1] !== low >> 31;
    }
    writeReg(c, dst, low);
    mulFlags(c, low, size, overflow);
  };
}

export function compileBitTest(_cpu: Cpu, d: Decoded): Exec {
  const row = d.row!;
  const o = operand(d, row.operands[0]!);
  const src = operand(d, row.operands[1]!);
  const size = o.size;
  const kind = row.op === 'bt' ? 0 : row.op === 'bts' ? 1 : row.op === 'btr' ? 2 : 3;
  const apply = (c: Cpu, a: number, bit: number): number => {
    const m = 1 << bit;
    c.flags = (c.getEflags() & ~F_CF) | ((a & m) !== 0 ? F_CF : 0);
    c.lazyMask = 0;
    return kind === 1 ? a | m : kind === 2 ? a & ~m : kind === 3 ? a ^ m : a;
  };
  if (o.kind === O_REG) {
    return (c) => {
      const bit = (src.kind === O_REG ? readReg(c, src) : src.imm) & (size - 1);
      const v = apply(c, readReg(c, o), bit);
      if (kind !== 0) writeReg(c, o, v & maskOf(size));
    };
  }
  return (c) => {
    let addr = ea(c, o);
    let bit: number;
    if (src.kind === O_REG) {
      const off = sext(readReg(c, src), size);
      addr = (addr + (off >> (size === 32 ? 5 : 4)) * (size >> 3)) & o.am;
      bit = off & (size - 1);
    } else bit = src.imm & (size - 1);
    if (kind !== 0) c.checkWrite(o.seg, addr, size >> 3);
    const v = apply(c, readAt(c, o, addr), bit);
    if (kind !== 0) writeAt(c, o, addr, v);
  };
}

export function compileBitScan(_cpu: Cpu, d: Decoded): Exec {
  const row = d.row!;
  const dst = operand(d, row.operands[0]!);
  const src = operand(d, row.operands[1]!);
  const forward = row.op === 'bsf';
  return (c) => {
    const v = readAt(c, src, addrOf(c, src)) & maskOf(src.size);
    const f = c.getEflags() & ~STATUS;
    if (v === 0) {
      c.flags = f | F_ZF;
      c.lazyMask = 0;
      return;
    }
    const idx = forward ? 31 - Math.clz32(v & -v) : 31 - Math.clz32(v);
    writeReg(c, dst, idx);
    c.flags = f | szp(idx, 32) & F_PF;
    c.lazyMask = 0;
  };
}

export function compileSetcc(_cpu: Cpu, d: Decoded): Exec {
  const o = operand(d, d.row!.operands[0]!);
  const cc = d.row!.cc;
  if (o.kind === O_REG) return (c) => writeReg(c, o, c.cond(cc) ? 1 : 0);
  return (c) => writeAt(c, o, ea(c, o), c.cond(cc) ? 1 : 0);
}

export function compileExtend(_cpu: Cpu, d: Decoded): Exec {
  const row = d.row!;
  const dst = operand(d, row.operands[0]!);
  const src = operand(d, row.operands[1]!);
  const r = _cpu.regs;
  if (row.op === 'movzx') {
    if (src.kind === O_MEM && dst.size === 32) {
      const s = src.seg, bi = src.base, ii = src.index, sc = src.scale, dp = src.disp, am = src.am, di = dst.reg;
      return src.size === 8
        ? (c) => { r[di] = c.rd8(s, (r[bi]! + (r[ii]! << sc) + dp) & am); }
        : (c) => { r[di] = c.rd16(s, (r[bi]! + (r[ii]! << sc) + dp) & am); };
    }
    return (c) => writeReg(c, dst, readAt(c, src, addrOf(c, src)));
  }
  const ss = src.size;
  return (c) => writeReg(c, dst, sext(readAt(c, src, addrOf(c, src)), ss));
}

export function compileConvert(_cpu: Cpu, d: Decoded): Exec {
  const wide = d.opsize === 32;
  if (d.row!.op === 'cbw') {
    return wide
      ? (c) => { c.regs[0] = (c.regs[0]! << 16) >> 16; }
      : (c) => { c.regs[0] = (c.regs[0]! & ~0xffff) | (((c.regs[0]! << 24) >> 24) & 0xffff); };
  }
  return wide
    ? (c) => { c.regs[2] = c.regs[0]! >> 31; }
    : (c) => { c.regs[2] = (c.regs[2]! & ~0xffff) | ((c.regs[0]! << 16) >> 31 & 0xffff); };
}

export function compileXaddCmpxchg(_cpu: Cpu, d: Decoded): Exec {
  const row = d.row!;
  const dst = operand(d, row.operands[0]!);
  const src = operand(d, row.operands[1]!);
  const size = dst.size;
  if (row.op === 'xadd') {
    return (c) => {
      const addr = addrOf(c, dst);
      if (dst.kind === O_MEM) c.checkWrite(dst.seg, addr, size >> 3);
      const a = readAt(c, dst, addr), b = readReg(c, src);
      const sum = alu(c, A_ADD, a, b, size);
      writeReg(c, src, a);
      writeAt(c, dst, addr, sum);
    };
  }
  const acc = operand(d, size === 8 ? 'AL' : 'eAX');
  return (c) => {
    const addr = addrOf(c, dst);
    if (dst.kind === O_MEM) c.checkWrite(dst.seg, addr, size >> 3);
    const a = readAt(c, dst, addr), ax = readReg(c, acc) & maskOf(size);
    alu(c, A_CMP, ax, a, size);
    if ((ax & maskOf(size)) === (a & maskOf(size))) writeAt(c, dst, addr, readReg(c, src));
    else {
      // The 486 writes the destination back even when the compare fails.
      writeAt(c, dst, addr, a);
      writeReg(c, acc, a);
    }
  };
}

export function compileBswap(_cpu: Cpu, d: Decoded): Exec {
  const i = d.opcode & 7;
  return (c) => {
    const v = c.regs[i]!;
    c.regs[i] = ((v & 0xff) << 24) | ((v & 0xff00) << 8) | ((v >>> 8) & 0xff00) | (v >>> 24);
  };
}

/** DAA DAS AAA AAS AAM AAD (SDM pseudo-code; undefined flags as TCG computes them). */
export function compileBcd(_cpu: Cpu, d: Decoded): Exec {
  const op = d.row!.op;
  const imm = d.imm & 0xff;
  return (c) => {
    const r = c.regs;
    const f = c.getEflags();
    let al = r[0]! & 0xff;
    const cf = (f & F_CF) !== 0, af = (f & F_AF) !== 0;
    let nf = f & ~STATUS;
    switch (op) {
      case 'daa': {
        const old = al;
        let ncf = false;
        if ((al & 0xf) > 9 || af) { al += 6; nf |= F_AF; ncf = cf || al > 0xff; }
        if (old > 0x99 || cf) { al += 0x60; ncf = true; }
        al &= 0xff;
        if (ncf) nf |= F_CF;
        nf |= szp(al, 8);
        r[0] = (r[0]! & ~0xff) | al;
        break;
      }
      case 'das': {
        const old = al;
        let ncf = false;
        if ((al & 0xf) > 9 || af) { ncf = cf || al < 6; al -= 6; nf |= F_AF; }
        if (old > 0x99 || cf) { al -= 0x60; ncf = true; }
        al &= 0xff;
        if (ncf) nf |= F_CF;
        nf |= szp(al, 8);
        r[0] = (r[0]! & ~0xff) | al;
        break;
      }
      case 'aaa':
      case 'aas': {
        let ax = r[0]! & 0xffff;
        if ((al & 0xf) > 9 || af) {
          if (op === 'aaa') ax = (ax + 0x106) & 0xffff;
          else ax = ((ax - 6) & 0xff) | ((((ax >> 8) - 1) & 0xff) << 8);
          nf |= F_AF | F_CF;
        }
        ax &= 0xff0f;
        r[0] = (r[0]! & ~0xffff) | ax;
        nf |= szp(ax & 0xff, 8);
        break;
      }
      case 'aam': {
        if (imm === 0) c.raise(0);
        const ah = Math.floor(al / imm);
        al = al % imm;
        r[0] = (r[0]! & ~0xffff) | (ah << 8) | al;
        nf |= szp(al, 8);
        break;
      }
      default: {
        const ah = (r[0]! >> 8) & 0xff;
        al = (al + ah * imm) & 0xff;
        r[0] = (r[0]! & ~0xffff) | al;
        nf |= szp(al, 8);
        break;
      }
    }
    c.flags = nf;
    c.lazyMask = 0;
  };
}

/** CLC STC CMC CLD STD LAHF SAHF SALC. */
export function compileFlagOp(_cpu: Cpu, d: Decoded): Exec {
  switch (d.row!.op) {
    case 'clc': return (c) => c.setCF(false);
    case 'stc': return (c) => c.setCF(true);
    case 'cmc': return (c) => c.setCF(!c.getCF());
    case 'cld': return (c) => { c.flags &= ~F_DF; };
    case 'std': return (c) => { c.flags |= F_DF; };
    case 'lahf': return (c) => { c.regs[0] = (c.regs[0]! & ~0xff00) | ((c.getEflags() & 0xd5 | 2) << 8); };
    case 'sahf': return (c) => {
      c.flags = (c.getEflags() & ~0xd5) | ((c.regs[0]! >> 8) & 0xd5);
      c.lazyMask = 0;
    };
    default: return (c) => { c.regs[0] = (c.regs[0]! & ~0xff) | (c.getCF() ? 0xff : 0); }; // salc
  }
}

export { F_OF, F_SF, signOf };

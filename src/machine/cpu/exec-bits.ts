// Execute functions for bit operations (BT*, BSF/BSR, SETcc, BSWAP), XADD/CMPXCHG, the
// MOVZX/MOVSX/CBW/CWD extensions, BCD adjustments and the flag instructions.
import type { Decoded } from '../../x86/decode.ts';
import type { Cpu } from './cpu.ts';
import type { Exec } from './compile.ts';
import { A_ADD, A_CMP, alu, szp } from './alu.ts';
import {
  O_MEM,
  O_REG,
  addrOf,
  ea,
  maskOf,
  operand,
  readAt,
  readReg,
  sext,
  writeAt,
  writeReg,
} from './operands.ts';
import { F_AF, F_CF, F_DF, F_PF, F_ZF, STATUS } from './state.ts';

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
    c.flags = f | (szp(idx, 32) & F_PF);
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
      const s = src.seg,
        bi = src.base,
        ii = src.index,
        sc = src.scale,
        dp = src.disp,
        am = src.am,
        di = dst.reg;
      return src.size === 8
        ? (c) => {
            r[di] = c.rd8(s, (r[bi]! + (r[ii]! << sc) + dp) & am);
          }
        : (c) => {
            r[di] = c.rd16(s, (r[bi]! + (r[ii]! << sc) + dp) & am);
          };
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
      ? (c) => {
          c.regs[0] = (c.regs[0]! << 16) >> 16;
        }
      : (c) => {
          c.regs[0] = (c.regs[0]! & ~0xffff) | (((c.regs[0]! << 24) >> 24) & 0xffff);
        };
  }
  return wide
    ? (c) => {
        c.regs[2] = c.regs[0]! >> 31;
      }
    : (c) => {
        c.regs[2] = (c.regs[2]! & ~0xffff) | (((c.regs[0]! << 16) >> 31) & 0xffff);
      };
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
      const a = readAt(c, dst, addr),
        b = readReg(c, src);
      const sum = alu(c, A_ADD, a, b, size);
      writeReg(c, src, a);
      writeAt(c, dst, addr, sum);
    };
  }
  const acc = operand(d, size === 8 ? 'AL' : 'eAX');
  return (c) => {
    const addr = addrOf(c, dst);
    if (dst.kind === O_MEM) c.checkWrite(dst.seg, addr, size >> 3);
    const a = readAt(c, dst, addr),
      ax = readReg(c, acc) & maskOf(size);
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
    const cf = (f & F_CF) !== 0,
      af = (f & F_AF) !== 0;
    let nf = f & ~STATUS;
    switch (op) {
      case 'daa': {
        const old = al;
        let ncf = false;
        if ((al & 0xf) > 9 || af) {
          al += 6;
          nf |= F_AF;
          ncf = cf || al > 0xff;
        }
        if (old > 0x99 || cf) {
          al += 0x60;
          ncf = true;
        }
        al &= 0xff;
        if (ncf) nf |= F_CF;
        nf |= szp(al, 8);
        r[0] = (r[0]! & ~0xff) | al;
        break;
      }
      case 'das': {
        const old = al;
        let ncf = false;
        if ((al & 0xf) > 9 || af) {
          ncf = cf || al < 6;
          al -= 6;
          nf |= F_AF;
        }
        if (old > 0x99 || cf) {
          al -= 0x60;
          ncf = true;
        }
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
    case 'clc':
      return (c) => c.setCF(false);
    case 'stc':
      return (c) => c.setCF(true);
    case 'cmc':
      return (c) => c.setCF(!c.getCF());
    case 'cld':
      return (c) => {
        c.flags &= ~F_DF;
      };
    case 'std':
      return (c) => {
        c.flags |= F_DF;
      };
    case 'lahf':
      return (c) => {
        c.regs[0] = (c.regs[0]! & ~0xff00) | (((c.getEflags() & 0xd5) | 2) << 8);
      };
    case 'sahf':
      return (c) => {
        c.flags = (c.getEflags() & ~0xd5) | ((c.regs[0]! >> 8) & 0xd5);
        c.lazyMask = 0;
      };
    default:
      return (c) => {
        c.regs[0] = (c.regs[0]! & ~0xff) | (c.getCF() ? 0xff : 0);
      }; // salc
  }
}

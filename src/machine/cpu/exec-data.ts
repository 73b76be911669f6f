// Execute functions for data movement: MOV (all forms), XCHG, LEA, PUSH/POP (registers, memory,
// segments, PUSHA/POPA), ENTER/LEAVE, XLAT, far-pointer loads, BOUND and the string instructions.
import type { Decoded } from '../../x86/decode.ts';
import { Rep } from '../../x86/types.ts';
import type { Cpu } from './cpu.ts';
import type { Exec } from './compile.ts';
import { O_IMM, O_MEM, O_REG, O_SEG, addrOf, ea, operand, readAt, readReg, sext, writeAt, writeReg, maskOf } from './operands.ts';
import { loadDataSegment } from './segments.ts';
import { CS, DS, ES, SS, F_DF, ESP } from './state.ts';
import { T_DIRTY, T_VALID } from '../mmu.ts';
import { alu, A_CMP } from './alu.ts';
import { checkIo } from './exec-system.ts';

export function compileMov(cpu: Cpu, d: Decoded): Exec {
  const row = d.row!;
  const dst = operand(d, row.operands[0]!);
  const src = operand(d, row.operands[1]!);
  const r = cpu.regs;
  if (dst.kind === O_REG && dst.size === 32) {
    const di = dst.reg;
    if (src.kind === O_REG) { const si = src.reg; return () => { r[di] = r[si]!; }; }
    if (src.kind === O_IMM) { const v = src.imm | 0; return () => { r[di] = v; }; }
    const s = src.seg, bi = src.base, ii = src.index, sc = src.scale, dp = src.disp, am = src.am;
    return (c) => { r[di] = c.rd32(s, (r[bi]! + (r[ii]! << sc) + dp) & am); };
  }
  if (dst.kind === O_MEM && dst.size === 32) {
    const s = dst.seg, bi = dst.base, ii = dst.index, sc = dst.scale, dp = dst.disp, am = dst.am;
    if (src.kind === O_REG) { const si = src.reg; return (c) => c.wr32(s, (r[bi]! + (r[ii]! << sc) + dp) & am, r[si]!); }
    const v = src.imm | 0;
    return (c) => c.wr32(s, (r[bi]! + (r[ii]! << sc) + dp) & am, v);
  }
  if (dst.kind === O_REG) return (c) => writeReg(c, dst, readAt(c, src, addrOf(c, src)));
  return (c) => {
    const v = readAt(c, src, addrOf(c, src));
    writeAt(c, dst, ea(c, dst), v);
  };
}

export function compileMovSeg(_cpu: Cpu, d: Decoded): Exec {
  const row = d.row!;
  if (row.op === 'mov_from_seg') {
    const dst = operand(d, row.operands[0]!);
    const s = d.reg;
    if (s > 5) return (c) => c.undefinedOpcode([], c.eip);
    if (dst.kind === O_MEM) return (c) => c.wr16(dst.seg, ea(c, dst), c.segSel[s]!);
    return (c) => writeReg(c, dst, c.segSel[s]!);
  }
  const src = operand(d, row.operands[1]!);
  const s = d.reg;
  if (s === CS || s > 5) return (c) => c.raise(6);
  return (c) => {
    const v = src.kind === O_MEM ? c.rd16(src.seg, ea(c, src)) : c.regs[src.reg]! & 0xffff;
    loadDataSegment(c, s, v);
    if (s === SS) {
      c.inhibit = 1;
      c.stopBlock = 1;
    }
  };
}

export function compileLea(_cpu: Cpu, d: Decoded): Exec {
  const dst = operand(d, d.row!.operands[0]!);
  const src = operand(d, d.row!.operands[1]!);
  const r = _cpu.regs;
  if (dst.size === 32) {
    const di = dst.reg, bi = src.base, ii = src.index, sc = src.scale, dp = src.disp, am = src.am;
    return () => { r[di] = (r[bi]! + (r[ii]! << sc) + dp) & am; };
  }
  return (c) => writeReg(c, dst, ea(c, src));
}

export function compileXchg(_cpu: Cpu, d: Decoded): Exec {
  const a = operand(d, d.row!.operands[0]!);
  const b = operand(d, d.row!.operands[1]!);
  if (a.kind === O_REG && b.kind === O_REG) {
    return (c) => {
      const x = readReg(c, a);
      writeReg(c, a, readReg(c, b));
      writeReg(c, b, x);
    };
  }
  const m = a.kind === O_MEM ? a : b, g = a.kind === O_MEM ? b : a;
  return (c) => {
    const addr = ea(c, m);
    c.checkWrite(m.seg, addr, m.size >> 3);
    const x = readAt(c, m, addr);
    writeAt(c, m, addr, readReg(c, g));
    writeReg(c, g, x);
  };
}

export function compilePush(cpu: Cpu, d: Decoded): Exec {
  const row = d.row!;
  const r = cpu.regs;
  if (row.op === 'push_seg') {
    const s = operand(d, row.operands[0]!).reg;
    return d.opsize === 32 ? (c) => c.push32(c.segSel[s]!) : (c) => c.push16(c.segSel[s]!);
  }
  const o = operand(d, row.operands[0]!);
  if (d.opsize === 32) {
    if (o.kind === O_REG) { const i = o.reg; return (c) => c.push32(r[i]!); }
    if (o.kind === O_IMM) { const v = o.imm | 0; return (c) => c.push32(v); }
    return (c) => c.push32(c.rd32(o.seg, ea(c, o)));
  }
  return (c) => c.push16(readAt(c, o, addrOf(c, o)));
}

export function compilePop(cpu: Cpu, d: Decoded): Exec {
  const row = d.row!;
  const r = cpu.regs;
  const size = d.opsize;
  if (row.op === 'pop_seg') {
    const s = operand(d, row.operands[0]!).reg;
    return (c) => {
      const v = c.rd16(SS, c.stackAddr(0));
      loadDataSegment(c, s, v);
      c.addSP(size >> 3);
      if (s === SS) {
        c.inhibit = 1;
        c.stopBlock = 1;
      }
    };
  }
  const o = operand(d, row.operands[0]!);
  if (o.kind === O_REG) {
    if (size === 32) { const i = o.reg; return (c) => { r[i] = c.pop32(); }; }
    return (c) => writeReg(c, o, c.pop16());
  }
  return (c) => {
    const v = size === 32 ? c.rd32(SS, c.stackAddr(0)) : c.rd16(SS, c.stackAddr(0));
    const old = r[ESP]!;
    c.addSP(size >> 3);
    try {
      writeAt(c, o, ea(c, o), v);
    } catch (e) {
      r[ESP] = old;
      throw e;
    }
  };
}

export function compilePushaPopa(_cpu: Cpu, d: Decoded): Exec {
  const size = d.opsize;
  if (d.row!.op === 'pusha') {
    return (c) => {
      const r = c.regs, sp = r[ESP]!;
      const old = sp;
      try {
        for (let i = 0; i < 8; i++) {
          const v = i === ESP ? old : r[i]!;
          if (size === 32) c.push32(v); else c.push16(v);
        }
      } catch (e) {
        r[ESP] = old;
        throw e;
      }
    };
  }
  return (c) => {
    const r = c.regs, step = size >> 3;
    const vals = [0, 0, 0, 0, 0, 0, 0, 0];
    for (let i = 0; i < 8; i++) {
      const off = c.stackAddr(i * step);
      vals[7 - i] = size === 32 ? c.rd32(SS, off) : c.rd16(SS, off);
    }
    for (let i = 0; i < 8; i++) {
      if (i === ESP) continue;
      if (size === 32) r[i] = vals[i]!; else r[i] = (r[i]! & ~0xffff) | (vals[i]! & 0xffff);
    }
    c.addSP(8 * step);
  };
}

export function compileEnterLeave(_cpu: Cpu, d: Decoded): Exec {
  const size = d.opsize;
  if (d.row!.op === 'leave') {
    return (c) => {
      const r = c.regs;
      const bp = c.stack32 ? r[5]! : r[5]! & 0xffff;
      const v = size === 32 ? c.rd32(SS, bp) : c.rd16(SS, bp);
      if (c.stack32) r[ESP] = (bp + (size >> 3)) | 0;
      else r[ESP] = (r[ESP]! & ~0xffff) | ((bp + (size >> 3)) & 0xffff);
      if (size === 32) r[5] = v; else r[5] = (r[5]! & ~0xffff) | v;
    };
  }
  const alloc = d.imm & 0xffff, level = d.imm2 & 0x1f;
  return (c) => {
    const r = c.regs, oldSP = r[ESP]!;
    try {
      const push = (v: number) => (size === 32 ? c.push32(v) : c.push16(v));
      push(r[5]!);
      const frame = r[ESP]!;
      let bp = r[5]!;
      for (let i = 1; i < level; i++) {
        bp = c.stack32 ? (bp - (size >> 3)) | 0 : (bp - (size >> 3)) & 0xffff;
        push(size === 32 ? c.rd32(SS, bp) : c.rd16(SS, bp));
      }
      if (level > 0) push(frame);
      if (size === 32) r[5] = frame; else r[5] = (r[5]! & ~0xffff) | (frame & 0xffff);
      c.addSP(-alloc);
    } catch (e) {
      r[ESP] = oldSP;
      throw e;
    }
  };
}

export function compileXlat(_cpu: Cpu, d: Decoded): Exec {
  const seg = d.segOverride >= 0 ? d.segOverride : DS;
  const am = d.adsize === 16 ? 0xffff : -1;
  return (c) => {
    const r = c.regs;
    r[0] = (r[0]! & ~0xff) | c.rd8(seg, (r[3]! + (r[0]! & 0xff)) & am);
  };
}

export function compileFarLoad(_cpu: Cpu, d: Decoded): Exec {
  const row = d.row!;
  const seg = { les: ES, lds: DS, lss: SS, lfs: 4, lgs: 5 }[row.op as 'les']!;
  const dst = operand(d, row.operands[0]!);
  const src = operand(d, row.operands[1]!);
  const size = d.opsize;
  return (c) => {
    const addr = ea(c, src);
    const off = size === 32 ? c.rd32(src.seg, addr) : c.rd16(src.seg, addr);
    const sel = c.rd16(src.seg, (addr + (size >> 3)) & src.am);
    loadDataSegment(c, seg, sel);
    writeReg(c, dst, off);
  };
}

export function compileBound(_cpu: Cpu, d: Decoded): Exec {
  const idx = operand(d, d.row!.operands[0]!);
  const m = operand(d, d.row!.operands[1]!);
  const size = d.opsize;
  return (c) => {
    const addr = ea(c, m);
    const v = sext(readReg(c, idx), size);
    const lo = size === 32 ? c.rd32(m.seg, addr) : sext(c.rd16(m.seg, addr), 16);
    const hi = size === 32 ? c.rd32(m.seg, (addr + 4) & m.am) : sext(c.rd16(m.seg, (addr + 2) & m.am), 16);
    if (v < lo || v > hi) c.raise(5);
  };
}

// ---- string instructions -----------------------------------------------------------------------

const K_MOVS = 0, K_STOS = 1, K_LODS = 2, K_CMPS = 3, K_SCAS = 4, K_INS = 5, K_OUTS = 6;
const STRING_KIND: Record<string, number> = { movs: K_MOVS, stos: K_STOS, lods: K_LODS, cmps: K_CMPS, scas: K_SCAS, ins: K_INS, outs: K_OUTS };

export function compileString(_cpu: Cpu, d: Decoded): Exec {
  const kind = STRING_KIND[d.row!.op]!;
  const size = d.row!.mnemonic.endsWith('b') ? 1 : d.opsize >> 3;
  const bits = size * 8;
  const a16 = d.adsize === 16;
  const am = a16 ? 0xffff : -1;
  const srcSeg = d.segOverride >= 0 ? d.segOverride : DS;
  const len = d.length;
  const mask = maskOf(bits);
  const rd = (c: Cpu, s: number, off: number) => (size === 4 ? c.rd32(s, off) : size === 2 ? c.rd16(s, off) : c.rd8(s, off));
  const wr = (c: Cpu, s: number, off: number, v: number) => (size === 4 ? c.wr32(s, off, v) : size === 2 ? c.wr16(s, off, v) : c.wr8(s, off, v));
  const adv = (c: Cpu, reg: number, delta: number) => {
    const r = c.regs;
    r[reg] = a16 ? (r[reg]! & ~0xffff) | ((r[reg]! + delta) & 0xffff) : (r[reg]! + delta) | 0;
  };
  const accRead = (c: Cpu) => c.regs[0]! & mask;
  const accWrite = (c: Cpu, v: number) => {
    const r = c.regs;
    r[0] = size === 4 ? v : (r[0]! & ~mask) | (v & mask);
  };
  /** One iteration; returns the compare result's ZF for CMPS/SCAS (true otherwise). */
  const once = (c: Cpu): boolean => {
    const r = c.regs;
    const delta = (c.flags & F_DF) !== 0 ? -size : size;
    switch (kind) {
      case K_MOVS: wr(c, ES, r[7]! & am, rd(c, srcSeg, r[6]! & am)); adv(c, 6, delta); adv(c, 7, delta); return true;
      case K_STOS: wr(c, ES, r[7]! & am, accRead(c)); adv(c, 7, delta); return true;
      case K_LODS: accWrite(c, rd(c, srcSeg, r[6]! & am)); adv(c, 6, delta); return true;
      case K_CMPS: {
        const a = rd(c, srcSeg, r[6]! & am), b = rd(c, ES, r[7]! & am);
        adv(c, 6, delta); adv(c, 7, delta);
        return alu(c, A_CMP, a, b, bits) === 0;
      }
      case K_SCAS: {
        const b = rd(c, ES, r[7]! & am);
        adv(c, 7, delta);
        return alu(c, A_CMP, accRead(c), b, bits) === 0;
      }
      case K_INS: {
        checkIo(c, r[2]! & 0xffff, size);
        c.checkWrite(ES, r[7]! & am, size);
        const v = c.io.read(r[2]! & 0xffff, size as 1 | 2 | 4);
        wr(c, ES, r[7]! & am, v); adv(c, 7, delta);
        return true;
      }
      default: {
        checkIo(c, r[2]! & 0xffff, size);
        const v = rd(c, srcSeg, r[6]! & am);
        c.io.write(r[2]! & 0xffff, size as 1 | 2 | 4, size === 4 ? v >>> 0 : v & mask); adv(c, 6, delta);
        return true;
      }
    }
  };
  if (d.rep === Rep.NONE) return (c) => { once(c); };
  const conditional = kind === K_CMPS || kind === K_SCAS;
  const repz = d.rep === Rep.REPE;
  const bulk = (kind === K_MOVS || kind === K_STOS) && !a16;
  return (c) => {
    const r = c.regs;
    let count = a16 ? r[1]! & 0xffff : r[1]! >>> 0;
    if (count === 0) return;
    const limit = c.repLimit;
    let k = 0;
    for (;;) {
      if (bulk && (c.flags & F_DF) === 0) {
        const n = bulkChunk(c, kind, size, srcSeg, Math.min(count, limit - k));
        if (n > 0) {
          count -= n;
          r[1] = count | 0;
          k += n;
          c.instructions += n;
          if (count === 0) break;
          if (k >= limit || c.stopBlock !== 0) {
            c.eip = (c.eip - len) & (c.code32 ? -1 : 0xffff);
            break;
          }
          continue;
        }
      }
      const z = once(c);
      count--;
      r[1] = a16 ? (r[1]! & ~0xffff) | count : count | 0;
      k++;
      c.instructions++;
      if (count === 0 || (conditional && z !== repz)) break;
      if (k >= limit || c.stopBlock !== 0) {
        c.eip = (c.eip - len) & (c.code32 ? -1 : 0xffff);
        break;
      }
    }
    c.instructions--;
  };
}

/**
 * REP MOVS/STOS forwards with 32-bit addresses: as many iterations as stay inside one page of
 * plain RAM on each side (segment limits and TLB permissions checked once for the chunk), done
 * with typed-array copies. Returns the iterations done; 0 means take the one-at-a-time path.
 */
function bulkChunk(c: Cpu, kind: number, size: number, srcSeg: number, max: number): number {
  const r = c.regs;
  const di = r[7]! >>> 0;
  const dLin = (c.segBase[ES]! + r[7]!) | 0;
  let n = Math.min(max, Math.floor((0x1000 - (dLin & 0xfff)) / size));
  const de = c.tlb[dLin >>> 12]!;
  if ((de & c.wmask) !== (T_VALID | T_DIRTY)) return 0;
  let sp = 0;
  if (kind === K_MOVS) {
    const sLin = (c.segBase[srcSeg]! + r[6]!) | 0;
    n = Math.min(n, Math.floor((0x1000 - (sLin & 0xfff)) / size));
    const se = c.tlb[sLin >>> 12]!;
    if ((se & c.rmask) !== T_VALID) return 0;
    sp = (se & ~0xfff) | (sLin & 0xfff);
    const si = r[6]! >>> 0;
    if (n <= 0 || si < c.segRLo[srcSeg]! || si + n * size - 1 > c.segRHi[srcSeg]!) return 0;
  }
  if (n <= 0 || di < c.segWLo[ES]! || di + n * size - 1 > c.segWHi[ES]!) return 0;
  const dp = (de & ~0xfff) | (dLin & 0xfff);
  const bytes = n * size;
  const ram = c.ram;
  if (kind === K_MOVS) {
    if (dp > sp && dp < sp + bytes) return 0; // overlapping forward copy replicates: do it byte by byte
    ram.copyWithin(dp, sp, sp + bytes);
    r[6] = (r[6]! + bytes) | 0;
  } else if (size === 1) {
    ram.fill(r[0]! & 0xff, dp, dp + bytes);
  } else if (size === 4 && (dp & 3) === 0) {
    c.ram32.fill(r[0]!, dp >> 2, (dp >> 2) + n);
  } else {
    const v = r[0]!;
    for (let i = 0; i < bytes; i++) ram[dp + i] = v >>> (8 * (i % size));
  }
  r[7] = (r[7]! + bytes) | 0;
  return n;
}

export { O_SEG };

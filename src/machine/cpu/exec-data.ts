// Execute functions for data movement: MOV (all forms), XCHG, LEA, PUSH/POP (registers, memory,
// segments, PUSHA/POPA), ENTER/LEAVE, XLAT, far-pointer loads and BOUND (strings: exec-string.ts).
import type { Decoded } from '../../x86/decode.ts';
import type { Cpu } from './cpu.ts';
import type { Exec } from './compile.ts';
import {
  O_IMM,
  O_MEM,
  O_REG,
  O_SEG,
  addrOf,
  ea,
  operand,
  readAt,
  readReg,
  sext,
  writeAt,
  writeReg,
} from './operands.ts';
import { loadDataSegment } from './segments.ts';
import { CS, DS, ES, SS, ESP } from './state.ts';

export function compileMov(cpu: Cpu, d: Decoded): Exec {
  const row = d.row!;
  const dst = operand(d, row.operands[0]!);
  const src = operand(d, row.operands[1]!);
  const r = cpu.regs;
  if (dst.kind === O_REG && dst.size === 32) {
    const di = dst.reg;
    if (src.kind === O_REG) {
      const si = src.reg;
      return () => {
        r[di] = r[si]!;
      };
    }
    if (src.kind === O_IMM) {
      const v = src.imm | 0;
      return () => {
        r[di] = v;
      };
    }
    const s = src.seg,
      bi = src.base,
      ii = src.index,
      sc = src.scale,
      dp = src.disp,
      am = src.am;
    return (c) => {
      r[di] = c.rd32(s, (r[bi]! + (r[ii]! << sc) + dp) & am);
    };
  }
  if (dst.kind === O_MEM && dst.size === 32) {
    const s = dst.seg,
      bi = dst.base,
      ii = dst.index,
      sc = dst.scale,
      dp = dst.disp,
      am = dst.am;
    if (src.kind === O_REG) {
      const si = src.reg;
      return (c) => c.wr32(s, (r[bi]! + (r[ii]! << sc) + dp) & am, r[si]!);
    }
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
    const di = dst.reg,
      bi = src.base,
      ii = src.index,
      sc = src.scale,
      dp = src.disp,
      am = src.am;
    return () => {
      r[di] = (r[bi]! + (r[ii]! << sc) + dp) & am;
    };
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
  const m = a.kind === O_MEM ? a : b,
    g = a.kind === O_MEM ? b : a;
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
    if (o.kind === O_REG) {
      const i = o.reg;
      return (c) => c.push32(r[i]!);
    }
    if (o.kind === O_IMM) {
      const v = o.imm | 0;
      return (c) => c.push32(v);
    }
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
    if (size === 32) {
      const i = o.reg;
      return (c) => {
        r[i] = c.pop32();
      };
    }
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
      const r = c.regs,
        sp = r[ESP]!;
      const old = sp;
      try {
        for (let i = 0; i < 8; i++) {
          const v = i === ESP ? old : r[i]!;
          if (size === 32) c.push32(v);
          else c.push16(v);
        }
      } catch (e) {
        r[ESP] = old;
        throw e;
      }
    };
  }
  return (c) => {
    const r = c.regs,
      step = size >> 3;
    const vals = [0, 0, 0, 0, 0, 0, 0, 0];
    for (let i = 0; i < 8; i++) {
      const off = c.stackAddr(i * step);
      vals[7 - i] = size === 32 ? c.rd32(SS, off) : c.rd16(SS, off);
    }
    for (let i = 0; i < 8; i++) {
      if (i === ESP) continue;
      if (size === 32) r[i] = vals[i]!;
      else r[i] = (r[i]! & ~0xffff) | (vals[i]! & 0xffff);
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
      if (size === 32) r[5] = v;
      else r[5] = (r[5]! & ~0xffff) | v;
    };
  }
  const alloc = d.imm & 0xffff,
    level = d.imm2 & 0x1f;
  return (c) => {
    const r = c.regs,
      oldSP = r[ESP]!;
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
      if (size === 32) r[5] = frame;
      else r[5] = (r[5]! & ~0xffff) | (frame & 0xffff);
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

export { O_SEG };

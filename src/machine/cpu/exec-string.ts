// Execute functions for the string instructions MOVS STOS LODS CMPS SCAS INS OUTS, with REP,
// REPE/REPNE in both directions. A REP instruction runs at most the iterations the run budget
// allows (one per step when single-stepping, as QEMU logs them) and leaves EIP on itself until
// done; forward REP MOVS/STOS over plain RAM go page by page with typed-array copies.
import type { Decoded } from '../../x86/decode.ts';
import { Rep } from '../../x86/types.ts';
import type { Cpu } from './cpu.ts';
import type { Exec } from './compile.ts';
import { maskOf } from './operands.ts';
import { DS, ES, F_DF } from './state.ts';
import { alu, A_CMP } from './alu.ts';
import { checkIo } from './exec-system.ts';
import { T_DIRTY, T_VALID } from '../mmu.ts';

// ---- string instructions -----------------------------------------------------------------------

const K_MOVS = 0,
  K_STOS = 1,
  K_LODS = 2,
  K_CMPS = 3,
  K_SCAS = 4,
  K_INS = 5,
  K_OUTS = 6;
const STRING_KIND: Record<string, number> = {
  movs: K_MOVS,
  stos: K_STOS,
  lods: K_LODS,
  cmps: K_CMPS,
  scas: K_SCAS,
  ins: K_INS,
  outs: K_OUTS,
};

export function compileString(_cpu: Cpu, d: Decoded): Exec {
  const kind = STRING_KIND[d.row!.op]!;
  const size = d.row!.mnemonic.endsWith('b') ? 1 : d.opsize >> 3;
  const bits = size * 8;
  const a16 = d.adsize === 16;
  const am = a16 ? 0xffff : -1;
  const srcSeg = d.segOverride >= 0 ? d.segOverride : DS;
  const len = d.length;
  const mask = maskOf(bits);
  const rd = (c: Cpu, s: number, off: number) =>
    size === 4 ? c.rd32(s, off) : size === 2 ? c.rd16(s, off) : c.rd8(s, off);
  const wr = (c: Cpu, s: number, off: number, v: number) =>
    size === 4 ? c.wr32(s, off, v) : size === 2 ? c.wr16(s, off, v) : c.wr8(s, off, v);
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
      case K_MOVS:
        wr(c, ES, r[7]! & am, rd(c, srcSeg, r[6]! & am));
        adv(c, 6, delta);
        adv(c, 7, delta);
        return true;
      case K_STOS:
        wr(c, ES, r[7]! & am, accRead(c));
        adv(c, 7, delta);
        return true;
      case K_LODS:
        accWrite(c, rd(c, srcSeg, r[6]! & am));
        adv(c, 6, delta);
        return true;
      case K_CMPS: {
        const a = rd(c, srcSeg, r[6]! & am),
          b = rd(c, ES, r[7]! & am);
        adv(c, 6, delta);
        adv(c, 7, delta);
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
        wr(c, ES, r[7]! & am, v);
        adv(c, 7, delta);
        return true;
      }
      default: {
        checkIo(c, r[2]! & 0xffff, size);
        const v = rd(c, srcSeg, r[6]! & am);
        c.io.write(r[2]! & 0xffff, size as 1 | 2 | 4, size === 4 ? v >>> 0 : v & mask);
        adv(c, 6, delta);
        return true;
      }
    }
  };
  if (d.rep === Rep.NONE)
    return (c) => {
      once(c);
    };
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

// Execute functions for system instructions: descriptor tables, control/debug registers, TLB and
// cache control, HLT, CLI/STI, PUSHF/POPF, port I/O with IOPL and the TSS I/O bitmap, CPUID,
// RDTSC/RDMSR/WRMSR (virtual TSC), LAR/LSL/VERR/VERW/ARPL, and the x87 escapes of an FPU-less 486.
import type { Decoded } from '../../x86/decode.ts';
import { KIND_BIT } from '../../trace/schema.ts';
import type { Cpu } from './cpu.ts';
import type { Exec } from './compile.ts';
import { O_MEM, ea, operand, readAt, addrOf, writeReg, writeAt } from './operands.ts';
import {
  Descriptor,
  descriptorAddress,
  loadLdt,
  loadTr,
  protectedMode,
  refreshAllRanges,
} from './segments.ts';
import { setEflags } from './transfer.ts';
import {
  CR0_EM,
  CR0_ET,
  CR0_MP,
  CR0_PE,
  CR0_PG,
  CR0_TS,
  CR0_WP,
  CR4_PSE,
  F_IF,
  F_IOPL,
  F_RF,
  F_VM,
  F_ZF,
  LDTR,
  TR,
} from './state.ts';

/** IOPL check for port I/O, then the TSS I/O permission bitmap (SDM vol. 1, 19.5). */
export function checkIo(c: Cpu, port: number, size: number): void {
  if (!protectedMode(c) || c.cpl <= (c.flags & F_IOPL) >>> 12) return;
  if (c.rings !== null) c.raise(13, 0); // ring compression: the CPU's TSS is the VMM's, with no I/O bitmap
  const tss32 = (c.segAccess[TR]! & 0x8) !== 0;
  if (!tss32 || c.segLimit[TR]! < 0x67) c.raise(13, 0);
  const base = c.segBase[TR]!;
  const mapOff = c.sysRead16((base + 0x66) | 0);
  const byteOff = mapOff + (port >>> 3);
  if (byteOff + 1 > c.segLimit[TR]!) c.raise(13, 0);
  const bits = c.sysRead16((base + byteOff) | 0);
  if (((bits >>> (port & 7)) & ((1 << size) - 1)) !== 0) c.raise(13, 0);
}

function checkIopl(c: Cpu): void {
  if (protectedMode(c) && c.cpl > (c.flags & F_IOPL) >>> 12) c.raise(13, 0);
}

export function compileIo(_cpu: Cpu, d: Decoded): Exec {
  const row = d.row!;
  const isIn = row.op === 'in';
  const dataKind = isIn ? row.operands[0]! : row.operands[1]!;
  const portKind = isIn ? row.operands[1]! : row.operands[0]!;
  const size = (dataKind === 'AL' ? 1 : d.opsize >> 3) as 1 | 2 | 4;
  const fixedPort = portKind === 'DX' ? -1 : d.imm & 0xff;
  const mask = size === 4 ? -1 : size === 2 ? 0xffff : 0xff;
  if (isIn) {
    return (c) => {
      const port = fixedPort >= 0 ? fixedPort : c.regs[2]! & 0xffff;
      checkIo(c, port, size);
      const v = c.io.read(port, size);
      c.regs[0] = size === 4 ? v | 0 : (c.regs[0]! & ~mask) | (v & mask);
    };
  }
  return (c) => {
    const port = fixedPort >= 0 ? fixedPort : c.regs[2]! & 0xffff;
    checkIo(c, port, size);
    c.io.write(port, size, size === 4 ? c.regs[0]! >>> 0 : c.regs[0]! & mask);
  };
}

const desc = new Descriptor();

export function compileSystem(_cpu: Cpu, d: Decoded): Exec | null {
  const row = d.row!;
  const size = d.opsize;
  switch (row.op) {
    case 'nop':
    case 'invd':
    case 'wbinvd':
      return () => {};
    case 'hlt':
      return (c) => {
        c.halted = true;
        c.stopBlock = 1;
        if ((c.emitter.mask & KIND_BIT.halt) !== 0) c.emitter.emit('halt', { eip: c.eip >>> 0 });
      };
    case 'cli':
      return (c) => {
        checkIopl(c);
        c.flags = c.flags & ~F_IF;
      };
    case 'sti':
      return (c) => {
        checkIopl(c);
        if ((c.flags & F_IF) === 0) {
          c.flags |= F_IF;
          c.inhibit = 1;
          if (c.pic !== null) c.intrPending = true;
        }
        c.stopBlock = 1;
      };
    case 'pushf':
      return (c) => {
        const f = c.getEflags() & ~(F_VM | F_RF);
        if (size === 32) c.push32(f);
        else c.push16(f);
      };
    case 'popf':
      return (c) => {
        const v = size === 32 ? c.pop32() : c.pop16();
        setEflags(c, v, size === 32 ? 0x247fd5 : 0x7fd5);
      };
    case 'lgdt':
    case 'lidt': {
      const o = operand(d, row.operands[0]!);
      const gdt = row.op === 'lgdt';
      return (c) => {
        const a = ea(c, o);
        const limit = c.rd16(o.seg, a);
        let base = c.rd32(o.seg, (a + 2) & o.am);
        if (size === 16) base &= 0xffffff;
        if (gdt) {
          c.gdtBase = base;
          c.gdtLimit = limit;
        } else {
          c.idtBase = base;
          c.idtLimit = limit;
        }
      };
    }
    case 'sgdt':
    case 'sidt': {
      const o = operand(d, row.operands[0]!);
      const gdt = row.op === 'sgdt';
      return (c) => {
        const a = ea(c, o);
        c.checkWrite(o.seg, a, 6);
        c.wr16(o.seg, a, gdt ? c.gdtLimit : c.idtLimit);
        const base = gdt ? c.gdtBase : c.idtBase;
        c.wr32(o.seg, (a + 2) & o.am, size === 16 ? base & 0xffffff : base);
      };
    }
    case 'lldt':
    case 'ltr': {
      const o = operand(d, row.operands[0]!);
      const isLdt = row.op === 'lldt';
      return (c) => {
        const sel = readAt(c, o, addrOf(c, o)) & 0xffff;
        if (isLdt) loadLdt(c, sel);
        else loadTr(c, sel);
      };
    }
    case 'sldt':
    case 'str': {
      const o = operand(d, row.operands[0]!);
      const s = row.op === 'sldt' ? LDTR : TR;
      if (o.kind === O_MEM) return (c) => c.wr16(o.seg, ea(c, o), c.segSel[s]!);
      return (c) => writeReg(c, o, c.segSel[s]!);
    }
    case 'smsw': {
      const o = operand(d, row.operands[0]!);
      if (o.kind === O_MEM) return (c) => c.wr16(o.seg, ea(c, o), c.cr0 & 0xffff);
      return (c) => writeReg(c, o, c.cr0);
    }
    case 'lmsw': {
      const o = operand(d, row.operands[0]!);
      return (c) => {
        const v = readAt(c, o, addrOf(c, o)) & 0xf;
        // LMSW can set PE but never clear it.
        writeCr0(c, (c.cr0 & ~0xe) | v | (c.cr0 & CR0_PE));
      };
    }
    case 'clts':
      return (c) => {
        c.cr0 &= ~CR0_TS;
      };
    case 'invlpg': {
      const o = operand(d, row.operands[0]!);
      return (c) => {
        c.invlpg((c.segBase[o.seg]! + ea(c, o)) | 0);
        c.stopBlock = 1;
      };
    }
    case 'mov_from_cr': {
      const n = d.reg,
        rm = d.rm;
      if (n !== 0 && n !== 2 && n !== 3 && n !== 4) return (c) => c.raise(6);
      return (c) => {
        c.regs[rm] = n === 0 ? c.cr0 : n === 2 ? c.cr2 : n === 3 ? c.cr3 : c.cr4;
      };
    }
    case 'mov_to_cr': {
      const n = d.reg,
        rm = d.rm;
      if (n !== 0 && n !== 2 && n !== 3 && n !== 4) return (c) => c.raise(6);
      return (c) => {
        const v = c.regs[rm]!;
        if (n === 0) writeCr0(c, v);
        else if (n === 2) c.cr2 = v;
        else if (n === 3) {
          c.cr3 = v;
          c.flushTlb();
        } else {
          if ((v & ~0x1f) !== 0) c.raise(13, 0);
          const changed = (c.cr4 ^ v) & CR4_PSE;
          c.cr4 = v;
          if (changed) c.flushTlb();
        }
        c.stopBlock = 1;
      };
    }
    case 'mov_from_dr': {
      const n = d.reg,
        rm = d.rm;
      return (c) => {
        c.regs[rm] = c.dr[n === 4 || n === 5 ? n + 2 : n]!;
      };
    }
    case 'mov_to_dr': {
      const n = d.reg,
        rm = d.rm;
      return (c) => {
        c.dr[n === 4 || n === 5 ? n + 2 : n] = c.regs[rm]!;
      };
    }
    case 'cpuid':
      return (c) => {
        const r = c.regs;
        if (r[0] === 0) {
          // "GenuineIntel", max leaf 1.
          r[0] = 1;
          r[3] = 0x756e6547;
          r[2] = 0x49656e69;
          r[1] = 0x6c65746e;
        } else {
          // Family 4 (486), model 8, stepping 0; EDX: PSE (3), TSC (4), MSR (5); no FPU (bit 0 clear).
          r[0] = 0x480;
          r[3] = 0;
          r[1] = 0;
          r[2] = 0x38;
        }
      };
    case 'rdtsc':
      return (c) => {
        if ((c.cr4 & 4) !== 0 && c.cpl > 0 && protectedMode(c)) c.raise(13, 0);
        const t = c.instructions + c.tscOffset;
        c.regs[0] = (t % 4294967296) | 0;
        c.regs[2] = Math.floor(t / 4294967296) | 0;
      };
    case 'rdmsr':
    case 'wrmsr':
      return (c) => {
        const r = c.regs;
        if (r[1] !== 0x10) c.raise(13, 0);
        if (row.op === 'rdmsr') {
          const t = c.instructions + c.tscOffset;
          r[0] = (t % 4294967296) | 0;
          r[2] = Math.floor(t / 4294967296) | 0;
        } else {
          c.tscOffset = (r[2]! >>> 0) * 4294967296 + (r[0]! >>> 0) - c.instructions;
        }
      };
    case 'wait':
      return (c) => {
        if ((c.cr0 & (CR0_MP | CR0_TS)) === (CR0_MP | CR0_TS)) c.raise(7);
      };
    case 'esc':
      // This 486 has no FPU. With CR0.EM or CR0.TS set an x87 opcode raises #NM (the OS's
      // emulation / lazy-switch hook, as the SDM specifies); with both clear we raise #UD, the
      // simple, explicit choice for a machine without a coprocessor (a real 486SX would hang on
      // FWAIT-style waits instead). FNINIT/FNSTSW probes therefore trap rather than read 0xFFFF.
      return (c) => c.raise((c.cr0 & (CR0_EM | CR0_TS)) !== 0 ? 7 : 6);
    case 'ud':
      return (c) => c.raise(6);
    case 'arpl': {
      const dst = operand(d, row.operands[0]!);
      const src = operand(d, row.operands[1]!);
      return (c) => {
        const addr = addrOf(c, dst);
        const a = readAt(c, dst, addr),
          b = c.regs[src.reg]! & 0xffff;
        const f = c.getEflags() & ~F_ZF;
        if ((a & 3) < (b & 3)) {
          writeAt(c, dst, addr, (a & ~3) | (b & 3));
          c.flags = f | F_ZF;
        } else c.flags = f;
        c.lazyMask = 0;
      };
    }
    case 'lar':
    case 'lsl':
    case 'verr':
    case 'verw':
      return compileAccessCheck(d);
    default:
      return null;
  }
}

/** MOV CR0 / LMSW: mode changes flush the TLB, refresh segment checks and emit a 'mode' event. */
export function writeCr0(c: Cpu, v: number): void {
  if ((v & CR0_PG) !== 0 && (v & CR0_PE) === 0) c.raise(13, 0);
  v = ((v | CR0_ET) & ~0x1ffaffc0) | 0;
  const old = c.cr0;
  c.cr0 = v;
  const changed = old ^ v;
  if ((changed & (CR0_PG | CR0_WP | CR0_PE)) !== 0) c.flushTlb();
  if ((changed & CR0_PE) !== 0) {
    if ((v & CR0_PE) === 0 && c.cpl !== 0) {
      c.cpl = 0;
      c.updateMasks();
    }
    refreshAllRanges(c);
    c.epoch++;
  }
  if ((changed & (CR0_PE | CR0_PG)) !== 0) c.modeChanged();
  c.stopBlock = 1;
}

function compileAccessCheck(d: Decoded): Exec {
  const row = d.row!;
  const op = row.op;
  const selOp = operand(d, row.operands[op === 'lar' || op === 'lsl' ? 1 : 0]!);
  const dst = op === 'lar' || op === 'lsl' ? operand(d, row.operands[0]!) : null;
  const size = d.opsize;
  return (c) => {
    const sel = readAt(c, selOp, addrOf(c, selOp)) & 0xffff;
    let ok = false;
    let result = 0;
    const addr = (sel & ~3) === 0 ? -1 : descriptorAddress(c, sel);
    if (addr !== -1) {
      desc.lo = c.sysRead32(addr);
      desc.hi = c.sysRead32((addr + 4) | 0);
      if (c.rings !== null) c.rings.compress(c, desc); // ring compression: the CPU's view
      const privOk = desc.dpl >= c.cpl && desc.dpl >= (sel & 3);
      const conformingCode = desc.isCode && desc.conforming;
      if (desc.system) {
        const t = desc.type;
        const larTypes = [1, 2, 3, 4, 5, 9, 11, 12];
        const lslTypes = [1, 2, 3, 9, 11];
        if (op === 'lar') ok = larTypes.includes(t) && privOk;
        else if (op === 'lsl') ok = lslTypes.includes(t) && privOk;
      } else if (op === 'lar' || op === 'lsl') {
        ok = conformingCode || privOk;
      } else if (op === 'verr') {
        ok = (!desc.isCode || desc.rw) && (conformingCode || privOk);
      } else {
        ok = !desc.isCode && desc.rw && privOk;
      }
      if (ok) result = op === 'lar' ? desc.hi & (size === 32 ? 0x00f0ff00 : 0xff00) : desc.limit;
    }
    const f = c.getEflags() & ~F_ZF;
    c.flags = ok ? f | F_ZF : f;
    c.lazyMask = 0;
    if (ok && dst !== null) writeReg(c, dst, result);
  };
}

export { CR0_PG };

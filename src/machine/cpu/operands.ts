// Operands resolved at decode time: a small object of one shape per operand (register number and
// byte shift, or the pieces of an effective address, or an immediate), plus the read/write helpers
// the generic execute functions use. The hot forms in fast.ts bypass these and bake the numbers in.
import type { Decoded } from '../../x86/decode.ts';
import { OPERAND_INFO, type OperandKind } from '../../x86/types.ts';
import type { CpuMmu } from '../mmu.ts';
import { ZERO_REG } from './state.ts';

export const O_REG = 0,
  O_MEM = 1,
  O_IMM = 2,
  O_SEG = 3;

export class Opnd {
  kind = O_REG;
  /** 8, 16 or 32. */
  size = 32;
  /** General register index (0-7), or segment register for O_SEG. */
  reg = 0;
  /** Bit shift of an 8-bit register inside its 32-bit register (AH = 8). */
  sh = 0;
  base = ZERO_REG;
  index = ZERO_REG;
  scale = 0;
  disp = 0;
  /** Address-size mask: -1 or 0xffff. */
  am = -1;
  seg = 3;
  imm = 0;
}

/** The effective address (offset in the segment) of a memory operand. */
export function ea(cpu: CpuMmu, o: Opnd): number {
  const r = cpu.regs;
  return (r[o.base]! + (r[o.index]! << o.scale) + o.disp) & o.am;
}

export function sizeOf(kind: OperandKind, d: Decoded): number {
  const s = OPERAND_INFO[kind].size;
  if (s === 'v') return d.opsize;
  if (s === 8 || s === 16 || s === 32) return s;
  return d.opsize;
}

/** Builds the memory-operand part from the decoded ModRM / moffs fields. */
export function memOperand(d: Decoded, size: number): Opnd {
  const o = new Opnd();
  o.kind = O_MEM;
  o.size = size;
  o.base = d.eaBase >= 0 ? d.eaBase : ZERO_REG;
  o.index = d.eaIndex >= 0 ? d.eaIndex : ZERO_REG;
  o.scale = d.eaScale;
  o.disp = d.disp | 0;
  o.am = d.adsize === 16 ? 0xffff : -1;
  o.seg = d.eaSeg;
  return o;
}

export function regOperand(reg: number, size: number): Opnd {
  const o = new Opnd();
  o.kind = O_REG;
  o.size = size;
  if (size === 8) {
    o.reg = reg & 3;
    o.sh = (reg & 4) << 1;
  } else o.reg = reg;
  return o;
}

export function immOperand(v: number, size: number): Opnd {
  const o = new Opnd();
  o.kind = O_IMM;
  o.size = size;
  o.imm = size === 32 ? v | 0 : v & (size === 16 ? 0xffff : 0xff);
  return o;
}

/** Resolves operand `i` of the decoded row. */
export function operand(d: Decoded, kind: OperandKind): Opnd {
  const info = OPERAND_INFO[kind];
  const size = sizeOf(kind, d);
  switch (info.loc) {
    case 'rm':
      return d.isMemory ? memOperand(d, size) : regOperand(d.rm, size);
    case 'reg':
      return regOperand(d.reg, size);
    case 'opreg':
      return regOperand(d.opcode & 7, size);
    case 'imm':
      return immOperand(d.imm, kind === 'Ib' ? 8 : kind === 'Iw' ? 16 : kind === 'Ibs' ? d.opsize : size);
    case 'imm2':
      return immOperand(d.imm2, 8);
    case 'const':
      return immOperand(1, 8);
    case 'moffs':
      return memOperand(d, size);
    case 'fixed':
      if (info.segment) {
        const o = new Opnd();
        o.kind = O_SEG;
        o.reg = info.fixedReg;
        o.size = 16;
        return o;
      }
      return regOperand(info.fixedReg, size);
    case 'sreg': {
      const o = new Opnd();
      o.kind = O_SEG;
      o.reg = d.reg;
      o.size = 16;
      return o;
    }
    default:
      return immOperand(0, size);
  }
}

export function readReg(cpu: CpuMmu, o: Opnd): number {
  const v = cpu.regs[o.reg]!;
  return o.size === 32 ? v : o.size === 16 ? v & 0xffff : (v >> o.sh) & 0xff;
}

export function writeReg(cpu: CpuMmu, o: Opnd, v: number): void {
  const r = cpu.regs;
  if (o.size === 32) r[o.reg] = v;
  else if (o.size === 16) r[o.reg] = (r[o.reg]! & ~0xffff) | (v & 0xffff);
  else r[o.reg] = (r[o.reg]! & ~(0xff << o.sh)) | ((v & 0xff) << o.sh);
}

export function readMem(cpu: CpuMmu, o: Opnd, addr: number): number {
  return o.size === 32 ? cpu.rd32(o.seg, addr) : o.size === 16 ? cpu.rd16(o.seg, addr) : cpu.rd8(o.seg, addr);
}

export function writeMem(cpu: CpuMmu, o: Opnd, addr: number, v: number): void {
  if (o.size === 32) cpu.wr32(o.seg, addr, v);
  else if (o.size === 16) cpu.wr16(o.seg, addr, v);
  else cpu.wr8(o.seg, addr, v);
}

/** Reads any operand kind (memory at its effective address). */
export function read(cpu: CpuMmu, o: Opnd): number {
  switch (o.kind) {
    case O_REG:
      return readReg(cpu, o);
    case O_MEM:
      return readMem(cpu, o, ea(cpu, o));
    case O_IMM:
      return o.imm;
    default:
      return cpu.segSel[o.reg]!;
  }
}

export function write(cpu: CpuMmu, o: Opnd, v: number): void {
  if (o.kind === O_REG) writeReg(cpu, o, v);
  else if (o.kind === O_MEM) writeMem(cpu, o, ea(cpu, o), v);
}

/** Read for read-modify-write: `addr` is the effective address computed once by the caller. */
export function readAt(cpu: CpuMmu, o: Opnd, addr: number): number {
  return o.kind === O_REG ? readReg(cpu, o) : o.kind === O_MEM ? readMem(cpu, o, addr) : o.imm;
}

export function writeAt(cpu: CpuMmu, o: Opnd, addr: number, v: number): void {
  if (o.kind === O_REG) writeReg(cpu, o, v);
  else writeMem(cpu, o, addr, v);
}

export function addrOf(cpu: CpuMmu, o: Opnd): number {
  return o.kind === O_MEM ? ea(cpu, o) : 0;
}

export function signOf(size: number): number {
  return size === 8 ? 0x80 : size === 16 ? 0x8000 : 0x80000000 | 0;
}
export function maskOf(size: number): number {
  return size === 8 ? 0xff : size === 16 ? 0xffff : -1;
}
/** Sign-extends a value of `size` bits to int32. */
export function sext(v: number, size: number): number {
  return size === 8 ? (v << 24) >> 24 : size === 16 ? (v << 16) >> 16 : v | 0;
}

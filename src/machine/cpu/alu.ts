// Arithmetic cores shared by the execute functions: the eight ALU operations with lazy flags,
// shifts and rotates, multiply and divide, with flags computed as the SDM specifies (and, where the
// SDM says "undefined", as QEMU's TCG computes them, so lockstep traces agree where they can).
import type { CpuRegs } from './state.ts';
import {
  F_AF,
  F_CF,
  F_OF,
  F_SF,
  F_ZF,
  L_ADC,
  L_ADD,
  L_DEC,
  L_INC,
  L_LOGIC,
  L_SBB,
  L_SUB,
  PARITY,
} from './state.ts';
import { maskOf, sext, signOf } from './operands.ts';

export const A_ADD = 0,
  A_OR = 1,
  A_ADC = 2,
  A_SBB = 3,
  A_AND = 4,
  A_SUB = 5,
  A_XOR = 6,
  A_CMP = 7,
  A_TEST = 8;
export const ALU_INDEX: Record<string, number> = {
  add: 0,
  or: 1,
  adc: 2,
  sbb: 3,
  and: 4,
  sub: 5,
  xor: 6,
  cmp: 7,
  test: 8,
};

/** Computes `a op b` at `size` bits, sets lazy flags and returns the truncated result. */
export function alu(cpu: CpuRegs, op: number, a: number, b: number, size: number): number {
  const mask = maskOf(size),
    sign = signOf(size);
  let r: number;
  switch (op) {
    case A_ADD:
      r = (a + b) & mask;
      cpu.setLazy(L_ADD, a, b, r, sign);
      return r;
    case A_OR:
      r = (a | b) & mask;
      cpu.setLazy(L_LOGIC, a, b, r, sign);
      return r;
    case A_ADC: {
      const c = cpu.getCF() ? 1 : 0;
      r = (a + b + c) & mask;
      cpu.setLazy(c ? L_ADC : L_ADD, a, b, r, sign);
      return r;
    }
    case A_SBB: {
      const c = cpu.getCF() ? 1 : 0;
      r = (a - b - c) & mask;
      cpu.setLazy(c ? L_SBB : L_SUB, a, b, r, sign);
      return r;
    }
    case A_AND:
    case A_TEST:
      r = a & b & mask;
      cpu.setLazy(L_LOGIC, a, b, r, sign);
      return r;
    case A_XOR:
      r = (a ^ b) & mask;
      cpu.setLazy(L_LOGIC, a, b, r, sign);
      return r;
    default: // SUB, CMP
      r = (a - b) & mask;
      cpu.setLazy(L_SUB, a, b, r, sign);
      return r;
  }
}

export function inc(cpu: CpuRegs, a: number, size: number): number {
  const r = (a + 1) & maskOf(size);
  cpu.setLazyKeepCF(L_INC, a, r, signOf(size));
  return r;
}

export function dec(cpu: CpuRegs, a: number, size: number): number {
  const r = (a - 1) & maskOf(size);
  cpu.setLazyKeepCF(L_DEC, a, r, signOf(size));
  return r;
}

/** PF, ZF, SF of a truncated result. */
export function szp(r: number, size: number): number {
  return PARITY[r & 0xff]! | ((r & maskOf(size)) === 0 ? F_ZF : 0) | ((r & signOf(size)) !== 0 ? F_SF : 0);
}

export const S_ROL = 0,
  S_ROR = 1,
  S_RCL = 2,
  S_RCR = 3,
  S_SHL = 4,
  S_SHR = 5,
  S_SAL = 6,
  S_SAR = 7;
export const SHIFT_INDEX: Record<string, number> = {
  rol: 0,
  ror: 1,
  rcl: 2,
  rcr: 3,
  shl: 4,
  shr: 5,
  sal: 6,
  sar: 7,
};

/** Shift/rotate `a` (size bits, unsigned) by `count` (unmasked). Flags are set eagerly. */
export function shift(cpu: CpuRegs, op: number, a: number, count: number, size: number): number {
  const mask = maskOf(size),
    sign = signOf(size);
  let c = count & 0x1f;
  if (c === 0) return a;
  a &= mask;
  const f = cpu.getEflags();
  let r: number, cf: number, of: number;
  switch (op) {
    case S_ROL: {
      const k = c & (size - 1);
      r = k === 0 ? a : ((a << k) | ((a & mask) >>> (size - k))) & mask;
      cf = r & 1;
      of = ((r & sign) !== 0 ? 1 : 0) ^ cf;
      cpu.flags = (f & ~(F_CF | F_OF)) | cf | (of ? F_OF : 0);
      cpu.lazyMask = 0;
      return r;
    }
    case S_ROR: {
      const k = c & (size - 1);
      r = k === 0 ? a : (((a & mask) >>> k) | (a << (size - k))) & mask;
      cf = (r & sign) !== 0 ? 1 : 0;
      of = cf ^ ((r & (sign >>> 1)) !== 0 ? 1 : 0);
      cpu.flags = (f & ~(F_CF | F_OF)) | cf | (of ? F_OF : 0);
      cpu.lazyMask = 0;
      return r;
    }
    case S_RCL:
    case S_RCR: {
      if (size === 8) c %= 9;
      else if (size === 16) c %= 17;
      cf = f & F_CF;
      r = a;
      if (c === 0) return a;
      for (let i = 0; i < c; i++) {
        if (op === S_RCL) {
          const out = (r & sign) !== 0 ? 1 : 0;
          r = ((r << 1) | cf) & mask;
          cf = out;
        } else {
          const out = r & 1;
          r = ((r & mask) >>> 1) | (cf ? sign : 0);
          r &= mask;
          cf = out;
        }
      }
      // OF = MSB(a ^ r): the SDM's rule for count 1, and what QEMU computes for larger counts.
      of = ((a ^ r) & sign) !== 0 ? 1 : 0;
      cpu.flags = (f & ~(F_CF | F_OF)) | cf | (of ? F_OF : 0);
      cpu.lazyMask = 0;
      return r;
    }
    case S_SHL:
    case S_SAL: {
      r = c < 32 ? (a << c) & mask : 0;
      cf = c <= size ? (size - c < 32 ? (a >>> (size - c)) & 1 : 0) : 0;
      if (size === 32) cf = (a >>> (32 - c)) & 1;
      of = ((r & sign) !== 0 ? 1 : 0) ^ cf;
      break;
    }
    case S_SHR: {
      r = (a >>> c) & mask;
      cf = (a >>> (c - 1)) & 1;
      // The SDM defines OF only for count 1 (the original MSB); QEMU: MSB(r ^ (a >> (count-1))).
      of = ((r ^ (a >>> (c - 1))) & sign) !== 0 ? 1 : 0;
      break;
    }
    default: {
      // SAR
      const s = sext(a, size);
      r = (s >> c) & mask;
      cf = (s >> (c - 1)) & 1;
      of = 0;
      break;
    }
  }
  cpu.flags = (f & ~0x8d5) | szp(r, size) | cf | (of ? F_OF : 0);
  cpu.lazyMask = 0;
  return r;
}

/** SHLD (left = true) / SHRD: shifts `a` by `count`, filling from `b`. */
export function doubleShift(
  cpu: CpuRegs,
  left: boolean,
  a: number,
  b: number,
  count: number,
  size: number,
): number {
  const c = count & 0x1f;
  if (c === 0) return a & maskOf(size);
  const mask = maskOf(size),
    sign = signOf(size);
  let r: number, cf: number;
  if (size === 32) {
    if (left) {
      r = (a << c) | (b >>> (32 - c));
      cf = (a >>> (32 - c)) & 1;
    } else {
      r = (a >>> c) | (b << (32 - c));
      cf = (a >>> (c - 1)) & 1;
    }
  } else {
    // 16-bit: shift the 32-bit concatenation (a:b for SHLD, b:a for SHRD); counts > 16 are undefined.
    if (left) {
      const x = ((a & 0xffff) << 16) | (b & 0xffff);
      const y = c < 32 ? x << c : 0;
      r = (y >>> 16) & 0xffff;
      cf = ((x << (c - 1)) >>> 31) & 1;
    } else {
      const x = ((b & 0xffff) << 16) | (a & 0xffff);
      r = (x >>> c) & 0xffff;
      cf = (x >>> (c - 1)) & 1;
    }
  }
  r &= mask;
  // OF: MSB of (value shifted by count-1) ^ result, as QEMU computes it (the SDM: count 1 only).
  let prev: number;
  if (c === 1) prev = a;
  else if (size === 32) prev = left ? (a << (c - 1)) | (b >>> (33 - c)) : (a >>> (c - 1)) | (b << (33 - c));
  else if (left) prev = ((((a & 0xffff) << 16) | (b & 0xffff)) << (c - 1)) >>> 16;
  else prev = (((b & 0xffff) << 16) | (a & 0xffff)) >>> (c - 1);
  const of = ((r ^ prev) & sign) !== 0 ? 1 : 0;
  cpu.flags = (cpu.getEflags() & ~0x8d5) | szp(r, size) | cf | (of ? F_OF : 0);
  cpu.lazyMask = 0;
  return r;
}

/** Unsigned 32x32 -> 64: returns low, high in `out`. */
export function mul32(a: number, b: number, out: Int32Array): void {
  const al = a & 0xffff,
    ah = a >>> 16,
    bl = b & 0xffff,
    bh = b >>> 16;
  const ll = al * bl,
    lh = al * bh,
    hl = ah * bl,
    hh = ah * bh;
  const mid = (ll >>> 16) + (lh & 0xffff) + (hl & 0xffff);
  out[0] = (ll & 0xffff) | (mid << 16);
  out[1] = hh + (lh >>> 16) + (hl >>> 16) + Math.floor(mid / 65536);
}

/** Signed 32x32 -> 64. */
export function imul32(a: number, b: number, out: Int32Array): void {
  mul32(a >>> 0, b >>> 0, out);
  let hi = out[1]!;
  if (a < 0) hi = (hi - b) | 0;
  if (b < 0) hi = (hi - a) | 0;
  out[1] = hi;
}

/** Flags after MUL/IMUL: CF = OF = `overflow`; SF ZF PF from the low result (undefined on the SDM). */
export function mulFlags(cpu: CpuRegs, low: number, size: number, overflow: boolean): void {
  cpu.flags = (cpu.getEflags() & ~0x8d5) | szp(low, size) | (overflow ? F_CF | F_OF : 0);
  cpu.lazyMask = 0;
}

export { F_AF, F_CF, F_OF };

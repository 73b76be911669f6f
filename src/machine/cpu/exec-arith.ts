// Execute functions for arithmetic, logic, shifts and multiply/divide (bit ops etc.: exec-bits.ts).
// Each factory runs once at decode time and returns a closure with the operands baked in; the hot
// 32-bit register forms get their own closures without any operand-kind dispatch.
import type { Decoded } from '../../x86/decode.ts';
import type { Cpu } from './cpu.ts';
import type { Exec } from './compile.ts';
import {
  A_ADD,
  A_AND,
  A_CMP,
  A_OR,
  A_SUB,
  A_TEST,
  A_XOR,
  ALU_INDEX,
  SHIFT_INDEX,
  alu,
  dec,
  doubleShift,
  imul32,
  inc,
  mul32,
  mulFlags,
  shift,
} from './alu.ts';
import {
  O_MEM,
  O_REG,
  addrOf,
  operand,
  readAt,
  readReg,
  sext,
  signOf,
  maskOf,
  writeAt,
  writeReg,
  type Opnd,
  ea,
} from './operands.ts';
import { F_OF, F_SF, L_ADD, L_DEC, L_INC, L_LOGIC, L_SUB } from './state.ts';

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
        case A_ADD:
          return (c) => {
            const a = r[di]!,
              b = r[si]!,
              x = (a + b) | 0;
            r[di] = x;
            c.setLazy(L_ADD, a, b, x, SIGN32);
          };
        case A_SUB:
          return (c) => {
            const a = r[di]!,
              b = r[si]!,
              x = (a - b) | 0;
            r[di] = x;
            c.setLazy(L_SUB, a, b, x, SIGN32);
          };
        case A_CMP:
          return (c) => {
            const a = r[di]!,
              b = r[si]!;
            c.setLazy(L_SUB, a, b, (a - b) | 0, SIGN32);
          };
        case A_XOR:
          return (c) => {
            const x = r[di]! ^ r[si]!;
            r[di] = x;
            c.setLazy(L_LOGIC, 0, 0, x, SIGN32);
          };
        case A_AND:
          return (c) => {
            const x = r[di]! & r[si]!;
            r[di] = x;
            c.setLazy(L_LOGIC, 0, 0, x, SIGN32);
          };
        case A_OR:
          return (c) => {
            const x = r[di]! | r[si]!;
            r[di] = x;
            c.setLazy(L_LOGIC, 0, 0, x, SIGN32);
          };
        case A_TEST:
          return (c) => {
            c.setLazy(L_LOGIC, 0, 0, r[di]! & r[si]!, SIGN32);
          };
      }
    } else if (src.kind !== O_MEM) {
      const b = src.imm | 0;
      switch (op) {
        case A_ADD:
          return (c) => {
            const a = r[di]!,
              x = (a + b) | 0;
            r[di] = x;
            c.setLazy(L_ADD, a, b, x, SIGN32);
          };
        case A_SUB:
          return (c) => {
            const a = r[di]!,
              x = (a - b) | 0;
            r[di] = x;
            c.setLazy(L_SUB, a, b, x, SIGN32);
          };
        case A_CMP:
          return (c) => {
            const a = r[di]!;
            c.setLazy(L_SUB, a, b, (a - b) | 0, SIGN32);
          };
        case A_AND:
          return (c) => {
            const x = r[di]! & b;
            r[di] = x;
            c.setLazy(L_LOGIC, 0, 0, x, SIGN32);
          };
        case A_OR:
          return (c) => {
            const x = r[di]! | b;
            r[di] = x;
            c.setLazy(L_LOGIC, 0, 0, x, SIGN32);
          };
        case A_XOR:
          return (c) => {
            const x = r[di]! ^ b;
            r[di] = x;
            c.setLazy(L_LOGIC, 0, 0, x, SIGN32);
          };
        case A_TEST:
          return (c) => {
            c.setLazy(L_LOGIC, 0, 0, r[di]! & b, SIGN32);
          };
      }
    } else {
      const s = src.seg,
        bi = src.base,
        ii = src.index,
        sc = src.scale,
        dp = src.disp,
        am = src.am;
      switch (op) {
        case A_ADD:
          return (c) => {
            const a = r[di]!,
              b = c.rd32(s, (r[bi]! + (r[ii]! << sc) + dp) & am),
              x = (a + b) | 0;
            r[di] = x;
            c.setLazy(L_ADD, a, b, x, SIGN32);
          };
        case A_SUB:
          return (c) => {
            const a = r[di]!,
              b = c.rd32(s, (r[bi]! + (r[ii]! << sc) + dp) & am),
              x = (a - b) | 0;
            r[di] = x;
            c.setLazy(L_SUB, a, b, x, SIGN32);
          };
        case A_CMP:
          return (c) => {
            const a = r[di]!,
              b = c.rd32(s, (r[bi]! + (r[ii]! << sc) + dp) & am);
            c.setLazy(L_SUB, a, b, (a - b) | 0, SIGN32);
          };
      }
    }
  }
  if (dst.kind === O_MEM && dst.size === 32 && src.kind !== O_MEM && op === A_CMP) {
    const s = dst.seg,
      bi = dst.base,
      ii = dst.index,
      sc = dst.scale,
      dp = dst.disp,
      am = dst.am;
    if (src.kind === O_REG) {
      const si = src.reg;
      return (c) => {
        const a = c.rd32(s, (r[bi]! + (r[ii]! << sc) + dp) & am),
          b = r[si]!;
        c.setLazy(L_SUB, a, b, (a - b) | 0, SIGN32);
      };
    }
    const b = src.imm | 0;
    return (c) => {
      const a = c.rd32(s, (r[bi]! + (r[ii]! << sc) + dp) & am);
      c.setLazy(L_SUB, a, b, (a - b) | 0, SIGN32);
    };
  }
  const size = dst.size;
  if (!writes)
    return (c) => {
      const addr = addrOf(c, dst);
      alu(c, op, readAt(c, dst, addr), readAt(c, src, addrOf(c, src)), size);
    };
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
      ? (c) => {
          const a = r[i]!,
            x = (a + 1) | 0;
          r[i] = x;
          c.setLazyKeepCF(L_INC, a, x, SIGN32);
        }
      : (c) => {
          const a = r[i]!,
            x = (a - 1) | 0;
          r[i] = x;
          c.setLazyKeepCF(L_DEC, a, x, SIGN32);
        };
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
  return rmw(o, (c, a) =>
    doubleShift(c, left, a, readReg(c, src), fixed >= 0 ? fixed : c.regs[1]! & 0xff, size),
  );
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
        const b = get(c),
          r = c.regs;
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
        const b = sext(get(c), size),
          r = c.regs;
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
    const q = Math.trunc(n / dv),
      m = n - q * dv;
    if (signed ? q > 127 || q < -128 : q > 0xff) c.raise(0);
    r[0] = (r[0]! & ~0xffff) | ((m & 0xff) << 8) | (q & 0xff);
  } else if (size === 16) {
    const raw = ((r[2]! & 0xffff) << 16) | (r[0]! & 0xffff);
    const n = signed ? raw : raw >>> 0;
    const dv = signed ? (divisor << 16) >> 16 : divisor & 0xffff;
    const q = Math.trunc(n / dv),
      m = n - q * dv;
    if (signed ? q > 32767 || q < -32768 : q > 0xffff) c.raise(0);
    r[0] = (r[0]! & ~0xffff) | (q & 0xffff);
    r[2] = (r[2]! & ~0xffff) | (m & 0xffff);
  } else {
    const n = (BigInt(r[2]!) << 32n) | BigInt(r[0]! >>> 0);
    const num = signed ? BigInt.asIntN(64, n) : BigInt.asUintN(64, n);
    const dv = signed ? BigInt(divisor | 0) : BigInt(divisor >>> 0);
    const q = num / dv,
      m = num % dv;
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

export { F_OF, F_SF, signOf };

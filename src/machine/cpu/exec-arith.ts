// Execute functions for the ALU ops (ADD..CMP, TEST), INC/DEC, NOT/NEG and the shifts
// (multiply and divide: exec-muldiv.ts; bit ops etc.: exec-bits.ts).
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
  inc,
  shift,
} from './alu.ts';
import {
  O_MEM,
  O_REG,
  addrOf,
  operand,
  readAt,
  readReg,
  maskOf,
  writeAt,
  writeReg,
  type Opnd,
  ea,
} from './operands.ts';
import { L_ADD, L_DEC, L_INC, L_LOGIC, L_SUB } from './state.ts';

const SIGN32 = 0x80000000 | 0;

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

// compile.ts's opcode table takes every arithmetic execute function from this module.
export { compileImulN, compileMulDiv } from './exec-muldiv.ts';

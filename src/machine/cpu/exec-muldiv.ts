// Execute functions for multiply and divide: MUL, IMUL in its one-, two- and three-operand forms,
// DIV and IDIV (#DE on a zero divisor or a quotient that does not fit). Apart from the ALU ops in
// exec-arith.ts because they share nothing with them but the operand helpers: they work on
// EDX:EAX pairs, 64-bit products (alu.ts's mul32/imul32) and BigInt division.
import type { Decoded } from '../../x86/decode.ts';
import type { Cpu } from './cpu.ts';
import type { Exec } from './compile.ts';
import { imul32, mul32, mulFlags } from './alu.ts';
import { addrOf, maskOf, operand, readAt, readReg, sext, writeReg } from './operands.ts';

/** The two halves of a 64-bit product (low, high). */
const tmp64 = new Int32Array(2);

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

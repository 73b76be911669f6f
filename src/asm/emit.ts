// Helpers of the assembler passes: what kind of line a statement is (for the fast passes), the
// growable output buffer, prefix bytes written alone, and floating-point data.

import type { Operand } from './ast.ts';
import type { Expr } from './expr.ts';
import { rowsForMnemonic } from '../x86/table.ts';
import { OPERAND_INFO } from '../x86/types.ts';

export function isConstantOperand(o: Operand): boolean {
  if (o.t === 'reg') return true;
  if (o.t === 'mem') return o.disp === null || o.disp.k === 'num';
  return o.e.k === 'num' && (!o.segPart || o.segPart.k === 'num');
}

export function usesHere(e: Expr): boolean {
  switch (e.k) {
    case 'here': case 'base': return true;
    case 'un': return usesHere(e.a);
    case 'bin': return usesHere(e.a) || usesHere(e.b);
    case 'cond': return usesHere(e.c) || usesHere(e.a) || usesHere(e.b);
  }
  return false;
}

const REL_MNEMONICS = new Set<string>();
export function hasRelRows(m: string): boolean {
  if (REL_MNEMONICS.has(m)) return true;
  const r = rowsForMnemonic(m).some((row) => row.operands.some((k) => OPERAND_INFO[k].loc === 'rel'));
  if (r) REL_MNEMONICS.add(m);
  return r;
}

export class ByteSink {
  buf = new Uint8Array(256);
  len = 0;
  ensure(n: number): void {
    if (this.len + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.len + n) size *= 2;
    const b = new Uint8Array(size);
    b.set(this.buf.subarray(0, this.len));
    this.buf = b;
  }
  push(b: number): void {
    this.ensure(1);
    this.buf[this.len++] = b;
  }
  pushAll(a: ArrayLike<number>): void {
    this.ensure(a.length);
    for (let i = 0; i < a.length; i++) this.buf[this.len++] = a[i]!;
  }
  fill(v: number, n: number): void {
    this.ensure(n);
    this.buf.fill(v, this.len, this.len + n);
    this.len += n;
  }
}


export const PREFIX_BYTES: Record<string, (bits: number) => number> = {
  wait: () => 0x9b, lock: () => 0xf0, rep: () => 0xf3, repe: () => 0xf3, repz: () => 0xf3, repne: () => 0xf2, repnz: () => 0xf2,
  es: () => 0x26, cs: () => 0x2e, ss: () => 0x36, ds: () => 0x3e, fs: () => 0x64, gs: () => 0x65,
  o16: (b) => (b === 32 ? 0x66 : -1), o32: (b) => (b === 16 ? 0x66 : -1), a16: (b) => (b === 32 ? 0x67 : -1), a32: (b) => (b === 16 ? 0x67 : -1),
};

export function floatBytes(text: string, width: number, wrong: () => void): number[] {
  const v = Number(text.replace(/_/g, ''));
  const dv = new DataView(new ArrayBuffer(8));
  if (width === 4) {
    dv.setFloat32(0, v, true);
    return Array.from(new Uint8Array(dv.buffer, 0, 4));
  }
  if (width === 8) {
    dv.setFloat64(0, v, true);
    return Array.from(new Uint8Array(dv.buffer, 0, 8));
  }
  wrong();
  return new Array<number>(width).fill(0);
}

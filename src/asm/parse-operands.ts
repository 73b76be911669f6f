// Parsing an instruction: prefixes, the mnemonic (NASM's spellings, through the encoder's
// canonicalMnemonic), and its operands: registers, immediates (with size, strict, short/near/far,
// seg:offset) and memory operands ([seg: base + index*scale + disp], split by address.ts).

import type { ImmOperand, Instruction, MemOperand, Operand, SizeKw } from './ast.ts';
import { describe } from './expr.ts';
import { LONG_MODE_REGS, register } from './registers.ts';
import { splitAddress } from './address.ts';
import { Fail, SIZES, TokenCursor, longModeRegister, unknownInstruction } from './parse-cursor.ts';
import { canonicalMnemonic } from '../x86/encode.ts';

export const PREFIXES = new Set(['rep', 'repe', 'repz', 'repne', 'repnz', 'lock', 'o16', 'o32', 'a16', 'a32', 'es', 'cs', 'ss', 'ds', 'fs', 'gs']);

export class OperandParser extends TokenCursor {
  protected instruction(col: number): Instruction {
    const prefixes: { name: string; col: number }[] = [];
    for (;;) {
      const w = this.word();
      // `wait` is an instruction, and (as in NASM) a prefix when another instruction follows
      const waitPrefix = w === 'wait' && this.pos + 1 < this.toks.length;
      if (!PREFIXES.has(w) && !waitPrefix) break;
      prefixes.push({ name: w, col: this.colHere() });
      this.pos++;
    }
    const t = this.peek();
    if (!t) return { k: 'insn', mnemonic: '', written: '', prefixes, operands: [], col };
    if (t.k !== 'id' || t.escaped) throw new Fail(t.col, `expected an instruction, found ${describe(t)}`);
    const mnemonic = canonicalMnemonic(t.s.toLowerCase());
    if (mnemonic === undefined) throw unknownInstruction(t);
    this.pos++;
    const operands: Operand[] = [];
    if (this.pos < this.toks.length) {
      for (;;) {
        operands.push(this.operand());
        if (this.pos >= this.toks.length) break;
        if (!this.isOp(',')) throw new Fail(this.colHere(), `expected ',' or the end of the line after operand ${operands.length}, found ${describe(this.peek())}`);
        this.pos++;
        if (this.pos >= this.toks.length) throw new Fail(this.end, `expected an operand after ','`);
      }
    }
    return { k: 'insn', mnemonic, written: t.s, prefixes, operands, col: t.col };
  }

  private operand(): Operand {
    const col = this.colHere();
    let size: SizeKw = 0;
    let strict = false;
    let jump: ImmOperand['jump'] = '';
    for (;;) {
      const w = this.word();
      if (w in SIZES && !this.isOp(',', this.pos + 1) && this.pos + 1 < this.toks.length) {
        size = SIZES[w]!;
        this.pos++;
      } else if (w === 'strict') {
        strict = true;
        this.pos++;
      } else if ((w === 'short' || w === 'near' || w === 'far') && this.pos + 1 < this.toks.length) {
        jump = w;
        this.pos++;
      } else break;
    }
    const t = this.peek();
    if (!t) throw new Fail(this.end, 'expected an operand, found the end of the line');
    if (this.isOp('[')) return this.memory(size, strict, jump === 'far', col);
    if (t.k === 'id' && !t.escaped) {
      const reg = register(t.s);
      const after = this.toks[this.pos + 1];
      if (reg && (after === undefined || (after.k === 'op' && after.s === ','))) {
        this.pos++;
        return { t: 'reg', reg, size, col: t.col };
      }
      if (reg && after && after.k === 'op' && after.s === ':' && reg.cls === 'seg') {
        throw new Fail(t.col, `a segment override goes inside the brackets: write [${t.s}:...]`);
      }
      if (LONG_MODE_REGS.test(t.s)) throw longModeRegister(t);
    }
    const e = this.expr();
    if (this.isOp(':')) {
      this.pos++;
      const off = this.expr();
      return { t: 'imm', e: off, segPart: e, size, strict, jump, col };
    }
    const next = this.peek();
    if (next && next.k === 'op' && next.s === '[') throw new Fail(next.col, `unexpected '[' after ${describe(this.toks[this.pos - 1])}: a memory operand is written [...] on its own`);
    return { t: 'imm', e, size, strict, jump, col };
  }

  /** `[...]`: parsed as a line of its own (the tokens up to the matching `]`), then split into parts. */
  private memory(size: SizeKw, strict: boolean, far: boolean, col: number): MemOperand {
    const open = this.peek()!;
    this.pos++;
    let close = this.pos;
    let depth = 1;
    for (; close < this.toks.length; close++) {
      const t = this.toks[close]!;
      if (t.k === 'op' && t.s === '[') depth++;
      if (t.k === 'op' && t.s === ']' && --depth === 0) break;
    }
    if (close >= this.toks.length) throw new Fail(open.col, "missing ']' to close this memory operand");
    const saved = this.toks;
    const savedEnd = this.end;
    this.end = saved[close]!.col;
    this.toks = saved.slice(0, close);
    const m: MemOperand = { t: 'mem', size, seg: -1, base: null, index: null, scale: 0, disp: null, dispSize: 0, nosplit: false, far, strict, col };
    try {
      this.addressKeywords(m);
      const s = register(this.word());
      if (s && this.isOp(':', this.pos + 1)) {
        if (s.cls !== 'seg') throw new Fail(this.colHere(), `'${this.word()}' is not a segment register: a segment override must be es, cs, ss, ds, fs or gs`);
        m.seg = s.num;
        this.pos += 2;
      }
      if (this.pos >= this.toks.length) throw new Fail(this.end, "expected an address inside '[ ]', found ']'");
      const e = this.expr();
      if (this.pos < this.toks.length) throw new Fail(this.colHere(), `expected ']' after the address, found ${describe(this.peek())}`);
      splitAddress(e, m);
    } finally {
      this.toks = saved;
      this.end = savedEnd;
    }
    this.pos = close + 1;
    return m;
  }

  /** Keywords at the start of `[...]`: a forced displacement size, nosplit, rel/abs (no meaning here). */
  private addressKeywords(m: MemOperand): void {
    for (;;) {
      const w = this.word();
      if (w === 'byte' || w === 'word' || w === 'dword') {
        m.dispSize = SIZES[w] as 8 | 16 | 32;
        this.pos++;
      } else if (w === 'nosplit') {
        m.nosplit = true;
        this.pos++;
      } else if (w === 'rel' || w === 'abs') this.pos++;
      else break;
    }
  }
}

// Assembling one line in a pass: the directives that move the position or name things (equ, bits,
// org, section, absolute, struc/istruc), and the statements that produce bytes or space
// (instructions through the x86 encoder, db/dw/dd..., resb..., align, incbin, `at` fields).

import type { DataItem, Instruction, Line, Operand } from './ast.ts';
import type { Expr } from './expr.ts';
import { AsmOutput } from './output.ts';
import { resolveFile } from './preproc-source.ts';
import { applyAttrs, layout, type Section } from './sections.ts';
import { encode, hasRelativeForms, prefixByte, type EncOperand, type EncValue } from '../x86/encode.ts';

/** An operand whose value is a number written in the source: the encoding never changes. */
function isConstantOperand(o: Operand): boolean {
  if (o.t === 'reg') return true;
  if (o.t === 'mem') return o.disp === null || o.disp.k === 'num';
  return o.e.k === 'num' && (!o.segPart || o.segPart.k === 'num');
}

/** dd/dq floating-point values, little-endian IEEE 754; `wrong` reports any other width. */
function floatBytes(text: string, width: number, wrong: () => void): number[] {
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

export class AsmStatements extends AsmOutput {
  /** Per line: the bytes of an instruction whose operands are constants, encoded once. */
  protected encCache: (number[] | undefined)[] = [];
  /** Cleared when an operand's value may still change the encoding (a forward or relocatable value). */
  protected valuesFixed = true;
  protected istrucStack: { name: string; start: number; line: Line }[] = [];
  private strucName = '';
  private savedSection: Section | null = null;
  private incbinCache = new Map<Line, Uint8Array | null>();

  /** Handles a directive that emits nothing; false when the line is a statement with bytes or space. */
  protected directive(line: Line): boolean {
    const st = line.stmt;
    switch (st.k) {
      case 'nothing':
        return true;
      case 'equ': {
        const r = this.eval(st.e, line, false);
        if (!r.unknown && line.label) this.define(line.label.name, { n: r.n, seg: r.seg }, 'equ', line);
        return true;
      }
      case 'bits':
        this.bits = st.bits as 16 | 32;
        return true;
      case 'org': {
        const r = this.eval(st.e, line, true);
        if (this.orgSet && this.pass === 1 && Number(r.n) !== this.org) this.at(line, st.col, 'org is already set: a flat binary has one origin');
        if (!this.orgSet || this.pass > 1) this.org = Number(BigInt.asUintN(32, r.n));
        this.orgSet = true;
        // place the sections at the origin now, so pass 1 already sees final-looking addresses
        if (this.pass === 1) layout(this.sections, this.org);
        return true;
      }
      case 'section':
        this.section(line, st.name, st.attrs, st.col);
        return true;
      case 'absolute': {
        const r = this.eval(st.e, line, true);
        this.absolute = { base: Number(r.n), offset: 0, seg: r.seg }; // `absolute label`: addresses stay relative to label's section
        return true;
      }
      case 'struc':
        this.savedSection = this.cur;
        this.strucName = st.name;
        this.define(st.name, { n: 0n, seg: -1 }, 'equ', line);
        this.absolute = { base: 0, offset: 0, seg: -1 };
        return true;
      case 'endstruc':
        if (!this.absolute || !this.strucName) {
          this.at(line, st.col, 'endstruc without a matching struc');
          return true;
        }
        this.define(this.strucName + '_size', { n: BigInt(this.absolute.offset), seg: -1 }, 'equ', line);
        this.absolute = null;
        this.strucName = '';
        if (this.savedSection) this.cur = this.savedSection;
        return true;
      case 'istruc':
        this.istrucStack.push({ name: st.name, start: this.here(), line });
        return true;
      case 'iend':
        this.iend(line, st.col);
        return true;
    }
    return false;
  }

  private section(line: Line, name: string, attrs: Record<string, string>, col: number): void {
    this.absolute = null;
    const isNew = !this.sections.some((x) => x.name === name);
    const s = this.sectionNamed(name, attrs);
    if (isNew) this.offsets.push(0);
    if (this.final) {
      this.ensureSinks();
      const err = applyAttrs({ ...s }, attrs);
      if (err) this.at(line, col, err);
    }
    this.cur = s;
    if (line.label) this.defineLabel(line.label.name, line);
  }

  /** iend: pads the instance to the structure's size. */
  private iend(line: Line, col: number): void {
    const top = this.istrucStack.pop();
    if (!top) {
      if (this.final) this.at(line, col, 'iend without a matching istruc');
      return;
    }
    const size = this.symbols.get(top.name + '_size');
    if (!size) {
      if (this.final) this.at(top.line, (top.line.stmt as { col: number }).col, `'${top.name}' is not a structure defined with struc/endstruc`);
      return;
    }
    this.padTo(Number(size.value.n), top.start, line, col);
  }

  /** The repeat count of a `times` line (1 without times; 0 when unknown or unusable). */
  protected timesCount(line: Line): number {
    if (!line.times) return 1;
    const r = this.eval(line.times, line, true);
    let count = Number(r.n);
    if (r.unknown) count = 0;
    else if (count < 0) {
      if (this.final) this.at(line, line.timesCol, `times count ${count} is negative (is the code before it already longer than you expected?)`);
      count = 0;
    } else if (count > 100_000_000) {
      if (this.final) this.at(line, line.timesCol, `times count ${count} is too large`);
      count = 0;
    }
    if (this.record) this.record.rep = count;
    return count;
  }

  /** Assembles one statement (one repetition of `times`). Returns its size, -1 to stop repeating. */
  protected statement(line: Line, li: number, first: boolean): number {
    const st = line.stmt;
    switch (st.k) {
      case 'insn':
        return this.instruction(line, st, li, first);
      case 'data':
        return this.data(line, st.width, st.items, first);
      case 'res': {
        const r = this.eval(st.count, line, true);
        let n = Number(r.n) * st.width;
        if (n < 0) {
          if (this.final) this.at(line, st.col, `cannot reserve a negative amount of space (${n} bytes)`);
          n = 0;
        }
        if (n > 1 << 30) n = 0;
        this.reserve(n, line, first);
        return n;
      }
      case 'align':
        return this.align(line, st, first);
      case 'at': {
        const top = this.istrucStack[this.istrucStack.length - 1];
        if (!top) {
          if (this.final) this.at(line, st.col, "'at' outside istruc ... iend");
          return 0;
        }
        const base = this.symbols.get(top.name);
        const r = this.eval(st.field, line, true);
        const before = this.here();
        if (!r.unknown && base) this.padTo(Number(r.n - base.value.n), top.start, line, st.col);
        const inner = st.inner;
        if (inner.k === 'data') this.data(line, inner.width, inner.items, first);
        else if (inner.k === 'res') this.reserve(Number(this.eval(inner.count, line, true).n) * inner.width, line, first);
        return this.here() - before;
      }
      case 'incbin':
        return this.incbin(line, st, first);
    }
    return 0;
  }

  private align(line: Line, st: Extract<Line['stmt'], { k: 'align' }>, first: boolean): number {
    const r = this.eval(st.e, line, true);
    const a = Number(r.n);
    if (r.unknown) return 0;
    if (!(a > 0 && (a & (a - 1)) === 0)) {
      if (this.final) this.at(line, st.col, `alignment ${a} is not a power of two`);
      return -1;
    }
    if (!this.absolute && a > this.cur.alignRaised) this.cur.alignRaised = a;
    const n = (a - (this.here() % a)) % a;
    if (st.reserve) {
      this.reserve(n, line, first);
      if (this.final && this.record) this.record.reserve = n;
      return n;
    }
    let fill = 0x90;
    if (st.fill) fill = Number(BigInt.asUintN(8, this.eval((st.fill as Extract<DataItem, { t: 'expr' }>).e, line, true).n));
    const bytes = new Array<number>(n).fill(fill);
    if (this.final && this.record && n > 0) this.record.rep = n;
    this.emitMany(bytes, line);
    return n;
  }

  private incbin(line: Line, st: Extract<Line['stmt'], { k: 'incbin' }>, first: boolean): number {
    let data = this.incbinCache.get(line);
    if (data === undefined) {
      const found = resolveFile(this.opts.provider, st.file, line.src.file);
      data = found ? (typeof found.data === 'string' ? Uint8Array.from(found.data, (c) => c.charCodeAt(0) & 255) : found.data) : null;
      this.incbinCache.set(line, data);
    }
    if (data === null) {
      if (this.final) this.at(line, st.col, `cannot open incbin file '${st.file}'`);
      return 0;
    }
    const off = st.offset ? Number(this.eval(st.offset, line, true).n) : 0;
    const len = st.length ? Number(this.eval(st.length, line, true).n) : data.length - off;
    const slice = data.subarray(Math.max(0, off), Math.max(0, Math.min(data.length, off + Math.max(0, len))));
    this.emit(slice, 'data', first, line);
    return slice.length;
  }

  /** db/dw/dd/dq/dt: numbers little-endian, strings padded to the width, floats for dd/dq. */
  protected data(line: Line, width: number, items: DataItem[], first: boolean): number {
    const out: number[] = [];
    for (const it of items) {
      if (it.t === 'str') {
        for (let i = 0; i < it.s.length; i++) out.push(it.s.charCodeAt(i) & 255);
        const pad = (width - (it.s.length % width)) % width;
        for (let i = 0; i < pad; i++) out.push(0);
      } else if (it.t === 'float') {
        out.push(...floatBytes(it.text, width, () => this.final && this.at(line, it.col, `floating-point values need dd, dq or dt, not a ${width}-byte data directive`)));
      } else {
        const r = this.eval(it.e, line, false);
        if (this.final && !r.unknown && r.seg < 0) {
          const lim = 2n ** BigInt(8 * Math.min(width, 8));
          if (width < 8 && (r.n < -lim / 2n || r.n >= lim)) this.at(line, it.col, `value ${r.n} does not fit in ${width === 1 ? 'a byte' : `${width * 8} bits`}: it is truncated`, 'warning');
        }
        if (this.final && first && this.record && r.seg >= 0 && !r.unknown) {
          const at0 = (this.record.bytes?.length ?? 0) + out.length;
          this.record.marks.push({ at: at0, size: Math.min(width, 8), text: this.markText(Number(BigInt.asIntN(32, r.n)), r.seg, Math.min(width, 4), false) + '00'.repeat(Math.max(0, Math.min(width, 8) - 4)) });
        }
        let v = BigInt.asUintN(64, r.n);
        for (let i = 0; i < width; i++) {
          out.push(i < 8 ? Number(v & 255n) : 0);
          v >>= 8n;
        }
      }
    }
    this.emit(out, 'data', first, line);
    return out.length;
  }

  private instruction(line: Line, st: Instruction, li: number, first: boolean): number {
    const cached = this.encCache[li];
    if (cached && !this.final) {
      this.advance(cached.length);
      return cached.length;
    }
    if (st.mnemonic === '' && st.operands.length === 0) {
      const bytes = st.prefixes.map((p) => prefixByte(p.name, this.bits)).filter((b) => b >= 0);
      this.emit(bytes, 'code', first, line);
      return bytes.length;
    }
    const constant = !hasRelativeForms(st.mnemonic) && st.operands.every(isConstantOperand);
    const ops: EncOperand[] = st.operands.map((o) => this.resolveOperand(o, line));
    const res = encode({ mnemonic: st.mnemonic, prefixes: st.prefixes.map((p) => p.name), operands: ops, bits: this.bits, address: this.addr(), section: this.segIndex() });
    if (this.final) {
      if (res.error) this.at(line, res.operand !== undefined && res.operand >= 0 ? st.operands[res.operand]!.col : st.col, res.error);
      for (const w of res.warnings) this.at(line, st.col, w, 'warning');
    }
    if (constant && !res.error && line.times === null) this.encCache[li] = res.bytes;
    if (this.final && first && this.record && res.fields) {
      const at0 = this.record.bytes?.length ?? 0;
      for (const f of res.fields) this.record.marks.push({ at: at0 + f.at, size: f.size, text: this.markText(f.value.value, f.value.section, f.size, f.rel) });
    }
    this.emit(res.bytes, 'code', first, line);
    return res.bytes.length;
  }

  private operandValue(e: Expr, line: Line): EncValue {
    const r = this.eval(e, line, false);
    // an address never gets a short form, a plain number might: only addresses keep the size fixed
    if (r.unknown || (e.k !== 'num' && r.seg < 0)) this.valuesFixed = false;
    const n = BigInt.asIntN(64, r.n);
    const value = n > 0xffffffffn || n < -0x80000000n ? Number(BigInt.asIntN(32, n)) : Number(n);
    return { value, known: !r.unknown, simple: r.seg < 0, section: r.seg };
  }

  private resolveOperand(o: Operand, line: Line): EncOperand {
    if (o.t === 'reg') return { t: 'reg', reg: o.reg, size: o.size };
    if (o.t === 'mem') return { t: 'mem', size: o.size, seg: o.seg, base: o.base, index: o.index, scale: o.scale, disp: o.disp ? this.operandValue(o.disp, line) : null, dispSize: o.dispSize, far: o.far };
    return { t: 'imm', v: this.operandValue(o.e, line), size: o.size, strict: o.strict, jump: o.jump, seg: o.segPart ? this.operandValue(o.segPart, line) : undefined };
  }
}

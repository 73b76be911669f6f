// The multi-pass assembler: lines are parsed once; each pass walks them, assigning addresses and
// encoding what depends on symbols, until every label stays put (NASM -Ox); a final pass emits
// bytes, diagnostics, the listing records and the address map.

import type { DataItem, Instruction, Line, Operand } from './ast.ts';
import { ExprError, evaluate, symbolsOf, type EvalContext, type EvalResult, type Expr, type Value } from './expr.ts';
import { LineParser } from './parser.ts';
import { Preprocessor } from './preproc.ts';
import { applyAttrs, layout, newSection, type Section } from './sections.ts';
import type { AsmMap, AssembleOptions, Diagnostic, MapItem, Severity } from './types.ts';
import { encode, type EncOperand, type EncValue } from '../x86/encode.ts';
import { rowsForMnemonic } from '../x86/table.ts';
import { ByteSink, PREFIX_BYTES, floatBytes, hasRelRows, isConstantOperand, usesHere, variableBranch } from './emit.ts';

export interface ListRecord {
  line: Line;
  offset: number;
  bytes: Uint8Array | null;
  reserve: number;
  rep: number;
  /** Relocatable fields, shown by the listing as NASM does: [section offset] or (branch target). */
  marks: { at: number; size: number; text: string }[];
  messages: { severity: Severity; message: string }[];
}

interface Sym {
  value: Value;
  pass: number;
  kind: 'label' | 'equ';
  line: Line;
}

const MAX_PASSES = 1000;
/** Optional hook for investigating convergence: globalThis.VIZOR_ASM_DEBUG(pass, symbols) after each pass. */
const DEBUG_PASS = (globalThis as { VIZOR_ASM_DEBUG?: (p: number, s: Map<string, Sym>) => void }).VIZOR_ASM_DEBUG;
const GENERIC = 0;
const FIXED = 1;
const JUMP = 2;

/** A jmp/jcc to `label + addend`: its size is the short or the near length, by distance. */
interface JumpInfo {
  name: string;
  addend: number;
  short: number;
  near: number;
}
const MAX_OUTPUT = 64 << 20;

export class Assembler {
  readonly diagnostics: Diagnostic[] = [];
  private seen = new Set<string>();
  private lines: Line[] = [];
  private sections: Section[] = [];
  private symbols = new Map<string, Sym>();
  private pass = 0;
  private final = false;
  private org = 0;
  private orgSet = false;
  private cur!: Section;
  private absolute: { base: number; offset: number; seg: number } | null = null;
  private strucName = '';
  private savedSection: Section | null = null;
  private encCache: (number[] | undefined)[] = [];
  private equNames = new Set<string>();
  private aborted = false;
  private istrucStack: { name: string; start: number; line: Line }[] = [];
  private changed = false;
  /** Per line, from pass 3 on: FIXED (size never changes), JUMP (short/near by distance) or GENERIC. */
  private fastKind: Uint8Array | null = null;
  private fastSize: Int32Array | null = null;
  private lineSize: Int32Array | null = null;
  private lineFixed: Uint8Array | null = null;
  private lineBits: Uint8Array | null = null;
  private jumps = new Map<number, JumpInfo>();
  private valuesFixed = true;
  private incbinCache = new Map<Line, Uint8Array | null>();
  readonly records: ListRecord[] = [];
  readonly items: MapItem[] = [];
  private sinks: ByteSink[] = [];
  private record: ListRecord | null = null;
  image = new Uint8Array(0);

  constructor(private opts: AssembleOptions) {}

  report(severity: Severity, file: string, line: number, column: number, message: string): void {
    const key = `${severity}|${file}|${line}|${column}|${message}`;
    if (this.seen.has(key)) return;
    this.seen.add(key);
    this.diagnostics.push({ severity, file, line, column, message });
    if (this.record && this.record.line.src.file === file && this.record.line.src.line === line) this.record.messages.push({ severity, message });
  }

  private at(line: Line, col: number, message: string, severity: Severity = 'error'): void {
    const s = line.src;
    const where = s.macro && s.macro.name !== '%rep' ? ` (in macro '${s.macro.name}', ${s.macro.file}:${s.macro.line})` : '';
    this.report(severity, s.file, s.line, s.exactColumns ? col + 1 : s.callColumn + 1, message + where);
  }

  run(source: string): void {
    const file = this.opts.fileName ?? 'input.asm';
    const pre = new Preprocessor((sev, f, l, c, m) => this.report(sev, f, l, c, m), this.opts.provider, this.opts.defines);
    const plines = pre.run(source, file);
    const parser = new LineParser();
    const defined = new Map<string, Line>();
    for (const pl of plines) {
      const line = parser.parse(pl, (col, msg, sev) => this.at({ src: pl } as Line, col, msg, sev ?? 'error'));
      this.lines.push(line);
      if (line.label && line.stmt.k === 'equ') this.equNames.add(line.label.name);
      if (line.label && !line.bad) {
        const prev = defined.get(line.label.name);
        if (prev) {
          this.at(line, line.label.col, `label '${line.label.name}' is already defined (first at ${prev.src.file}:${prev.src.line})`);
          line.label = null;
        } else defined.set(line.label.name, line);
      }
    }
    this.encCache = new Array(this.lines.length);
    this.lineSize = new Int32Array(this.lines.length);
    this.lineFixed = new Uint8Array(this.lines.length);
    this.lineBits = new Uint8Array(this.lines.length);
    let signature = '';
    let stable = false;
    for (this.pass = 1; this.pass <= MAX_PASSES; this.pass++) {
      this.changed = false;
      this.walk();
      const sig = this.sectionSignature();
      if (sig !== signature) this.changed = true;
      signature = sig;
      DEBUG_PASS?.(this.pass, this.symbols);
      if (this.pass === 2) this.classify();
      if (!this.changed && this.pass > 1) {
        stable = true;
        break;
      }
    }
    if (!stable) this.report('error', file, 1, 1, `the program did not settle after ${MAX_PASSES} passes (labels keep moving)`);
    this.final = true;
    this.walk();
    this.checkCircularEqu();
    this.buildImage();
    this.sortDiagnostics();
  }

  private sectionSignature(): string {
    let s = '';
    for (const sec of this.sections) s += `${sec.name}:${sec.size}:${sec.base};`;
    return s;
  }

  // ---- one pass ---------------------------------------------------------------------------

  private sectionNamed(name: string, attrs: Record<string, string>): Section {
    let s = this.sections.find((x) => x.name === name);
    if (!s) {
      s = newSection(name, this.sections.length, attrs);
      this.sections.push(s);
    } else applyAttrs(s, attrs);
    return s;
  }

  private walk(): void {
    if (this.sections.length === 0) this.sections.push(newSection('.text', 0, {}));
    const offsets = this.sections.map(() => 0);
    for (const s of this.sections) s.alignRaised = 0;
    this.cur = this.sections[0]!;
    this.absolute = null;
    this.sinks = this.final ? this.sections.map(() => new ByteSink()) : [];
    let bits: 16 | 32 = 16;
    const ctx = this.context(offsets);
    this.aborted = false;
    this.istrucStack = [];
    for (let li = 0; li < this.lines.length && !this.aborted; li++) {
      const line = this.lines[li]!;
      if (this.final) {
        this.record = { line, offset: this.listOffset(offsets), bytes: null, reserve: 0, rep: 0, messages: [], marks: [] };
        this.records.push(this.record);
      }
      if (line.bad) continue;
      const st = line.stmt;
      if (this.fastKind && !this.final && this.fastKind[li] !== GENERIC) {
        if (line.label) this.define(line.label.name, { n: BigInt(this.addr(offsets)), seg: this.segIndex() }, 'label', line);
        this.advance(offsets, this.fastKind[li] === FIXED ? this.fastSize![li]! : this.jumpSize(li, offsets));
        continue;
      }
      if (line.label && st.k !== 'equ') this.define(line.label.name, { n: BigInt(this.addr(offsets)), seg: this.segIndex() }, 'label', line);
      const before = this.pass === 2 ? this.here(offsets) : 0;
      if (this.pass === 2) this.lineBits![li] = bits;
      this.valuesFixed = true;
      switch (st.k) {
        case 'nothing':
          continue;
        case 'equ': {
          const r = this.eval(st.e, ctx, line, false);
          if (!r.unknown && line.label) this.define(line.label.name, { n: r.n, seg: r.seg }, 'equ', line);
          continue;
        }
        case 'bits':
          bits = st.bits as 16 | 32;
          continue;
        case 'org': {
          const r = this.eval(st.e, ctx, line, true);
          if (this.orgSet && this.pass === 1 && Number(r.n) !== this.org) this.at(line, st.col, 'org is already set: a flat binary has one origin');
          if (!this.orgSet || this.pass > 1) this.org = Number(BigInt.asUintN(32, r.n));
          this.orgSet = true;
          // place the sections at the origin now, so pass 1 already sees final-looking addresses
          if (this.pass === 1) layout(this.sections, this.org);
          continue;
        }
        case 'section': {
          this.absolute = null;
          this.sections[this.cur.index] && (offsets[this.cur.index] = offsets[this.cur.index]!);
          const isNew = !this.sections.some((x) => x.name === st.name);
          const s = this.sectionNamed(st.name, st.attrs);
          if (isNew) offsets.push(0);
          if (this.final) {
            while (this.sinks.length < this.sections.length) this.sinks.push(new ByteSink());
            const err = applyAttrs({ ...s }, st.attrs);
            if (err) this.at(line, st.col, err);
          }
          this.cur = s;
          if (line.label) this.define(line.label.name, { n: BigInt(this.addr(offsets)), seg: this.segIndex() }, 'label', line);
          continue;
        }
        case 'absolute': {
          const r = this.eval(st.e, ctx, line, true);
          this.absolute = { base: Number(r.n), offset: 0, seg: r.seg }; // `absolute label`: addresses stay relative to label's section
          continue;
        }
        case 'struc':
          this.savedSection = this.cur;
          this.strucName = st.name;
          this.define(st.name, { n: 0n, seg: -1 }, 'equ', line);
          this.absolute = { base: 0, offset: 0, seg: -1 };
          continue;
        case 'istruc':
          this.istrucStack.push({ name: st.name, start: this.here(offsets), line });
          continue;
        case 'iend': {
          const top = this.istrucStack.pop();
          if (!top) {
            if (this.final) this.at(line, st.col, 'iend without a matching istruc');
            continue;
          }
          const size = this.symbols.get(top.name + '_size');
          if (!size) {
            if (this.final) this.at(top.line, (top.line.stmt as { col: number }).col, `'${top.name}' is not a structure defined with struc/endstruc`);
            continue;
          }
          this.padTo(Number(size.value.n), top.start, offsets, line, st.col);
          continue;
        }
        case 'endstruc':
          if (!this.absolute || !this.strucName) {
            this.at(line, st.col, 'endstruc without a matching struc');
            continue;
          }
          this.define(this.strucName + '_size', { n: BigInt(this.absolute.offset), seg: -1 }, 'equ', line);
          this.absolute = null;
          this.strucName = '';
          if (this.savedSection) this.cur = this.savedSection;
          continue;
      }
      let count = 1;
      if (line.times) {
        const r = this.eval(line.times, ctx, line, true);
        count = Number(r.n);
        if (r.unknown) count = 0;
        else if (count < 0) {
          if (this.final) this.at(line, line.timesCol, `times count ${count} is negative (is the code before it already longer than you expected?)`);
          count = 0;
        } else if (count > 100_000_000) {
          if (this.final) this.at(line, line.timesCol, `times count ${count} is too large`);
          count = 0;
        }
        if (this.record) this.record.rep = count;
      }
      if (this.pass === 2 && this.lineSize) {
        this.lineFixed![li] = this.valuesFixed && line.times === null ? 1 : 0;
      }
      if (count > 16 && this.repeatable(line)) {
        this.repeatFast(line, li, offsets, ctx, bits, count);
      } else {
        for (let k = 0; k < count; k++) {
          const size = this.statement(line, li, offsets, ctx, bits, k === 0);
          if (size < 0) break;
        }
      }
      if (this.pass === 2 && this.lineSize) this.lineSize[li] = this.here(offsets) - before;
      if (this.here(offsets) > MAX_OUTPUT) {
        this.at(line, line.timesCol, `the program grows beyond ${MAX_OUTPUT / (1 << 20)} MiB here; vizor stops assembling`);
        this.aborted = true;
        break;
      }
    }
    for (const s of this.sections) s.size = offsets[s.index]!;
    const org = this.org;
    layout(this.sections, org);
  }

  private segIndex(): number {
    return this.absolute ? this.absolute.seg : this.cur.index;
  }
  /** The offset the listing shows: in its section (for `absolute label`, relative to label's section). */
  private listOffset(offsets: number[]): number {
    const a = this.absolute;
    if (!a) return offsets[this.cur.index]!;
    return a.seg >= 0 ? a.base - (this.sections[a.seg]?.base ?? 0) + a.offset : a.base + a.offset;
  }

  private here(offsets: number[]): number {
    return this.absolute ? this.absolute.offset : offsets[this.cur.index]!;
  }
  private addr(offsets: number[]): number {
    return this.absolute ? this.absolute.base + this.absolute.offset : this.cur.base + offsets[this.cur.index]!;
  }
  private advance(offsets: number[], n: number): void {
    if (this.absolute) this.absolute.offset += n;
    else offsets[this.cur.index]! += n;
  }

  private context(offsets: number[]): EvalContext {
    return {
      lookup: (name) => {
        const s = this.symbols.get(name);
        return s ? s.value : undefined;
      },
      here: () => ({ n: BigInt(this.addr(offsets)), seg: this.segIndex() }),
      base: () => (this.absolute ? { n: BigInt(this.absolute.base), seg: -1 } : { n: BigInt(this.cur.base), seg: this.cur.index }),
    };
  }

  private define(name: string, value: Value, kind: 'label' | 'equ', line: Line): void {
    const s = this.symbols.get(name);
    if (s) {
      if (s.value.n !== value.n || s.value.seg !== value.seg || s.pass !== this.pass - 1) this.changed = true;
      s.value = value;
      s.pass = this.pass;
      s.kind = kind;
    } else {
      this.symbols.set(name, { value, pass: this.pass, kind, line });
      this.changed = true;
    }
  }

  /** Evaluates; in the final pass an unresolved symbol is an error at its column. */
  private eval(e: Expr, ctx: EvalContext, line: Line, critical: boolean): EvalResult {
    try {
      const r = evaluate(e, ctx);
      if (r.unknown && this.final && r.missing) {
        const sym = this.symbols.get(r.missing.name);
        // an equ that never resolved is reported at its own line (circular or undefined inside)
        if (!sym && !this.equNames.has(r.missing.name)) this.at(line, r.missing.col, `undefined symbol '${r.missing.name}'`);
        else if (critical) this.at(line, r.missing.col, `'${r.missing.name}' must be defined before it is used here`);
      }
      return r;
    } catch (err) {
      if (this.final) this.at(line, err instanceof ExprError ? err.col : 0, err instanceof Error ? err.message : 'cannot evaluate this expression');
      return { n: 0n, seg: -1, unknown: true };
    }
  }

  private emit(bytes: ArrayLike<number>, offsets: number[], kind: MapItem['kind'], first: boolean, line: Line): void {
    if (this.final && bytes.length > 0) this.collectOutput(bytes, offsets, kind, first, line);
    this.advance(offsets, bytes.length);
  }

  private collectOutput(bytes: ArrayLike<number>, offsets: number[], kind: MapItem['kind'], first: boolean, line: Line): void {
    const stmtCol = 'col' in line.stmt ? (line.stmt as { col: number }).col : 0;
    this.items.push({
      address: this.addr(offsets), length: bytes.length, file: line.src.file, line: line.src.line,
      column: line.src.exactColumns ? stmtCol + 1 : line.src.callColumn + 1, kind, section: this.absolute ? '' : this.cur.name,
    });
    if (this.absolute) return;
    if (this.cur.nobits) {
      if (kind !== 'reserve') this.at(line, stmtCol, `section ${this.cur.name} holds no data (nobits): use resb/resw/resd here, not code or db`);
      return;
    }
    this.sinks[this.cur.index]!.pushAll(bytes);
    if (first && this.record) {
      if (this.record.bytes === null) this.record.bytes = Uint8Array.from(bytes);
      else if (this.record.rep === 0) {
        const b = new Uint8Array(this.record.bytes.length + bytes.length);
        b.set(this.record.bytes);
        b.set(Array.from(bytes), this.record.bytes.length);
        this.record.bytes = b;
      }
    }
  }

  private reserve(n: number, offsets: number[], line: Line, first: boolean): void {
    if (n <= 0) return;
    if (this.final) {
      const stmtCol = 'col' in line.stmt ? (line.stmt as { col: number }).col : 0;
      this.items.push({ address: this.addr(offsets), length: n, file: line.src.file, line: line.src.line, column: line.src.exactColumns ? stmtCol + 1 : line.src.callColumn + 1, kind: 'reserve', section: this.absolute ? '' : this.cur.name });
      if (!this.absolute && !this.cur.nobits) {
        this.at(line, stmtCol, `uninitialized space declared in ${this.cur.name} (a progbits section): it is filled with zeros`, 'warning');
        this.sinks[this.cur.index]!.fill(0, n);
      }
      if (this.record && first) this.record.reserve += n;
    }
    this.advance(offsets, n);
  }

  /** Assembles one statement (one repetition of `times`). Returns its size, -1 to stop repeating. */
  private statement(line: Line, li: number, offsets: number[], ctx: EvalContext, bits: 16 | 32, first: boolean): number {
    const st = line.stmt;
    switch (st.k) {
      case 'insn':
        return this.instruction(line, st, li, offsets, ctx, bits, first);
      case 'data':
        return this.data(line, st.width, st.items, offsets, ctx, first);
      case 'res': {
        const r = this.eval(st.count, ctx, line, true);
        let n = Number(r.n) * st.width;
        if (n < 0) {
          if (this.final) this.at(line, st.col, `cannot reserve a negative amount of space (${n} bytes)`);
          n = 0;
        }
        if (n > 1 << 30) n = 0;
        this.reserve(n, offsets, line, first);
        return n;
      }
      case 'align': {
        const r = this.eval(st.e, ctx, line, true);
        const a = Number(r.n);
        if (r.unknown) return 0;
        if (!(a > 0 && (a & (a - 1)) === 0)) {
          if (this.final) this.at(line, st.col, `alignment ${a} is not a power of two`);
          return -1;
        }
        if (!this.absolute && a > this.cur.alignRaised) this.cur.alignRaised = a;
        const n = (a - (this.here(offsets) % a)) % a;
        if (st.reserve) {
          this.reserve(n, offsets, line, first);
          if (this.final && this.record) this.record.reserve = n;
          return n;
        }
        let fill = 0x90;
        if (st.fill) fill = Number(BigInt.asUintN(8, this.eval((st.fill as Extract<DataItem, { t: 'expr' }>).e, ctx, line, true).n));
        const bytes = new Array<number>(n).fill(fill);
        if (this.final && this.record && n > 0) this.record.rep = n;
        this.emitMany(bytes, offsets, line);
        return n;
      }
      case 'at': {
        const top = this.istrucStack[this.istrucStack.length - 1];
        if (!top) {
          if (this.final) this.at(line, st.col, "'at' outside istruc ... iend");
          return 0;
        }
        const base = this.symbols.get(top.name);
        const r = this.eval(st.field, ctx, line, true);
        const before = this.here(offsets);
        if (!r.unknown && base) this.padTo(Number(r.n - base.value.n), top.start, offsets, line, st.col);
        const inner = st.inner;
        if (inner.k === 'data') this.data(line, inner.width, inner.items, offsets, ctx, first);
        else if (inner.k === 'res') this.reserve(Number(this.eval(inner.count, ctx, line, true).n) * inner.width, offsets, line, first);
        return this.here(offsets) - before;
      }
      case 'incbin': {
        let data = this.incbinCache.get(line);
        if (data === undefined) {
          const found = Preprocessor.resolve(this.opts.provider, st.file, line.src.file);
          data = found ? (typeof found.data === 'string' ? Uint8Array.from(found.data, (c) => c.charCodeAt(0) & 255) : found.data) : null;
          this.incbinCache.set(line, data);
        }
        if (data === null) {
          if (this.final) this.at(line, st.col, `cannot open incbin file '${st.file}'`);
          return 0;
        }
        const off = st.offset ? Number(this.eval(st.offset, ctx, line, true).n) : 0;
        const len = st.length ? Number(this.eval(st.length, ctx, line, true).n) : data.length - off;
        const slice = data.subarray(Math.max(0, off), Math.max(0, Math.min(data.length, off + Math.max(0, len))));
        this.emit(slice, offsets, 'data', first, line);
        return slice.length;
      }
    }
    return 0;
  }

  /** istruc: zero-fill up to `offset` bytes past the structure's start. */
  private padTo(offset: number, start: number, offsets: number[], line: Line, col: number): boolean {
    const pad = offset - (this.here(offsets) - start);
    if (pad < 0) {
      if (this.final) this.at(line, col, `this field starts at offset ${offset} of the structure, but the data before it already reaches offset ${offset - pad}`);
      return false;
    }
    if (pad > 0) this.emit(new Array<number>(pad).fill(0), offsets, 'data', true, line);
    return true;
  }

  private emitMany(bytes: number[], offsets: number[], line: Line): void {
    if (this.final && bytes.length > 0) {
      const rec = this.record;
      this.collectOutput(bytes, offsets, 'data', false, line);
      if (rec && rec.bytes === null) rec.bytes = Uint8Array.from(bytes.slice(0, 1));
    }
    this.advance(offsets, bytes.length);
  }

  private data(line: Line, width: number, items: DataItem[], offsets: number[], ctx: EvalContext, first: boolean): number {
    const out: number[] = [];
    for (const it of items) {
      if (it.t === 'str') {
        for (let i = 0; i < it.s.length; i++) out.push(it.s.charCodeAt(i) & 255);
        const pad = (width - (it.s.length % width)) % width;
        for (let i = 0; i < pad; i++) out.push(0);
      } else if (it.t === 'float') {
        out.push(...floatBytes(it.text, width, () => this.final && this.at(line, it.col, `floating-point values need dd, dq or dt, not a ${width}-byte data directive`)));
      } else {
        const r = this.eval(it.e, ctx, line, false);
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
    this.emit(out, offsets, 'data', first, line);
    return out.length;
  }

  /** NASM's listing shows a relocatable value as its offset in its section, little-endian hex. */
  private markText(value: number, section: number, size: number, rel: boolean): string {
    const v = section >= 0 ? value - (this.sections[section]?.base ?? 0) : value;
    let hexs = '';
    for (let i = 0; i < size; i++) hexs += (Math.floor(v / 2 ** (8 * i)) & 0xff).toString(16).toUpperCase().padStart(2, '0');
    return rel ? `(${hexs})` : `[${hexs}]`;
  }

  private operandValue(e: Expr, ctx: EvalContext, line: Line): EncValue {
    const r = this.eval(e, ctx, line, false);
    // an address never gets a short form, a plain number might: only addresses keep the size fixed
    if (r.unknown || (e.k !== 'num' && r.seg < 0)) this.valuesFixed = false;
    const n = BigInt.asIntN(64, r.n);
    const value = n > 0xffffffffn || n < -0x80000000n ? Number(BigInt.asIntN(32, n)) : Number(n);
    return { value, known: !r.unknown, simple: r.seg < 0, section: r.seg };
  }

  private instruction(line: Line, st: Instruction, li: number, offsets: number[], ctx: EvalContext, bits: 16 | 32, first: boolean): number {
    const cached = this.encCache[li];
    if (cached && !this.final) {
      this.advance(offsets, cached.length);
      return cached.length;
    }
    if (st.mnemonic === '' && st.operands.length === 0) {
      const bytes = st.prefixes.map((p) => PREFIX_BYTES[p.name]!(bits)).filter((b) => b >= 0);
      this.emit(bytes, offsets, 'code', first, line);
      return bytes.length;
    }
    const constant = !hasRelRows(st.mnemonic) && st.operands.every(isConstantOperand);
    const ops: EncOperand[] = st.operands.map((o) => this.resolveOperand(o, ctx, line));
    const res = encode({ mnemonic: st.mnemonic, prefixes: st.prefixes.map((p) => p.name), operands: ops, bits, address: this.addr(offsets), section: this.segIndex() });
    if (this.final) {
      if (res.error) this.at(line, res.operand !== undefined && res.operand >= 0 ? st.operands[res.operand]!.col : st.col, res.error);
      for (const w of res.warnings) this.at(line, st.col, w, 'warning');
    }
    if (constant && !res.error && line.times === null) this.encCache[li] = res.bytes;
    if (this.final && first && this.record && res.fields) {
      const at0 = this.record.bytes?.length ?? 0;
      for (const f of res.fields) this.record.marks.push({ at: at0 + f.at, size: f.size, text: this.markText(f.value.value, f.value.section, f.size, f.rel) });
    }
    this.emit(res.bytes, offsets, 'code', first, line);
    return res.bytes.length;
  }

  private resolveOperand(o: Operand, ctx: EvalContext, line: Line): EncOperand {
    if (o.t === 'reg') return { t: 'reg', reg: o.reg, size: o.size };
    if (o.t === 'mem') return { t: 'mem', size: o.size, seg: o.seg, base: o.base, index: o.index, scale: o.scale, disp: o.disp ? this.operandValue(o.disp, ctx, line) : null, dispSize: o.dispSize, far: o.far };
    return { t: 'imm', v: this.operandValue(o.e, ctx, line), size: o.size, strict: o.strict, jump: o.jump, seg: o.segPart ? this.operandValue(o.segPart, ctx, line) : undefined };
  }

  /**
   * After pass 2 every label has a value: lines whose size can no longer change are marked FIXED
   * (constant operands, data, addresses), jmp/jcc to a label become JUMP (short or near by distance,
   * decided as encode() does), the rest stay GENERIC. Later passes then only walk sizes, which is
   * what makes NASM's dozens of passes cheap on big sources.
   */
  private classify(): void {
    const n = this.lines.length;
    this.fastKind = new Uint8Array(n);
    this.fastSize = new Int32Array(n);
    for (let li = 0; li < n; li++) {
      const line = this.lines[li]!;
      if (line.bad || line.times !== null) continue;
      const st = line.stmt;
      let fixed = false;
      if (st.k === 'nothing' || st.k === 'data') fixed = true;
      else if (st.k === 'res') fixed = st.count.k === 'num';
      else if (st.k === 'insn') {
        const jump = this.jumpInfo(st, this.lineBits![li] as 16 | 32);
        if (jump) {
          this.fastKind[li] = JUMP;
          this.jumps.set(li, jump);
          continue;
        }
        // a branch whose size NASM chooses (jmp/jcc without short/near) is JUMP or GENERIC, never FIXED
        const sized = st.operands.every((o) => o.t !== 'imm' || o.jump === 'short' || o.jump === 'near' || o.strict);
        fixed = this.encCache[li] !== undefined || (this.lineFixed![li] === 1 && (!variableBranch(st.mnemonic) || sized));
      }
      if (fixed) {
        this.fastKind[li] = FIXED;
        this.fastSize[li] = this.lineSize![li]!;
      }
    }
  }

  private jumpInfo(st: Instruction, bits: 16 | 32): JumpInfo | undefined {
    const rows = rowsForMnemonic(st.mnemonic);
    if (!(rows.some((r) => r.operands[0] === 'Jb') && rows.some((r) => r.operands[0] === 'Jv'))) return undefined;
    if (st.operands.length !== 1) return undefined;
    const o = st.operands[0]!;
    if (o.t !== 'imm' || o.jump !== '' || o.strict || o.size !== 0 || o.segPart) return undefined;
    let name: string;
    let addend = 0;
    const e = o.e;
    if (e.k === 'sym') name = e.name;
    else if (e.k === 'bin' && (e.op === '+' || e.op === '-') && e.a.k === 'sym' && e.b.k === 'num') {
      name = e.a.name;
      addend = Number(e.op === '+' ? e.b.v : -e.b.v);
    } else return undefined;
    const sym = this.symbols.get(name);
    if (!sym || sym.kind !== 'label') return undefined;
    const enc = (target: number, section: number) =>
      encode({ mnemonic: st.mnemonic, prefixes: st.prefixes.map((p) => p.name), operands: [{ t: 'imm', v: { value: target, known: true, simple: false, section }, size: 0, strict: false, jump: '' }], bits, address: 0, section: 0 });
    const short = enc(2, 0);
    const near = enc(0x4000, 1);
    if (short.error || near.error) return undefined;
    return { name, addend, short: short.bytes.length, near: near.bytes.length };
  }

  private jumpSize(li: number, offsets: number[]): number {
    const j = this.jumps.get(li)!;
    const sym = this.symbols.get(j.name);
    if (!sym) return j.short;
    if (sym.value.seg !== this.segIndex()) return j.near;
    const disp = Number(sym.value.n) + j.addend - (this.addr(offsets) + j.short);
    return disp >= -128 && disp <= 127 ? j.short : j.near;
  }

  /** Every repetition of this `times` line gives the same bytes (no `$`, no relative branch). */
  private repeatable(line: Line): boolean {
    const st = line.stmt;
    if (st.k === 'data') return st.items.every((it) => it.t !== 'expr' || !usesHere(it.e));
    if (st.k === 'res') return !usesHere(st.count);
    if (st.k === 'insn') return !hasRelRows(st.mnemonic) && st.operands.every((o) => (o.t === 'reg' ? true : o.t === 'mem' ? !o.disp || !usesHere(o.disp) : !usesHere(o.e)));
    return false;
  }

  /** `times N` of a repeatable statement: assemble once, then copy (keeps big `times` fast). */
  private repeatFast(line: Line, li: number, offsets: number[], ctx: EvalContext, bits: 16 | 32, count: number): void {
    const sink = this.final && !this.absolute ? this.sinks[this.cur.index] : undefined;
    const startLen = sink ? sink.len : 0;
    const itemsBefore = this.items.length;
    const size = this.statement(line, li, offsets, ctx, bits, true);
    if (size <= 0) return;
    const rest = count - 1;
    if (this.final) {
      const first = this.items[itemsBefore];
      if (first && line.stmt.k === 'insn' && rest <= 65536) {
        // one map item per repeated instruction, so the debugger can step through them
        for (let k = 1; k <= rest; k++) this.items.push({ ...first, address: first.address + size * k, length: size });
      } else if (first) this.items.push({ ...first, address: first.address + size, length: size * rest });
      if (sink && sink.len === startLen + size) {
        sink.ensure(size * rest);
        for (let k = 0; k < rest; k++) sink.buf.copyWithin(sink.len + k * size, startLen, startLen + size);
        sink.len += size * rest;
      }
      if (this.record && line.stmt.k === 'res') this.record.reserve = size * count;
    }
    this.advance(offsets, size * rest);
  }

  // ---- end -------------------------------------------------------------------------------

  private checkCircularEqu(): void {
    const reported = new Set<string>();
    for (const line of this.lines) {
      if (line.stmt.k !== 'equ' || !line.label || this.symbols.has(line.label.name) || reported.has(line.label.name)) continue;
      const path = this.cycleFrom(line.label.name, [line.label.name]);
      if (path) {
        for (const n of path) reported.add(n);
        this.at(line, line.label.col, `circular definition: ${path.join(' → ')} (an equ cannot depend on itself)`);
      } else {
        // not circular: it depends on a symbol that is never defined
        const ctx = { lookup: (n: string) => this.symbols.get(n)?.value, here: () => ({ n: 0n, seg: -1 }), base: () => ({ n: 0n, seg: -1 }) };
        try {
          const r = evaluate(line.stmt.e, ctx);
          if (r.missing && !this.equNames.has(r.missing.name)) this.at(line, r.missing.col, `undefined symbol '${r.missing.name}'`);
        } catch (err) {
          this.at(line, err instanceof ExprError ? err.col : 0, err instanceof Error ? err.message : 'cannot evaluate this expression');
        }
      }
    }
  }

  private cycleFrom(name: string, path: string[]): string[] | undefined {
    const def = this.lines.find((l) => l.label?.name === name && l.stmt.k === 'equ');
    if (!def || def.stmt.k !== 'equ') return undefined;
    for (const s of symbolsOf(def.stmt.e)) {
      if (s === path[0]) return [...path, s];
      if (path.includes(s) || path.length > 50) continue;
      const p = this.cycleFrom(s, [...path, s]);
      if (p) return p;
    }
    return undefined;
  }

  private buildImage(): void {
    const ext = layout(this.sections, this.org);
    const size = Math.max(0, ext.imageEnd - ext.imageStart);
    if (size > 256 * 1024 * 1024) {
      this.report('error', this.opts.fileName ?? 'input.asm', 1, 1, `the output would be ${size} bytes: too large`);
      return;
    }
    const img = new Uint8Array(size);
    for (const s of this.sections) {
      if (s.nobits) continue;
      const sink = this.sinks[s.index];
      if (!sink || sink.len === 0) continue;
      const off = s.loadAddr - ext.imageStart;
      if (off < 0) {
        this.report('error', this.opts.fileName ?? 'input.asm', 1, 1, `section ${s.name} starts before the origin`);
        continue;
      }
      img.set(sink.buf.subarray(0, Math.min(sink.len, size - off)), off);
    }
    this.image = img;
    this.items.sort((a, b) => a.address - b.address);
  }

  /** All diagnostics in source order: files in order of first mention, then line and column. */
  private sortDiagnostics(): void {
    const fileOrder = new Map<string, number>();
    for (const d of this.diagnostics) if (!fileOrder.has(d.file)) fileOrder.set(d.file, fileOrder.size);
    this.diagnostics.sort((a, b) => fileOrder.get(a.file)! - fileOrder.get(b.file)! || a.line - b.line || a.column - b.column);
  }

  map(): AsmMap {
    const secName = (i: number) => this.sections[i]?.name ?? '';
    return {
      symbols: [...this.symbols.entries()]
        .filter(([n]) => !n.startsWith('..@'))
        .map(([name, s]) => ({ name, address: Number(BigInt.asUintN(32, s.value.n)), section: s.value.seg >= 0 ? secName(s.value.seg) : '', kind: s.kind })),
      sections: this.sections
        .filter((s) => s.size > 0 || s.index === 0)
        .map((s) => ({ name: s.name, start: s.base, fileOffset: s.fileOffset, length: s.size, nobits: s.nobits })),
      items: this.items,
    };
  }
}

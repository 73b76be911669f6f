// The multi-pass assembler: lines are parsed once; each pass walks them, assigning addresses and
// encoding what depends on symbols, until every label stays put (NASM -Ox); a final pass emits
// bytes, diagnostics, the listing records and the address map.
// Layers: pass-state.ts (diagnostics, symbols, position) < output.ts (bytes, listing, map) <
// statements.ts (directives, data, instructions) < this file (the passes and their fast paths).

import type { Instruction, Line } from './ast.ts';
import { evaluate, symbolsOf, usesHere } from './expr.ts';
import { LineParser } from './parser.ts';
import { Preprocessor } from './preproc.ts';
import { layout, newSection } from './sections.ts';
import type { Sym } from './pass-state.ts';
import { AsmStatements } from './statements.ts';
import type { AsmMap } from './types.ts';
import { encode, hasRelativeForms, hasShortAndNearForms } from '../x86/encode.ts';

const MAX_PASSES = 1000;
/** Optional hook for investigating convergence: globalThis.VIZOR_ASM_DEBUG(pass, symbols) after each pass. */
const DEBUG_PASS = (globalThis as { VIZOR_ASM_DEBUG?: (p: number, s: Map<string, Sym>) => void }).VIZOR_ASM_DEBUG;
const MAX_OUTPUT = 64 << 20;

/** How a line is walked from pass 3 on (see classify). */
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

export class Assembler extends AsmStatements {
  private aborted = false;
  /** Per line, from pass 3 on: FIXED (size never changes), JUMP (short/near by distance) or GENERIC. */
  private fastKind: Uint8Array | null = null;
  private fastSize: Int32Array | null = null;
  /** Measured in pass 2, for classify: each line's size, whether its values were fixed, its bits. */
  private lineSize: Int32Array | null = null;
  private lineFixed: Uint8Array | null = null;
  private lineBits: Uint8Array | null = null;
  private jumps = new Map<number, JumpInfo>();
  image = new Uint8Array(0);

  run(source: string): void {
    const file = this.opts.fileName ?? 'input.asm';
    this.parse(source, file);
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

  /** Preprocesses and parses every line once; a label defined twice is reported and dropped. */
  private parse(source: string, file: string): void {
    const pre = new Preprocessor((sev, f, l, c, m) => this.report(sev, f, l, c, m), this.opts.provider, this.opts.defines);
    const parser = new LineParser();
    const defined = new Map<string, Line>();
    for (const pl of pre.run(source, file)) {
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
  }

  /** Sizes and bases of all sections: a pass that changes them needs another. */
  private sectionSignature(): string {
    let s = '';
    for (const sec of this.sections) s += `${sec.name}:${sec.size}:${sec.base};`;
    return s;
  }

  // ---- one pass ---------------------------------------------------------------------------

  private walk(): void {
    if (this.sections.length === 0) this.sections.push(newSection('.text', 0, {}));
    this.offsets = this.sections.map(() => 0);
    for (const s of this.sections) s.alignRaised = 0;
    this.cur = this.sections[0]!;
    this.absolute = null;
    this.resetSinks();
    this.bits = 16;
    this.ctx = this.walkContext();
    this.aborted = false;
    this.istrucStack = [];
    for (let li = 0; li < this.lines.length && !this.aborted; li++) {
      const line = this.lines[li]!;
      if (this.final) this.startRecord(line);
      if (line.bad) continue;
      if (this.fastKind && !this.final && this.fastKind[li] !== GENERIC) {
        if (line.label) this.defineLabel(line.label.name, line);
        this.advance(this.fastKind[li] === FIXED ? this.fastSize![li]! : this.jumpSize(li));
        continue;
      }
      if (line.label && line.stmt.k !== 'equ') this.defineLabel(line.label.name, line);
      const before = this.pass === 2 ? this.here() : 0;
      if (this.pass === 2) this.lineBits![li] = this.bits;
      this.valuesFixed = true;
      if (this.directive(line)) continue;
      this.assembleLine(line, li, before);
      if (this.here() > MAX_OUTPUT) {
        this.at(line, line.timesCol, `the program grows beyond ${MAX_OUTPUT / (1 << 20)} MiB here; vizor stops assembling`);
        this.aborted = true;
        break;
      }
    }
    for (const s of this.sections) s.size = this.offsets[s.index]!;
    layout(this.sections, this.org);
  }

  /** A statement with bytes or space, `times` included; in pass 2 its size is measured for classify. */
  private assembleLine(line: Line, li: number, before: number): void {
    const count = this.timesCount(line);
    if (this.pass === 2) this.lineFixed![li] = this.valuesFixed && line.times === null ? 1 : 0;
    if (count > 16 && this.repeatable(line)) {
      this.repeatFast(line, li, count);
    } else {
      for (let k = 0; k < count; k++) {
        const size = this.statement(line, li, k === 0);
        if (size < 0) break;
      }
    }
    if (this.pass === 2) this.lineSize![li] = this.here() - before;
  }

  // ---- fast passes ------------------------------------------------------------------------

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
        fixed = this.encCache[li] !== undefined || (this.lineFixed![li] === 1 && (!hasShortAndNearForms(st.mnemonic) || sized));
      }
      if (fixed) {
        this.fastKind[li] = FIXED;
        this.fastSize[li] = this.lineSize![li]!;
      }
    }
  }

  /** A plain `jmp/jcc label(+-n)`: its two possible sizes, measured once by encoding both. */
  private jumpInfo(st: Instruction, bits: 16 | 32): JumpInfo | undefined {
    if (!hasShortAndNearForms(st.mnemonic)) return undefined;
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

  private jumpSize(li: number): number {
    const j = this.jumps.get(li)!;
    const sym = this.symbols.get(j.name);
    if (!sym) return j.short;
    if (sym.value.seg !== this.segIndex()) return j.near;
    const disp = Number(sym.value.n) + j.addend - (this.addr() + j.short);
    return disp >= -128 && disp <= 127 ? j.short : j.near;
  }

  /** Every repetition of this `times` line gives the same bytes (no `$`, no relative branch). */
  private repeatable(line: Line): boolean {
    const st = line.stmt;
    if (st.k === 'data') return st.items.every((it) => it.t !== 'expr' || !usesHere(it.e));
    if (st.k === 'res') return !usesHere(st.count);
    if (st.k === 'insn') return !hasRelativeForms(st.mnemonic) && st.operands.every((o) => (o.t === 'reg' ? true : o.t === 'mem' ? !o.disp || !usesHere(o.disp) : !usesHere(o.e)));
    return false;
  }

  /** `times N` of a repeatable statement: assemble once, then copy (keeps big `times` fast). */
  private repeatFast(line: Line, li: number, count: number): void {
    const sink = this.final && !this.absolute ? this.sinks[this.cur.index] : undefined;
    const startLen = sink ? sink.len : 0;
    const itemsBefore = this.items.length;
    const size = this.statement(line, li, true);
    if (size <= 0) return;
    const rest = count - 1;
    if (this.final) {
      const first = this.items[itemsBefore];
      if (first && line.stmt.k === 'insn' && rest <= 65536) {
        // one map item per repeated instruction, so the debugger can step through them
        for (let k = 1; k <= rest; k++) this.items.push({ ...first, address: first.address + size * k, length: size });
      } else if (first) this.items.push({ ...first, address: first.address + size, length: size * rest });
      if (sink && sink.len === startLen + size) sink.repeatTail(size, rest);
      if (this.record && line.stmt.k === 'res') this.record.reserve = size * count;
    }
    this.advance(size * rest);
  }

  // ---- end -------------------------------------------------------------------------------

  /** An equ still undefined after the last pass: circular, or it uses a symbol defined nowhere. */
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
          this.reportThrown(line, err);
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

  /** The flat binary: each progbits section's bytes at its load address minus the origin. */
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
      img.set(sink.bytes().subarray(0, size - off), off);
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

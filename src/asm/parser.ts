// Turns a preprocessed line into a Line (label, times, statement), reporting syntax errors
// with the column of the offending token and what was expected. Directives and data are parsed
// here; instructions and their operands in parse-operands.ts, on the cursor of parse-cursor.ts.

import type { DataItem, Line, Statement } from './ast.ts';
import { ExprError, describe, type Expr } from './expr.ts';
import { tokenize } from './lexer.ts';
import type { PLine } from './preproc.ts';
import { LONG_MODE_REGS, register } from './registers.ts';
import { Fail, longModeRegister, unknownInstruction } from './parse-cursor.ts';
import { OperandParser, PREFIXES } from './parse-operands.ts';
import { canonicalMnemonic } from '../x86/encode.ts';

export type ParseReport = (col: number, message: string, severity?: 'error' | 'warning') => void;

const DATA: Record<string, 1 | 2 | 4 | 8 | 10> = { db: 1, dw: 2, dd: 4, dq: 8, dt: 10 };
const RES: Record<string, number> = { resb: 1, resw: 2, resd: 4, resq: 8, rest: 10, reso: 16 };
const DIRECTIVES = new Set([
  'times', 'equ', 'bits', 'use16', 'use32', 'org', 'section', 'segment', 'align', 'alignb', 'incbin', 'global', 'extern',
  'common', 'cpu', 'default', 'absolute', 'map', 'struc', 'endstruc', 'istruc', 'iend', 'at', 'sectalign', 'static', 'warning',
  ...Object.keys(DATA), ...Object.keys(RES),
]);
const KNOWN_SECTION_ATTRS = new Set(['align', 'start', 'vstart', 'follows', 'vfollows', 'progbits', 'nobits', 'code', 'text', 'data', 'rdata', 'bss', 'exec', 'noexec', 'write', 'nowrite', 'alloc', 'noalloc']);

/** A directive, prefix or instruction name: a first word that is not a label without a colon. */
function isKeyword(word: string): boolean {
  const w = word.toLowerCase();
  return DIRECTIVES.has(w) || PREFIXES.has(w) || canonicalMnemonic(w) !== undefined;
}

export class LineParser extends OperandParser {
  parse(src: PLine, report: ParseReport): Line {
    const line: Line = { src, label: null, times: null, timesCol: 0, stmt: { k: 'nothing' }, bad: false };
    const { toks, error } = tokenize(src.text);
    if (error) {
      report(error.col, error.message);
      line.bad = true;
      return line;
    }
    if (toks.length === 0) return line;
    this.toks = toks;
    this.pos = 0;
    this.end = src.text.length;
    try {
      this.unbracket();
      this.parseLabel(line, report);
      if (this.pos >= toks.length) return line;
      const t = this.toks[this.pos]!;
      if (t.k === 'id' && !t.escaped && t.s.toLowerCase() === 'times') {
        this.pos++;
        line.timesCol = t.col;
        line.times = this.expr();
        if (this.pos >= toks.length) throw new Fail(this.end, "expected an instruction or data after 'times COUNT'");
      }
      line.stmt = this.statement(line, report);
    } catch (e) {
      if (e instanceof Fail || e instanceof ExprError) report(e.col, e.message);
      else report(0, 'cannot parse this line');
      line.bad = true;
    }
    return line;
  }

  /** `[bits 32]`, `[org 0x7c00]`, `[section .text]`: NASM's primitive directive form. */
  private unbracket(): void {
    const t = this.toks;
    if (this.isOp('[', 0) && DIRECTIVES.has(this.word(1)) && this.isOp(']', t.length - 1)) {
      this.toks = t.slice(1, -1);
    }
  }

  private parseLabel(line: Line, report: ParseReport): void {
    const t0 = this.toks[0]!;
    if (t0.k !== 'id') return;
    const next = this.toks[1];
    const colon = next !== undefined && next.k === 'op' && next.s === ':';
    if (!colon) {
      if (!t0.escaped && isKeyword(t0.s)) return;
      if (next !== undefined && !(next.k === 'id' && !next.escaped && isKeyword(next.s))) {
        if (LONG_MODE_REGS.test(t0.s)) throw longModeRegister(t0);
        throw unknownInstruction(t0);
      }
      if (next === undefined) report(t0.col, `label '${t0.s}' alone on a line without a colon might be in error (an instruction name misspelt?)`, 'warning');
    }
    if (register(t0.s) && !t0.escaped) throw new Fail(t0.col, `'${t0.s}' is a register name and cannot be used as a label`);
    const name = this.qualify(t0.s);
    if (!t0.s.startsWith('.') && !t0.s.startsWith('..@')) this.lastGlobal = t0.s;
    line.label = { name, col: t0.col };
    this.pos = colon ? 2 : 1;
  }

  private statement(line: Line, report: ParseReport): Statement {
    const t = this.peek()!;
    const w = this.word();
    const col = t.col;
    if (t.k !== 'id' || t.escaped) throw new Fail(col, `expected an instruction or directive, found ${describe(t)}`);
    this.pos++;
    if (w in DATA) return this.data(DATA[w]!, col);
    if (w in RES) {
      const count = this.expr();
      this.expectEnd(w);
      return { k: 'res', width: RES[w]!, count, col };
    }
    switch (w) {
      case 'equ': {
        if (!line.label) throw new Fail(col, "'equ' needs a label before it: NAME equ VALUE");
        const e = this.expr();
        this.expectEnd('the equ value');
        return { k: 'equ', e, col };
      }
      case 'bits': {
        const e = this.expr();
        this.expectEnd('bits');
        const v = e.k === 'num' ? Number(e.v) : -1;
        if (v === 64) throw new Fail(col, "'bits 64' is not supported: vizor's machine is a 32-bit 486 (use bits 16 or bits 32)");
        if (v !== 16 && v !== 32) throw new Fail(this.toks[1]?.col ?? col, 'expected 16 or 32 after bits');
        return { k: 'bits', bits: v, col };
      }
      case 'use16':
      case 'use32':
        return { k: 'bits', bits: w === 'use16' ? 16 : 32, col };
      case 'org': {
        const e = this.expr();
        this.expectEnd('org');
        return { k: 'org', e, col };
      }
      case 'section':
      case 'segment':
        return this.section(col);
      case 'align':
      case 'alignb': {
        const e = this.expr();
        let fill: DataItem | null = null;
        if (this.isOp(',')) {
          this.pos++;
          const c = this.colHere();
          const fw = this.word();
          if (fw === 'db' || fw === 'nop' || fw === 'resb') this.pos++;
          if (this.pos < this.toks.length) fill = { t: 'expr', e: this.expr(), col: c };
        }
        this.expectEnd(w);
        return { k: 'align', e, fill, col, reserve: w === 'alignb' };
      }
      case 'incbin': {
        const f = this.peek();
        if (!f || f.k !== 'str') throw new Fail(this.colHere(), `expected a file name in quotes after incbin, found ${describe(f)}`);
        this.pos++;
        let offset: Expr | null = null;
        let length: Expr | null = null;
        if (this.isOp(',')) {
          this.pos++;
          offset = this.expr();
          if (this.isOp(',')) {
            this.pos++;
            length = this.expr();
          }
        }
        this.expectEnd('incbin');
        return { k: 'incbin', file: f.s, offset, length, col };
      }
      case 'absolute': {
        const e = this.expr();
        return { k: 'absolute', e, col };
      }
      case 'struc': {
        const n = this.peek();
        if (!n || n.k !== 'id') throw new Fail(this.colHere(), 'expected a structure name after struc');
        this.pos++;
        this.lastGlobal = n.s;
        return { k: 'struc', name: n.s, col };
      }
      case 'endstruc':
        return { k: 'endstruc', col };
      case 'map':
        report(col, "NASM's [map] file is not written by vizor: use vizor asm --map map.json", 'warning');
        this.pos = this.toks.length;
        return { k: 'nothing' };
      case 'global':
      case 'extern':
      case 'common':
      case 'cpu':
      case 'default':
      case 'static':
      case 'sectalign':
      case 'warning':
        if (w === 'extern') report(col, "'extern' has no meaning in a flat binary: every symbol must be defined in this program", 'warning');
        this.pos = this.toks.length;
        return { k: 'nothing' };
      case 'istruc': {
        const n = this.peek();
        if (!n || n.k !== 'id') throw new Fail(this.colHere(), `expected a structure name after istruc, found ${describe(n)}`);
        this.pos++;
        this.expectEnd('istruc NAME');
        return { k: 'istruc', name: n.s, col };
      }
      case 'at': {
        const field = this.expr();
        if (!this.isOp(',')) throw new Fail(this.colHere(), `expected ',' and the field's data after 'at ${'FIELD'}', found ${describe(this.peek())}`);
        this.pos++;
        if (this.pos >= this.toks.length) throw new Fail(this.end, "expected the field's data (db/dw/dd ...) after 'at FIELD,'");
        const inner = this.statement(line, report);
        if (inner.k !== 'data' && inner.k !== 'res') throw new Fail(col, "'at FIELD,' must be followed by data (db, dw, dd, dq or resb...)");
        return { k: 'at', field, inner, col };
      }
      case 'iend':
        return { k: 'iend', col };
      case 'times':
        throw new Fail(col, "'times' may appear only once, at the start of the statement");
    }
    this.pos--;
    return this.instruction(col);
  }

  private section(col: number): Statement {
    const n = this.peek();
    if (!n || (n.k !== 'id' && n.k !== 'str')) throw new Fail(this.colHere(), `expected a section name, found ${describe(n)}`);
    this.pos++;
    const attrs: Record<string, string> = {};
    while (this.pos < this.toks.length) {
      const a = this.peek()!;
      if (a.k !== 'id') throw new Fail(a.col, `expected a section attribute (align=, start=, vstart=, follows=, progbits, nobits), found ${describe(a)}`);
      this.pos++;
      const key = a.s.toLowerCase();
      if (!KNOWN_SECTION_ATTRS.has(key)) throw new Fail(a.col, `unknown section attribute '${a.s}' (vizor knows align=, start=, vstart=, follows=, vfollows=, progbits, nobits)`);
      if (this.isOp('=')) {
        this.pos++;
        const start = this.pos;
        if (key === 'follows' || key === 'vfollows') {
          const v = this.peek();
          if (!v || v.k !== 'id') throw new Fail(this.colHere(), `expected a section name after ${key}=`);
          this.pos++;
          attrs[key] = v.s;
        } else {
          const e = this.expr();
          if (e.k !== 'num') throw new Fail(this.toks[start]?.col ?? col, `${key}= needs a constant number`);
          attrs[key] = String(e.v);
        }
      } else attrs[key] = '';
    }
    return { k: 'section', name: n.s, attrs, col };
  }

  private data(width: 1 | 2 | 4 | 8 | 10, col: number): Statement {
    const items: DataItem[] = [];
    if (this.pos >= this.toks.length) throw new Fail(this.end, 'expected at least one value after the data directive');
    for (;;) {
      const t = this.peek();
      const next = this.toks[this.pos + 1];
      if (t && t.k === 'str' && (next === undefined || (next.k === 'op' && next.s === ','))) {
        items.push({ t: 'str', s: t.s, col: t.col });
        this.pos++;
      } else if (t && t.k === 'float' || (t && t.k === 'op' && (t.s === '-' || t.s === '+') && next?.k === 'float')) {
        let text = '';
        if (t.k === 'op') {
          text = t.s;
          this.pos++;
        }
        const f = this.peek()!;
        text += f.s;
        this.pos++;
        items.push({ t: 'float', text, col: t.col });
      } else {
        const c = this.colHere();
        items.push({ t: 'expr', e: this.expr(), col: c });
      }
      if (this.pos >= this.toks.length) break;
      if (!this.isOp(',')) throw new Fail(this.colHere(), `expected ',' between data values, found ${describe(this.peek())}`);
      this.pos++;
    }
    return { k: 'data', width, items, col };
  }
}

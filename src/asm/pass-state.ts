// What every pass of the assembler shares: the diagnostics, the symbol table, the sections and the
// current position (a section offset, or an `absolute`/`struc` counter). The output (output.ts),
// the statements (statements.ts) and the pass driver (assembler.ts) build on it, in that order.

import type { Line } from './ast.ts';
import { ExprError, evaluate, type EvalContext, type EvalResult, type Expr, type Value } from './expr.ts';
import { applyAttrs, newSection, type Section } from './sections.ts';
import type { AssembleOptions, Diagnostic, Severity } from './types.ts';

export interface Sym {
  value: Value;
  /** The pass that last defined it: a value not redefined in the previous pass has not settled. */
  pass: number;
  kind: 'label' | 'equ';
  line: Line;
}

/** Where an `absolute`/`struc` block places labels: base + offset, relative to section `seg` (-1: none). */
export interface AbsoluteOrigin {
  base: number;
  offset: number;
  seg: number;
}

export class PassState {
  readonly diagnostics: Diagnostic[] = [];
  private seen = new Set<string>();
  protected lines: Line[] = [];
  protected sections: Section[] = [];
  protected symbols = new Map<string, Sym>();
  /** Names defined by `equ` anywhere: an unresolved one is reported at its own line, not at each use. */
  protected equNames = new Set<string>();
  protected pass = 0;
  /** The last walk: emits bytes, listing and map, and reports what is still wrong. */
  protected final = false;
  /** Some symbol got a new value in this pass: another pass is needed. */
  protected changed = false;
  protected org = 0;
  protected orgSet = false;
  protected cur!: Section;
  protected absolute: AbsoluteOrigin | null = null;
  /** Offset reached in each section, in this walk. */
  protected offsets: number[] = [];
  protected bits: 16 | 32 = 16;
  protected ctx!: EvalContext;

  constructor(protected opts: AssembleOptions) {}

  report(severity: Severity, file: string, line: number, column: number, message: string): void {
    const key = `${severity}|${file}|${line}|${column}|${message}`;
    if (this.seen.has(key)) return;
    this.seen.add(key);
    this.diagnostics.push({ severity, file, line, column, message });
    this.onReport(severity, file, line, message);
  }

  /** Lets the output attach a message to the listing line it belongs to. */
  protected onReport(_severity: Severity, _file: string, _line: number, _message: string): void {}

  /** Reports at column `col` of a line; a line from a macro is reported at the call, naming the macro. */
  protected at(line: Line, col: number, message: string, severity: Severity = 'error'): void {
    const s = line.src;
    const where = s.macro && s.macro.name !== '%rep' ? ` (in macro '${s.macro.name}', ${s.macro.file}:${s.macro.line})` : '';
    this.report(severity, s.file, s.line, s.exactColumns ? col + 1 : s.callColumn + 1, message + where);
  }

  // ---- position -----------------------------------------------------------------------

  protected sectionNamed(name: string, attrs: Record<string, string>): Section {
    let s = this.sections.find((x) => x.name === name);
    if (!s) {
      s = newSection(name, this.sections.length, attrs);
      this.sections.push(s);
    } else applyAttrs(s, attrs);
    return s;
  }

  /** The section labels here belong to (for `absolute label`, label's section; -1 for numbers). */
  protected segIndex(): number {
    return this.absolute ? this.absolute.seg : this.cur.index;
  }

  /** The offset the listing shows: in its section (for `absolute label`, relative to label's section). */
  protected listOffset(): number {
    const a = this.absolute;
    if (!a) return this.offsets[this.cur.index]!;
    return a.seg >= 0 ? a.base - (this.sections[a.seg]?.base ?? 0) + a.offset : a.base + a.offset;
  }

  /** Offset from the start of the section or absolute block. */
  protected here(): number {
    return this.absolute ? this.absolute.offset : this.offsets[this.cur.index]!;
  }

  /** Address of the next byte. */
  protected addr(): number {
    return this.absolute ? this.absolute.base + this.absolute.offset : this.cur.base + this.offsets[this.cur.index]!;
  }

  protected advance(n: number): void {
    if (this.absolute) this.absolute.offset += n;
    else this.offsets[this.cur.index]! += n;
  }

  // ---- symbols ------------------------------------------------------------------------

  /** The context expressions are evaluated in during a walk: symbols, `$` and `$$`. */
  protected walkContext(): EvalContext {
    return {
      lookup: (name) => {
        const s = this.symbols.get(name);
        return s ? s.value : undefined;
      },
      here: () => ({ n: BigInt(this.addr()), seg: this.segIndex() }),
      base: () => (this.absolute ? { n: BigInt(this.absolute.base), seg: -1 } : { n: BigInt(this.cur.base), seg: this.cur.index }),
    };
  }

  protected define(name: string, value: Value, kind: 'label' | 'equ', line: Line): void {
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

  /** Defines a label at the current address. */
  protected defineLabel(name: string, line: Line): void {
    this.define(name, { n: BigInt(this.addr()), seg: this.segIndex() }, 'label', line);
  }

  /** Evaluates; in the final pass an unresolved symbol is an error at its column. */
  protected eval(e: Expr, line: Line, critical: boolean): EvalResult {
    try {
      const r = evaluate(e, this.ctx);
      if (r.unknown && this.final && r.missing) {
        const sym = this.symbols.get(r.missing.name);
        // an equ that never resolved is reported at its own line (circular or undefined inside)
        if (!sym && !this.equNames.has(r.missing.name)) this.at(line, r.missing.col, `undefined symbol '${r.missing.name}'`);
        else if (critical) this.at(line, r.missing.col, `'${r.missing.name}' must be defined before it is used here`);
      }
      return r;
    } catch (err) {
      if (this.final) this.reportThrown(line, err);
      return { n: 0n, seg: -1, unknown: true };
    }
  }

  /** An expression that threw: its message at its column. */
  protected reportThrown(line: Line, err: unknown): void {
    this.at(line, err instanceof ExprError ? err.col : 0, err instanceof Error ? err.message : 'cannot evaluate this expression');
  }
}

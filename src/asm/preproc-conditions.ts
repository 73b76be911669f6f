// The %if family: %if/%elif with expressions, %ifdef, %ifmacro, %ifidn(i), %ifnum, %ifstr, %ifid,
// %ifempty, %ifctx (each with its `n` form), %else and %endif. A stack of open conditionals says
// whether the current line is assembled.

import { splitArgs } from './textutil.ts';
import type { SingleLineMacros } from './preproc-defines.ts';
import type { RawLine, Report } from './preproc-source.ts';

interface Cond {
  active: boolean;
  taken: boolean;
  sawElse: boolean;
  file: string;
  line: number;
  col: number;
}

/** What the tests ask of the rest of the preprocessor. */
export interface ConditionFacts {
  defines: SingleLineMacros;
  hasMacro(name: string): boolean;
  contextName(): string | undefined;
}

export class Conditionals {
  private conds: Cond[] = [];

  constructor(
    private report: Report,
    private facts: ConditionFacts,
  ) {}

  /** Open conditionals; a macro or %rep frame remembers it to close its own on exit. */
  get depth(): number {
    return this.conds.length;
  }

  /** Whether lines here are assembled (every enclosing %if branch taken). */
  get active(): boolean {
    return this.conds.length === 0 || this.conds[this.conds.length - 1]!.active;
  }

  /** %exitrep / %exitmacro: the conditionals opened inside the block end with it. */
  truncate(depth: number): void {
    this.conds.length = Math.min(this.conds.length, depth);
  }

  /** At the end of a file: every %if opened in it and still open is an error. */
  closeFile(depth: number): void {
    while (this.conds.length > depth) {
      const c = this.conds.pop()!;
      this.report('error', c.file, c.line, c.col, 'this %if has no matching %endif before the end of the file');
    }
  }

  /** %if<kind> or %elif<kind> (negated for the `n` forms); `active` is the state before the line. */
  open(raw: RawLine, isElif: boolean, negate: boolean, kind: string, args: string, col: number, active: boolean, argCol: number): void {
    const top = this.conds[this.conds.length - 1];
    if (isElif) {
      if (!top) return this.report('error', raw.file, raw.line, col + 1, '%elif without a matching %if');
      if (top.sawElse) return this.report('error', raw.file, raw.line, col + 1, '%elif after %else');
      if (top.taken || !this.parentActive()) {
        top.active = false;
        return;
      }
      const v = this.test(raw, kind, args, argCol) !== negate;
      top.active = v;
      top.taken = v;
      return;
    }
    const v = active ? this.test(raw, kind, args, argCol) !== negate : false;
    this.conds.push({ active: active && v, taken: !active || v, sawElse: false, file: raw.file, line: raw.line, col: col + 1 });
  }

  elseEndif(raw: RawLine, name: string, col: number): void {
    const top = this.conds[this.conds.length - 1];
    if (!top) return this.report('error', raw.file, raw.line, col + 1, `%${name} without a matching %if`);
    if (name === 'endif') {
      this.conds.pop();
      return;
    }
    if (top.sawElse) return this.report('error', raw.file, raw.line, col + 1, 'a second %else for the same %if');
    top.sawElse = true;
    top.active = this.parentActive() && !top.taken;
    top.taken = true;
  }

  private parentActive(): boolean {
    return this.conds.length < 2 || this.conds[this.conds.length - 2]!.active;
  }

  private test(raw: RawLine, kind: string, args: string, argCol: number): boolean {
    const { defines } = this.facts;
    const a = args.trim();
    switch (kind) {
      case '':
        return (defines.evaluate(raw, a, argCol) ?? 0n) !== 0n;
      case 'def':
        return defines.lookup(a) !== undefined;
      case 'macro':
        return this.facts.hasMacro(a.split(/\s+/)[0]!);
      case 'idn':
      case 'idni': {
        const parts = splitArgs(defines.expand(a, raw));
        if (parts.length !== 2) {
          this.report('error', raw.file, raw.line, argCol + 1, `%if${kind} expects two comma-separated texts`);
          return false;
        }
        const [x, y] = parts.map((s) => s!.replace(/\s+/g, ''));
        return kind === 'idn' ? x === y : x!.toLowerCase() === y!.toLowerCase();
      }
      case 'num':
        return /^[-+]?(\$?[0-9][0-9a-zA-Z_]*)$/.test(defines.expand(a, raw).trim());
      case 'str':
        return /^(["'`]).*\1$/.test(defines.expand(a, raw).trim());
      case 'id':
        return /^[A-Za-z_.?@$][A-Za-z0-9_.?@$#~]*$/.test(defines.expand(a, raw).trim());
      case 'empty':
        return defines.expand(a, raw).trim() === '';
      case 'ctx': {
        const name = this.facts.contextName();
        return name !== undefined && a.split(/\s+/).includes(name);
      }
    }
    return false;
  }
}

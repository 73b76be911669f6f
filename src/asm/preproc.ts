// The NASM preprocessor, line based. This file runs it: a stack of frames (files, macro bodies,
// %rep blocks) read line by line, each line expanded and either handled as a directive or passed
// on, with the source location used for diagnostics, the listing and the address↔line map.
// The pieces: preproc-defines.ts (single-line macros, %assign, expressions), preproc-macros.ts
// (%macro), preproc-conditions.ts (the %if family), preproc-contexts.ts (%push/%pop),
// preproc-source.ts (lines, files, listing text). %include, %rep and %error live here.

import { commentStart } from './textutil.ts';
import type { FileProvider, Severity } from './types.ts';
import { listForm, resolveFile, splitLines, type RawLine, type Report } from './preproc-source.ts';
import { SingleLineMacros } from './preproc-defines.ts';
import { MacroTable, bindArguments, substituteParams } from './preproc-macros.ts';
import { Conditionals } from './preproc-conditions.ts';
import { ContextStack } from './preproc-contexts.ts';

export interface PLine {
  /** Text after expansion, comment removed. */
  text: string;
  /** Where diagnostics and the map point: the line itself, or the outermost macro call. */
  file: string;
  line: number;
  /** True when `text` columns are the source columns (no expansion happened). */
  exactColumns: boolean;
  /** Listing: line number and text as NASM shows them (the macro body line, unexpanded). */
  listLine: number;
  listText: string;
  /** Macro/%rep nesting depth, shown as <N> in the listing. */
  depth: number;
  /** Column of the first character (for lines reported at a macro call site). */
  callColumn: number;
  /** For lines from a macro body: the macro and where the body line is, for diagnostics. */
  macro?: { name: string; file: string; line: number };
}

/** What is being read: a file, a macro body (with its call's arguments) or a %rep block. */
interface Frame {
  lines: RawLine[];
  i: number;
  kind: 'file' | 'macro' | 'rep';
  params?: string[];
  uniq?: number;
  repLeft?: number;
  macroName?: string;
  /** The outermost macro call, where lines from its expansion are reported. */
  call?: { file: string; line: number; col: number };
  depth: number;
  /** Conditionals open when the frame began: those opened inside end with it. */
  condDepth: number;
}

const MAX_LINES = 500_000;
const MAX_DEPTH = 100;
const MAX_LINE = 16_384;
const MACRO_OPEN = /^%i?macro\b/;
const MACRO_CLOSE = /^%endm(acro)?\b/;
const REP_OPEN = /^%rep\b/;
const REP_CLOSE = /^%endrep\b/;

export class Preprocessor {
  private frames: Frame[] = [];
  private out: PLine[] = [];
  /** Numbers macro calls and %push contexts, for their unique local labels. */
  private uniq = 0;
  private includeStack: string[] = [];
  private stopped = false;
  private readonly defines: SingleLineMacros;
  private readonly macros = new MacroTable();
  private readonly conds: Conditionals;
  private readonly contexts: ContextStack;

  constructor(
    private report: Report,
    private provider: FileProvider | undefined,
    defines: Record<string, string> | undefined,
  ) {
    this.defines = new SingleLineMacros(report, defines);
    this.contexts = new ContextStack(report, () => ++this.uniq);
    this.conds = new Conditionals(report, {
      defines: this.defines,
      hasMacro: (name) => this.macros.find(name) !== undefined,
      contextName: () => this.contexts.topName(),
    });
  }

  run(source: string, file: string): PLine[] {
    this.includeStack.push(file);
    this.frames.push({ lines: splitLines(source, file), i: 0, kind: 'file', depth: 0, condDepth: 0 });
    this.loop();
    return this.out;
  }

  private loop(): void {
    while (this.frames.length > 0 && !this.stopped) {
      const f = this.frames[this.frames.length - 1]!;
      if (f.i >= f.lines.length) {
        if (f.kind === 'rep' && f.repLeft! > 1) {
          f.repLeft!--;
          f.i = 0;
          continue;
        }
        this.popFrame(f);
        continue;
      }
      const raw = f.lines[f.i++]!;
      this.processLine(f, raw);
      if (this.out.length > MAX_LINES) {
        this.report('error', raw.file, raw.line, 1, `the program expands to more than ${MAX_LINES} lines (a runaway %rep or recursive macro?)`);
        this.stopped = true;
      }
    }
  }

  private popFrame(f: Frame): void {
    this.frames.pop();
    if (f.kind === 'file') {
      this.includeStack.pop();
      this.conds.closeFile(f.condDepth);
    }
  }

  /** Pops frames down to (and including) the innermost one of `kind`; false when there is none. */
  private exitInnermost(kind: 'macro' | 'rep'): boolean {
    for (let k = this.frames.length - 1; k >= 0; k--) {
      const fr = this.frames[k]!;
      if (fr.kind !== kind) continue;
      while (this.frames.length > k) this.popFrame(this.frames[this.frames.length - 1]!);
      this.conds.truncate(fr.condDepth); // the %if around %exitrep/%exitmacro ends too
      return true;
    }
    return false;
  }

  /** The macro call whose parameters are visible here (through %rep blocks, not through files). */
  private macroFrame(): Frame | undefined {
    for (let k = this.frames.length - 1; k >= 0; k--) {
      const fr = this.frames[k]!;
      if (fr.kind === 'macro') return fr;
      if (fr.kind === 'file') return undefined;
    }
    return undefined;
  }

  private substituteParams(text: string): string {
    if (text.indexOf('%') < 0) return text;
    const f = this.macroFrame();
    if (text.indexOf('%[') >= 0) text = this.expandBrackets(text);
    if (!f) return text;
    return substituteParams(text, f.params!, f.uniq!);
  }

  /** `%[...]`: expands the single-line macros inside and pastes the result (isr%[v] -> isr3). */
  private expandBrackets(text: string): string {
    return text.replace(/%\[([^\]]*)\]/g, (_m, inner: string) => {
      const f = this.macroFrame();
      let t = inner;
      if (f) t = t.replace(/%(\d+)/g, (_x, d) => f.params![parseInt(d, 10) - 1] ?? '');
      return this.defines.expand(t, { text, file: '', line: 0 }).trim();
    });
  }

  private processLine(f: Frame, raw: RawLine): void {
    let text = this.substituteParams(raw.text);
    if (text.length > MAX_LINE) {
      this.report('error', raw.file, raw.line, 1, `this line is ${text.length} characters long after macro expansion (at most ${MAX_LINE}): a macro that passes its own parameters on and on?`);
      return;
    }
    const cut = commentStart(text);
    text = text.slice(0, cut);
    if (text.indexOf('%$') >= 0) text = this.contexts.localLabels(text, raw);
    const trimmed = text.trimStart();
    const col = text.length - trimmed.length;
    const active = this.conds.active;
    if (trimmed.startsWith('%') && /^%[a-zA-Z]/.test(trimmed)) {
      const m = /^%([a-zA-Z]+)\b\s*(.*)$/.exec(trimmed);
      if (m) {
        this.listOnly(raw, f);
        this.directive(f, raw, m[1]!.toLowerCase(), m[2]!.trimEnd(), col, active, col + m[0].length - m[2]!.length);
        return;
      }
    }
    if (!active) {
      this.listOnly(raw, f);
      return;
    }
    const exact = text === raw.text.slice(0, cut);
    const expanded = this.defines.expand(text, raw);
    if (this.tryMacroCall(f, raw, expanded, col)) return;
    this.emitLine(f, raw, text, expanded, exact, col);
  }

  /** Passes an expanded line on to the parser, located at itself or at the outermost macro call. */
  private emitLine(f: Frame, raw: RawLine, text: string, expanded: string, exact: boolean, col: number): void {
    const outerCall = this.frames.find((fr) => fr.call)?.call;
    const site = (f.kind === 'file' && this.frames.length === 1) || !outerCall ? { file: raw.file, line: raw.line, col } : outerCall;
    const inMacro = this.frames.some((x) => x.kind !== 'file');
    this.out.push({
      text: expanded,
      file: inMacro ? site.file : raw.file,
      line: inMacro ? site.line : raw.line,
      exactColumns: !inMacro && exact && expanded === text,
      listLine: raw.line,
      // NASM lists expanded lines as its preprocessor re-forms them: comment gone, indent one space
      listText: f.kind === 'file' ? raw.text : listForm(raw.text),
      depth: this.frames.length - 1,
      callColumn: inMacro ? site.col : col,
      macro: inMacro ? { name: this.macroFrame()?.macroName ?? '%rep', file: raw.file, line: raw.line } : undefined,
    });
  }

  private tryMacroCall(f: Frame, raw: RawLine, text: string, col: number): boolean {
    if (this.macros.size === 0) return false;
    const call = this.macros.findCall(text);
    if (!call) return false;
    const bound = bindArguments(call);
    if ('error' in bound) {
      this.report('error', raw.file, raw.line, col + 1, bound.error);
      return true;
    }
    const { def, args } = bound;
    if (this.frames.length > MAX_DEPTH) {
      this.report('error', raw.file, raw.line, col + 1, `macro '${def.name}' calls itself too deeply (more than ${MAX_DEPTH} levels)`);
      return true;
    }
    if (call.label) this.out.push({ text: call.label, file: raw.file, line: raw.line, exactColumns: false, listLine: raw.line, listText: raw.text, depth: this.frames.length - 1, callColumn: col });
    else this.listOnly(raw, f);
    const site = this.frames.some((x) => x.call) ? undefined : { file: raw.file, line: raw.line, col };
    this.frames.push({ lines: def.body, i: 0, kind: 'macro', params: args, uniq: ++this.uniq, macroName: def.name, call: site, depth: f.depth + 1, condDepth: this.conds.depth });
    return true;
  }

  /** A source line that only shows in the listing (directives, definitions, false %if branches). */
  private listOnly(raw: RawLine, f?: Frame): void {
    const text = !f || f.kind === 'file' ? raw.text : listForm(raw.text);
    this.out.push({ text: '', file: raw.file, line: raw.line, exactColumns: true, listLine: raw.line, listText: text, depth: this.frames.length - 1, callColumn: 0 });
  }

  /** Collects lines up to the matching end directive; undefined when the file ends first. */
  private collect(f: Frame, open: RegExp, close: RegExp): RawLine[] | undefined {
    const body: RawLine[] = [];
    let depth = 1;
    while (f.i < f.lines.length) {
      const l = f.lines[f.i++]!;
      this.listOnly(l, f);
      const t = l.text.trimStart().toLowerCase();
      if (open.test(t)) depth++;
      else if (close.test(t) && --depth === 0) return body;
      body.push(l);
    }
    return undefined;
  }

  // ---- directives ---------------------------------------------------------

  private directive(f: Frame, raw: RawLine, name: string, args: string, col: number, active: boolean, argCol: number): void {
    const at = (c: number, msg: string, sev: Severity = 'error') => this.report(sev, raw.file, raw.line, c + 1, msg);
    const cond = /^(el)?if(n)?(def|idni?|num|str|id|macro|empty|ctx)?$/.exec(name);
    if (cond) return this.conds.open(raw, cond[1] !== undefined, cond[2] !== undefined, cond[3] ?? '', args, col, active, argCol);
    if (name === 'else' || name === 'endif') return this.conds.elseEndif(raw, name, col);
    if (!active) {
      // skip bodies inside false branches, but keep nesting right
      if (name === 'macro' || name === 'imacro') this.collect(f, MACRO_OPEN, MACRO_CLOSE);
      else if (name === 'rep') this.collect(f, REP_OPEN, REP_CLOSE);
      return;
    }
    if (this.defines.directive(name, args, raw, argCol) || this.contexts.directive(name, args, raw, col, argCol)) return;
    switch (name) {
      case 'macro':
      case 'imacro': {
        const body = this.collect(f, MACRO_OPEN, MACRO_CLOSE);
        if (body === undefined) return at(col, 'this %macro has no matching %endmacro before the end of the file');
        const error = this.macros.define(args, body, name === 'imacro');
        if (error) at(col, error);
        return;
      }
      case 'endmacro':
      case 'endm':
        return at(col, `%${name} without a matching %macro`);
      case 'rep':
        return this.rep(f, raw, args, col, argCol);
      case 'endrep':
        return at(col, '%endrep without a matching %rep');
      case 'exitrep':
        if (!this.exitInnermost('rep')) at(col, '%exitrep outside a %rep block');
        return;
      case 'exitmacro':
        if (!this.exitInnermost('macro')) at(col, '%exitmacro outside a macro');
        return;
      case 'rotate':
        return this.rotate(raw, args, col, argCol);
      case 'include':
        return this.include(f, raw, args, argCol);
      case 'error':
      case 'warning':
      case 'fatal': {
        const msg = this.defines.expand(args, raw).replace(/^(["'`])(.*)\1$/, '$2');
        at(col, msg || `%${name}`, name === 'warning' ? 'warning' : 'error');
        if (name === 'fatal') this.stopped = true;
        return;
      }
      case 'line':
      case 'pragma':
        return;
      case 'use':
      case 'clear':
        return at(col, `%${name} is not supported by vizor's assembler`);
    }
    at(col, `unknown preprocessor directive '%${name}'`);
  }

  private rep(f: Frame, raw: RawLine, args: string, col: number, argCol: number): void {
    const body = this.collect(f, REP_OPEN, REP_CLOSE);
    if (body === undefined) return this.report('error', raw.file, raw.line, col + 1, 'this %rep has no matching %endrep before the end of the file');
    const n = this.defines.evaluate(raw, args, argCol);
    if (n === undefined) return;
    if (n > 1_000_000n) return this.report('error', raw.file, raw.line, argCol + 1, `%rep count ${n} is too large (at most 1000000)`);
    if (n <= 0n || body.length === 0) return;
    this.frames.push({ lines: body, i: 0, kind: 'rep', repLeft: Number(n), depth: f.depth + 1, condDepth: this.conds.depth });
  }

  /** %rotate N: shifts the innermost macro call's parameters left by N (right when negative). */
  private rotate(raw: RawLine, args: string, col: number, argCol: number): void {
    const fr = [...this.frames].reverse().find((x) => x.kind === 'macro');
    if (!fr) return this.report('error', raw.file, raw.line, col + 1, '%rotate outside a macro');
    const n = this.defines.evaluate(raw, args, argCol);
    if (n === undefined || fr.params!.length === 0) return;
    const len = fr.params!.length;
    const k = ((Number(n % BigInt(len)) % len) + len) % len;
    fr.params = [...fr.params!.slice(k), ...fr.params!.slice(0, k)];
  }

  private include(f: Frame, raw: RawLine, args: string, argCol: number): void {
    const at = (msg: string) => this.report('error', raw.file, raw.line, argCol + 1, msg);
    const m = /^(["'`<])(.*)(["'`>])$/.exec(args.trim());
    const fname = m ? m[2]! : args.trim();
    if (!fname) return at('expected a file name after %include');
    const found = resolveFile(this.provider, fname, raw.file);
    if (!found) return at(`cannot open include file '${fname}'`);
    if (this.includeStack.includes(found.path)) return at(`%include loop: '${found.path}' includes itself (directly or through other files)`);
    const text = typeof found.data === 'string' ? found.data : new TextDecoder('utf-8').decode(found.data);
    this.includeStack.push(found.path);
    this.frames.push({ lines: splitLines(text, found.path), i: 0, kind: 'file', depth: f.depth, condDepth: this.conds.depth });
  }
}

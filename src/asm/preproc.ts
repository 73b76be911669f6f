// The NASM preprocessor, line based: %include, %define/%xdefine/%undef/%assign, %macro with
// parameters (ranges, greedy `+`, defaults, `%%` local labels, %rotate), %rep/%exitrep,
// the %if family, %error/%warning/%fatal. Produces the lines the assembler parses, each with
// the source location used for diagnostics and the address↔line map.

import { ExprError, ExprParser, evaluate } from './expr.ts';
import { tokenize } from './lexer.ts';
import { commentStart, forEachIdentifier, splitArgs } from './textutil.ts';
import type { FileProvider, Severity } from './types.ts';
import { CC_ALIASES, CC_NAMES } from '../x86/types.ts';

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

export type Report = (severity: Severity, file: string, line: number, column: number, message: string) => void;

interface RawLine {
  text: string;
  file: string;
  line: number;
}

interface MacroDef {
  name: string;
  min: number;
  max: number;
  greedy: boolean;
  defaults: string[];
  body: RawLine[];
  caseless: boolean;
}

interface Frame {
  lines: RawLine[];
  i: number;
  kind: 'file' | 'macro' | 'rep';
  params?: string[];
  uniq?: number;
  repLeft?: number;
  macroName?: string;
  call?: { file: string; line: number; col: number };
  depth: number;
  condDepth: number;
}

interface Cond {
  active: boolean;
  taken: boolean;
  sawElse: boolean;
  file: string;
  line: number;
  col: number;
}

interface SDef {
  params: string[] | null;
  body: string;
}

const MAX_LINES = 500_000;
const MAX_DEPTH = 100;
const MAX_LINE = 16_384;
const NO_NAMES: ReadonlySet<string> = new Set();

/** NASM's predefined single-line macros that depend on where they are used. */
function builtin(name: string, raw: RawLine): SDef | undefined {
  if (name === '__LINE__' || name === '__?LINE?__') return { params: null, body: String(raw.line) };
  if (name === '__FILE__' || name === '__?FILE?__') return { params: null, body: `'${raw.file.replace(/'/g, '')}'` };
  if (name === '__NASM_MAJOR__' || name === '__?NASM_MAJOR?__') return { params: null, body: '2' };
  if (name === '__NASM_MINOR__' || name === '__?NASM_MINOR?__') return { params: null, body: '16' };
  return undefined;
}

/** NASM lists expanded lines as its preprocessor re-forms them: comment gone, indent one space. */
function listForm(text: string): string {
  const t = text.slice(0, commentStart(text)).trimEnd();
  let out = '';
  let q = '';
  for (let i = 0; i < t.length; i++) {
    const c = t[i]!;
    if (q) {
      if (c === q) q = '';
    } else if (c === '"' || c === "'" || c === '`') q = c;
    else if (c === ' ' || c === '\t') {
      while (t[i + 1] === ' ' || t[i + 1] === '\t') i++;
      out += ' ';
      continue;
    }
    out += c;
  }
  return out;
}

export function splitLines(source: string, file: string): RawLine[] {
  const phys = source.split(/\r\n|\n|\r/);
  const out: RawLine[] = [];
  for (let i = 0; i < phys.length; i++) {
    let text = phys[i]!;
    const line = i + 1;
    while (text.endsWith('\\') && i + 1 < phys.length) text = text.slice(0, -1) + phys[++i]!;
    out.push({ text, file, line });
  }
  if (out.length > 0 && out[out.length - 1]!.text === '' && source.length > 0) out.pop();
  return out;
}

function dirOf(path: string): string {
  const k = path.lastIndexOf('/');
  return k < 0 ? '' : path.slice(0, k + 1);
}

export class Preprocessor {
  private defines = new Map<string, SDef>();
  private idefines = new Map<string, SDef>();
  private macros = new Map<string, MacroDef[]>();
  private frames: Frame[] = [];
  private conds: Cond[] = [];
  private out: PLine[] = [];
  private uniq = 0;
  private includeStack: string[] = [];
  /** %push/%pop context stack: %$name labels are local to the top context. */
  private contexts: { name: string; id: number }[] = [];
  private stopped = false;

  constructor(
    private report: Report,
    private provider: FileProvider | undefined,
    defines: Record<string, string> | undefined,
  ) {
    for (const [k, v] of Object.entries(defines ?? {})) this.defines.set(k, { params: null, body: v });
  }

  run(source: string, file: string): PLine[] {
    this.includeStack.push(file);
    this.frames.push({ lines: splitLines(source, file), i: 0, kind: 'file', depth: 0, condDepth: 0 });
    this.loop();
    return this.out;
  }

  /** Reads a binary or text file through the provider (used by incbin too). */
  static resolve(provider: FileProvider | undefined, name: string, from: string): { path: string; data: string | Uint8Array } | undefined {
    if (!provider) return undefined;
    for (const path of [name, dirOf(from) + name]) {
      let data: string | Uint8Array | undefined;
      try {
        data = provider.read(path);
      } catch {
        data = undefined;
      }
      if (data !== undefined) return { path, data };
    }
    return undefined;
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
      while (this.conds.length > f.condDepth) {
        const c = this.conds.pop()!;
        this.report('error', c.file, c.line, c.col, "this %if has no matching %endif before the end of the file");
      }
    }
  }

  private callSite(f: Frame, raw: RawLine, col: number): { file: string; line: number; col: number } {
    for (const fr of this.frames) if (fr.call) return fr.call;
    void f;
    return { file: raw.file, line: raw.line, col };
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
    const params = f.params!;
    return text.replace(/%%([A-Za-z0-9_.?@$#~]+)|%\{(\d+)\}|%(\d+)|%([-+])(\d+)|%\+\s*/g, (m, local, braced, plain, sign, ccParam) => {
      if (local !== undefined) return `..@${f.uniq}.${local}`;
      if (sign !== undefined) {
        // %-1 / %+1: the parameter as a condition code, inverted or not (j%-1 with `e` is jne)
        const p = (params[parseInt(ccParam, 10) - 1] ?? '').trim().toLowerCase();
        const cc = CC_ALIASES.findIndex((names) => names.includes(p));
        return cc < 0 ? p : CC_NAMES[sign === '-' ? cc ^ 1 : cc]!;
      }
      if (m.startsWith('%+')) return '\u0000';
      const n = parseInt(braced ?? plain, 10);
      if (n === 0) return String(params.length);
      const idx = n > 0 ? n - 1 : params.length + n;
      return params[idx] ?? '';
    }).replace(/\s*\u0000/g, '');
  }

  /** `%$name` -> a label unique to the current %push context (`%$$name`: the one below it). */
  private contextLocals(text: string, raw: RawLine): string {
    return text.replace(/%(\$+)([A-Za-z0-9_.?@$#~]+)/g, (m, dollars: string, name: string) => {
      const ctx = this.contexts[this.contexts.length - dollars.length];
      if (!ctx) {
        this.report('error', raw.file, raw.line, text.indexOf(m) + 1, `'${m}' is used outside a %push context`);
        return name;
      }
      return `..@${ctx.id}.${name}`;
    });
  }

  /** `%[...]`: expands the single-line macros inside and pastes the result (isr%[v] -> isr3). */
  private expandBrackets(text: string): string {
    return text.replace(/%\[([^\]]*)\]/g, (_m, inner: string) => {
      const f = this.macroFrame();
      let t = inner;
      if (f) t = t.replace(/%(\d+)/g, (_x, d) => f.params![parseInt(d, 10) - 1] ?? '');
      return this.expandDefines(t, { text, file: '', line: 0 }).trim();
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
    if (text.indexOf('%$') >= 0) text = this.contextLocals(text, raw);
    const trimmed = text.trimStart();
    const col = text.length - trimmed.length;
    const active = this.conds.length === 0 || this.conds[this.conds.length - 1]!.active;
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
    const expanded = this.expandDefines(text, raw);
    if (this.tryMacroCall(f, raw, expanded, col)) return;
    const site = f.kind === 'file' && this.frames.length === 1 ? { file: raw.file, line: raw.line, col } : this.callSite(f, raw, col);
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

  // ---- single-line macros -------------------------------------------------

  private lookupDefine(name: string): SDef | undefined {
    return this.defines.get(name) ?? this.idefines.get(name.toLowerCase());
  }

  /**
   * Expands single-line macros. As in NASM, a macro is not expanded again inside its own
   * expansion (so `twice(twice(1))` leaves the inner call alone, and `%define X X` terminates).
   */
  expandDefines(text: string, raw: RawLine, depth = 0, active: ReadonlySet<string> = NO_NAMES): string {
    if (this.defines.size === 0 && this.idefines.size === 0 && text.indexOf('__') < 0) return text;
    if (depth > 64) {
      this.report('error', raw.file, raw.line, 1, 'single-line macros nest more than 64 deep here');
      return text;
    }
    let out = '';
    let last = 0;
    let changed = false;
    let skipUntil = -1;
    forEachIdentifier(text, (span) => {
      if (span.start < skipUntil || active.has(span.name)) return;
      const def = this.lookupDefine(span.name) ?? builtin(span.name, raw);
      if (!def) return;
      let end = span.end;
      let body = def.body;
      if (def.params) {
        let j = end;
        while (text[j] === ' ' || text[j] === '\t') j++;
        if (text[j] !== '(') return;
        let d = 0;
        let k = j;
        let q = '';
        for (; k < text.length; k++) {
          const c = text[k]!;
          if (q) {
            if (c === q) q = '';
          } else if (c === '"' || c === "'" || c === '`') q = c;
          else if (c === '(') d++;
          else if (c === ')' && --d === 0) break;
        }
        if (k >= text.length) return;
        const args = splitArgs(text.slice(j + 1, k));
        if (args.length !== def.params.length && !(def.params.length === 0 && args.length === 1 && args[0] === '')) return;
        body = body.replace(/[A-Za-z_.?@$][A-Za-z0-9_.?@$#~]*/g, (id) => {
          const p = def.params!.indexOf(id);
          return p >= 0 ? args[p]! : id;
        });
        end = k + 1;
      }
      const inner = new Set(active);
      inner.add(span.name);
      out += text.slice(last, span.start) + this.expandDefines(body, raw, depth + 1, inner);
      last = end;
      skipUntil = end;
      changed = true;
    });
    if (!changed) return text;
    return out + text.slice(last);
  }

  // ---- multi-line macros --------------------------------------------------

  private findMacro(name: string): MacroDef[] | undefined {
    return this.macros.get(name) ?? this.macros.get('\u0001' + name.toLowerCase());
  }

  private tryMacroCall(f: Frame, raw: RawLine, text: string, col: number): boolean {
    if (this.macros.size === 0) return false;
    let m = /^\s*([A-Za-z_.?@$][A-Za-z0-9_.?@$#~]*)(\s*:)?\s*(.*)$/.exec(text);
    if (!m) return false;
    let label = '';
    let defs = this.findMacro(m[1]!);
    if (!defs && m[2] !== undefined) {
      label = m[1]! + ':';
      const m2 = /^([A-Za-z_.?@$][A-Za-z0-9_.?@$#~]*)\s*(.*)$/.exec(m[3]!);
      if (!m2) return false;
      defs = this.findMacro(m2[1]!);
      if (!defs) return false;
      m = [m[0], m2[1]!, undefined, m2[2]!] as unknown as RegExpExecArray;
    } else if (!defs || m[2] !== undefined) return false;
    const argText = m[3]!.trim();
    let args = argText === '' ? [] : splitArgs(argText);
    const def = defs.find((d) => args.length >= d.min && (args.length <= d.max || d.greedy)) ?? defs.find((d) => args.length >= d.min - d.defaults.length);
    if (!def) {
      const d = defs[0]!;
      const want = d.min === d.max ? `${d.min}` : d.max === Infinity ? `at least ${d.min}` : `${d.min} to ${d.max}`;
      this.report('error', raw.file, raw.line, col + 1, `macro '${d.name}' takes ${want} parameter${d.max === 1 && d.min === 1 ? '' : 's'}, but ${args.length} ${args.length === 1 ? 'was' : 'were'} given`);
      return true;
    }
    if (def.greedy && args.length > def.max) {
      // the last parameter takes the rest of the line, commas included
      const head = args.slice(0, def.max - 1);
      let rest = argText;
      for (let i = 0; i < head.length; i++) rest = rest.slice(rest.indexOf(',') + 1);
      args = [...head, rest.trim()];
    }
    for (let i = args.length; i < def.max && i - def.min < def.defaults.length && def.max !== Infinity; i++) args.push(def.defaults[i - def.min] ?? '');
    if (this.frames.length > MAX_DEPTH) {
      this.report('error', raw.file, raw.line, col + 1, `macro '${def.name}' calls itself too deeply (more than ${MAX_DEPTH} levels)`);
      return true;
    }
    if (label) this.out.push({ text: label, file: raw.file, line: raw.line, exactColumns: false, listLine: raw.line, listText: raw.text, depth: this.frames.length - 1, callColumn: col });
    else this.listOnly(raw, f);
    const call = this.frames.some((x) => x.call) ? undefined : { file: raw.file, line: raw.line, col };
    this.frames.push({ lines: def.body, i: 0, kind: 'macro', params: args, uniq: ++this.uniq, macroName: def.name, call, depth: f.depth + 1, condDepth: this.conds.length });
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

  private defineMacro(f: Frame, raw: RawLine, args: string, col: number, caseless: boolean): void {
    const m = /^([A-Za-z_.?@$][A-Za-z0-9_.?@$#~]*)\s*(\d+)?\s*(?:-\s*(\d+|\*))?(\+)?\s*(\.nolist)?\s*(.*)$/.exec(args);
    const body = this.collect(f, /^%i?macro\b/, /^%endm(acro)?\b/);
    if (body === undefined) {
      this.report('error', raw.file, raw.line, col + 1, "this %macro has no matching %endmacro before the end of the file");
      return;
    }
    if (!m || m[2] === undefined) {
      this.report('error', raw.file, raw.line, col + 1, `expected '%macro NAME COUNT', found '%macro ${args}'`);
      return;
    }
    const min = parseInt(m[2], 10);
    const max = m[3] === undefined ? min : m[3] === '*' ? Infinity : parseInt(m[3], 10);
    const def: MacroDef = { name: m[1]!, min, max, greedy: m[4] !== undefined, defaults: m[6] ? splitArgs(m[6]) : [], body, caseless };
    const key = caseless ? '\u0001' + def.name.toLowerCase() : def.name;
    const list = (this.macros.get(key) ?? []).filter((d) => d.min !== min || d.max !== max);
    list.push(def);
    this.macros.set(key, list);
  }

  // ---- directives ---------------------------------------------------------

  private directive(f: Frame, raw: RawLine, name: string, args: string, col: number, active: boolean, argCol: number): void {
    const at = (c: number, msg: string, sev: Severity = 'error') => this.report(sev, raw.file, raw.line, c + 1, msg);
    const cond = /^(el)?if(n)?(def|idni?|num|str|id|macro|empty|ctx)?$/.exec(name);
    if (cond) return this.conditional(raw, cond[1] !== undefined, cond[2] !== undefined, cond[3] ?? '', args, col, active, argCol);
    if (name === 'else' || name === 'endif') return this.elseEndif(raw, name, col);
    if (!active) {
      // skip bodies inside false branches, but keep nesting right
      if (name === 'macro' || name === 'imacro') this.collect(f, /^%i?macro\b/, /^%endm(acro)?\b/);
      else if (name === 'rep') this.collect(f, /^%rep\b/, /^%endrep\b/);
      return;
    }
    switch (name) {
      case 'define':
      case 'xdefine':
      case 'idefine':
      case 'ixdefine': {
        const m = /^([A-Za-z_.?@$][A-Za-z0-9_.?@$#~]*)(\(([^)]*)\))?\s?(.*)$/.exec(args);
        if (!m) return at(argCol, `expected a macro name after %${name}, found '${args}'`);
        let body = m[4]!.trim();
        if (name.endsWith('xdefine')) body = this.expandDefines(body, raw);
        const params = m[2] ? m[3]!.split(',').map((s) => s.trim()).filter((s) => s !== '') : null;
        (name.startsWith('i') ? this.idefines : this.defines).set(name.startsWith('i') ? m[1]!.toLowerCase() : m[1]!, { params, body });
        return;
      }
      case 'undef':
        this.defines.delete(args.trim());
        this.idefines.delete(args.trim().toLowerCase());
        return;
      case 'assign':
      case 'iassign': {
        const m = /^([A-Za-z_.?@$][A-Za-z0-9_.?@$#~]*)\s+(.*)$/.exec(args);
        if (!m) return at(argCol, `expected '%assign NAME EXPRESSION', found '%assign ${args}'`);
        const v = this.ppEval(raw, m[2]!, argCol + m[0].indexOf(m[2]!, m[1]!.length));
        if (v !== undefined) (name === 'iassign' ? this.idefines : this.defines).set(name === 'iassign' ? m[1]!.toLowerCase() : m[1]!, { params: null, body: String(v) });
        return;
      }
      case 'macro':
      case 'imacro':
        return this.defineMacro(f, raw, args, col, name === 'imacro');
      case 'endmacro':
      case 'endm':
        return at(col, `%${name} without a matching %macro`);
      case 'rep': {
        const body = this.collect(f, /^%rep\b/, /^%endrep\b/);
        if (body === undefined) return at(col, 'this %rep has no matching %endrep before the end of the file');
        const n = this.ppEval(raw, args, argCol);
        if (n === undefined) return;
        if (n > 1_000_000n) return at(argCol, `%rep count ${n} is too large (at most 1000000)`);
        if (n <= 0n || body.length === 0) return;
        this.frames.push({ lines: body, i: 0, kind: 'rep', repLeft: Number(n), depth: f.depth + 1, condDepth: this.conds.length });
        return;
      }
      case 'endrep':
        return at(col, '%endrep without a matching %rep');
      case 'exitrep': {
        for (let k = this.frames.length - 1; k >= 0; k--) {
          const fr = this.frames[k]!;
          if (fr.kind === 'rep') {
            while (this.frames.length > k) this.popFrame(this.frames[this.frames.length - 1]!);
            this.conds.length = Math.min(this.conds.length, fr.condDepth); // the %if around %exitrep ends too
            return;
          }
        }
        return at(col, '%exitrep outside a %rep block');
      }
      case 'exitmacro': {
        for (let k = this.frames.length - 1; k >= 0; k--) {
          if (this.frames[k]!.kind === 'macro') {
            const depth = this.frames[k]!.condDepth;
            while (this.frames.length > k) this.popFrame(this.frames[this.frames.length - 1]!);
            this.conds.length = Math.min(this.conds.length, depth);
            return;
          }
        }
        return at(col, '%exitmacro outside a macro');
      }
      case 'rotate': {
        const fr = [...this.frames].reverse().find((x) => x.kind === 'macro');
        if (!fr) return at(col, '%rotate outside a macro');
        const n = this.ppEval(raw, args, argCol);
        if (n === undefined || fr.params!.length === 0) return;
        const len = fr.params!.length;
        const k = ((Number(n % BigInt(len)) % len) + len) % len;
        fr.params = [...fr.params!.slice(k), ...fr.params!.slice(0, k)];
        return;
      }
      case 'include': {
        const m = /^(["'`<])(.*)(["'`>])$/.exec(args.trim());
        const fname = m ? m[2]! : args.trim();
        if (!fname) return at(argCol, 'expected a file name after %include');
        const found = Preprocessor.resolve(this.provider, fname, raw.file);
        if (!found) return at(argCol, `cannot open include file '${fname}'`);
        if (this.includeStack.includes(found.path)) return at(argCol, `%include loop: '${found.path}' includes itself (directly or through other files)`);
        const text = typeof found.data === 'string' ? found.data : new TextDecoder('utf-8').decode(found.data);
        this.includeStack.push(found.path);
        this.frames.push({ lines: splitLines(text, found.path), i: 0, kind: 'file', depth: f.depth, condDepth: this.conds.length });
        return;
      }
      case 'error':
      case 'warning':
      case 'fatal': {
        const msg = this.expandDefines(args, raw).replace(/^(["'`])(.*)\1$/, '$2');
        at(col, msg || `%${name}`, name === 'warning' ? 'warning' : 'error');
        if (name === 'fatal') this.stopped = true;
        return;
      }
      case 'push': {
        const name = args.trim().split(/\s+/)[0] ?? '';
        this.contexts.push({ name, id: ++this.uniq });
        return;
      }
      case 'pop': {
        const top = this.contexts[this.contexts.length - 1];
        if (!top) return at(col, '%pop without a matching %push (the context stack is empty)');
        const want = args.trim();
        if (want && want !== top.name) return at(argCol, `%pop ${want}: the current context is '${top.name}'`);
        this.contexts.pop();
        return;
      }
      case 'repl': {
        const top = this.contexts[this.contexts.length - 1];
        if (!top) return at(col, '%repl without a %push context');
        top.name = args.trim();
        return;
      }
      case 'line':
      case 'pragma':
      case 'use':
      case 'clear':
        if (name === 'line' || name === 'pragma') return;
        return at(col, `%${name} is not supported by vizor's assembler`);
      case 'strlen': {
        const m = /^([A-Za-z_.?@$][A-Za-z0-9_.?@$#~]*)\s+(["'`])(.*)\2\s*$/.exec(this.expandDefines(args, raw));
        if (!m) return at(argCol, "expected '%strlen NAME \"string\"'");
        this.defines.set(m[1]!, { params: null, body: String(m[3]!.length) });
        return;
      }
      case 'defstr': {
        const m = /^([A-Za-z_.?@$][A-Za-z0-9_.?@$#~]*)\s*(.*)$/.exec(args);
        if (!m) return at(argCol, "expected '%defstr NAME text'");
        this.defines.set(m[1]!, { params: null, body: `'${this.expandDefines(m[2]!, raw)}'` });
        return;
      }
    }
    at(col, `unknown preprocessor directive '%${name}'`);
  }

  /** Evaluates a preprocessor expression (numbers and %define'd names only). */
  private ppEval(raw: RawLine, text: string, col: number): bigint | undefined {
    const expanded = this.expandDefines(text, raw);
    const { toks, error } = tokenize(expanded);
    const exact = expanded === text;
    const c = (k: number) => (exact ? col + k : col) + 1;
    if (error) {
      this.report('error', raw.file, raw.line, c(error.col), error.message);
      return undefined;
    }
    try {
      const p = new ExprParser(toks, 0, expanded.length);
      const e = p.parse();
      if (p.pos < toks.length) throw new ExprError(toks[p.pos]!.col, `expected the end of the expression, found '${toks[p.pos]!.s}'`);
      const r = evaluate(e, { lookup: () => undefined, here: () => ({ n: 0n, seg: -1 }), base: () => ({ n: 0n, seg: -1 }) });
      if (r.unknown) {
        this.report('error', raw.file, raw.line, c(r.missing!.col), `'${r.missing!.name}' is not defined: preprocessor expressions can only use numbers and %define'd names`);
        return undefined;
      }
      return r.n;
    } catch (e) {
      if (e instanceof ExprError) this.report('error', raw.file, raw.line, c(e.col), e.message);
      else this.report('error', raw.file, raw.line, c(0), 'cannot evaluate this expression');
      return undefined;
    }
  }

  private conditional(raw: RawLine, isElif: boolean, negate: boolean, kind: string, args: string, col: number, active: boolean, argCol: number): void {
    const top = this.conds[this.conds.length - 1];
    if (isElif) {
      if (!top) return this.report('error', raw.file, raw.line, col + 1, '%elif without a matching %if');
      if (top.sawElse) return this.report('error', raw.file, raw.line, col + 1, '%elif after %else');
      const parentActive = this.conds.length < 2 || this.conds[this.conds.length - 2]!.active;
      if (top.taken || !parentActive) {
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

  private test(raw: RawLine, kind: string, args: string, argCol: number): boolean {
    const a = args.trim();
    switch (kind) {
      case '':
        return (this.ppEval(raw, a, argCol) ?? 0n) !== 0n;
      case 'def':
        return this.lookupDefine(a) !== undefined;
      case 'macro':
        return this.findMacro(a.split(/\s+/)[0]!) !== undefined;
      case 'idn':
      case 'idni': {
        const parts = splitArgs(this.expandDefines(a, raw));
        if (parts.length !== 2) {
          this.report('error', raw.file, raw.line, argCol + 1, `%if${kind} expects two comma-separated texts`);
          return false;
        }
        const [x, y] = parts.map((s) => s!.replace(/\s+/g, ''));
        return kind === 'idn' ? x === y : x!.toLowerCase() === y!.toLowerCase();
      }
      case 'num':
        return /^[-+]?(\$?[0-9][0-9a-zA-Z_]*)$/.test(this.expandDefines(a, raw).trim());
      case 'str':
        return /^(["'`]).*\1$/.test(this.expandDefines(a, raw).trim());
      case 'id':
        return /^[A-Za-z_.?@$][A-Za-z0-9_.?@$#~]*$/.test(this.expandDefines(a, raw).trim());
      case 'empty':
        return this.expandDefines(a, raw).trim() === '';
      case 'ctx': {
        const top = this.contexts[this.contexts.length - 1];
        return top !== undefined && a.split(/\s+/).includes(top.name);
      }
    }
    return false;
  }

  private elseEndif(raw: RawLine, name: string, col: number): void {
    const top = this.conds[this.conds.length - 1];
    if (!top) return this.report('error', raw.file, raw.line, col + 1, `%${name} without a matching %if`);
    if (name === 'endif') {
      this.conds.pop();
      return;
    }
    if (top.sawElse) return this.report('error', raw.file, raw.line, col + 1, 'a second %else for the same %if');
    top.sawElse = true;
    const parentActive = this.conds.length < 2 || this.conds[this.conds.length - 2]!.active;
    top.active = parentActive && !top.taken;
    top.taken = true;
  }
}

// Multi-line macros: the definitions (%macro/%imacro NAME MIN[-MAX][+] defaults), recognising a
// call on a line (optionally after a label), binding its arguments (ranges, greedy `+`, defaults),
// and substituting %1..%N, %0, %{N}, %-N/%+N (condition codes) and %%local labels in the body.

import { splitArgs } from './textutil.ts';
import type { RawLine } from './preproc-source.ts';
import { CC_ALIASES, CC_NAMES } from '../x86/types.ts';

export interface MacroDef {
  name: string;
  min: number;
  max: number;
  greedy: boolean;
  defaults: string[];
  body: RawLine[];
  caseless: boolean;
}

/** A macro call found on a line: `label:` to emit first ('' for none), the candidates, the arguments. */
export interface MacroCall {
  label: string;
  defs: MacroDef[];
  argText: string;
}

const CALL = /^\s*([A-Za-z_.?@$][A-Za-z0-9_.?@$#~]*)(\s*:)?\s*(.*)$/;
const NAME_THEN_REST = /^([A-Za-z_.?@$][A-Za-z0-9_.?@$#~]*)\s*(.*)$/;
const DEFINITION = /^([A-Za-z_.?@$][A-Za-z0-9_.?@$#~]*)\s*(\d+)?\s*(?:-\s*(\d+|\*))?(\+)?\s*(\.nolist)?\s*(.*)$/;

export class MacroTable {
  /** Case-sensitive names as written; %imacro names under '\u0001' + lower case. */
  private macros = new Map<string, MacroDef[]>();

  get size(): number {
    return this.macros.size;
  }

  find(name: string): MacroDef[] | undefined {
    return this.macros.get(name) ?? this.macros.get('\u0001' + name.toLowerCase());
  }

  /** Defines (or, for the same parameter range, redefines) a macro; returns an error message or undefined. */
  define(args: string, body: RawLine[], caseless: boolean): string | undefined {
    const m = DEFINITION.exec(args);
    if (!m || m[2] === undefined) return `expected '%macro NAME COUNT', found '%macro ${args}'`;
    const min = parseInt(m[2], 10);
    const max = m[3] === undefined ? min : m[3] === '*' ? Infinity : parseInt(m[3], 10);
    const def: MacroDef = { name: m[1]!, min, max, greedy: m[4] !== undefined, defaults: m[6] ? splitArgs(m[6]) : [], body, caseless };
    const key = caseless ? '\u0001' + def.name.toLowerCase() : def.name;
    const list = (this.macros.get(key) ?? []).filter((d) => d.min !== min || d.max !== max);
    list.push(def);
    this.macros.set(key, list);
    return undefined;
  }

  /** The macro call on this (expanded) line, if its first word, or the word after `label:`, is a macro. */
  findCall(text: string): MacroCall | undefined {
    const m = CALL.exec(text);
    if (!m) return undefined;
    const defs = this.find(m[1]!);
    if (defs) return m[2] === undefined ? { label: '', defs, argText: m[3]! } : undefined;
    if (m[2] === undefined) return undefined;
    const after = NAME_THEN_REST.exec(m[3]!);
    const labelled = after && this.find(after[1]!);
    return labelled ? { label: m[1]! + ':', defs: labelled, argText: after[2]! } : undefined;
  }
}

/** The definition the arguments select and the arguments with the greedy tail and defaults applied. */
export function bindArguments(call: MacroCall): { def: MacroDef; args: string[] } | { error: string } {
  const { defs } = call;
  const argText = call.argText.trim();
  let args = argText === '' ? [] : splitArgs(argText);
  const def = defs.find((d) => args.length >= d.min && (args.length <= d.max || d.greedy)) ?? defs.find((d) => args.length >= d.min - d.defaults.length);
  if (!def) {
    const d = defs[0]!;
    const want = d.min === d.max ? `${d.min}` : d.max === Infinity ? `at least ${d.min}` : `${d.min} to ${d.max}`;
    return { error: `macro '${d.name}' takes ${want} parameter${d.max === 1 && d.min === 1 ? '' : 's'}, but ${args.length} ${args.length === 1 ? 'was' : 'were'} given` };
  }
  if (def.greedy && args.length > def.max) {
    // the last parameter takes the rest of the line, commas included
    const head = args.slice(0, def.max - 1);
    let rest = argText;
    for (let i = 0; i < head.length; i++) rest = rest.slice(rest.indexOf(',') + 1);
    args = [...head, rest.trim()];
  }
  for (let i = args.length; i < def.max && i - def.min < def.defaults.length && def.max !== Infinity; i++) args.push(def.defaults[i - def.min] ?? '');
  return { def, args };
}

/** A body line with the call's parameters in place; `uniq` numbers this call's %%labels. */
export function substituteParams(text: string, params: string[], uniq: number): string {
  return text.replace(/%%([A-Za-z0-9_.?@$#~]+)|%\{(\d+)\}|%(\d+)|%([-+])(\d+)|%\+\s*/g, (m, local, braced, plain, sign, ccParam) => {
    if (local !== undefined) return `..@${uniq}.${local}`;
    if (sign !== undefined) {
      // %-1 / %+1: the parameter as a condition code, inverted or not (j%-1 with `e` is jne)
      const p = (params[parseInt(ccParam, 10) - 1] ?? '').trim().toLowerCase();
      const cc = CC_ALIASES.findIndex((names) => names.includes(p));
      return cc < 0 ? p : CC_NAMES[sign === '-' ? cc ^ 1 : cc]!;
    }
    // `%+` pastes: it and the blanks before it vanish (marked here, removed below)
    if (m.startsWith('%+')) return '\u0000';
    const n = parseInt(braced ?? plain, 10);
    if (n === 0) return String(params.length);
    const idx = n > 0 ? n - 1 : params.length + n;
    return params[idx] ?? '';
  }).replace(/\s*\u0000/g, '');
}

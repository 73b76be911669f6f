// Event breakpoints as a teacher writes them: "pagefault outcome=hidden", "exit reason=CPUID",
// "exception vector=13", "shadow op=fill", "io port=0x3f8". One kind and at most one field = value,
// the fields and their values taken from the schema (FIELD_SPECS), so that a kind or a value added
// there is offered here without a list to keep in step. The app's dropdowns, the worker protocol
// and lesson texts all use this one form; `toFilter` turns it into the engine's EventFilter.
import { EVENT_KINDS, FIELD_SPECS, isEventKind, type EventKind, type FieldSpec } from '../trace/schema.ts';
import { EventFilterError, type EventFilter } from './event-filter.ts';

export type ConditionValue = string | number | boolean;

/** One event breakpoint: a kind, optionally with one field = value condition. */
export interface EventBreakSpec {
  kind: EventKind;
  field?: string;
  value?: ConditionValue;
}

/** A field a condition may test, with its values when they are a closed set (else any integer). */
export interface ConditionField {
  name: string;
  /** The schema's values for enums and booleans; null for an integer field (typed in). */
  values: readonly ConditionValue[] | null;
  /** How an integer is shown: ports and selectors in hex, vectors and IRQs in decimal. */
  hex: boolean;
}

/**
 * The fields of `kind` a condition can test: every enum and boolean field (its values listed), and
 * the small integer fields (u8/u16: vectors, ports, IRQs, selectors), which name things a teacher
 * points at. 32-bit fields (addresses, values, counts) and strings are left out: equality on them
 * is not what a step says ("stop on the next fault at 0x400000" is a range, written in code).
 */
export function conditionFields(kind: EventKind): ConditionField[] {
  const specs = FIELD_SPECS[kind] as Record<string, FieldSpec>;
  const out: ConditionField[] = [];
  for (const [name, spec] of Object.entries(specs)) {
    if (spec.type === 'enum') out.push({ name, values: spec.values, hex: false });
    else if (spec.type === 'bool') out.push({ name, values: [true, false], hex: false });
    else if (spec.type === 'u8') out.push({ name, values: null, hex: false });
    else if (spec.type === 'u16') out.push({ name, values: null, hex: true });
  }
  return out;
}

/** Parses a value typed for `field` of `kind` (a listed value, or an integer in decimal or 0x hex). */
export function parseConditionValue(kind: EventKind, field: string, text: string): ConditionValue {
  const f = conditionFields(kind).find((c) => c.name === field);
  if (!f) throw new EventFilterError(noField(kind, field));
  const t = text.trim();
  if (f.values) {
    const found = f.values.find((v) => String(v) === t || (typeof v === 'string' && v.toLowerCase() === t.toLowerCase()));
    if (found === undefined) throw new EventFilterError(`${kind} ${field} is one of ${f.values.map(String).join(', ')}, not '${t}'`);
    return found;
  }
  const n = /^0x[0-9a-f]+$/i.test(t) ? parseInt(t.slice(2), 16) : /^\d+$/.test(t) ? Number(t) : NaN;
  const max = (FIELD_SPECS[kind] as Record<string, FieldSpec>)[field]!.type === 'u8' ? 0xff : 0xffff;
  if (!Number.isInteger(n) || n < 0 || n > max) throw new EventFilterError(`${kind} ${field} is a number from 0 to ${max} (decimal or 0x hex), not '${t}'`);
  return n;
}

function noField(kind: EventKind, field: string): string {
  const names = conditionFields(kind).map((c) => c.name);
  return names.length === 0
    ? `${kind} events have no field a condition can test (got '${field}')`
    : `${kind} events have no field '${field}' to test (one of: ${names.join(', ')})`;
}

/** Checks a spec against the schema (throws EventFilterError with a message for the student). */
export function validateSpec(spec: EventBreakSpec): EventBreakSpec {
  if (!isEventKind(spec.kind)) throw new EventFilterError(`unknown event kind '${String(spec.kind)}' (one of: ${EVENT_KINDS.join(', ')})`);
  if (spec.field === undefined) return { kind: spec.kind };
  if (spec.value === undefined) throw new EventFilterError(`${spec.kind} ${spec.field}: a value is missing`);
  return { kind: spec.kind, field: spec.field, value: parseConditionValue(spec.kind, spec.field, String(spec.value)) };
}

/** "pagefault", "pagefault outcome=hidden", "exception vector=13", "io port=0x3f8". */
export function parseEventSpec(text: string): EventBreakSpec {
  const m = /^\s*([a-z]+)(?:\s+([A-Za-z]+)\s*=\s*(\S+))?\s*$/.exec(text);
  if (!m) throw new EventFilterError(`'${text}' is not an event breakpoint (write a kind, or a kind and field=value, e.g. "pagefault outcome=hidden")`);
  const kind = m[1]!;
  if (!isEventKind(kind)) throw new EventFilterError(`unknown event kind '${kind}' (one of: ${EVENT_KINDS.join(', ')})`);
  if (m[2] === undefined) return { kind };
  return { kind, field: m[2], value: parseConditionValue(kind, m[2], m[3]!) };
}

/** Null instead of an exception: for deciding whether a text (a lesson's code span) is a spec. */
export function tryParseEventSpec(text: string): EventBreakSpec | null {
  try {
    return parseEventSpec(text);
  } catch {
    return null;
  }
}

/** The spec as the breakpoints list shows it (and parseEventSpec reads back). */
export function describeSpec(spec: EventBreakSpec): string {
  if (spec.field === undefined || spec.value === undefined) return spec.kind;
  const f = conditionFields(spec.kind).find((c) => c.name === spec.field);
  const v = typeof spec.value === 'number' && f?.hex ? '0x' + spec.value.toString(16) : String(spec.value);
  return `${spec.kind} ${spec.field}=${v}`;
}

export function sameSpec(a: EventBreakSpec, b: EventBreakSpec): boolean {
  return a.kind === b.kind && a.field === b.field && a.value === b.value;
}

/** The engine's filter for a spec (`vm`: only that VM's events, under the hypervisor). */
export function toFilter(spec: EventBreakSpec, vm?: number): EventFilter {
  const s = validateSpec(spec);
  const f: EventFilter = { kind: s.kind };
  if (vm !== undefined) f.vm = vm;
  if (s.field !== undefined && s.value !== undefined) f.where = { [s.field]: s.value } as EventFilter['where'];
  return f;
}

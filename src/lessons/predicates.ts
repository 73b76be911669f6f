// Event filters of check.json: a kind, optionally a VM, and tests on the event's own fields, checked
// against the trace schema (FIELD_SPECS) when the lesson loads, so a misspelt field or an
// impossible value is an error naming the place in check.json, never a filter that silently
// matches nothing. Tests: a value ("0x400000" strings for numbers), a list (one of),
// {min,max} (unsigned range), {bits,clear} (bits set / clear), {contains} (text), {not}.
import { FIELD_SPECS, isEventKind, EVENT_KINDS, type FieldType, type TraceEvent } from '../trace/schema.ts';
import type { EventFilter, FieldTest } from './types.ts';

export class SpecError extends Error {
  constructor(
    readonly at: string,
    readonly problem: string,
  ) {
    super(`${at}: ${problem}`);
  }
}

/** Reads a number from JSON: a whole number or a "0x..." string. */
export function toNumber(v: unknown): number | undefined {
  if (typeof v === 'number' && Number.isInteger(v)) return v;
  if (typeof v === 'string' && /^0x[0-9a-f]+$/i.test(v.trim())) return parseInt(v.trim().slice(2), 16);
  if (typeof v === 'string' && /^-?\d+$/.test(v.trim())) return Number(v.trim());
  return undefined;
}

const NUMERIC = new Set(['u8', 'u16', 'u32', 'i32']);
/** "@label": the address of a label of the run's kernel (e.g. "eip": "@divide"). */
export const SYMBOL = /^@[A-Za-z_.$?][\w.$?@]*$/;

/** Replaces "@label" values by the label's address; throws SpecError naming an unknown label. */
export function resolveFilter<F extends EventFilter>(f: F, symbols: ReadonlyMap<string, number>, at: string): F {
  const value = (v: number | string | boolean, where: string): number | string | boolean => {
    if (typeof v !== 'string' || !SYMBOL.test(v)) return v;
    const address = symbols.get(v.slice(1));
    if (address === undefined) throw new SpecError(where, `the kernel has no label '${v.slice(1)}'`);
    return address;
  };
  const test = (t: FieldTest, where: string): FieldTest => {
    if (Array.isArray(t)) return t.map((v) => value(v, where) as number | string);
    if (typeof t === 'object') {
      const r: Record<string, unknown> = { ...t };
      for (const key of ['min', 'max', 'bits', 'clear'] as const) if (t[key] !== undefined) r[key] = value(t[key], where);
      if (t.not !== undefined) r.not = test(t.not, where);
      return r as FieldTest;
    }
    return value(t, where);
  };
  const where: Record<string, FieldTest> = {};
  for (const [k, t] of Object.entries(f.where)) where[k] = test(t, `${at}.where.${k}`);
  return { ...f, where };
}

/** Checks and normalises one filter object from check.json ({kind, vm?, where?}). */
export function parseFilter(raw: unknown, at: string, extraKeys: readonly string[] = []): EventFilter {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new SpecError(at, 'must be an object like {"kind": "pagefault", "where": {...}}');
  const o = raw as Record<string, unknown>;
  for (const key of Object.keys(o)) {
    if (!['kind', 'vm', 'where', ...extraKeys].includes(key)) throw new SpecError(`${at}.${key}`, `unknown field (known: kind, vm, where${extraKeys.map((k) => ', ' + k).join('')})`);
  }
  const kind = o.kind;
  if (typeof kind !== 'string' || !isEventKind(kind)) throw new SpecError(`${at}.kind`, `'${String(kind)}' is not an event kind (one of: ${EVENT_KINDS.join(', ')})`);
  const filter: EventFilter = { kind, where: {} };
  if (o.vm !== undefined) {
    const vm = toNumber(o.vm);
    if (vm === undefined || vm < -1) throw new SpecError(`${at}.vm`, 'must be a VM number (0, 1, ...; -1 for the hypervisor)');
    filter.vm = vm;
  }
  if (o.where !== undefined) {
    if (typeof o.where !== 'object' || o.where === null || Array.isArray(o.where)) throw new SpecError(`${at}.where`, 'must be an object of field tests');
    const specs = FIELD_SPECS[kind] as Record<string, FieldType>;
    for (const [field, test] of Object.entries(o.where as Record<string, unknown>)) {
      const spec = specs[field];
      if (!spec) throw new SpecError(`${at}.where.${field}`, `'${kind}' events have no field '${field}' (fields: ${Object.keys(specs).join(', ')})`);
      filter.where[field] = normaliseTest(test, spec, `${at}.where.${field}`);
    }
  }
  return filter;
}

function normaliseValue(v: unknown, spec: FieldType, at: string): number | string | boolean {
  if (NUMERIC.has(spec.type)) {
    if (typeof v === 'string' && SYMBOL.test(v)) return v; // resolved from the kernel's labels at check time
    const n = toNumber(v);
    if (n === undefined) throw new SpecError(at, `expected a number (or "0x..." text), got ${JSON.stringify(v)}`);
    return n;
  }
  if (spec.type === 'enum') {
    if (!spec.values.includes(v as string | number)) throw new SpecError(at, `${JSON.stringify(v)} is not one of ${spec.values.map((x) => JSON.stringify(x)).join(', ')}`);
    return v as string | number;
  }
  if (spec.type === 'bool') {
    if (typeof v !== 'boolean') throw new SpecError(at, `expected true or false, got ${JSON.stringify(v)}`);
    return v;
  }
  if (spec.type === 'string') {
    if (typeof v !== 'string') throw new SpecError(at, `expected text, got ${JSON.stringify(v)}`);
    return v;
  }
  throw new SpecError(at, `fields of type ${spec.type} cannot be tested`);
}

function normaliseTest(test: unknown, spec: FieldType, at: string): FieldTest {
  if (Array.isArray(test)) {
    if (test.length === 0) throw new SpecError(at, 'an empty list matches nothing');
    return test.map((v, i) => normaliseValue(v, spec, `${at}[${i}]`)) as (number | string)[];
  }
  if (typeof test === 'object' && test !== null) {
    const o = test as Record<string, unknown>;
    const out: Exclude<FieldTest, number | string | boolean | unknown[]> = {};
    for (const [key, value] of Object.entries(o)) {
      if (key === 'min' || key === 'max' || key === 'bits' || key === 'clear') {
        if (!NUMERIC.has(spec.type)) throw new SpecError(`${at}.${key}`, `'${key}' needs a numeric field`);
        const n = typeof value === 'string' && SYMBOL.test(value) ? value : toNumber(value);
        if (n === undefined) throw new SpecError(`${at}.${key}`, `expected a number, got ${JSON.stringify(value)}`);
        (out as Record<string, unknown>)[key] = n;
      } else if (key === 'contains') {
        if (spec.type !== 'string' || typeof value !== 'string') throw new SpecError(`${at}.contains`, "'contains' needs a text field and text");
        out.contains = value;
      } else if (key === 'not') {
        out.not = normaliseTest(value, spec, `${at}.not`);
      } else {
        throw new SpecError(`${at}.${key}`, 'unknown test (use a value, a list, min, max, bits, clear, contains or not)');
      }
    }
    if (Object.keys(out).length === 0) throw new SpecError(at, 'an empty test');
    return out;
  }
  return normaliseValue(test, spec, at);
}

function same(value: unknown, want: number | string | boolean): boolean {
  if (typeof want === 'number' && typeof value === 'number') return value >>> 0 === want >>> 0 || value === want;
  return value === want;
}

export function testField(value: unknown, test: FieldTest): boolean {
  if (Array.isArray(test)) return test.some((t) => same(value, t));
  if (typeof test === 'object') {
    if (test.not !== undefined && testField(value, test.not)) return false;
    if (test.contains !== undefined && !(typeof value === 'string' && value.includes(test.contains))) return false;
    const numeric = test.min !== undefined || test.max !== undefined || test.bits !== undefined || test.clear !== undefined;
    if (!numeric) return value !== undefined || test.not !== undefined;
    if (typeof value !== 'number') return false;
    const v = value >>> 0;
    if (test.min !== undefined && v < test.min >>> 0) return false;
    if (test.max !== undefined && v > test.max >>> 0) return false;
    if (test.bits !== undefined && (v & test.bits) >>> 0 !== test.bits >>> 0) return false;
    if (test.clear !== undefined && (v & test.clear) !== 0) return false;
    return true;
  }
  return value !== undefined && same(value, test);
}

export function matchesFilter(f: EventFilter, ev: TraceEvent): boolean {
  if (ev.kind !== f.kind) return false;
  if (f.vm !== undefined && ev.vm !== f.vm) return false;
  const fields = ev as unknown as Record<string, unknown>;
  for (const name in f.where) if (!testField(fields[name], f.where[name]!)) return false;
  return true;
}

// ---- words ---------------------------------------------------------------------------------

const hex = (n: number) => '0x' + (n >>> 0).toString(16);

function fieldText(kind: string, field: string, v: unknown): string {
  if (typeof v !== 'number') return typeof v === 'string' ? v : JSON.stringify(v);
  const spec = (FIELD_SPECS as Record<string, Record<string, FieldType>>)[kind]?.[field];
  const decimal = !spec || spec.type === 'i32' || (kind === 'migration' && field !== 'gfn') || field === 'step' || field === 'level' || field === 'size' || field === 'instructionLength' || field === 'cycles';
  return decimal ? String(v) : hex(v);
}

function describeTest(kind: string, field: string, t: FieldTest): string {
  if (Array.isArray(t)) return `${field} in {${t.map((v) => fieldText(kind, field, v)).join(', ')}}`;
  if (typeof t === 'object') {
    const parts: string[] = [];
    if (t.min !== undefined && t.max !== undefined) parts.push(`${field} in ${hex(t.min)}..${hex(t.max)}`);
    else if (t.min !== undefined) parts.push(`${field} >= ${fieldText(kind, field, t.min)}`);
    else if (t.max !== undefined) parts.push(`${field} <= ${fieldText(kind, field, t.max)}`);
    if (t.bits !== undefined) parts.push(`${field} has bits ${hex(t.bits)}`);
    if (t.clear !== undefined) parts.push(`${field} has bits ${hex(t.clear)} clear`);
    if (t.contains !== undefined) parts.push(`${field} contains ${JSON.stringify(t.contains)}`);
    if (t.not !== undefined) parts.push(`not (${describeTest(kind, field, t.not)})`);
    return parts.join(' and ');
  }
  return `${field}=${fieldText(kind, field, t)}`;
}

/** "pagefault with outcome=hidden, linear=0x400000" */
export function describeFilter(f: EventFilter): string {
  const tests = Object.entries(f.where).map(([k, t]) => describeTest(f.kind, k, t));
  if (f.vm !== undefined) tests.unshift(`vm=${f.vm}`);
  return tests.length === 0 ? f.kind : `${f.kind} with ${tests.join(', ')}`;
}

/** "pagefault outcome=bare linear=0x400000 errorCode=0x2 eip=0x100123 (event #57, vm 0)" */
export function describeEvent(ev: TraceEvent): string {
  const fields = ev as unknown as Record<string, unknown>;
  const specs = FIELD_SPECS[ev.kind] as Record<string, FieldType>;
  const parts = Object.keys(specs)
    .filter((k) => fields[k] !== undefined)
    .map((k) => `${k}=${fieldText(ev.kind, k, fields[k])}`);
  return `${ev.kind} ${parts.join(' ')} (event #${ev.seq}, vm ${ev.vm})`;
}

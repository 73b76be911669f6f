// Runtime validation of one event against FIELD_SPECS: field names, types, ranges and enums.
// Returns a message saying what is wrong (for the reader's "line N: ..." errors), never throws.
import { FIELD_SPECS, isEventKind, type FieldSpec, type TraceEvent } from './schema.ts';

/** Limits of the base fields (the ring buffer and binary batches store vm/vcpu in 16 bits). */
export const VM_MIN = -1;
export const VM_MAX = 32767;
export const VCPU_MAX = 65535;

export type Validation = { ok: true; event: TraceEvent } | { ok: false; error: string };

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'string')
    return `the string ${JSON.stringify(v.length > 40 ? v.slice(0, 40) + '...' : v)}`;
  if (typeof v === 'number') return `the number ${v}`;
  return `a ${typeof v}`;
}

function intIn(v: unknown, lo: number, hi: number): boolean {
  return typeof v === 'number' && Number.isInteger(v) && v >= lo && v <= hi;
}

/** Checks one value against its field type; returns what was expected, or null when it fits. */
export function checkField(spec: FieldSpec, v: unknown): string | null {
  switch (spec.type) {
    case 'u8':
      return intIn(v, 0, 0xff) ? null : 'an integer 0..255';
    case 'u16':
      return intIn(v, 0, 0xffff) ? null : 'an integer 0..65535';
    case 'u32':
      return intIn(v, 0, 0xffffffff) ? null : 'an integer 0..0xFFFFFFFF';
    case 'i32':
      return intIn(v, -0x80000000, 0x7fffffff) ? null : 'a 32-bit signed integer';
    case 'bool':
      return typeof v === 'boolean' ? null : 'true or false';
    case 'enum':
      return spec.values.includes(v as string | number)
        ? null
        : `one of ${spec.values.map((x) => JSON.stringify(x)).join(', ')}`;
    case 'string':
      return typeof v === 'string' ? null : 'a string';
    case 'numbers':
      return Array.isArray(v) && v.every((x) => typeof x === 'number' && Number.isFinite(x))
        ? null
        : 'an array of numbers';
    case 'bytes':
      return Array.isArray(v) && v.every((x) => intIn(x, 0, 0xff)) ? null : 'an array of bytes 0..255';
  }
}

function checkBase(o: Record<string, unknown>): string | null {
  const checks: [string, number, number][] = [
    ['seq', 0, Number.MAX_SAFE_INTEGER],
    ['tick', 0, Number.MAX_SAFE_INTEGER],
    ['vm', VM_MIN, VM_MAX],
    ['vcpu', 0, VCPU_MAX],
  ];
  for (const [name, lo, hi] of checks) {
    if (!(name in o)) return `missing field '${name}'`;
    if (!intIn(o[name], lo, hi))
      return `field '${name}' must be an integer ${lo}..${hi === Number.MAX_SAFE_INTEGER ? '2^53' : hi}, got ${describe(o[name])}`;
  }
  return null;
}

/** Validates a parsed JSON value as a TraceEvent of the current schema. */
export function validateEvent(value: unknown): Validation {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { ok: false, error: `an event must be a JSON object, got ${describe(value)}` };
  }
  const o = value as Record<string, unknown>;
  if (!('kind' in o)) return { ok: false, error: `missing field 'kind'` };
  if (typeof o.kind !== 'string')
    return { ok: false, error: `field 'kind' must be a string, got ${describe(o.kind)}` };
  if (!isEventKind(o.kind)) return { ok: false, error: `unknown event kind ${JSON.stringify(o.kind)}` };
  const baseError = checkBase(o);
  if (baseError) return { ok: false, error: `${o.kind} event: ${baseError}` };
  const specs = FIELD_SPECS[o.kind] as Record<string, FieldSpec>;
  for (const name of Object.keys(o)) {
    if (name === 'seq' || name === 'tick' || name === 'vm' || name === 'vcpu' || name === 'kind') continue;
    if (!Object.prototype.hasOwnProperty.call(specs, name)) {
      return { ok: false, error: `${o.kind} event: unknown field '${name}'` };
    }
  }
  for (const [name, spec] of Object.entries(specs)) {
    const v = o[name];
    if (v === undefined) {
      if (spec.optional) continue;
      return { ok: false, error: `${o.kind} event: missing field '${name}'` };
    }
    const expected = checkField(spec, v);
    if (expected)
      return { ok: false, error: `${o.kind} event: field '${name}' must be ${expected}, got ${describe(v)}` };
  }
  return { ok: true, event: value as TraceEvent };
}

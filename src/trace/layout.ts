// The columnar layout shared by the ring buffer and binary batches, derived from FIELD_SPECS:
// every event's own fields go into a fixed set of numeric columns — SMALL_COLUMNS bytes (u8,
// bools, enum indexes) and WIDE_COLUMNS 32-bit words (addresses, values, string-table ids) — plus
// one flags byte saying which optional fields are present. One plan per kind says which field
// lives in which column, so packing and unpacking are a loop over that plan.
import { EVENT_KINDS, FIELD_SPECS, type EventKind, type FieldSpec, type TraceEvent } from './schema.ts';

export const SMALL_COLUMNS = 2;
export const WIDE_COLUMNS = 5;

export interface FieldSlot {
  name: string;
  spec: FieldSpec;
  /** 0..SMALL_COLUMNS-1 = a small column; SMALL_COLUMNS.. = wide column (index - SMALL_COLUMNS). */
  column: number;
  /** Bit in the flags byte for an optional field, 0 for a required one. */
  presenceBit: number;
  /** The value is an id into the string table (strings and arrays). */
  interned: boolean;
  /** Field value -> column value. */
  encode: (v: unknown, strings: StringTable) => number;
  /** Column value -> field value. */
  decode: (raw: number, strings: StringTable) => unknown;
}

export interface KindPlan {
  kind: EventKind;
  code: number;
  fields: FieldSlot[];
  /** Wide columns holding string-table ids, with their presence bits (for string-table compaction). */
  stringColumns: { wide: number; presenceBit: number }[];
}

function isSmall(spec: FieldSpec): boolean {
  return spec.type === 'u8' || spec.type === 'bool' || (spec.type === 'enum' && spec.values.length <= 256);
}

function planFor(kind: EventKind, code: number): KindPlan {
  const specs = FIELD_SPECS[kind] as Record<string, FieldSpec>;
  let small = 0;
  let wide = 0;
  let optional = 0;
  const fields: FieldSlot[] = [];
  for (const [name, spec] of Object.entries(specs)) {
    const column = isSmall(spec) && small < SMALL_COLUMNS ? small++ : SMALL_COLUMNS + wide++;
    const presenceBit = spec.optional ? 1 << optional++ : 0;
    const interned = spec.type === 'string' || spec.type === 'numbers' || spec.type === 'bytes';
    fields.push({
      name,
      spec,
      column,
      presenceBit,
      interned,
      encode: encoderFor(spec),
      decode: decoderFor(spec),
    });
  }
  // A schema change that needs more columns must widen the layout (and bump the binary version).
  if (wide > WIDE_COLUMNS || optional > 8) throw new Error(`trace layout: kind '${kind}' needs more columns`);
  const stringColumns = fields
    .filter((f) => f.interned)
    .map((f) => ({ wide: f.column - SMALL_COLUMNS, presenceBit: f.presenceBit }));
  return { kind, code, fields, stringColumns };
}

/** Plans indexed by kind code. */
export const PLANS: readonly KindPlan[] = EVENT_KINDS.map((k, i) => planFor(k, i));

/** The values of enum field `field` of kind `code`, in the order their codes number them in a column. */
export function enumValues(code: number, field: string): readonly string[] {
  const spec = PLANS[code]!.fields.find((f) => f.name === field)?.spec;
  if (spec?.type !== 'enum') throw new Error(`trace layout: ${field} is not an enum field of kind ${code}`);
  return spec.values as readonly string[];
}

/** Interned strings: console text and warning messages repeat, so each is stored once. */
export class StringTable {
  private ids = new Map<string, number>();
  private strings: string[] = [];
  /** Approximate memory held: 2 bytes per UTF-16 unit plus per-entry overhead. */
  bytes = 0;

  intern(s: string): number {
    let id = this.ids.get(s);
    if (id === undefined) {
      id = this.strings.length;
      this.strings.push(s);
      this.ids.set(s, id);
      this.bytes += 2 * s.length + 64;
    }
    return id;
  }

  get(id: number): string {
    const s = this.strings[id];
    if (s === undefined) throw new RangeError(`string table: no string ${id}`);
    return s;
  }

  get size(): number {
    return this.strings.length;
  }

  all(): readonly string[] {
    return this.strings;
  }

  /** A table for reading only (get by id): no reverse index is built, so a big one costs nothing to make. */
  static forReading(strings: string[]): StringTable {
    const t = new StringTable();
    t.strings = strings;
    return t;
  }

  static from(strings: readonly string[]): StringTable {
    const t = new StringTable();
    for (const s of strings) {
      t.strings.push(s);
      if (!t.ids.has(s)) t.ids.set(s, t.strings.length - 1);
      t.bytes += 2 * s.length + 64;
    }
    return t;
  }
}

/** One event's payload as column values (reused between calls to avoid allocation). */
export interface Payload {
  flags: number;
  small: number[];
  wide: number[];
}

export function newPayload(): Payload {
  return { flags: 0, small: new Array(SMALL_COLUMNS).fill(0), wide: new Array(WIDE_COLUMNS).fill(0) };
}

function encoderFor(spec: FieldSpec): FieldSlot['encode'] {
  switch (spec.type) {
    case 'bool':
      return (v) => (v ? 1 : 0);
    case 'enum': {
      const index = new Map<unknown, number>(spec.values.map((x, i) => [x, i]));
      return (v) => index.get(v) ?? 0;
    }
    case 'string':
      return (v, strings) => strings.intern(v as string);
    case 'numbers':
    case 'bytes':
      return (v, strings) => strings.intern((v as number[]).join(','));
    default:
      return (v) => (v as number) >>> 0;
  }
}

function decoderFor(spec: FieldSpec): FieldSlot['decode'] {
  switch (spec.type) {
    case 'bool':
      return (raw) => raw !== 0;
    case 'enum': {
      const values = spec.values;
      return (raw) => values[raw];
    }
    case 'string':
      return (raw, strings) => strings.get(raw);
    case 'numbers':
    case 'bytes':
      return (raw, strings) => {
        const text = strings.get(raw);
        return text === '' ? [] : text.split(',').map(Number);
      };
    case 'i32':
      return (raw) => raw | 0;
    default:
      return (raw) => raw;
  }
}

/** Fills `out` with the event's own fields as column values; absent optional fields leave zeros. */
export function packPayload(fields: object, plan: KindPlan, strings: StringTable, out: Payload): void {
  const rec = fields as Record<string, unknown>;
  let flags = 0;
  out.small.fill(0);
  out.wide.fill(0);
  for (const slot of plan.fields) {
    const v = rec[slot.name];
    if (v === undefined) continue;
    flags |= slot.presenceBit;
    const raw = slot.encode(v, strings);
    if (slot.column < SMALL_COLUMNS) out.small[slot.column] = raw;
    else out.wide[slot.column - SMALL_COLUMNS] = raw;
  }
  out.flags = flags;
}

/** Builds the event back from its base fields and column values (fields in canonical order). */
export function unpackEvent(
  seq: number,
  tick: number,
  vm: number,
  vcpu: number,
  plan: KindPlan,
  p: Payload,
  strings: StringTable,
): TraceEvent {
  const ev: Record<string, unknown> = { seq, tick, vm, vcpu, kind: plan.kind };
  for (const slot of plan.fields) {
    if (slot.presenceBit !== 0 && (p.flags & slot.presenceBit) === 0) continue;
    const raw = slot.column < SMALL_COLUMNS ? p.small[slot.column]! : p.wide[slot.column - SMALL_COLUMNS]!;
    ev[slot.name] = slot.decode(raw, strings);
  }
  return ev as unknown as TraceEvent;
}

/** Bytes per event in the ring: seq and tick deltas (2×4), vm and vcpu (2×2), kind, flags, small and wide columns. */
export const BYTES_PER_EVENT = 4 + 4 + 2 + 2 + 1 + 1 + SMALL_COLUMNS + 4 * WIDE_COLUMNS;

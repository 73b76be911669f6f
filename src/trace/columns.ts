// Typed-array views over one binary batch (the 'VZTB' layout of binary.ts) wherever it lies in a
// buffer — a batch of its own, or one of the many batches of a trace file read whole — so that
// millions of events can be read column by column without an object per event. Single events
// decode on demand with the same plans as the codecs. Column order, as binary.ts writes it:
// seq f64, tick f64, wide u32 × WIDE_COLUMNS, vm i16, vcpu u16, kind u8, flags u8, small u8 × SMALL_COLUMNS.
import { BINARY_VERSION, BatchError } from './binary.ts';
import { SCHEMA_VERSION, type TraceEvent } from './schema.ts';
import { PLANS, SMALL_COLUMNS, StringTable, WIDE_COLUMNS, type FieldSlot } from './layout.ts';

const EMPTY = new StringTable();

const align8 = (n: number): number => (n + 7) & ~7;
const MAGIC = 'VZTB';

export class BatchColumns {
  readonly count: number;
  readonly seq: Float64Array;
  readonly tick: Float64Array;
  readonly wide: Uint32Array[];
  readonly vm: Int16Array;
  readonly vcpu: Uint16Array;
  readonly kind: Uint8Array;
  readonly flags: Uint8Array;
  readonly smallCols: Uint8Array[];
  /** Entries in the batch's string table. */
  readonly stringCount: number;
  /** Byte offset (in the buffer) of each column, in the order above: for error messages. */
  readonly columnOffsets: number[] = [];
  private strings: StringTable | null = null;
  private readonly stringsAt: number;

  /**
   * `offset` must be a multiple of 8 (the f64 columns are viewed in place). Throws BatchError,
   * whose message says what is wrong, for anything that is not a whole batch of this version.
   */
  constructor(
    readonly buf: ArrayBuffer,
    readonly offset = 0,
    readonly byteLength = buf.byteLength - offset,
  ) {
    const end = offset + byteLength;
    if (byteLength < 16) throw new BatchError(`trace batch too short (${byteLength} bytes)`);
    const dv = new DataView(buf, offset, byteLength);
    const magic = String.fromCharCode(...new Uint8Array(buf, offset, 4));
    if (magic !== MAGIC) throw new BatchError('not a vizor trace batch (bad magic)');
    const format = dv.getUint16(4, true), schema = dv.getUint16(6, true);
    if (format !== BINARY_VERSION || schema !== SCHEMA_VERSION)
      throw new BatchError(`trace batch format ${format}/schema ${schema}; this vizor reads ${BINARY_VERSION}/${SCHEMA_VERSION}`);
    const n = (this.count = dv.getUint32(8, true));
    this.stringCount = dv.getUint32(12, true);
    this.stringsAt = offset + 16;
    let at = this.stringsAt;
    for (let i = 0; i < this.stringCount; i++) {
      if (at + 4 > end) throw new BatchError('trace batch truncated in its string table');
      at += 4 + new DataView(buf, at, 4).getUint32(0, true);
      if (at > end) throw new BatchError('trace batch truncated in its string table');
    }
    at = offset + align8(at - offset);
    const need = n * (8 + 8 + 4 * WIDE_COLUMNS + 2 + 2 + 1 + 1 + SMALL_COLUMNS);
    if (at + need !== end) throw new BatchError(`trace batch has the wrong length for its count (${n} events need ${at + need - offset} bytes, it has ${byteLength})`);
    const take = <T>(make: (o: number) => T, bytes: number): T => {
      this.columnOffsets.push(at);
      const v = make(at);
      at += bytes * n;
      return v;
    };
    this.seq = take((o) => new Float64Array(buf, o, n), 8);
    this.tick = take((o) => new Float64Array(buf, o, n), 8);
    this.wide = Array.from({ length: WIDE_COLUMNS }, () => take((o) => new Uint32Array(buf, o, n), 4));
    this.vm = take((o) => new Int16Array(buf, o, n), 2);
    this.vcpu = take((o) => new Uint16Array(buf, o, n), 2);
    this.kind = take((o) => new Uint8Array(buf, o, n), 1);
    this.flags = take((o) => new Uint8Array(buf, o, n), 1);
    this.smallCols = Array.from({ length: SMALL_COLUMNS }, () => take((o) => new Uint8Array(buf, o, n), 1));
  }

  /** The small column holding `field` of kind `code` (an enum index or a byte). */
  small(code: number, field: string): Uint8Array {
    const slot = PLANS[code]!.fields.find((f) => f.name === field);
    if (!slot || slot.column >= SMALL_COLUMNS) throw new Error(`batch: ${field} is not a small column`);
    return this.smallCols[slot.column]!;
  }

  /** The 32-bit column holding `field` of kind `code` (read i32 fields with `| 0`). */
  wideCol(code: number, field: string): Uint32Array {
    const slot = PLANS[code]!.fields.find((f) => f.name === field);
    if (!slot || slot.column < SMALL_COLUMNS) throw new Error(`batch: ${field} is not a wide column`);
    return this.wide[slot.column - SMALL_COLUMNS]!;
  }

  /** The column holding `field` of kind `code`, small or wide (the layout puts small fields in wide columns once the small ones run out). */
  column(code: number, field: string): Uint8Array | Uint32Array {
    const slot = PLANS[code]!.fields.find((f) => f.name === field);
    if (!slot) throw new Error(`batch: kind ${code} has no field ${field}`);
    return slot.column < SMALL_COLUMNS ? this.smallCols[slot.column]! : this.wide[slot.column - SMALL_COLUMNS]!;
  }

  presenceBit(code: number, field: string): number {
    return PLANS[code]!.fields.find((f) => f.name === field)?.presenceBit ?? 0;
  }

  stringTable(): StringTable {
    if (!this.strings) {
      const dec = new TextDecoder();
      const list: string[] = [];
      const bytes = new Uint8Array(this.buf);
      let at = this.stringsAt;
      for (let k = 0; k < this.stringCount; k++) {
        const len = bytes[at]! | (bytes[at + 1]! << 8) | (bytes[at + 2]! << 16) | (bytes[at + 3]! << 24);
        list.push(len <= 64 ? shortString(bytes, at + 4, len, dec) : dec.decode(bytes.subarray(at + 4, at + 4 + len)));
        at += 4 + len;
      }
      this.strings = StringTable.forReading(list);
    }
    return this.strings;
  }

  /** Event i as an object, fields in canonical order (as unpackEvent builds it, read straight from the columns). */
  decode(i: number): TraceEvent {
    const plan = PLANS[this.kind[i]!]!;
    const ev: Record<string, unknown> = { seq: this.seq[i]!, tick: this.tick[i]!, vm: this.vm[i]!, vcpu: this.vcpu[i]!, kind: plan.kind };
    const flags = this.flags[i]!;
    for (const slot of plan.fields) {
      if (slot.presenceBit !== 0 && (flags & slot.presenceBit) === 0) continue;
      const raw = slot.column < SMALL_COLUMNS ? this.smallCols[slot.column]![i]! : this.wide[slot.column - SMALL_COLUMNS]![i]!;
      ev[slot.name] = slot.interned ? this.internedValue(slot, raw) : slot.decode(raw, EMPTY);
    }
    return ev as unknown as TraceEvent;
  }

  /** One field of event i (undefined when an optional field is absent), without building the event. */
  field(i: number, name: string): unknown {
    const slot = PLANS[this.kind[i]!]!.fields.find((f) => f.name === name);
    if (!slot || (slot.presenceBit !== 0 && (this.flags[i]! & slot.presenceBit) === 0)) return undefined;
    const raw = slot.column < SMALL_COLUMNS ? this.smallCols[slot.column]![i]! : this.wide[slot.column - SMALL_COLUMNS]![i]!;
    return slot.interned ? this.internedValue(slot, raw) : slot.decode(raw, EMPTY);
  }

  /** Strings and arrays, decoded once per string id (views read them, never change them). */
  private interned = new Map<number, unknown>();
  private internedValue(slot: FieldSlot, id: number): unknown {
    const key = id * 4 + (slot.spec.type === 'string' ? 0 : 1);
    let v = this.interned.get(key);
    if (v === undefined) this.interned.set(key, (v = slot.decode(id, this.stringTable())));
    return v;
  }
}

/** Short strings (credits lists, console text) are mostly ASCII: char codes directly, TextDecoder otherwise. */
function shortString(bytes: Uint8Array, at: number, len: number, dec: TextDecoder): string {
  let s = '';
  for (let i = 0; i < len; i++) {
    const b = bytes[at + i]!;
    if (b >= 0x80) return dec.decode(bytes.subarray(at, at + len));
    s += String.fromCharCode(b);
  }
  return s;
}

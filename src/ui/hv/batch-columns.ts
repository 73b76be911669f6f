// Typed-array views over one binary trace batch (the 'VZTB' format of src/trace/binary.ts), so the
// timeline can ingest millions of events without building an object per event. Decodes single
// events on demand (for hover text) with the same plans as the trace codecs. The column order
// mirrors binary.ts's header comment: seq f64, tick f64, wide u32 × WIDE_COLUMNS, vm i16, vcpu
// u16, kind u8, flags u8, small u8 × SMALL_COLUMNS.
import { BINARY_VERSION, BatchError } from '../../trace/binary.ts';
import { SCHEMA_VERSION } from '../../trace/schema.ts';
import { PLANS, SMALL_COLUMNS, StringTable, WIDE_COLUMNS, newPayload, unpackEvent } from '../../trace/layout.ts';
import type { TraceEvent } from '../../trace/schema.ts';

const align8 = (n: number): number => (n + 7) & ~7;

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
  private strings: StringTable | null = null;
  private readonly stringsAt: number;
  private readonly stringCount: number;

  constructor(private readonly buf: ArrayBuffer) {
    const dv = new DataView(buf);
    const magic = String.fromCharCode(...new Uint8Array(buf, 0, Math.min(4, buf.byteLength)));
    if (buf.byteLength < 16 || magic !== 'VZTB') throw new BatchError('not a vizor trace batch (bad magic)');
    if (dv.getUint16(4, true) !== BINARY_VERSION || dv.getUint16(6, true) !== SCHEMA_VERSION)
      throw new BatchError('trace batch of another format or schema version');
    const n = (this.count = dv.getUint32(8, true));
    this.stringCount = dv.getUint32(12, true);
    this.stringsAt = 16;
    let at = 16;
    for (let i = 0; i < this.stringCount; i++) at += 4 + dv.getUint32(at, true);
    at = align8(at);
    const take = <T>(make: (o: number) => T, bytes: number): T => { const v = make(at); at += bytes * n; return v; };
    this.seq = take((o) => new Float64Array(buf, o, n), 8);
    this.tick = take((o) => new Float64Array(buf, o, n), 8);
    this.wide = Array.from({ length: WIDE_COLUMNS }, () => take((o) => new Uint32Array(buf, o, n), 4));
    this.vm = take((o) => new Int16Array(buf, o, n), 2);
    this.vcpu = take((o) => new Uint16Array(buf, o, n), 2);
    this.kind = take((o) => new Uint8Array(buf, o, n), 1);
    this.flags = take((o) => new Uint8Array(buf, o, n), 1);
    this.smallCols = Array.from({ length: SMALL_COLUMNS }, () => take((o) => new Uint8Array(buf, o, n), 1));
    if (at !== buf.byteLength) throw new BatchError('trace batch has the wrong length for its count');
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

  presenceBit(code: number, field: string): number {
    return PLANS[code]!.fields.find((f) => f.name === field)?.presenceBit ?? 0;
  }

  decode(i: number): TraceEvent {
    if (!this.strings) {
      const dv = new DataView(this.buf);
      const dec = new TextDecoder();
      const list: string[] = [];
      let at = this.stringsAt;
      for (let k = 0; k < this.stringCount; k++) {
        const len = dv.getUint32(at, true);
        list.push(dec.decode(new Uint8Array(this.buf, at + 4, len)));
        at += 4 + len;
      }
      this.strings = StringTable.from(list);
    }
    const p = newPayload();
    p.flags = this.flags[i]!;
    for (let c = 0; c < SMALL_COLUMNS; c++) p.small[c] = this.smallCols[c]![i]!;
    for (let c = 0; c < WIDE_COLUMNS; c++) p.wide[c] = this.wide[c]![i]!;
    return unpackEvent(this.seq[i]!, this.tick[i]!, this.vm[i]!, this.vcpu[i]!, PLANS[this.kind[i]!]!, p, this.strings);
  }
}

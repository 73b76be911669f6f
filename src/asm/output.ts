// Where a pass's bytes go. Every pass only advances the position; the final pass also writes the
// bytes into a growable buffer per section, records a map item per statement (address -> source)
// and a listing record per line (offset, bytes, relocation marks, messages).

import type { Line } from './ast.ts';
import { PassState } from './pass-state.ts';
import type { MapItem, Severity } from './types.ts';

/** A growable byte buffer: one section's output in the final pass. */
class ByteSink {
  buf = new Uint8Array(256);
  len = 0;
  ensure(n: number): void {
    if (this.len + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.len + n) size *= 2;
    const b = new Uint8Array(size);
    b.set(this.buf.subarray(0, this.len));
    this.buf = b;
  }
  pushAll(a: ArrayLike<number>): void {
    this.ensure(a.length);
    for (let i = 0; i < a.length; i++) this.buf[this.len++] = a[i]!;
  }
  fill(v: number, n: number): void {
    this.ensure(n);
    this.buf.fill(v, this.len, this.len + n);
    this.len += n;
  }
  /** Appends `times` more copies of the last `size` bytes (a repeated `times` statement). */
  repeatTail(size: number, times: number): void {
    const start = this.len - size;
    this.ensure(size * times);
    for (let k = 0; k < times; k++) this.buf.copyWithin(this.len + k * size, start, start + size);
    this.len += size * times;
  }
  /** The bytes written so far. */
  bytes(): Uint8Array {
    return this.buf.subarray(0, this.len);
  }
}

export interface ListRecord {
  line: Line;
  offset: number;
  bytes: Uint8Array | null;
  reserve: number;
  rep: number;
  /** Relocatable fields, shown by the listing as NASM does: [section offset] or (branch target). */
  marks: { at: number; size: number; text: string }[];
  messages: { severity: Severity; message: string }[];
}

export class AsmOutput extends PassState {
  readonly records: ListRecord[] = [];
  readonly items: MapItem[] = [];
  /** One buffer per section, in the final pass. */
  protected sinks: ByteSink[] = [];
  /** The listing record of the line being assembled (final pass only). */
  protected record: ListRecord | null = null;

  protected override onReport(severity: Severity, file: string, line: number, message: string): void {
    if (this.record && this.record.line.src.file === file && this.record.line.src.line === line) this.record.messages.push({ severity, message });
  }

  /** A walk starts: the final one collects each section's bytes. */
  protected resetSinks(): void {
    this.sinks = this.final ? this.sections.map(() => new ByteSink()) : [];
  }

  /** A section was added during the final walk: give it a buffer. */
  protected ensureSinks(): void {
    while (this.sinks.length < this.sections.length) this.sinks.push(new ByteSink());
  }

  /** Starts the listing record of a line (final pass). */
  protected startRecord(line: Line): void {
    this.record = { line, offset: this.listOffset(), bytes: null, reserve: 0, rep: 0, messages: [], marks: [] };
    this.records.push(this.record);
  }

  /** Writes bytes at the current position; `first` is the first repetition of a `times` line. */
  protected emit(bytes: ArrayLike<number>, kind: MapItem['kind'], first: boolean, line: Line): void {
    if (this.final && bytes.length > 0) this.collectOutput(bytes, kind, first, line);
    this.advance(bytes.length);
  }

  /** Fill bytes (align): the listing shows the first byte and the repeat count, as NASM does. */
  protected emitMany(bytes: number[], line: Line): void {
    if (this.final && bytes.length > 0) {
      const rec = this.record;
      this.collectOutput(bytes, 'data', false, line);
      if (rec && rec.bytes === null) rec.bytes = Uint8Array.from(bytes.slice(0, 1));
    }
    this.advance(bytes.length);
  }

  /** The map item for `length` bytes from here, pointing at the statement's column. */
  private mapItem(line: Line, length: number, kind: MapItem['kind']): number {
    const stmtCol = 'col' in line.stmt ? (line.stmt as { col: number }).col : 0;
    this.items.push({
      address: this.addr(), length, file: line.src.file, line: line.src.line,
      column: line.src.exactColumns ? stmtCol + 1 : line.src.callColumn + 1, kind, section: this.absolute ? '' : this.cur.name,
    });
    return stmtCol;
  }

  private collectOutput(bytes: ArrayLike<number>, kind: MapItem['kind'], first: boolean, line: Line): void {
    const stmtCol = this.mapItem(line, bytes.length, kind);
    if (this.absolute) return;
    if (this.cur.nobits) {
      if (kind !== 'reserve') this.at(line, stmtCol, `section ${this.cur.name} holds no data (nobits): use resb/resw/resd here, not code or db`);
      return;
    }
    this.sinks[this.cur.index]!.pushAll(bytes);
    if (first && this.record) {
      if (this.record.bytes === null) this.record.bytes = Uint8Array.from(bytes);
      else if (this.record.rep === 0) {
        const b = new Uint8Array(this.record.bytes.length + bytes.length);
        b.set(this.record.bytes);
        b.set(Array.from(bytes), this.record.bytes.length);
        this.record.bytes = b;
      }
    }
  }

  /** resb & co: space without data (zeros, with a warning, in a progbits section). */
  protected reserve(n: number, line: Line, first: boolean): void {
    if (n <= 0) return;
    if (this.final) {
      const stmtCol = this.mapItem(line, n, 'reserve');
      if (!this.absolute && !this.cur.nobits) {
        this.at(line, stmtCol, `uninitialized space declared in ${this.cur.name} (a progbits section): it is filled with zeros`, 'warning');
        this.sinks[this.cur.index]!.fill(0, n);
      }
      if (this.record && first) this.record.reserve += n;
    }
    this.advance(n);
  }

  /** istruc: zero-fill up to `offset` bytes past the structure's start. */
  protected padTo(offset: number, start: number, line: Line, col: number): boolean {
    const pad = offset - (this.here() - start);
    if (pad < 0) {
      if (this.final) this.at(line, col, `this field starts at offset ${offset} of the structure, but the data before it already reaches offset ${offset - pad}`);
      return false;
    }
    if (pad > 0) this.emit(new Array<number>(pad).fill(0), 'data', true, line);
    return true;
  }

  /** NASM's listing shows a relocatable value as its offset in its section, little-endian hex. */
  protected markText(value: number, section: number, size: number, rel: boolean): string {
    const v = section >= 0 ? value - (this.sections[section]?.base ?? 0) : value;
    let hexs = '';
    for (let i = 0; i < size; i++) hexs += (Math.floor(v / 2 ** (8 * i)) & 0xff).toString(16).toUpperCase().padStart(2, '0');
    return rel ? `(${hexs})` : `[${hexs}]`;
  }
}

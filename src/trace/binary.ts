// Compact binary batches for Worker -> UI transfer (one transferable ArrayBuffer per batch).
// Little-endian layout:
//   0  'VZTB'            magic
//   4  u16 format        BINARY_VERSION
//   6  u16 schema        SCHEMA_VERSION
//   8  u32 count         events in the batch
//  12  u32 strings       entries in the string table, then per entry: u32 byte length + UTF-8
//   .. zero padding to a multiple of 8
//   columns, each `count` long, widest first so every view is aligned:
//   seq f64, tick f64, wide[0..4] u32, vm i16, vcpu u16, kind u8, flags u8, small[0..1] u8
// The payload columns follow layout.ts (the same plan as the ring buffer).
import { KIND_CODE, SCHEMA_VERSION, type TraceEvent } from './schema.ts';
import { ALL_KINDS_MASK } from './schema.ts';
import type { Listener } from './emitter.ts';
import {
  PLANS,
  SMALL_COLUMNS,
  StringTable,
  WIDE_COLUMNS,
  newPayload,
  packPayload,
  unpackEvent,
} from './layout.ts';

export const BINARY_VERSION = 1;
const MAGIC = [0x56, 0x5a, 0x54, 0x42]; // 'VZTB'
const COLUMN_BYTES = 8 + 8 + 4 * WIDE_COLUMNS + 2 + 2 + 1 + 1 + SMALL_COLUMNS;

export class BatchError extends Error {}

const align8 = (n: number): number => (n + 7) & ~7;

interface Views {
  seq: Float64Array;
  tick: Float64Array;
  wide: Uint32Array[];
  vm: Int16Array;
  vcpu: Uint16Array;
  kind: Uint8Array;
  flags: Uint8Array;
  small: Uint8Array[];
}

function columnViews(buf: ArrayBuffer, start: number, n: number): Views {
  let at = start;
  const take = <T>(make: (b: ArrayBuffer, o: number, l: number) => T, bytes: number): T => {
    const v = make(buf, at, n);
    at += bytes * n;
    return v;
  };
  const f64 = (b: ArrayBuffer, o: number, l: number) => new Float64Array(b, o, l);
  const u32 = (b: ArrayBuffer, o: number, l: number) => new Uint32Array(b, o, l);
  const u8 = (b: ArrayBuffer, o: number, l: number) => new Uint8Array(b, o, l);
  return {
    seq: take(f64, 8),
    tick: take(f64, 8),
    wide: Array.from({ length: WIDE_COLUMNS }, () => take(u32, 4)),
    vm: take((b, o, l) => new Int16Array(b, o, l), 2),
    vcpu: take((b, o, l) => new Uint16Array(b, o, l), 2),
    kind: take(u8, 1),
    flags: take(u8, 1),
    small: Array.from({ length: SMALL_COLUMNS }, () => take(u8, 1)),
  };
}

/** Encodes events into one ArrayBuffer (post it with `transfer: [buffer]`). */
export function encodeBatch(events: readonly TraceEvent[]): ArrayBuffer {
  const n = events.length;
  const strings = new StringTable();
  const payloads = events.map((ev) => {
    const p = newPayload();
    packPayload(ev, PLANS[KIND_CODE[ev.kind]]!, strings, p);
    return p;
  });
  const utf8 = strings.all().map((s) => new TextEncoder().encode(s));
  const tableBytes = utf8.reduce((sum, b) => sum + 4 + b.length, 0);
  const start = align8(16 + tableBytes);
  const buf = new ArrayBuffer(start + COLUMN_BYTES * n);
  const dv = new DataView(buf);
  MAGIC.forEach((b, i) => dv.setUint8(i, b));
  dv.setUint16(4, BINARY_VERSION, true);
  dv.setUint16(6, SCHEMA_VERSION, true);
  dv.setUint32(8, n, true);
  dv.setUint32(12, utf8.length, true);
  const bytes = new Uint8Array(buf);
  let at = 16;
  for (const b of utf8) {
    dv.setUint32(at, b.length, true);
    bytes.set(b, at + 4);
    at += 4 + b.length;
  }
  const v = columnViews(buf, start, n);
  for (let i = 0; i < n; i++) {
    const ev = events[i]!;
    const p = payloads[i]!;
    v.seq[i] = ev.seq;
    v.tick[i] = ev.tick;
    v.vm[i] = ev.vm;
    v.vcpu[i] = ev.vcpu;
    v.kind[i] = KIND_CODE[ev.kind];
    v.flags[i] = p.flags;
    for (let c = 0; c < SMALL_COLUMNS; c++) v.small[c]![i] = p.small[c]!;
    for (let c = 0; c < WIDE_COLUMNS; c++) v.wide[c]![i] = p.wide[c]!;
  }
  return buf;
}

/** Decodes a batch; throws BatchError for a buffer that is not a batch of this version. */
export function decodeBatch(buf: ArrayBuffer): TraceEvent[] {
  if (buf.byteLength < 16) throw new BatchError(`trace batch too short (${buf.byteLength} bytes)`);
  const dv = new DataView(buf);
  if (!MAGIC.every((b, i) => dv.getUint8(i) === b))
    throw new BatchError('not a vizor trace batch (bad magic)');
  const format = dv.getUint16(4, true);
  const schema = dv.getUint16(6, true);
  if (format !== BINARY_VERSION || schema !== SCHEMA_VERSION) {
    throw new BatchError(
      `trace batch format ${format}/schema ${schema}; this vizor reads ${BINARY_VERSION}/${SCHEMA_VERSION}`,
    );
  }
  const n = dv.getUint32(8, true);
  const count = dv.getUint32(12, true);
  const decoder = new TextDecoder();
  const list: string[] = [];
  let at = 16;
  for (let i = 0; i < count; i++) {
    if (at + 4 > buf.byteLength) throw new BatchError('trace batch truncated in its string table');
    const len = dv.getUint32(at, true);
    if (at + 4 + len > buf.byteLength) throw new BatchError('trace batch truncated in its string table');
    list.push(decoder.decode(new Uint8Array(buf, at + 4, len)));
    at += 4 + len;
  }
  const start = align8(at);
  if (start + COLUMN_BYTES * n !== buf.byteLength)
    throw new BatchError('trace batch has the wrong length for its count');
  const strings = StringTable.from(list);
  const v = columnViews(buf, start, n);
  const p = newPayload();
  const out: TraceEvent[] = new Array(n);
  for (let i = 0; i < n; i++) {
    const plan = PLANS[v.kind[i]!];
    if (!plan) throw new BatchError(`trace batch: unknown kind code ${v.kind[i]} at event ${i}`);
    p.flags = v.flags[i]!;
    for (let c = 0; c < SMALL_COLUMNS; c++) p.small[c] = v.small[c]![i]!;
    for (let c = 0; c < WIDE_COLUMNS; c++) p.wide[c] = v.wide[c]![i]!;
    out[i] = unpackEvent(v.seq[i]!, v.tick[i]!, v.vm[i]!, v.vcpu[i]!, plan, p, strings);
  }
  return out;
}

/**
 * A listener that gathers events into batches of up to `maxEvents` and hands each encoded
 * buffer to `onBatch` (the worker posts it); call flush() at a pause or a frame boundary.
 */
export function createBatcher(opts: {
  mask?: number;
  vm?: number;
  maxEvents?: number;
  onBatch: (buffer: ArrayBuffer, count: number) => void;
}): { listener: Listener; flush(): void } {
  const max = opts.maxEvents ?? 4096;
  let pending: TraceEvent[] = [];
  const flush = (): void => {
    if (pending.length === 0) return;
    const events = pending;
    pending = [];
    opts.onBatch(encodeBatch(events), events.length);
  };
  const listener: Listener = {
    mask: opts.mask ?? ALL_KINDS_MASK,
    onEvent: (ev) => {
      pending.push(ev);
      if (pending.length >= max) flush();
    },
  };
  if (opts.vm !== undefined) listener.vm = opts.vm;
  return { listener, flush };
}

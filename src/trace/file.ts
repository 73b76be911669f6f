// Binary trace files (.vzt): the worker's transfer batches (binary.ts) laid end to end behind a
// header, so a big trace opens by reading the file into one ArrayBuffer and viewing its columns
// in place — no text to parse, no object per event. Little-endian layout:
//   0  'VZTF'            magic
//   4  u16 format        TRACE_FILE_VERSION
//   6  u16 schema        SCHEMA_VERSION
//   8  u32 header bytes  length of the UTF-8 JSON header {"vizor-trace":1,"params":{...}} (as NDJSON's first line)
//  12  the header, zero padding to a multiple of 8
//   then records until the end of the file, each at a multiple of 8:
//      u32 batch bytes, u32 event count, the batch ('VZTB', its own string table), zero padding to 8
// Seq increases strictly across the whole file, as in NDJSON. A reader names the byte offset of
// anything corrupt or missing (scanTraceFile), and never throws.
import { encodeBatch, BatchError } from './binary.ts';
import { BatchColumns } from './columns.ts';
import { PLANS, SMALL_COLUMNS } from './layout.ts';
import { HEADER_KEY, type TraceParams } from './ndjson.ts';
import { SCHEMA_VERSION, type FieldSpec, type TraceEvent } from './schema.ts';
import type { TraceHeader } from './reader.ts';

export const TRACE_FILE_VERSION = 1;
export const TRACE_FILE_EXTENSION = '.vzt';
const MAGIC = [0x56, 0x5a, 0x54, 0x46]; // 'VZTF'
const align8 = (n: number): number => (n + 7) & ~7;

/** True when the bytes start like a binary trace file (the viewers pick the reader by content, not by name). */
export function isTraceFile(bytes: Uint8Array): boolean {
  return bytes.length >= 4 && MAGIC.every((b, i) => bytes[i] === b);
}

/** The file's first bytes: magic, versions and the JSON header, padded to 8. */
export function traceFileHeader(params: TraceParams = {}): Uint8Array {
  const json = new TextEncoder().encode(JSON.stringify({ [HEADER_KEY]: SCHEMA_VERSION, params }));
  const out = new Uint8Array(align8(12 + json.length));
  const dv = new DataView(out.buffer);
  MAGIC.forEach((b, i) => dv.setUint8(i, b));
  dv.setUint16(4, TRACE_FILE_VERSION, true);
  dv.setUint16(6, SCHEMA_VERSION, true);
  dv.setUint32(8, json.length, true);
  out.set(json, 12);
  return out;
}

/** One record: a batch (encodeBatch's buffer) with its length and count in front, padded to 8. */
export function traceFileRecord(batch: ArrayBuffer, count: number): Uint8Array {
  const out = new Uint8Array(8 + align8(batch.byteLength));
  const dv = new DataView(out.buffer);
  dv.setUint32(0, batch.byteLength, true);
  dv.setUint32(4, count, true);
  out.set(new Uint8Array(batch), 8);
  return out;
}

/** A whole file in memory (tests, small traces); big ones stream through createTraceSink's 'binary' format. */
export function encodeTraceFile(events: readonly TraceEvent[], params: TraceParams = {}, batchEvents = 65536): Uint8Array {
  const parts = [traceFileHeader(params)];
  for (let i = 0; i < events.length; i += batchEvents) {
    const slice = events.slice(i, i + batchEvents);
    parts.push(traceFileRecord(encodeBatch(slice), slice.length));
  }
  const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  let at = 0;
  for (const p of parts) { out.set(p, at); at += p.length; }
  return out;
}

export interface TraceFileError {
  /** Byte offset in the file where the problem is. */
  offset: number;
  message: string;
}

export type TraceFileScan =
  | { ok: true; header: TraceHeader; batches: BatchColumns[]; events: number }
  | { ok: false; error: TraceFileError };

/**
 * Checks a whole file and returns column views over its batches (no copies, no per-event
 * objects): the header, every record's bounds, every event's kind code, enum values, optional-field
 * flags and string ids, and that seq increases and tick is a non-negative integer. The first
 * problem is reported with its byte offset.
 */
export function scanTraceFile(buf: ArrayBuffer): TraceFileScan {
  try {
    return scan(buf);
  } catch (err) {
    return { ok: false, error: { offset: 0, message: `cannot read this file (${err instanceof Error ? err.message : String(err)})` } };
  }
}

function scan(buf: ArrayBuffer): TraceFileScan {
  const fail = (offset: number, message: string): TraceFileScan => ({ ok: false, error: { offset, message } });
  const size = buf.byteLength;
  if (size === 0) return fail(0, 'empty file: a binary vizor trace starts with VZTF');
  if (size < 12 || !isTraceFile(new Uint8Array(buf, 0, 4)))
    return fail(0, size < 12 && isTraceFile(new Uint8Array(buf, 0, Math.min(4, size))) ? 'truncated in the file header' : 'not a binary vizor trace (no VZTF magic)');
  const dv = new DataView(buf);
  const format = dv.getUint16(4, true), schema = dv.getUint16(6, true);
  if (format !== TRACE_FILE_VERSION) return fail(4, `trace file format ${format}, but this vizor reads format ${TRACE_FILE_VERSION}`);
  if (schema !== SCHEMA_VERSION) return fail(6, `trace schema version ${schema}, but this vizor reads version ${SCHEMA_VERSION}`);
  const jsonBytes = dv.getUint32(8, true);
  if (12 + jsonBytes > size) return fail(12, `truncated in the JSON header (${jsonBytes} bytes announced, ${size - 12} present)`);
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder().decode(new Uint8Array(buf, 12, jsonBytes)));
  } catch (err) {
    return fail(12, `bad JSON header (${err instanceof Error ? err.message : String(err)})`);
  }
  const params = (header as Record<string, unknown> | null)?.params ?? {};
  if (typeof header !== 'object' || header === null || (header as Record<string, unknown>)[HEADER_KEY] !== schema || typeof params !== 'object' || params === null || Array.isArray(params))
    return fail(12, `bad JSON header: expected {"${HEADER_KEY}":${SCHEMA_VERSION},"params":{...}}`);
  const batches: BatchColumns[] = [];
  let events = 0;
  let lastSeq = -1;
  for (let at = align8(12 + jsonBytes); at < size; ) {
    if (at + 8 > size) return fail(at, `truncated: a record header needs 8 bytes, ${size - at} remain`);
    const bytes = dv.getUint32(at, true), count = dv.getUint32(at + 4, true);
    if (at + 8 + bytes > size) return fail(at, `truncated: record ${batches.length + 1} announces ${bytes} bytes, ${size - at - 8} remain`);
    let cols: BatchColumns;
    try {
      cols = new BatchColumns(buf, at + 8, bytes);
    } catch (err) {
      if (err instanceof BatchError) return fail(at + 8, `record ${batches.length + 1}: ${err.message}`);
      throw err;
    }
    if (cols.count !== count) return fail(at + 4, `record ${batches.length + 1} says ${count} events, its batch holds ${cols.count}`);
    const bad = checkColumns(cols, lastSeq);
    if (bad) return fail(bad.offset, `event ${events + bad.index + 1}: ${bad.message}`);
    if (cols.count > 0) lastSeq = cols.seq[cols.count - 1]!;
    batches.push(cols);
    events += cols.count;
    at += 8 + align8(bytes);
  }
  return { ok: true, header: { version: schema, params: params as TraceParams }, batches, events };
}

/** Per kind: the checks its fields need, as flat lists so the loop over millions of events stays tight. */
interface KindChecks {
  optionalBits: number;
  small: { column: number; bit: number; limit: number; name: string }[];
  wide: { column: number; bit: number; limit: number; name: string }[];
}

const limitOf = (spec: FieldSpec): number =>
  spec.type === 'enum' ? spec.values.length - 1 : spec.type === 'bool' ? 1 : spec.type === 'u16' ? 0xffff : spec.type === 'u8' ? 0xff : -1;

const CHECKS: KindChecks[] = PLANS.map((plan) => {
  const c: KindChecks = { optionalBits: 0, small: [], wide: [] };
  for (const f of plan.fields) {
    c.optionalBits |= f.presenceBit;
    const limit = f.interned ? -2 : limitOf(f.spec);
    if (limit === -1) continue; // u32/i32: every value is one
    if (f.column < SMALL_COLUMNS) c.small.push({ column: f.column, bit: f.presenceBit, limit, name: f.name });
    else c.wide.push({ column: f.column - SMALL_COLUMNS, bit: f.presenceBit, limit, name: f.name });
  }
  return c;
});

function checkColumns(cols: BatchColumns, lastSeq: number): { index: number; offset: number; message: string } | null {
  const { seq, tick, kind, flags, vm } = cols;
  const [seqAt, tickAt] = cols.columnOffsets as [number, number];
  const kindAt = cols.columnOffsets[2 + cols.wide.length + 2]!;
  const vmAt = cols.columnOffsets[2 + cols.wide.length]!;
  const flagsAt = cols.columnOffsets[2 + cols.wide.length + 3]!;
  const smallAt = 2 + cols.wide.length + 4;
  let prev = lastSeq;
  for (let i = 0; i < cols.count; i++) {
    const s = seq[i]!, t = tick[i]!, k = kind[i]!;
    if (!(s > prev) || !Number.isInteger(s)) return { index: i, offset: seqAt + 8 * i, message: `seq ${s} is not an integer greater than the previous event's seq ${prev}` };
    prev = s;
    if (!(t >= 0) || !Number.isInteger(t)) return { index: i, offset: tickAt + 8 * i, message: `tick ${t} is not a non-negative integer` };
    if (vm[i]! < -1) return { index: i, offset: vmAt + 2 * i, message: `vm ${vm[i]} is below -1` };
    const c = CHECKS[k];
    if (c === undefined) return { index: i, offset: kindAt + i, message: `unknown kind code ${k}` };
    const f = flags[i]!;
    if ((f & ~c.optionalBits) !== 0) return { index: i, offset: flagsAt + i, message: `flags ${f} mark fields that ${PLANS[k]!.kind} events do not have` };
    for (const s of c.small) {
      if (s.bit !== 0 && (f & s.bit) === 0) continue;
      const v = cols.smallCols[s.column]![i]!;
      if (v > s.limit) return { index: i, offset: cols.columnOffsets[smallAt + s.column]! + i, message: `${PLANS[k]!.kind}.${s.name}: value ${v} is out of range` };
    }
    for (const w of c.wide) {
      if (w.bit !== 0 && (f & w.bit) === 0) continue;
      const v = cols.wide[w.column]![i]!;
      const limit = w.limit === -2 ? cols.stringCount - 1 : w.limit;
      if (v > limit) return { index: i, offset: cols.columnOffsets[2 + w.column]! + 4 * i, message: `${PLANS[k]!.kind}.${w.name}: ${w.limit === -2 ? 'string id' : 'value'} ${v} is out of range` };
    }
  }
  return null;
}

/** Every event as an object (small traces, the app's event log); the first problem otherwise. */
export function decodeTraceFile(buf: ArrayBuffer): { ok: true; header: TraceHeader; events: TraceEvent[] } | { ok: false; error: TraceFileError } {
  const r = scanTraceFile(buf);
  if (!r.ok) return r;
  const events: TraceEvent[] = new Array(r.events);
  let n = 0;
  for (const cols of r.batches) for (let i = 0; i < cols.count; i++) events[n++] = cols.decode(i);
  return { ok: true, header: r.header, events };
}

// Binary trace files (.vzt): events → file → events is the identity for every kind, the sink
// streams the same bytes encodeTraceFile builds, and corrupt or truncated files are refused with
// the byte offset of the problem, never an exception.
import { describe, expect, it } from 'vitest';
import { syntheticEvents } from '../../src/trace/synthetic.ts';
import { decodeTraceFile, encodeTraceFile, isTraceFile, scanTraceFile } from '../../src/trace/file.ts';
import { createTraceSink, traceFormatFor } from '../../src/trace/sink.ts';
import { EVENT_KINDS } from '../../src/trace/schema.ts';
import { encodeNdjson } from '../../src/trace/ndjson.ts';

const events = syntheticEvents({ count: 5000, seed: 3 });
const params = { kernel: 'x.asm', vms: [{ vm: 0, weight: 256 }, { vm: 1, weight: 512 }] };
const file = encodeTraceFile(events, params, 1000);
const buf = (u: Uint8Array): ArrayBuffer => u.slice().buffer;

describe('binary trace files', () => {
  it('round-trip every kind exactly, with the header params', () => {
    expect(new Set(events.map((e) => e.kind))).toEqual(new Set(EVENT_KINDS));
    const r = decodeTraceFile(buf(file));
    if (!r.ok) throw new Error(r.error.message);
    expect(r.events).toStrictEqual(events);
    expect(r.header.params).toEqual(params);
    // The same events as NDJSON, byte for byte.
    expect(encodeNdjson(r.events, r.header.params)).toBe(encodeNdjson(events, params));
    expect(isTraceFile(file)).toBe(true);
  });

  it('the binary sink streams exactly the bytes encodeTraceFile builds', () => {
    const parts: Uint8Array[] = [];
    const sink = createTraceSink({ format: 'binary', params, write: () => {}, writeBytes: (b) => parts.push(b.slice()), batchEvents: 1000 });
    for (const ev of events) sink.listener.onEvent(ev);
    sink.close();
    const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
    let at = 0;
    for (const p of parts) { out.set(p, at); at += p.length; }
    expect(out).toEqual(file);
    expect(traceFormatFor('run.vzt')).toBe('binary');
    expect(traceFormatFor('run.ndjson')).toBe('ndjson');
  });

  it('an empty trace (header only) reads as no events', () => {
    const r = scanTraceFile(buf(encodeTraceFile([], {})));
    expect(r.ok && r.events).toBe(0);
  });
});

describe('corrupt binary trace files are refused with a byte offset', () => {
  const scan = (u: Uint8Array) => scanTraceFile(buf(u));
  const err = (u: Uint8Array) => {
    const r = scan(u);
    if (r.ok) throw new Error('expected an error');
    return r.error;
  };
  const first = (() => { const r = scan(file); if (!r.ok) throw new Error(); return r.batches[0]!; })();

  it('empty, not a trace, wrong versions', () => {
    expect(err(new Uint8Array(0))).toEqual({ offset: 0, message: expect.stringMatching(/empty file/) });
    expect(err(new TextEncoder().encode('{"vizor-trace":1,"params":{}}\n')).message).toMatch(/not a binary vizor trace/);
    const v = file.slice(); v[4] = 9;
    expect(err(v)).toEqual({ offset: 4, message: 'trace file format 9, but this vizor reads format 1' });
    const s = file.slice(); s[6] = 7;
    expect(err(s)).toEqual({ offset: 6, message: 'trace schema version 7, but this vizor reads version 1' });
    const j = file.slice(); j[13] = 0x7b; // '{{' in the JSON
    expect(err(j)).toMatchObject({ offset: 12, message: expect.stringMatching(/bad JSON header/) });
  });

  it('truncated anywhere: in the header, in a record header, in a batch', () => {
    expect(err(file.slice(0, 8)).message).toMatch(/truncated in the file header/);
    expect(err(file.slice(0, 20))).toMatchObject({ offset: 12, message: expect.stringMatching(/truncated in the JSON header/) });
    for (const cut of [first.offset - 4, first.offset + 100, file.length - 1, Math.floor(file.length / 2)]) {
      const e = err(file.slice(0, cut));
      expect(e.message, `cut at ${cut}`).toMatch(/^truncated: /);
      expect(e.offset).toBeLessThanOrEqual(cut);
      expect(e.offset % 8, 'a record starts at a multiple of 8').toBe(0);
    }
  });

  it('garbled columns: the offset points at the bad value', () => {
    const at = (column: number, index: number, size: number) => first.columnOffsets[column]! + index * size;
    const kindCol = 2 + first.wide.length + 2;
    const k = file.slice(); k[at(kindCol, 10, 1)] = 200;
    expect(err(k)).toEqual({ offset: at(kindCol, 10, 1), message: 'event 11: unknown kind code 200' });

    const q = file.slice();
    new DataView(q.buffer).setFloat64(at(0, 20, 8), 0, true); // seq goes back
    expect(err(q)).toMatchObject({ offset: at(0, 20, 8), message: expect.stringMatching(/^event 21: seq 0 is not an integer greater/) });

    const t = file.slice();
    new DataView(t.buffer).setFloat64(at(1, 5, 8), -1, true);
    expect(err(t)).toEqual({ offset: at(1, 5, 8), message: 'event 6: tick -1 is not a non-negative integer' });

    // An enum index beyond the values: the first exit's reason.
    const exitAt = events.findIndex((e) => e.kind === 'exit');
    const e = file.slice();
    const smallAt = 2 + first.wide.length + 4;
    e[at(smallAt, exitAt, 1)] = 250;
    expect(err(e)).toEqual({ offset: at(smallAt, exitAt, 1), message: `event ${exitAt + 1}: exit.reason: value 250 is out of range` });

    // A string id beyond the table: the first console event's text.
    const conAt = events.findIndex((ev) => ev.kind === 'console');
    const c = file.slice();
    const wideCol = 2 + 0; // console: device is small, text is the first wide column
    new DataView(c.buffer).setUint32(at(wideCol, conAt, 4), 99999, true);
    expect(err(c)).toEqual({ offset: at(wideCol, conAt, 4), message: `event ${conAt + 1}: console.text: string id 99999 is out of range` });
  });

  it('a record whose count disagrees with its batch', () => {
    const r = file.slice();
    const recordAt = first.offset - 8;
    new DataView(r.buffer).setUint32(recordAt + 4, 3, true);
    expect(err(r)).toEqual({ offset: recordAt + 4, message: 'record 1 says 3 events, its batch holds 1000' });
  });
});

// Round trips: events -> NDJSON -> events and events -> binary batch -> events are identical,
// for a generated stream that covers every kind, every enum value and optional fields both ways.
import { describe, expect, it } from 'vitest';
import { EVENT_KINDS, FIELD_SPECS, type FieldSpec, type TraceEvent } from '../../src/trace/schema.ts';
import { encodeNdjson, eventLine } from '../../src/trace/ndjson.ts';
import { parseTrace } from '../../src/trace/reader.ts';
import { BatchError, createBatcher, decodeBatch, encodeBatch } from '../../src/trace/binary.ts';
import { syntheticEvents } from '../../src/trace/synthetic.ts';
import { validateEvent } from '../../src/trace/validate.ts';
import { checkRoundTrips } from '../../src/trace/capture.ts';

const events = syntheticEvents({ count: 20_000, seed: 7, vms: 3, vcpus: 2 });

describe('the synthetic stream', () => {
  it('covers every kind and every enum value, optional fields present and absent', () => {
    for (const kind of EVENT_KINDS) {
      const ofKind = events.filter((e) => e.kind === kind) as unknown as Record<string, unknown>[];
      expect(ofKind.length, kind).toBeGreaterThan(0);
      for (const [name, spec] of Object.entries(FIELD_SPECS[kind] as Record<string, FieldSpec>)) {
        if (spec.type === 'enum') {
          const seen = new Set(ofKind.map((e) => e[name]));
          for (const value of spec.values) expect(seen.has(value), `${kind}.${name}=${value}`).toBe(true);
        }
        if (spec.optional) {
          expect(
            ofKind.some((e) => e[name] === undefined),
            `${kind}.${name} absent`,
          ).toBe(true);
          expect(
            ofKind.some((e) => e[name] !== undefined),
            `${kind}.${name} present`,
          ).toBe(true);
        }
      }
    }
  });

  it('is valid against the schema', () => {
    for (const ev of events) expect(validateEvent(JSON.parse(JSON.stringify(ev))).ok).toBe(true);
  });
});

describe('NDJSON', () => {
  it('round-trips events exactly, header params included', () => {
    const params = { kernel: 'fixtures/kernels/hello.asm', vms: 3, paging: 'shadow' };
    const text = encodeNdjson(events, params);
    const parsed = parseTrace(text);
    if (!parsed.ok) throw new Error(`line ${parsed.error.line}: ${parsed.error.message}`);
    expect(parsed.header.params).toEqual(params);
    expect(parsed.events).toStrictEqual(events);
  });

  it('writes fields in canonical order whatever order the producer used', () => {
    const a = {
      seq: 1,
      tick: 2,
      vm: 0,
      vcpu: 0,
      kind: 'io',
      port: 0x3f8,
      size: 1,
      value: 65,
      dir: 'out',
    } as TraceEvent;
    const b = {
      dir: 'out',
      value: 65,
      size: 1,
      port: 0x3f8,
      kind: 'io',
      vcpu: 0,
      vm: 0,
      tick: 2,
      seq: 1,
    } as TraceEvent;
    expect(eventLine(b)).toBe(eventLine(a));
    expect(eventLine(a)).toBe(
      '{"seq":1,"tick":2,"vm":0,"vcpu":0,"kind":"io","port":1016,"size":1,"value":65,"dir":"out"}',
    );
  });
});

describe('binary batches', () => {
  it('round-trip events exactly', () => {
    expect(decodeBatch(encodeBatch(events))).toStrictEqual(events);
  });

  it('round-trip an empty batch and a one-event batch', () => {
    expect(decodeBatch(encodeBatch([]))).toStrictEqual([]);
    expect(decodeBatch(encodeBatch(events.slice(5, 6)))).toStrictEqual(events.slice(5, 6));
  });

  it('reject foreign, truncated and other-version buffers with a BatchError', () => {
    const buf = encodeBatch(events.slice(0, 100));
    expect(() => decodeBatch(new ArrayBuffer(8))).toThrow(BatchError);
    expect(() => decodeBatch(buf.slice(0, buf.byteLength - 1))).toThrow(/wrong length/);
    const other = buf.slice(0);
    new DataView(other).setUint16(6, 99, true);
    expect(() => decodeBatch(other)).toThrow(/schema 99/);
    const garbage = buf.slice(0);
    new Uint8Array(garbage)[0] = 0;
    expect(() => decodeBatch(garbage)).toThrow(/magic/);
  });

  it('is compact: under 48 bytes per event, under half of NDJSON for this stream', () => {
    const binary = encodeBatch(events).byteLength;
    expect(binary / events.length).toBeLessThan(48);
    expect(binary * 2).toBeLessThan(encodeNdjson(events).length);
  });
});

describe('createBatcher (worker side)', () => {
  it('cuts the stream into transferable batches that decode to the same events', () => {
    const buffers: ArrayBuffer[] = [];
    const batcher = createBatcher({
      maxEvents: 1000,
      onBatch: (buf, count) => {
        buffers.push(buf);
        expect(count).toBeLessThanOrEqual(1000);
      },
    });
    const sent = events.slice(0, 2500);
    for (const ev of sent) batcher.listener.onEvent(ev);
    batcher.flush();
    batcher.flush();
    expect(buffers.length).toBe(3);
    expect(buffers.flatMap((b) => decodeBatch(b))).toStrictEqual(sent);
  });
});

describe('checkRoundTrips (the golden-trace helper)', () => {
  it('accepts the stream and pinpoints a lossy event', () => {
    expect(checkRoundTrips(events)).toBeNull();
    const lossy = [{ seq: 1, tick: 0, vm: 0, vcpu: 0, kind: 'halt', eip: 2 ** 32 } as TraceEvent];
    expect(checkRoundTrips(lossy)).toMatch(/event 0/);
  });
});

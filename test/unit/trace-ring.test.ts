// The ring buffer: exact events back, wraparound with drop counts, budget -> capacity, queries,
// rewinding for reverse stepping, string-table compaction, and the emitter feeding it.
import { describe, expect, it } from 'vitest';
import { RingBuffer } from '../../src/trace/ring.ts';
import { BYTES_PER_EVENT } from '../../src/trace/layout.ts';
import { Emitter } from '../../src/trace/emitter.ts';
import { KIND_BIT, KIND_CODE, maskOf, type TraceEvent } from '../../src/trace/schema.ts';
import { syntheticEvents } from '../../src/trace/synthetic.ts';

const events = syntheticEvents({ count: 5000, seed: 3 });

function filled(ring: RingBuffer, evs: readonly TraceEvent[]): RingBuffer {
  for (const ev of evs) ring.push(ev);
  return ring;
}

describe('RingBuffer', () => {
  it('gives back exactly what was pushed when it fits', () => {
    const ring = filled(new RingBuffer({ capacity: 8192 }), events);
    expect(ring.size).toBe(events.length);
    expect(ring.dropped).toBe(0);
    expect(ring.toArray()).toStrictEqual(events);
  });

  it('wraps around: keeps the newest events, counts every dropped one', () => {
    const ring = filled(new RingBuffer({ capacity: 1000, blockSize: 64 }), events);
    expect(ring.capacity).toBe(1024);
    expect(ring.size + ring.dropped).toBe(events.length);
    expect(ring.size).toBeGreaterThan(1024 - 64);
    expect(ring.size).toBeLessThanOrEqual(1024);
    expect(ring.toArray()).toStrictEqual(events.slice(events.length - ring.size));
    expect(ring.last(10)).toStrictEqual(events.slice(-10));
  });

  it('works with one-slot blocks and a tiny capacity', () => {
    const ring = filled(new RingBuffer({ capacity: 3, blockSize: 1 }), events.slice(0, 10));
    expect(ring.toArray()).toStrictEqual(events.slice(7, 10));
    expect(ring.dropped).toBe(7);
  });

  it('derives its capacity from a memory budget and stays within it', () => {
    const budget = 4 * 1024 * 1024;
    const ring = new RingBuffer({ budgetBytes: budget });
    expect(ring.capacity).toBeGreaterThan((budget * 0.9) / BYTES_PER_EVENT);
    for (let round = 0; round < 40; round++)
      filled(
        ring,
        events.map((e) => ({ ...e, seq: e.seq + round * 1e6 })),
      );
    expect(ring.byteLength).toBeLessThanOrEqual(budget);
    expect(ring.size + ring.dropped).toBe(40 * events.length);
  });

  it('answers seq and tick range queries', () => {
    const ring = filled(new RingBuffer({ capacity: 8192 }), events);
    const lo = events[1000]!.seq;
    const hi = events[1100]!.seq;
    expect(ring.querySeq(lo, hi)).toStrictEqual(events.filter((e) => e.seq >= lo && e.seq < hi));
    const t0 = events[2000]!.tick;
    const t1 = events[2500]!.tick;
    expect(ring.queryTicks(t0, t1)).toStrictEqual(events.filter((e) => e.tick >= t0 && e.tick < t1));
    expect(ring.querySeq(1e12, 2e12)).toStrictEqual([]);
    const scanned: [number, number, number, number, number][] = [];
    ring.scanTicks(t0, t1, (code, tick, vm, vcpu, seq) => scanned.push([code, tick, vm, vcpu, seq]));
    expect(scanned).toEqual(
      events
        .filter((e) => e.tick >= t0 && e.tick < t1)
        .map((e) => [KIND_CODE[e.kind], e.tick, e.vm, e.vcpu, e.seq]),
    );
  });

  it('keeps full seq and tick range: huge values and jumps beyond 32 bits', () => {
    const base = { vm: 0, vcpu: 0, kind: 'halt', eip: 1 } as const;
    const evs: TraceEvent[] = [
      { ...base, seq: 2 ** 40, tick: 5 },
      { ...base, seq: 2 ** 40 + 1, tick: 2 ** 33 },
      { ...base, seq: 2 ** 52, tick: 2 ** 52 + 1 },
      { ...base, seq: 2 ** 52 + 1, tick: 2 ** 52 + 2 },
    ];
    const ring = filled(new RingBuffer({ capacity: 64, blockSize: 16 }), evs);
    expect(ring.toArray()).toStrictEqual(evs);
    expect(ring.queryTicks(2 ** 33, 2 ** 52 + 2)).toStrictEqual(evs.slice(1, 3));
  });

  it('rewinds when seq goes back (a replay after stepping back overwrites the future)', () => {
    const ring = filled(new RingBuffer({ capacity: 8192 }), events.slice(0, 100));
    const replayed = { ...events[50]!, tick: 12345678 } as TraceEvent;
    ring.push(replayed);
    expect(ring.toArray()).toStrictEqual([...events.slice(0, 50), replayed]);
    ring.rewindTo(0);
    expect(ring.size).toBe(0);
    filled(ring, events.slice(0, 10));
    expect(ring.toArray()).toStrictEqual(events.slice(0, 10));
  });

  it('compacts its string table to the strings live events still use', () => {
    const ring = new RingBuffer({ budgetBytes: 2 * 1024 * 1024 });
    for (let i = 0; i < 200_000; i++) {
      ring.push({ seq: i, tick: i, vm: 0, vcpu: 0, kind: 'console', device: 'serial', text: `line ${i}\n` });
    }
    expect(ring.byteLength).toBeLessThanOrEqual(2 * 1024 * 1024);
    const live = ring.toArray();
    expect(live.length).toBe(ring.size);
    const first = live[0]!;
    expect(first.kind === 'console' && first.text).toBe(`line ${first.seq}\n`);
    expect(live[live.length - 1]).toStrictEqual({
      seq: 199_999,
      tick: 199_999,
      vm: 0,
      vcpu: 0,
      kind: 'console',
      device: 'serial',
      text: 'line 199999\n',
    });
  });

  it('is fed by an emitter listener, filtered by kind and VM', () => {
    const emitter = new Emitter();
    const all = new RingBuffer({ capacity: 1024 });
    const vm1Exits = new RingBuffer({ capacity: 1024 });
    emitter.listen(all.listener());
    emitter.listen(vm1Exits.listener(maskOf(['exit']), 1));
    for (const vm of [0, 1, 2]) {
      emitter.vm = vm;
      emitter.emit('exit', {
        reason: 'HLT',
        qualification: 0,
        instructionLength: 1,
        eip: 0x1000 + vm,
        cycles: 100,
      });
      emitter.emit('halt', { eip: 0x1000 + vm });
    }
    expect(all.size).toBe(6);
    expect(vm1Exits.toArray()).toStrictEqual([
      {
        seq: 2,
        tick: 0,
        vm: 1,
        vcpu: 0,
        kind: 'exit',
        reason: 'HLT',
        qualification: 0,
        instructionLength: 1,
        eip: 0x1001,
        cycles: 100,
      },
    ]);
    expect(emitter.mask).toBe(all.listener().mask | KIND_BIT.exit);
  });
});

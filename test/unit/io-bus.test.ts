import { describe, expect, it } from 'vitest';
import { PortBus, byteDevice } from '../../src/machine/io.ts';
import { Emitter } from '../../src/trace/emitter.ts';
import { KIND_BIT, type TraceEvent } from '../../src/trace/schema.ts';

describe('port I/O bus', () => {
  it('unclaimed ports read all ones and are counted', () => {
    const io = new PortBus();
    expect(io.read(0x1234, 1)).toBe(0xff);
    expect(io.read(0x1234, 2)).toBe(0xffff);
    expect(io.read(0x1234, 4)).toBe(0xffffffff);
    io.write(0x1234, 1, 0);
    expect(io.unclaimedAccesses).toBe(4);
  });

  it('dispatches to the registered device with the access size and masks values', () => {
    const io = new PortBus();
    const seen: [number, number, number][] = [];
    io.register(0x300, 4, { read: (p, s) => p + s, write: (p, s, v) => seen.push([p, s, v]) }, 'test');
    expect(io.read(0x302, 2)).toBe(0x304);
    io.write(0x301, 1, 0x1ff);
    io.write(0x300, 4, -1);
    expect(seen).toEqual([[0x301, 1, 0xff], [0x300, 4, 0xffffffff]]);
    expect(io.ownerOf(0x303)).toBe('test');
  });

  it('refuses two devices on one port', () => {
    const io = new PortBus();
    io.register(0x60, 1, byteDevice(() => 0, () => {}), 'a');
    expect(() => io.register(0x60, 1, byteDevice(() => 0, () => {}), 'b')).toThrow(/claimed by both/);
  });

  it('byte devices split wider accesses into consecutive bytes', () => {
    const io = new PortBus();
    const regs = [0x11, 0x22, 0x33, 0x44];
    io.register(0x10, 4, byteDevice((p) => regs[p - 0x10]!, (p, v) => { regs[p - 0x10] = v; }), 'regs');
    expect(io.read(0x10, 4)).toBe(0x44332211);
    io.write(0x12, 2, 0xbbaa);
    expect(regs).toEqual([0x11, 0x22, 0xaa, 0xbb]);
  });

  it('emits io events only when someone listens', () => {
    const em = new Emitter();
    const io = new PortBus(em);
    const got: TraceEvent[] = [];
    io.read(0x80, 1);
    const stop = em.listen({ mask: KIND_BIT.io, onEvent: (e) => got.push(e) });
    io.write(0x80, 1, 0x42);
    stop();
    io.write(0x80, 1, 0x43);
    expect(got).toHaveLength(1);
    expect(got[0]).toMatchObject({ kind: 'io', port: 0x80, size: 1, value: 0x42, dir: 'out' });
  });
});

import { describe, expect, it } from 'vitest';
import { Pit, PIT_HZ } from '../../src/machine/devices/pit.ts';
import { PortBus } from '../../src/machine/io.ts';
import { mulDiv } from '../../src/machine/devices/clock.ts';

function setup() {
  let now = 0;
  const pit = new Pit({ nowNs: () => now });
  const io = new PortBus();
  pit.register(io);
  const edges: number[] = [];
  let level = false;
  pit.setIrq0 = (h) => { if (h && !level) edges.push(now); level = h; };
  pit.reset();
  // Step through every device deadline up to `ns`, as the machine does.
  const at = (ns: number) => {
    for (let d = pit.nextDeadlineNs(); d <= ns; d = pit.nextDeadlineNs()) { now = d; pit.advanceTo(d); }
    now = ns;
    pit.advanceTo(ns);
  };
  return { pit, io, edges, at, set: (ns: number) => { now = ns; } };
}
const tickNs = (ticks: number) => mulDiv(ticks, 1e9, PIT_HZ);

describe('8254 PIT', () => {
  it('mode 2 on channel 0 raises IRQ 0 once per count', () => {
    const t = setup();
    t.io.write(0x43, 1, 0x34);
    t.io.write(0x40, 1, 1193 & 0xff);
    t.io.write(0x40, 1, 1193 >> 8);
    t.edges.length = 0;
    for (let ms = 1; ms <= 10; ms++) t.at(ms * 1_000_000 + 10_000);
    expect(t.edges.length).toBe(10);
    // Each edge one PIT tick after load + k * 1193 ticks (QEMU's i8254 timing).
    t.edges.forEach((e, k) => expect(Math.abs(e - tickNs(1193 * (k + 1) + 1))).toBeLessThanOrEqual(1));
  });

  it('a count of 0 means 65536 (18.2 Hz) and the deadline says when the next edge is', () => {
    const t = setup();
    t.pit.biosInit();
    t.edges.length = 0;
    const first = t.pit.nextDeadlineNs();
    expect(first).toBe(tickNs(65537));
    t.at(first);
    expect(t.edges).toEqual([first]);
  });

  it('counts down and latches: lo/hi byte reads of a latched value', () => {
    const t = setup();
    t.io.write(0x43, 1, 0x30); // channel 0, lo/hi, mode 0
    t.io.write(0x40, 1, 0x00);
    t.io.write(0x40, 1, 0x10); // 4096
    t.set(tickNs(100) + 1);
    t.io.write(0x43, 1, 0x00); // latch channel 0
    t.set(tickNs(500) + 1); // the latched value does not move
    const lo = t.io.read(0x40, 1), hi = t.io.read(0x40, 1);
    expect(lo | (hi << 8)).toBe(4096 - 100);
    const lo2 = t.io.read(0x40, 1), hi2 = t.io.read(0x40, 1);
    expect(lo2 | (hi2 << 8)).toBe(4096 - 500);
  });

  it('mode 0 raises its output once at terminal count', () => {
    const t = setup();
    t.io.write(0x43, 1, 0x30);
    t.io.write(0x40, 1, 100);
    t.io.write(0x40, 1, 0);
    t.edges.length = 0;
    t.at(tickNs(99));
    expect(t.edges.length).toBe(0);
    t.at(tickNs(101));
    t.at(tickNs(10_000));
    expect(t.edges.length).toBe(1);
    expect(t.pit.nextDeadlineNs()).toBe(Infinity);
  });

  it('read-back command returns status: output, access mode, mode, BCD', () => {
    const t = setup();
    t.io.write(0x43, 1, 0x34);
    t.io.write(0x40, 1, 0);
    t.io.write(0x40, 1, 0);
    t.io.write(0x43, 1, 0xe2); // read-back status of channel 0
    expect(t.io.read(0x40, 1)).toBe(0x34);
  });

  it('channel 2 is gated by port 0x61 and its output shows in bit 5', () => {
    const t = setup();
    t.io.write(0x61, 1, 0x01); // gate on
    t.io.write(0x43, 1, 0xb0); // channel 2, lo/hi, mode 0
    t.io.write(0x42, 1, 10);
    t.io.write(0x42, 1, 0);
    expect(t.io.read(0x61, 1) & 0x20).toBe(0);
    t.set(tickNs(11));
    expect(t.io.read(0x61, 1) & 0x21).toBe(0x21);
  });

  it('port 0x61 bit 4 toggles on every read (refresh)', () => {
    const t = setup();
    const a = t.io.read(0x61, 1) & 0x10, b = t.io.read(0x61, 1) & 0x10;
    expect(a).not.toBe(b);
  });

  it('mode 3 square wave: output high for the first half of each period', () => {
    const t = setup();
    t.io.write(0x43, 1, 0x16); // channel 0, LSB only, mode 3
    t.io.write(0x40, 1, 100);
    const c = t.pit.ch[0];
    expect(t.pit.outAt(c, tickNs(10))).toBe(1);
    expect(t.pit.outAt(c, tickNs(60))).toBe(0);
    expect(t.pit.outAt(c, tickNs(110))).toBe(1);
  });
});

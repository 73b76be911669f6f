import { describe, expect, it } from 'vitest';
import { Cmos, civilFromDays, daysFromCivil, RTC_EPOCH_UNIX } from '../../src/machine/devices/cmos.ts';
import { PortBus } from '../../src/machine/io.ts';

function setup(memoryBytes = 64 << 20) {
  let now = 0;
  const cmos = new Cmos({ nowNs: () => now }, memoryBytes);
  const io = new PortBus();
  cmos.register(io);
  const reg = (i: number) => { io.write(0x70, 1, i); return io.read(0x71, 1); };
  const set = (i: number, v: number) => { io.write(0x70, 1, i); io.write(0x71, 1, v); };
  return { cmos, io, reg, set, advance: (s: number) => { now += s * 1e9; } };
}

describe('CMOS / RTC', () => {
  it('the epoch is 2026-01-01 00:00:00, a Thursday, in BCD', () => {
    expect(RTC_EPOCH_UNIX).toBe(daysFromCivil(2026, 1, 1) * 86400);
    const { reg } = setup();
    expect([reg(0), reg(2), reg(4), reg(7), reg(8), reg(9), reg(0x32)]).toEqual([0, 0, 0, 0x01, 0x01, 0x26, 0x20]);
    expect(reg(6)).toBe(5); // Sunday = 1
    expect(reg(0x0a)).toBe(0x26);
    expect(reg(0x0b)).toBe(0x02);
    expect(reg(0x0d)).toBe(0x80);
  });

  it('advances with virtual time and rolls over days', () => {
    const { reg, advance } = setup();
    advance(86400 + 3600 * 13 + 60 * 59 + 58);
    expect([reg(4), reg(2), reg(0), reg(7), reg(6)]).toEqual([0x13, 0x59, 0x58, 0x02, 6]);
  });

  it('binary mode and 12-hour mode (register B)', () => {
    const { reg, set, advance } = setup();
    advance(3600 * 15 + 45);
    set(0x0b, 0x04); // binary, 12 h
    expect(reg(0)).toBe(45);
    expect(reg(4)).toBe(0x80 | 3);
  });

  it('a guest can set the clock', () => {
    const { reg, set, advance } = setup();
    set(0x09, 0x30); // year 2030
    set(0x04, 0x08); // 08 h
    expect(reg(9)).toBe(0x30);
    advance(10);
    expect(reg(4)).toBe(0x08);
    expect(reg(0)).toBe(0x10);
  });

  it('reports memory sizes in the standard bytes', () => {
    const { reg } = setup(64 << 20);
    expect(reg(0x15) | (reg(0x16) << 8)).toBe(640);
    expect(reg(0x17) | (reg(0x18) << 8)).toBe(63 * 1024);
    expect(reg(0x34) | (reg(0x35) << 8)).toBe((48 << 20) >> 16);
  });

  it('civil date conversions are inverse', () => {
    for (const d of [0, 59, 60, 365, 10957, 20454, 20819, 50000]) {
      const { y, m, d: dd } = civilFromDays(d);
      expect(daysFromCivil(y, m, dd)).toBe(d);
    }
    expect(civilFromDays(20454)).toEqual({ y: 2026, m: 1, d: 1 });
  });
});

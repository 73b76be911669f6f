// CMOS RAM and the MC146818 real-time clock (ports 0x70 index / 0x71 data). The clock runs on
// virtual time from a fixed epoch (2026-01-01 00:00:00, a Thursday), so runs are reproducible.
// Not modelled: the periodic, alarm and update-ended interrupts (IRQ 8).
import type { IoBus } from '../bus.ts';
import { byteDevice } from '../io.ts';
import type { VirtualClock } from './clock.ts';

/** Seconds from 1970-01-01 to 2026-01-01 00:00:00 UTC. */
export const RTC_EPOCH_UNIX = 1_767_225_600;
const REG_A = 0x0a, REG_B = 0x0b, REG_C = 0x0c, REG_D = 0x0d;
const B_SET = 0x80, B_24H = 0x02, B_BINARY = 0x04;

export interface CmosState { index: number; nmiDisabled: boolean; ram: number[]; offsetSeconds: number }

/** Civil date from days since 1970-01-01 (Howard Hinnant's algorithm). */
export function civilFromDays(z: number): { y: number; m: number; d: number } {
  z += 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const d = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const m = mp < 10 ? mp + 3 : mp - 9;
  return { y: yoe + era * 400 + (m <= 2 ? 1 : 0), m, d };
}

export function daysFromCivil(y: number, m: number, d: number): number {
  y -= m <= 2 ? 1 : 0;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (m > 2 ? m - 3 : m + 9) + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

const toBcd = (v: number) => ((Math.floor(v / 10) % 10) << 4) | (v % 10);
const fromBcd = (v: number) => (v >> 4) * 10 + (v & 15);

export class Cmos {
  private s: CmosState = { index: 0, nmiDisabled: false, ram: new Array(128).fill(0), offsetSeconds: 0 };

  constructor(private readonly clock: VirtualClock, memoryBytes: number) {
    this.reset(memoryBytes);
  }

  register(io: IoBus): void {
    io.register(0x70, 2, byteDevice((p) => (p === 0x70 ? 0xff : this.readData()), (p, v) => (p === 0x70 ? this.writeIndex(v) : this.writeData(v))), 'cmos');
  }

  /** Register contents a BIOS would have set up, including the memory-size bytes. */
  reset(memoryBytes: number): void {
    const r = new Array(128).fill(0);
    r[REG_A] = 0x26; // 32.768 kHz time base, 1024 Hz periodic rate
    r[REG_B] = B_24H; // BCD, 24-hour, no interrupts
    r[REG_D] = 0x80; // battery good
    r[0x10] = 0x40; // floppy A: 1.44 MB
    r[0x14] = 0x06; // equipment: colour 80x25, coprocessor bit as QEMU reports
    r[0x15] = 640 & 0xff; r[0x16] = 640 >> 8; // base memory KiB
    const extKb = Math.min(0xffff, Math.max(0, Math.floor(memoryBytes / 1024) - 1024));
    r[0x17] = r[0x30] = extKb & 0xff;
    r[0x18] = r[0x31] = extKb >> 8;
    const above16 = Math.min(0xffff, Math.max(0, Math.floor((memoryBytes - 16 * 1024 * 1024) / 65536)));
    r[0x34] = above16 & 0xff; r[0x35] = above16 >> 8;
    r[0x32] = 0x20; // century (BCD)
    this.s = { index: 0, nmiDisabled: false, ram: r, offsetSeconds: 0 };
  }

  /** Seconds since 1970 on the guest's clock. */
  unixSeconds(): number {
    return RTC_EPOCH_UNIX + this.s.offsetSeconds + Math.floor(this.clock.nowNs() / 1e9);
  }

  private writeIndex(v: number): void {
    this.s.index = v & 0x7f;
    this.s.nmiDisabled = (v & 0x80) !== 0;
  }

  private enc(v: number): number {
    return this.s.ram[REG_B] & B_BINARY ? v : toBcd(v);
  }

  private dec(v: number): number {
    return this.s.ram[REG_B] & B_BINARY ? v : fromBcd(v);
  }

  private readData(): number {
    const i = this.s.index;
    const t = this.unixSeconds();
    const days = Math.floor(t / 86400);
    const sec = t - days * 86400;
    const { y, m, d } = civilFromDays(days);
    switch (i) {
      case 0x00: return this.enc(sec % 60);
      case 0x02: return this.enc(Math.floor(sec / 60) % 60);
      case 0x04: {
        const h = Math.floor(sec / 3600);
        if (this.s.ram[REG_B] & B_24H) return this.enc(h);
        const h12 = h % 12 === 0 ? 12 : h % 12;
        return this.enc(h12) | (h >= 12 ? 0x80 : 0);
      }
      case 0x06: return this.enc(((days + 4) % 7) + 1); // 1970-01-01 was a Thursday; Sunday = 1
      case 0x07: return this.enc(d);
      case 0x08: return this.enc(m);
      case 0x09: return this.enc(y % 100);
      case 0x32: return this.enc(Math.floor(y / 100));
      case REG_A: {
        // Update-in-progress for the last 244 µs of each second.
        const frac = this.clock.nowNs() % 1e9;
        return (this.s.ram[REG_A] & 0x7f) | (frac >= 1e9 - 244_000 ? 0x80 : 0);
      }
      case REG_C: {
        const v = this.s.ram[REG_C];
        this.s.ram[REG_C] = 0; // reading C acknowledges
        return v;
      }
      default: return this.s.ram[i];
    }
  }

  private writeData(v: number): void {
    const i = this.s.index;
    if (i === REG_C || i === REG_D) return; // read-only
    if (i <= 0x09 && i !== 0x01 && i !== 0x03 && i !== 0x05 || i === 0x32) {
      this.setTimeField(i, v);
      return;
    }
    if (i === REG_A) { this.s.ram[i] = v & 0x7f; return; }
    this.s.ram[i] = v;
  }

  /** A guest setting the clock moves the offset so the new field reads back. */
  private setTimeField(i: number, raw: number): void {
    const t = this.unixSeconds();
    const days = Math.floor(t / 86400);
    let sec = t - days * 86400;
    let { y, m, d } = civilFromDays(days);
    let h = Math.floor(sec / 3600), mi = Math.floor(sec / 60) % 60, s = sec % 60;
    const v = this.dec(i === 0x04 ? raw & 0x7f : raw);
    switch (i) {
      case 0x00: s = v; break;
      case 0x02: mi = v; break;
      case 0x04: h = this.s.ram[REG_B] & B_24H ? v : (v % 12) + (raw & 0x80 ? 12 : 0); break;
      case 0x07: d = v; break;
      case 0x08: m = v; break;
      case 0x09: y = Math.floor(y / 100) * 100 + v; break;
      case 0x32: y = v * 100 + (y % 100); break;
      default: return; // weekday: derived
    }
    sec = h * 3600 + mi * 60 + s;
    const target = daysFromCivil(y, m, d) * 86400 + sec;
    this.s.offsetSeconds += target - t;
  }

  /** Sets the clock as a BIOS would at boot; unused by default (the epoch is the boot time). */
  get registerB(): number {
    return this.s.ram[REG_B] & (B_SET | 0x7f);
  }

  saveState(): CmosState {
    return { ...this.s, ram: [...this.s.ram] };
  }

  loadState(s: CmosState): void {
    this.s = { ...s, ram: [...s.ram] };
  }
}

// The 8254 programmable interval timer: channels 0 (IRQ0), 1 (refresh, unused) and 2 (speaker,
// gated through port 0x61). Counting follows QEMU's i8254 model on virtual time so that timer
// interrupts fall at the same instruction counts as `qemu -icount shift=5,sleep=off`.
import type { IoBus } from '../bus.ts';
import { byteDevice } from '../io.ts';
import { mulDiv, type VirtualClock } from './clock.ts';

export const PIT_HZ = 1_193_182;
const NS = 1_000_000_000;
const MSB = 2, WORD0 = 3, WORD1 = 4;

export interface PitChannelState {
  count: number; loadNs: number; mode: number; bcd: number; gate: number; rwMode: number;
  readState: number; writeState: number; writeLatch: number; latchedCount: number; countLatched: number;
  status: number; statusLatched: boolean; nextTransitionNs: number; out: number;
}

function freshChannel(i: number): PitChannelState {
  return {
    count: 0x10000, loadNs: 0, mode: 3, bcd: 0, gate: i === 2 ? 0 : 1, rwMode: 0, readState: 0, writeState: 0,
    writeLatch: 0, latchedCount: 0, countLatched: 0, status: 0, statusLatched: false, nextTransitionNs: -1, out: 0,
  };
}

export interface PitState { ch: PitChannelState[]; speakerData: number; refresh: number }

export class Pit {
  ch: PitChannelState[] = [0, 1, 2].map(freshChannel);
  private speakerData = 0;
  private refresh = 0;
  /** Drives IRQ0 (the machine connects it to the PIC). */
  setIrq0: (high: boolean) => void = () => {};
  /** Called when the guest reprograms channel 0, so the machine can end its current time slice. */
  onReprogram: () => void = () => {};

  constructor(private readonly clock: VirtualClock) {}

  register(io: IoBus): void {
    io.register(0x40, 4, byteDevice((p) => this.read(p & 3), (p, v) => this.write(p & 3, v)), 'pit');
    io.register(0x61, 1, byteDevice(() => this.readPort61(), (_p, v) => this.writePort61(v)), 'port61');
  }

  /** Power-on state, and channel 0's interrupt schedule started. */
  reset(): void {
    this.ch = [0, 1, 2].map(freshChannel);
    this.speakerData = 0;
    this.refresh = 0;
    const now = this.clock.nowNs();
    for (const c of this.ch) c.loadNs = now;
    this.updateIrq(now);
  }

  /** Channel 0 programmed as every PC BIOS leaves it: mode 2, count 65536 (18.2 Hz), binary. */
  biosInit(programmedNsAgo = 0): void {
    this.write(3, 0x34);
    this.write(0, 0);
    this.write(0, 0);
    if (programmedNsAgo !== 0) {
      // The BIOS programmed the timer a while before the kernel started: shift the phase to match.
      const c = this.ch[0];
      c.loadNs = this.clock.nowNs() - programmedNsAgo;
      this.updateIrq(this.clock.nowNs());
    }
  }

  /** When channel 0's output next changes (virtual ns), or Infinity. */
  nextDeadlineNs(): number {
    const t = this.ch[0].nextTransitionNs;
    return t < 0 ? Infinity : t;
  }

  /**
   * When channel 0's output next rises, the edge that raises IRQ 0 (virtual ns), or Infinity. Not
   * every transition is one: in mode 2 a rounding step where the line stays low comes one PIT
   * clock before each rise, and a halted vCPU woken there would find nothing to do.
   */
  nextRiseNs(): number {
    const c = this.ch[0];
    let out = c.out, t = c.nextTransitionNs;
    for (let step = 0; step < 4 && t >= 0; step++) {
      const level = this.outAt(c, t);
      if (level === 1 && out === 0) return t;
      out = level;
      t = this.nextTransition(c, t);
    }
    return t < 0 ? Infinity : t; // no rise within a few steps (a one-shot that has fired): the next change
  }

  /** Advance channel 0's IRQ line through every transition up to `nowNs`. */
  advanceTo(nowNs: number): void {
    const c = this.ch[0];
    while (c.nextTransitionNs >= 0 && c.nextTransitionNs <= nowNs) this.updateIrq(c.nextTransitionNs);
  }

  private ticks(c: PitChannelState, t: number): number {
    return mulDiv(Math.max(0, t - c.loadNs), PIT_HZ, NS);
  }

  private countNow(c: PitChannelState): number {
    const d = this.ticks(c, this.clock.nowNs());
    switch (c.mode) {
      case 0: case 1: case 4: case 5: return (c.count - d) & 0xffff;
      case 3: return c.count - ((2 * d) % c.count);
      default: return c.count - (d % c.count);
    }
  }

  outAt(c: PitChannelState, t: number): number {
    const d = this.ticks(c, t);
    switch (c.mode) {
      case 1: return d < c.count ? 1 : 0;
      case 2: case 6: return d % c.count === 0 && d !== 0 ? 1 : 0;
      case 3: case 7: return d % c.count < ((c.count + 1) >> 1) ? 1 : 0;
      case 4: case 5: return d === c.count ? 1 : 0;
      default: return d >= c.count ? 1 : 0;
    }
  }

  private nextTransition(c: PitChannelState, t: number): number {
    const d = this.ticks(c, t);
    let next: number;
    switch (c.mode) {
      case 2: case 6: {
        const base = Math.floor(d / c.count) * c.count;
        // QEMU's i8254 arithmetic, kept exactly: with its floor rounding the output rises one PIT tick
        // after each multiple of the count, which is where QEMU delivers IRQ 0 (checked against it).
        next = d - base === 0 && d !== 0 ? base + c.count : base + c.count + 1;
        break;
      }
      case 3: case 7: {
        const base = Math.floor(d / c.count) * c.count;
        const half = (c.count + 1) >> 1;
        next = d - base < half ? base + half : base + c.count;
        break;
      }
      case 4: case 5:
        if (d < c.count) next = c.count;
        else if (d === c.count) next = c.count + 1;
        else return -1;
        break;
      default:
        if (d < c.count) next = c.count;
        else return -1;
    }
    let ns = c.loadNs + mulDiv(next, NS, PIT_HZ);
    if (ns <= t) ns = t + 1; // rounding: always move forward
    return ns;
  }

  private updateIrq(t: number): void {
    const c = this.ch[0];
    c.out = this.outAt(c, t);
    c.nextTransitionNs = this.nextTransition(c, t);
    this.setIrq0(c.out === 1);
  }

  private loadCount(i: number, v: number): void {
    const c = this.ch[i];
    c.count = v === 0 ? 0x10000 : v;
    c.loadNs = this.clock.nowNs();
    if (i === 0) {
      this.updateIrq(c.loadNs);
      this.onReprogram();
    }
  }

  private latchCount(c: PitChannelState): void {
    if (c.countLatched === 0) {
      c.latchedCount = this.countNow(c);
      c.countLatched = c.rwMode;
    }
  }

  write(reg: number, v: number): void {
    if (reg === 3) {
      const sel = v >> 6;
      if (sel === 3) {
        // Read-back: bit 5 clear = latch counts, bit 4 clear = latch status, bits 1-3 pick channels.
        for (let i = 0; i < 3; i++) {
          if ((v & (2 << i)) === 0) continue;
          const c = this.ch[i];
          if ((v & 0x20) === 0) this.latchCount(c);
          if ((v & 0x10) === 0 && !c.statusLatched) {
            c.status = (this.outAt(c, this.clock.nowNs()) << 7) | (c.rwMode << 4) | (c.mode << 1) | c.bcd;
            c.statusLatched = true;
          }
        }
        return;
      }
      const c = this.ch[sel];
      const access = (v >> 4) & 3;
      if (access === 0) {
        this.latchCount(c);
      } else {
        c.rwMode = access;
        c.readState = access;
        c.writeState = access;
        c.mode = (v >> 1) & 7;
        c.bcd = v & 1;
      }
      return;
    }
    const c = this.ch[reg];
    switch (c.writeState) {
      case MSB: this.loadCount(reg, v << 8); break;
      case WORD0: c.writeLatch = v; c.writeState = WORD1; break;
      case WORD1: this.loadCount(reg, c.writeLatch | (v << 8)); c.writeState = WORD0; break;
      default: this.loadCount(reg, v); break;
    }
  }

  read(reg: number): number {
    if (reg === 3) return 0xff; // the control word register is write-only
    const c = this.ch[reg];
    if (c.statusLatched) {
      c.statusLatched = false;
      return c.status;
    }
    if (c.countLatched !== 0) {
      switch (c.countLatched) {
        case MSB: c.countLatched = 0; return (c.latchedCount >> 8) & 0xff;
        case WORD0: c.countLatched = MSB; return c.latchedCount & 0xff;
        default: c.countLatched = 0; return c.latchedCount & 0xff;
      }
    }
    const count = this.countNow(c);
    switch (c.readState) {
      case MSB: return (count >> 8) & 0xff;
      case WORD0: c.readState = WORD1; return count & 0xff;
      case WORD1: c.readState = WORD0; return (count >> 8) & 0xff;
      default: return count & 0xff;
    }
  }

  /** Gate input of channel 2 (port 0x61 bit 0); a rising edge restarts modes 1, 2, 3 and 5. */
  setGate2(level: number): void {
    const c = this.ch[2];
    if (c.gate < level && [1, 2, 3, 5, 6, 7].includes(c.mode)) c.loadNs = this.clock.nowNs();
    c.gate = level;
  }

  private readPort61(): number {
    this.refresh ^= 0x10; // DRAM refresh toggle: BIOS delay loops watch it flip
    const out2 = this.outAt(this.ch[2], this.clock.nowNs());
    return this.ch[2].gate | (this.speakerData << 1) | this.refresh | (out2 << 5);
  }

  private writePort61(v: number): void {
    this.speakerData = (v >> 1) & 1;
    this.setGate2(v & 1);
  }

  saveState(): PitState {
    return { ch: this.ch.map((c) => ({ ...c })), speakerData: this.speakerData, refresh: this.refresh };
  }

  loadState(s: PitState): void {
    this.ch = s.ch.map((c) => ({ ...c }));
    this.speakerData = s.speakerData;
    this.refresh = s.refresh;
  }
}

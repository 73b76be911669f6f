// The 8259A programmable interrupt controller pair (master at 0x20, slave at 0xA0, cascaded on IRQ2).
// Edge-triggered only (ELCR is not modelled). The priority logic follows the datasheet as QEMU's
// i8259 implements it, so spurious vectors, rotation and special mask behave the same.
import type { InterruptController, IoBus } from '../bus.ts';
import { byteDevice } from '../io.ts';

export interface PicChipState {
  irr: number; isr: number; imr: number; lastLevel: number;
  vectorBase: number; priorityAdd: number; initStep: number; needIcw4: boolean; single: boolean;
  readIsr: boolean; poll: boolean; specialMask: boolean; autoEoi: boolean; rotateOnAutoEoi: boolean;
  specialFullyNested: boolean;
}

class PicChip {
  s: PicChipState = PicChip.fresh();
  constructor(readonly isMaster: boolean, private readonly changed: () => void) {}

  static fresh(): PicChipState {
    return {
      irr: 0, isr: 0, imr: 0, lastLevel: 0, vectorBase: 0, priorityAdd: 0, initStep: 0, needIcw4: false,
      single: false, readIsr: false, poll: false, specialMask: false, autoEoi: false, rotateOnAutoEoi: false,
      specialFullyNested: false,
    };
  }

  /** Priority 0 (highest) .. 7 of the best bit in mask, 8 when empty; rotation shifts the order. */
  private priority(mask: number): number {
    if (mask === 0) return 8;
    let p = 0;
    while ((mask & (1 << ((p + this.s.priorityAdd) & 7))) === 0) p++;
    return p;
  }

  /** The IRQ (0-7) this chip would present to its INTA, or -1. */
  pending(): number {
    const s = this.s;
    const p = this.priority(s.irr & ~s.imr);
    if (p === 8) return -1;
    let inService = s.isr;
    if (s.specialMask) inService &= ~s.imr;
    if (s.specialFullyNested && this.isMaster) inService &= ~(1 << 2);
    return p < this.priority(inService) ? (p + s.priorityAdd) & 7 : -1;
  }

  setLevel(irq: number, high: boolean): void {
    const m = 1 << irq;
    if (high) {
      if ((this.s.lastLevel & m) === 0) this.s.irr |= m; // a rising edge latches the request
      this.s.lastLevel |= m;
    } else {
      this.s.lastLevel &= ~m;
    }
    this.changed();
  }

  intack(irq: number): void {
    const s = this.s;
    if (s.autoEoi) {
      if (s.rotateOnAutoEoi) s.priorityAdd = (irq + 1) & 7;
    } else {
      s.isr |= 1 << irq;
    }
    s.irr &= ~(1 << irq);
    this.changed();
  }

  writeCommand(v: number): void {
    const s = this.s;
    if (v & 0x10) {
      // ICW1: reinitialise. IMR, ISR and edge memory clear; IRR keeps nothing (edge mode).
      this.s = { ...PicChip.fresh(), initStep: 1, needIcw4: (v & 1) !== 0, single: (v & 2) !== 0 };
      this.changed();
    } else if (v & 0x08) {
      // OCW3
      if (v & 0x04) s.poll = true;
      if (v & 0x02) s.readIsr = (v & 1) !== 0;
      if (v & 0x40) s.specialMask = ((v >> 5) & 1) !== 0;
    } else {
      // OCW2
      const cmd = v >> 5;
      switch (cmd) {
        case 0: case 4: s.rotateOnAutoEoi = cmd === 4; break;
        case 1: case 5: { // non-specific EOI (5: and rotate)
          const p = this.priority(s.isr);
          if (p !== 8) {
            const irq = (p + s.priorityAdd) & 7;
            s.isr &= ~(1 << irq);
            if (cmd === 5) s.priorityAdd = (irq + 1) & 7;
          }
          break;
        }
        case 3: s.isr &= ~(1 << (v & 7)); break; // specific EOI
        case 6: s.priorityAdd = (v + 1) & 7; break; // set priority
        case 7: s.isr &= ~(1 << (v & 7)); s.priorityAdd = ((v & 7) + 1) & 7; break; // specific EOI + rotate
        default: break;
      }
      this.changed();
    }
  }

  writeData(v: number): void {
    const s = this.s;
    switch (s.initStep) {
      case 0: s.imr = v; this.changed(); break; // OCW1
      case 1: s.vectorBase = v & 0xf8; s.initStep = s.single ? (s.needIcw4 ? 3 : 0) : 2; break; // ICW2
      case 2: s.initStep = s.needIcw4 ? 3 : 0; break; // ICW3 (cascade wiring is fixed here)
      case 3: s.specialFullyNested = ((v >> 4) & 1) !== 0; s.autoEoi = ((v >> 1) & 1) !== 0; s.initStep = 0; break;
    }
  }

  readCommand(): number {
    if (this.s.poll) return this.pollRead();
    return this.s.readIsr ? this.s.isr : this.s.irr;
  }

  readData(): number {
    if (this.s.poll) return this.pollRead();
    return this.s.imr;
  }

  /** Poll mode (OCW3 bit 2): the read is the INTA: bit 7 set plus the IRQ number. */
  private pollRead(): number {
    this.s.poll = false;
    const irq = this.pending();
    if (irq < 0) return 0;
    this.intack(irq);
    return 0x80 | irq;
  }
}

export interface PicState { master: PicChipState; slave: PicChipState }

/** The cascaded pair as the CPU and the devices see it. */
export class Pic implements InterruptController {
  private readonly master: PicChip;
  private readonly slave: PicChip;
  /** Called whenever INTR may have changed (the machine points it at cpu.interruptCheck). */
  onChange: () => void = () => {};
  /** Spurious acknowledges (no IRQ left when the CPU acked) — visible to tests and the UI. */
  spurious = 0;

  constructor() {
    this.master = new PicChip(true, () => this.onChange());
    this.slave = new PicChip(false, () => {
      this.master.setLevel(2, this.slave.pending() >= 0);
    });
  }

  register(io: IoBus): void {
    io.register(0x20, 2, byteDevice((p) => (p & 1 ? this.master.readData() : this.master.readCommand()),
      (p, v) => (p & 1 ? this.master.writeData(v) : this.master.writeCommand(v))), 'pic-master');
    io.register(0xa0, 2, byteDevice((p) => (p & 1 ? this.slave.readData() : this.slave.readCommand()),
      (p, v) => (p & 1 ? this.slave.writeData(v) : this.slave.writeCommand(v))), 'pic-slave');
  }

  /** Drive IRQ line `irq` (0-15). Edge-triggered: a low→high transition requests an interrupt. */
  setIrq(irq: number, high: boolean): void {
    if (irq < 8) this.master.setLevel(irq, high);
    else this.slave.setLevel(irq - 8, high);
  }

  /** A full edge on the line: what a device that "raises IRQ n" does. */
  pulseIrq(irq: number): void {
    this.setIrq(irq, false);
    this.setIrq(irq, true);
  }

  hasInterrupt(): boolean {
    return this.master.pending() >= 0;
  }

  acknowledge(): number {
    const irq = this.master.pending();
    if (irq < 0) {
      this.spurious++;
      return this.master.s.vectorBase + 7; // spurious IRQ7: no ISR bit set
    }
    let vector: number;
    if (irq === 2 && !this.master.s.single) {
      const irq2 = this.slave.pending();
      if (irq2 >= 0) {
        this.slave.intack(irq2);
        vector = this.slave.s.vectorBase + irq2;
      } else {
        this.spurious++;
        vector = this.slave.s.vectorBase + 7; // spurious IRQ15
      }
    } else {
      vector = this.master.s.vectorBase + irq;
    }
    this.master.intack(irq);
    return vector;
  }

  /** Programs both chips as the BIOS leaves them: vectors 08h/70h, cascade on IRQ2, 8086 mode. */
  biosInit(masterMask: number, slaveMask: number): void {
    const program = (chip: PicChip, base: number, wiring: number, mask: number) => {
      chip.writeCommand(0x11); // ICW1: edge, cascade, ICW4 follows
      chip.writeData(base); // ICW2
      chip.writeData(wiring); // ICW3
      chip.writeData(0x01); // ICW4: 8086 mode, normal EOI
      chip.writeData(mask); // OCW1
    };
    program(this.master, 0x08, 0x04, masterMask);
    program(this.slave, 0x70, 0x02, slaveMask);
  }

  /** Non-specific EOI to the master (and the slave for IRQ 8-15): what a BIOS handler sends. */
  eoi(irq: number): void {
    if (irq >= 8) this.slave.writeCommand(0x20);
    this.master.writeCommand(0x20);
  }

  /** IRR/ISR/IMR of both chips, for the UI. */
  registers(): { master: { irr: number; isr: number; imr: number; base: number }; slave: { irr: number; isr: number; imr: number; base: number } } {
    const view = (c: PicChip) => ({ irr: c.s.irr, isr: c.s.isr, imr: c.s.imr, base: c.s.vectorBase });
    return { master: view(this.master), slave: view(this.slave) };
  }

  saveState(): PicState {
    return { master: { ...this.master.s }, slave: { ...this.slave.s } };
  }

  loadState(st: PicState): void {
    this.master.s = { ...st.master };
    this.slave.s = { ...st.slave };
    this.onChange();
  }

  reset(): void {
    this.master.s = PicChip.fresh();
    this.slave.s = PicChip.fresh();
    this.onChange();
  }
}

// The 16550A UART on COM1 (0x3F8, IRQ 4). Transmission is instantaneous (THR empties at once and
// the THR-empty interrupt follows, as in QEMU); received bytes come from a callback, pulled when
// the guest looks (LSR/RBR reads) and when the machine polls between slices.
import type { IoBus } from '../bus.ts';
import { byteDevice } from '../io.ts';

const LSR_DR = 0x01, LSR_OE = 0x02, LSR_BI = 0x10, LSR_THRE = 0x20, LSR_TEMT = 0x40;
const IER_RDI = 0x01, IER_THRI = 0x02, IER_RLSI = 0x04, IER_MSI = 0x08;
const IIR_NONE = 0x01, IIR_MSI = 0x00, IIR_THRI = 0x02, IIR_RDI = 0x04, IIR_RLSI = 0x06, IIR_CTI = 0x0c;
const MCR_LOOP = 0x10;
const FIFO_SIZE = 16;
const TRIGGER = [1, 4, 8, 14];

export interface UartState {
  rbr: number; ier: number; iir: number; fcr: number; lcr: number; mcr: number; lsr: number; msr: number; scr: number;
  dll: number; dlm: number; rxFifo: number[]; thrPending: boolean; timeoutPending: boolean;
}

function fresh(): UartState {
  return {
    rbr: 0, ier: 0, iir: IIR_NONE, fcr: 0, lcr: 0, mcr: 0x08, lsr: LSR_THRE | LSR_TEMT, msr: 0xb0, scr: 0,
    dll: 0x0c, dlm: 0, rxFifo: [], thrPending: false, timeoutPending: false,
  };
}

export class Uart16550 {
  s: UartState = fresh();
  /** Receives every transmitted byte (loopback excluded). */
  output: (byte: number) => void = () => {};
  /** Supplies the next received byte, or undefined when there is none right now. */
  input: () => number | undefined = () => undefined;
  /** Drives the IRQ line (the machine connects it to the PIC). */
  setIrq: (high: boolean) => void = () => {};

  constructor(readonly base = 0x3f8, readonly name = 'com1') {}

  register(io: IoBus): void {
    io.register(this.base, 8, byteDevice((p) => this.read(p - this.base), (p, v) => this.write(p - this.base, v)), this.name);
  }

  reset(): void {
    this.s = fresh();
    this.update();
  }

  private get fifoOn(): boolean {
    return (this.s.fcr & 1) !== 0;
  }

  /** Take pending input while there is room (FIFO) or the holding register is empty. */
  pollInput(): void {
    for (;;) {
      if (this.fifoOn ? this.s.rxFifo.length >= FIFO_SIZE : (this.s.lsr & LSR_DR) !== 0) return;
      const b = this.input();
      if (b === undefined) return;
      this.receive(b & 0xff);
    }
  }

  /** A byte arriving on the wire (or looped back). */
  receive(b: number): void {
    const s = this.s;
    if (this.fifoOn) {
      if (s.rxFifo.length >= FIFO_SIZE) s.lsr |= LSR_OE;
      else s.rxFifo.push(b);
    } else {
      if (s.lsr & LSR_DR) s.lsr |= LSR_OE;
      s.rbr = b;
    }
    s.lsr |= LSR_DR;
    s.timeoutPending = true; // stands in for the 4-character timeout: data below the trigger still interrupts
    this.update();
  }

  private update(): void {
    const s = this.s;
    let id = IIR_NONE;
    const trigger = TRIGGER[s.fcr >> 6];
    if (s.ier & IER_RLSI && s.lsr & (LSR_OE | LSR_BI)) id = IIR_RLSI;
    else if (s.ier & IER_RDI && s.lsr & LSR_DR && (!this.fifoOn || s.rxFifo.length >= trigger)) id = IIR_RDI;
    else if (s.ier & IER_RDI && s.lsr & LSR_DR && s.timeoutPending) id = IIR_CTI;
    else if (s.ier & IER_THRI && s.thrPending) id = IIR_THRI;
    else if (s.ier & IER_MSI && s.msr & 0x0f) id = IIR_MSI;
    s.iir = id | (this.fifoOn ? 0xc0 : 0);
    this.setIrq(id !== IIR_NONE);
  }

  read(reg: number): number {
    const s = this.s;
    const dlab = (s.lcr & 0x80) !== 0;
    switch (reg) {
      case 0: {
        if (dlab) return s.dll;
        if ((s.lsr & LSR_DR) === 0) this.pollInput();
        let v: number;
        if (this.fifoOn) {
          v = s.rxFifo.length > 0 ? s.rxFifo.shift()! : 0;
          if (s.rxFifo.length === 0) s.lsr &= ~(LSR_DR | LSR_BI);
        } else {
          v = s.rbr;
          s.lsr &= ~(LSR_DR | LSR_BI);
        }
        s.timeoutPending = false;
        this.update();
        this.pollInput();
        return v;
      }
      case 1: return dlab ? s.dlm : s.ier;
      case 2: {
        const v = s.iir;
        if ((v & 0x0f) === IIR_THRI) {
          s.thrPending = false; // reading IIR with THRE as the cause acknowledges it
          this.update();
        }
        return v;
      }
      case 3: return s.lcr;
      case 4: return s.mcr;
      case 5: {
        if ((s.lsr & LSR_DR) === 0) this.pollInput();
        const v = s.lsr;
        if (s.lsr & (LSR_BI | LSR_OE)) {
          s.lsr &= ~(LSR_BI | LSR_OE);
          this.update();
        }
        return v;
      }
      case 6: {
        if (s.mcr & MCR_LOOP) {
          // Loopback: DTR→DSR, RTS→CTS, OUT1→RI, OUT2→DCD.
          return ((s.mcr & 0x0c) << 4) | ((s.mcr & 0x02) << 3) | ((s.mcr & 0x01) << 5);
        }
        const v = s.msr;
        if (s.msr & 0x0f) {
          s.msr &= 0xf0;
          this.update();
        }
        return v;
      }
      default: return s.scr;
    }
  }

  write(reg: number, v: number): void {
    const s = this.s;
    const dlab = (s.lcr & 0x80) !== 0;
    switch (reg) {
      case 0:
        if (dlab) { s.dll = v; return; }
        s.thrPending = false;
        s.lsr &= ~(LSR_THRE | LSR_TEMT);
        this.update();
        if (s.mcr & MCR_LOOP) this.receive(v);
        else this.output(v);
        s.lsr |= LSR_THRE | LSR_TEMT;
        s.thrPending = true;
        this.update();
        return;
      case 1: {
        if (dlab) { s.dlm = v; return; }
        const before = s.ier;
        s.ier = v & 0x0f;
        // Enabling THRI while THR is empty raises the interrupt at once (8250/16550 behaviour).
        if ((before & IER_THRI) === 0 && s.ier & IER_THRI && s.lsr & LSR_THRE) s.thrPending = true;
        this.update();
        return;
      }
      case 2: {
        const enable = (v & 1) !== 0;
        if (enable !== this.fifoOn || v & 0x02) {
          s.rxFifo = [];
          if (!enable || v & 0x02) { s.lsr &= ~LSR_DR; s.timeoutPending = false; }
        }
        s.fcr = enable ? v & 0xc9 : 0;
        this.update();
        return;
      }
      case 3: s.lcr = v; return;
      case 4: s.mcr = v & 0x1f; return;
      case 5: return; // LSR is read-only
      case 6: return;
      default: s.scr = v;
    }
  }

  saveState(): UartState {
    return { ...this.s, rxFifo: [...this.s.rxFifo] };
  }

  loadState(st: UartState): void {
    this.s = { ...st, rxFifo: [...st.rxFifo] };
    this.update();
  }
}

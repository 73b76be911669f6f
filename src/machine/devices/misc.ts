// Small ISA odds and ends: QEMU's isa-debug-exit (0xF4), the POST code port (0x80) and the
// "system control port A" at 0x92 (fast A20 and reset).
import type { IoBus } from '../bus.ts';
import { byteDevice } from '../io.ts';

/** QEMU's isa-debug-exit at 0xF4 (iosize 4): any write of v ends the run; QEMU exits with (v<<1)|1. */
export class DebugExit {
  onExit: (code: number) => void = () => {};
  register(io: IoBus, base = 0xf4): void {
    io.register(base, 4, { read: () => 0, write: (_p, _size, v) => this.onExit(v >>> 0) }, 'debug-exit');
  }
}

/** Port 0x80: POST diagnostic codes. Ignored apart from remembering the last one. */
export class PostPort {
  last = -1;
  count = 0;
  register(io: IoBus): void {
    io.register(0x80, 1, byteDevice(() => 0xff, (_p, v) => { this.last = v; this.count++; }), 'post');
  }
}

/** Port 0x92: bit 1 = A20 gate, bit 0 = fast reset (0→1 transition resets the CPU). */
export class SystemControlA {
  value = 0x02;
  onA20: (enabled: boolean) => void = () => {};
  onReset: () => void = () => {};
  register(io: IoBus): void {
    io.register(0x92, 1, byteDevice(() => this.value, (_p, v) => this.write(v)), 'port92');
  }
  private write(v: number): void {
    const old = this.value;
    this.value = v & 0x03 & ~0x01; // the reset bit does not latch
    if ((v & 2) !== (old & 2)) this.onA20((v & 2) !== 0);
    if (v & 1 && !(old & 1)) this.onReset();
  }
}

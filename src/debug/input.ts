// Guest input (serial RX bytes, PS/2 scan codes) as part of the debugger's history, so that going
// back and forward again replays it exactly: each input is recorded with the position at which the
// guest received it (instructions retired and virtual time, which runs on while the CPU idles in
// HLT), and a replay delivers it at that same position. History snapshots remember how much of the
// log had been delivered; typing while in the past starts a new future (the log and the snapshots
// after that point are dropped).
//
// Under the hypervisor one log holds the input of every VM (its channel is the VM id), in the order
// the host received it, and every vCPU's debugger shares it: input belongs to the whole host's
// history, so whichever vCPU the debugger follows, a replay delivers each VM's input where it went
// in (vcpu-target.ts delivers it; records there carry the host tick too).
//
// Serial bytes go through a "wire" (one per channel) the UART pulls from. The UART polls for input
// both when the guest reads its registers (deterministic: the same instruction every time) and at
// the top of the machine's run loop (which depends on how runs are sliced, different in a replay),
// so the wire only gives bytes at the first kind of poll and when an input is delivered (connectDevices).
import type { Uart16550 } from '../machine/devices/uart16550.ts';
import type { Ps2Controller } from '../machine/devices/ps2.ts';
import { NS_PER_INSTRUCTION } from '../machine/devices/clock.ts';

export type InputDevice = 'serial' | 'ps2';

export interface InputRecord {
  /** Instructions retired when the guest received it. */
  n: number;
  /** Virtual time (ns) then; NaN when the target has no clock (delivered at the count alone). */
  time: number;
  device: InputDevice;
  /** Serial: the bytes; PS/2: scan codes (bit 7 = release, 0xE0 prefixes as their own byte). */
  bytes: number[];
  /** The channel: under the hypervisor the VM that received it (absent: 0, the bare machine). */
  vm?: number;
  /** Under the hypervisor: the host tick then (the host's place; the VM may wait in HLT meanwhile). */
  tick?: number;
}

/** Where the log's inputs go: the devices of the machine (or VM) being debugged. */
export interface InputPort {
  /** Virtual time in ns (absent: positions are instruction counts only). */
  now?: () => number;
  /** Offers the wire's bytes to the UART (connectUart's poll). */
  pollSerial(): void;
  /** Queues PS/2 scan codes in the keyboard. */
  sendScancodes(codes: number[]): void;
  /**
   * Present when the target replays the log itself (under the hypervisor, the host delivers every
   * VM's input on its own schedule, vcpu-target.ts): where typed input goes in now, added to its
   * record; the debugger then records and delivers typed input but leaves the replay to the target.
   */
  stamp?(): { vm: number; tick: number };
}

/** What a history snapshot remembers of the log. */
export interface InputMark {
  delivered: number;
  /** Per channel: serial bytes the guest's UART has taken from the wire. */
  taken: readonly number[];
}

export class InputLog {
  readonly records: InputRecord[] = [];
  /** Records delivered so far (the replay position in the log). */
  delivered = 0;
  /** Per channel: serial bytes the UART has taken from the wire. */
  private taken: number[] = [];
  /** Per channel: the serial bytes of its records, in order; per record: where its bytes end in its channel. */
  private serial: number[][] = [];
  private serialEnd: number[] = [];
  /** Per channel: the end of the serial bytes delivered so far. */
  private deliveredEnd: number[] = [];

  mark(): InputMark {
    return { delivered: this.delivered, taken: this.taken.slice() };
  }

  /** Back to a snapshot's point in the log (no mark: its start). */
  restore(m: InputMark | undefined): void {
    this.delivered = Math.min(m?.delivered ?? 0, this.records.length);
    this.taken = m ? m.taken.slice() : [];
    this.deliveredEnd = [];
    for (let i = 0; i < this.delivered; i++) this.deliveredEnd[this.records[i]!.vm ?? 0] = this.serialEnd[i]!;
  }

  /** The next record to deliver, if any. */
  get next(): InputRecord | undefined {
    return this.records[this.delivered];
  }

  /** Drops the recorded input not delivered yet (every channel's): a new future starts here. */
  dropFuture(): void {
    this.records.length = this.delivered;
    this.serialEnd.length = this.delivered;
    this.serial.forEach((bytes, ch) => (bytes.length = this.deliveredEnd[ch] ?? 0));
  }

  /** Appends an input at the current point, dropping any recorded future after it (every channel's). */
  add(rec: InputRecord): void {
    this.dropFuture();
    const ch = rec.vm ?? 0;
    const bytes = (this.serial[ch] ??= []);
    if (rec.device === 'serial') for (const b of rec.bytes) bytes.push(b & 0xff);
    this.records.push(rec);
    this.serialEnd.push(bytes.length);
  }

  /** Marks the next record delivered (the caller hands it to the devices). */
  advance(): InputRecord {
    const r = this.records[this.delivered]!;
    this.deliveredEnd[r.vm ?? 0] = this.serialEnd[this.delivered++]!;
    return r;
  }

  /** The next serial byte on channel `ch`'s wire, if one has been delivered and not taken yet. */
  takeSerial(ch = 0): number | undefined {
    const taken = this.taken[ch] ?? 0;
    if (taken >= (this.deliveredEnd[ch] ?? 0)) return undefined;
    this.taken[ch] = taken + 1;
    return this.serial[ch]![taken];
  }

  /** Bytes delivered on channel `ch` but not taken by the guest yet. */
  serialWaiting(ch = 0): number {
    return (this.deliveredEnd[ch] ?? 0) - (this.taken[ch] ?? 0);
  }
}

/** Hands a record to the devices. */
export function deliver(port: InputPort, r: InputRecord): void {
  if (r.device === 'serial') port.pollSerial();
  else port.sendScancodes(r.bytes);
}

/** Delivers the recorded inputs whose position (`n` retired, and their time) has been reached. */
export function deliverDue(log: InputLog, port: InputPort, n: number): void {
  for (;;) {
    const r = log.next;
    if (!r || n < r.n) return;
    if (n === r.n && port.now && !Number.isNaN(r.time) && port.now() < r.time - 0.5) return;
    deliver(port, log.advance());
  }
}

/**
 * How far the machine may run (in instructions of virtual time, maybe fractional) before the next
 * recorded input is due; at its count with the CPU halted, up to its time exactly (Machine.run's
 * budget is virtual time).
 */
export function untilNext(log: InputLog, port: InputPort, n: number): number {
  const r = log.next;
  if (!r) return Number.POSITIVE_INFINITY;
  if (n < r.n) return r.n - n;
  if (port.now && !Number.isNaN(r.time)) {
    const dt = (r.time - port.now()) / NS_PER_INSTRUCTION;
    if (dt > 0) return dt;
  }
  return Number.POSITIVE_INFINITY;
}

/**
 * Connects a UART and a keyboard to the log (to channel `ch`'s wire): the UART takes wire bytes only
 * when the guest reads one of its registers or an input is being delivered. Returns the port for
 * the debugger.
 */
export function connectDevices(uart: Uart16550, ps2: Ps2Controller, log: InputLog, now?: () => number, ch = 0): InputPort {
  let open = false;
  const read = uart.read.bind(uart);
  uart.input = () => (open ? log.takeSerial(ch) : undefined);
  uart.read = (reg: number): number => {
    const was = open;
    open = true;
    try {
      return read(reg);
    } finally {
      open = was;
    }
  };
  return {
    now,
    pollSerial() {
      open = true;
      try {
        uart.pollInput();
      } finally {
        open = false;
      }
    },
    sendScancodes(codes) {
      for (const c of codes) ps2.sendScan(c & 0x7f, (c & 0x80) !== 0);
    },
  };
}

// Guest input (serial RX bytes, PS/2 scan codes) as part of the debugger's history, so that going
// back and forward again replays it exactly: each input is recorded with the position at which the
// guest received it (instructions retired and virtual time, which runs on while the CPU idles in
// HLT), and a replay delivers it at that same position. History snapshots remember how much of the
// log had been delivered; typing while in the past starts a new future (the log and the snapshots
// after that point are dropped).
//
// Serial bytes go through a "wire" the UART pulls from. The UART polls for input both when the
// guest reads its registers (deterministic: the same instruction every time) and at the top of the
// machine's run loop (which depends on how runs are sliced, different in a replay), so the wire
// only gives bytes at the first kind of poll and when an input is delivered (connectUart).
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
}

/** Where the log's inputs go: the devices of the machine (or VM) being debugged. */
export interface InputPort {
  /** Virtual time in ns (absent: positions are instruction counts only). */
  now?: () => number;
  /** Offers the wire's bytes to the UART (connectUart's poll). */
  pollSerial(): void;
  /** Queues PS/2 scan codes in the keyboard. */
  sendScancodes(codes: number[]): void;
}

/** What a history snapshot remembers of the log. */
export interface InputMark {
  delivered: number;
  serialTaken: number;
}

export class InputLog {
  readonly records: InputRecord[] = [];
  /** Records delivered so far (the replay position in the log). */
  delivered = 0;
  /** Serial bytes the guest's UART has taken from the wire. */
  serialTaken = 0;
  /** All serial bytes of the records, in order, and where each record's bytes end. */
  private serial: number[] = [];
  private serialEnd: number[] = [];

  mark(): InputMark {
    return { delivered: this.delivered, serialTaken: this.serialTaken };
  }

  /** Back to a snapshot's point in the log. */
  restore(m: InputMark): void {
    this.delivered = m.delivered;
    this.serialTaken = m.serialTaken;
  }

  /** The next record to deliver, if any. */
  get next(): InputRecord | undefined {
    return this.records[this.delivered];
  }

  /** Appends an input at the current point, dropping any recorded future after it. */
  add(rec: InputRecord): void {
    this.records.length = this.delivered;
    this.serialEnd.length = this.delivered;
    this.serial.length = this.delivered > 0 ? this.serialEnd[this.delivered - 1]! : 0;
    this.records.push(rec);
    if (rec.device === 'serial') for (const b of rec.bytes) this.serial.push(b & 0xff);
    this.serialEnd.push(this.serial.length);
  }

  /** Marks the next record delivered (the caller hands it to the devices). */
  advance(): InputRecord {
    return this.records[this.delivered++]!;
  }

  /** The next serial byte on the wire, if one has been delivered and not taken yet. */
  takeSerial(): number | undefined {
    const end = this.delivered > 0 ? this.serialEnd[this.delivered - 1]! : 0;
    if (this.serialTaken >= end) return undefined;
    return this.serial[this.serialTaken++];
  }

  /** Bytes delivered but not taken by the guest yet. */
  get serialWaiting(): number {
    return (this.delivered > 0 ? this.serialEnd[this.delivered - 1]! : 0) - this.serialTaken;
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
 * Connects a UART and a keyboard to the log: the UART takes wire bytes only when the guest reads
 * one of its registers or an input is being delivered. Returns the port for the debugger.
 */
export function connectDevices(uart: Uart16550, ps2: Ps2Controller, log: InputLog, now?: () => number): InputPort {
  let open = false;
  const read = uart.read.bind(uart);
  uart.input = () => (open ? log.takeSerial() : undefined);
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

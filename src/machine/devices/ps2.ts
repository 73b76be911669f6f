// The 8042 keyboard controller with a PS/2 keyboard behind it (no mouse). The keyboard speaks
// scan code set 1 on IRQ 1, i.e. what the guest sees with the controller's translation on.
// The controller's output port carries the A20 gate (bit 1) and the CPU reset line (bit 0).
import type { IoBus } from '../bus.ts';
import { byteDevice } from '../io.ts';

const ST_OBF = 0x01, ST_SYS = 0x04, ST_CMD = 0x08, ST_UNLOCKED = 0x10;
const CB_KBD_INT = 0x01, CB_SYS = 0x04, CB_KBD_DISABLED = 0x10, CB_XLATE = 0x40;

export interface Ps2State {
  status: number; commandByte: number; outputPort: number; pendingCommand: number; out: number[]; outFull: boolean;
  outByte: number; kbdPendingCommand: number; kbdEnabled: boolean; scanSet: number; irqLevel: boolean;
}

/** Set-1 make codes; keys with an 0xE0 prefix are listed as 0xE0xx. */
export const SCAN_SET1: Readonly<Record<string, number>> = {
  Escape: 0x01, '1': 0x02, '2': 0x03, '3': 0x04, '4': 0x05, '5': 0x06, '6': 0x07, '7': 0x08, '8': 0x09, '9': 0x0a,
  '0': 0x0b, '-': 0x0c, '=': 0x0d, Backspace: 0x0e, Tab: 0x0f, q: 0x10, w: 0x11, e: 0x12, r: 0x13, t: 0x14, y: 0x15,
  u: 0x16, i: 0x17, o: 0x18, p: 0x19, '[': 0x1a, ']': 0x1b, Enter: 0x1c, Control: 0x1d, a: 0x1e, s: 0x1f, d: 0x20,
  f: 0x21, g: 0x22, h: 0x23, j: 0x24, k: 0x25, l: 0x26, ';': 0x27, "'": 0x28, '`': 0x29, Shift: 0x2a, '\\': 0x2b,
  z: 0x2c, x: 0x2d, c: 0x2e, v: 0x2f, b: 0x30, n: 0x31, m: 0x32, ',': 0x33, '.': 0x34, '/': 0x35, ShiftRight: 0x36,
  Alt: 0x38, ' ': 0x39, CapsLock: 0x3a, F1: 0x3b, F2: 0x3c, F3: 0x3d, F4: 0x3e, F5: 0x3f, F6: 0x40, F7: 0x41, F8: 0x42,
  F9: 0x43, F10: 0x44, F11: 0x57, F12: 0x58, Home: 0xe047, ArrowUp: 0xe048, PageUp: 0xe049, ArrowLeft: 0xe04b,
  ArrowRight: 0xe04d, End: 0xe04f, ArrowDown: 0xe050, PageDown: 0xe051, Insert: 0xe052, Delete: 0xe053,
};

const SHIFTED: Readonly<Record<string, string>> = {
  '!': '1', '@': '2', '#': '3', $: '4', '%': '5', '^': '6', '&': '7', '*': '8', '(': '9', ')': '0', _: '-', '+': '=',
  '{': '[', '}': ']', ':': ';', '"': "'", '~': '`', '|': '\\', '<': ',', '>': '.', '?': '/',
};

function fresh(): Ps2State {
  return {
    status: ST_UNLOCKED, commandByte: CB_XLATE | CB_SYS | CB_KBD_INT, outputPort: 0x03, pendingCommand: 0, out: [],
    outFull: false, outByte: 0, kbdPendingCommand: 0, kbdEnabled: true, scanSet: 2, irqLevel: false,
  };
}

export class Ps2Controller {
  s: Ps2State = fresh();
  setIrq1: (high: boolean) => void = () => {};
  onA20: (enabled: boolean) => void = () => {};
  onReset: () => void = () => {};

  register(io: IoBus): void {
    io.register(0x60, 1, byteDevice(() => this.readData(), (_p, v) => this.writeData(v)), 'ps2-data');
    io.register(0x64, 1, byteDevice(() => this.readStatus(), (_p, v) => this.writeCommand(v)), 'ps2-command');
  }

  reset(): void {
    this.s = fresh();
    this.s.status |= ST_SYS | ST_CMD; // 0x1C, as QEMU's controller reads after SeaBIOS
    this.setIrq1(false);
  }

  /** Press and release one key (a name from SCAN_SET1, or a character), with Shift when needed. */
  pressKey(key: string): void {
    let name = key;
    let shift = false;
    if (key.length === 1) {
      if (key >= 'A' && key <= 'Z') { name = key.toLowerCase(); shift = true; }
      else if (SHIFTED[key] !== undefined) { name = SHIFTED[key]; shift = true; }
      else if (key === '\n' || key === '\r') name = 'Enter';
      else if (key === '\t') name = 'Tab';
      else if (key === '\b') name = 'Backspace';
    }
    const code = SCAN_SET1[name];
    if (code === undefined) throw new Error(`no scan code for key '${key}'`);
    if (shift) this.sendScan(SCAN_SET1.Shift, false);
    this.sendScan(code, false);
    this.sendScan(code, true);
    if (shift) this.sendScan(SCAN_SET1.Shift, true);
  }

  typeText(text: string): void {
    for (const ch of text) this.pressKey(ch);
  }

  /** Queue one make (or break) code from the keyboard. */
  sendScan(code: number, release: boolean): void {
    if (!this.s.kbdEnabled) return;
    if (code > 0xff) this.queue(code >> 8);
    this.queue((code & 0xff) | (release ? 0x80 : 0));
  }

  private queue(b: number): void {
    if (this.s.out.length < 64) this.s.out.push(b & 0xff);
    this.refill();
  }

  /** Moves the next byte into the output buffer when it is free, raising IRQ 1 if enabled. */
  private refill(): void {
    const s = this.s;
    if (!s.outFull && s.out.length > 0 && (s.commandByte & CB_KBD_DISABLED) === 0) {
      s.outByte = s.out.shift()!;
      s.outFull = true;
    }
    this.updateIrq();
  }

  private controllerReply(b: number): void {
    // Controller replies go straight to the output buffer, ahead of keyboard data.
    this.s.out.unshift(b);
    this.s.outFull = false;
    this.refill();
  }

  private updateIrq(): void {
    const level = this.s.outFull && (this.s.commandByte & CB_KBD_INT) !== 0;
    if (level !== this.s.irqLevel) {
      this.s.irqLevel = level;
      this.setIrq1(level);
    }
  }

  readStatus(): number {
    return (this.s.status & ~ST_OBF) | (this.s.outFull ? ST_OBF : 0) | (this.s.commandByte & CB_SYS);
  }

  readData(): number {
    const s = this.s;
    const v = s.outByte;
    s.outFull = false;
    if (s.irqLevel) { s.irqLevel = false; this.setIrq1(false); }
    this.refill();
    return v;
  }

  writeCommand(v: number): void {
    const s = this.s;
    s.status |= ST_CMD;
    switch (v) {
      case 0x20: this.controllerReply(s.commandByte); break;
      case 0x60: case 0xd1: case 0xd2: case 0xd3: case 0xd4: s.pendingCommand = v; break;
      case 0xa7: case 0xa8: break; // aux port disable/enable: there is no mouse
      case 0xa9: this.controllerReply(0xff); break; // aux interface test: no device
      case 0xaa: s.status |= ST_SYS; this.controllerReply(0x55); break; // self test passed
      case 0xab: this.controllerReply(0x00); break; // keyboard interface OK
      case 0xad: s.commandByte |= CB_KBD_DISABLED; break;
      case 0xae: s.commandByte &= ~CB_KBD_DISABLED; this.refill(); break;
      case 0xc0: this.controllerReply(0x00); break; // input port
      case 0xd0: this.controllerReply(s.outputPort); break;
      case 0xdd: this.setOutputPort(s.outputPort & ~0x02); break;
      case 0xdf: this.setOutputPort(s.outputPort | 0x02); break;
      default:
        if ((v & 0xf0) === 0xf0 && (v & 0x01) === 0) this.onReset(); // pulse output bit 0: CPU reset
        break;
    }
  }

  private setOutputPort(v: number): void {
    const old = this.s.outputPort;
    this.s.outputPort = v | 0x01;
    if ((v ^ old) & 0x02) this.onA20((v & 0x02) !== 0);
    if ((v & 0x01) === 0) this.onReset();
  }

  writeData(v: number): void {
    const s = this.s;
    s.status &= ~ST_CMD;
    const cmd = s.pendingCommand;
    s.pendingCommand = 0;
    switch (cmd) {
      case 0x60: s.commandByte = v; this.refill(); return;
      case 0xd1: this.setOutputPort(v); return;
      case 0xd2: this.controllerReply(v); return;
      case 0xd3: return; // aux output buffer: no mouse
      case 0xd4: return; // to the aux device: none attached
    }
    this.keyboardCommand(v);
  }

  private keyboardCommand(v: number): void {
    const s = this.s;
    const pending = s.kbdPendingCommand;
    if (pending !== 0) {
      s.kbdPendingCommand = 0;
      if (pending === 0xf0 && v === 0) { this.queue(0xfa); this.queue(s.scanSet); return; }
      if (pending === 0xf0) s.scanSet = v;
      this.queue(0xfa);
      return;
    }
    switch (v) {
      case 0xed: case 0xf0: case 0xf3: s.kbdPendingCommand = v; this.queue(0xfa); break;
      case 0xee: this.queue(0xee); break; // echo
      case 0xf2: this.queue(0xfa); this.queue(0xab); this.queue(0x41); break; // MF2 keyboard, translated
      case 0xf4: s.kbdEnabled = true; this.queue(0xfa); break;
      case 0xf5: s.kbdEnabled = false; this.queue(0xfa); break;
      case 0xff: s.out = []; s.kbdEnabled = true; this.queue(0xfa); this.queue(0xaa); break;
      default: this.queue(0xfa); break;
    }
  }

  saveState(): Ps2State {
    return { ...this.s, out: [...this.s.out] };
  }

  loadState(st: Ps2State): void {
    this.s = { ...st, out: [...st.out] };
  }
}

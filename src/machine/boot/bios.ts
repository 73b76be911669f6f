// The built-in BIOS, emulated at a high level. Every interrupt vector points into a small ROM at
// F000:xxxx whose stubs are `out 0xE5, al ; iret`: the OUT to the private trap port makes the
// machine stop after that instruction and call Bios.handle() with the CPU state, which performs the
// service in TypeScript (registers, memory, stacked FLAGS for CF/ZF); then the stub's IRET returns.
// The trap port only acts for OUTs from the ROM's own stubs; the guest cannot reach it otherwise.
import { BDA, FLAG_ZF, setCarry, setStackedFlag, type BiosMemory } from './bios-context.ts';
import { BiosVideo } from './bios-video.ts';
import { BiosDisk } from './bios-disk.ts';
import type { Disk } from './disk.ts';
import { e820Map, BASE_MEMORY_KB, BIOS_BASE, EBDA_ADDR, GDT_ADDR } from './layout.ts';
import { hi8, lo8, lo16, setHi8, setLo8, setLo16, type CpuStateLike } from './realmode.ts';
import type { VgaText } from '../devices/vga-text.ts';
import type { Cmos } from '../devices/cmos.ts';
import type { Pic } from '../devices/pic.ts';
import type { IoBus } from '../bus.ts';
import { kbdTranslate } from './bios-keyboard.ts';

export const BIOS_TRAP_PORT = 0xe5;
const SEG = 0xf000;
const STUBS = 0xf1000; // 4 bytes per vector: out 0xE5, al ; iret ; nop
const IRQ0_STUB = 0xf1400;
const INT16_STUB = 0xf1410;
const IRET_ONLY = 0xf1420;
const POST_STUB = 0xfe05b;
const DISKETTE_TABLE = 0xfefc7;

/** Trap ids: the interrupt vector (0-255), or one of these. */
export const TRAP_IRQ0 = 0x100, TRAP_INT16 = 0x101, TRAP_POST = 0x102;

/** What the machine must do after a trap. */
export type TrapOutcome = 'done' | 'wait-key' | 'reboot' | 'boot-failed';

const TRAPPED_VECTORS = [0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x17, 0x18, 0x19, 0x1a,
  0x70, 0x71, 0x72, 0x73, 0x74, 0x75, 0x76, 0x77];

export interface BiosHost {
  memory: BiosMemory;
  io: IoBus;
  vga: VgaText;
  cmos: Cmos;
  pic: Pic;
  /** INT 10h output also goes to the serial console (DESIGN: mirrored). */
  serialMirror(byte: number): void;
  getA20(): boolean;
  setA20(on: boolean): void;
}

export class Bios {
  readonly video: BiosVideo;
  readonly diskService: BiosDisk;
  /** Linear address right after each stub's OUT → trap id. */
  private readonly trapSites = new Map<number, number>();

  constructor(private readonly host: BiosHost, disk: Disk | null) {
    this.video = new BiosVideo(host.memory, host.vga, (b) => host.serialMirror(b));
    this.diskService = new BiosDisk(host.memory, disk);
    for (let v = 0; v < 256; v++) this.trapSites.set(STUBS + v * 4 + 2, v);
    this.trapSites.set(IRQ0_STUB + 2, TRAP_IRQ0);
    this.trapSites.set(INT16_STUB + 3, TRAP_INT16);
    this.trapSites.set(POST_STUB + 2, TRAP_POST);
  }

  /** Trap id for an OUT that finished just before linear address `next`, or -1 if not a stub. */
  trapAt(next: number): number {
    return this.trapSites.get(next >>> 0) ?? -1;
  }

  /** Writes the ROM, the interrupt vector table and the BIOS data area. */
  install(): void {
    const m = this.host.memory;
    m.writeBytes(BIOS_BASE, new Uint8Array(0x10000));
    const stubs = new Uint8Array(256 * 4);
    for (let v = 0; v < 256; v++) stubs.set([0xe6, BIOS_TRAP_PORT, 0xcf, 0x90], v * 4);
    m.writeBytes(STUBS, stubs);
    // IRQ0: count the tick (trap), chain to INT 1Ch, EOI, return.
    m.writeBytes(IRQ0_STUB, new Uint8Array([0xe6, BIOS_TRAP_PORT, 0xcd, 0x1c, 0x50, 0xb0, 0x20, 0xe6, 0x20, 0x58, 0xcf]));
    // INT 16h: sti; out; jnc done; hlt; jmp start; done: iret — waits for a key with interrupts on.
    m.writeBytes(INT16_STUB, new Uint8Array([0xfb, 0xe6, BIOS_TRAP_PORT, 0x73, 0x03, 0xf4, 0xeb, 0xf8, 0xcf]));
    m.writeBytes(IRET_ONLY, new Uint8Array([0xcf]));
    m.writeBytes(POST_STUB, new Uint8Array([0xe6, BIOS_TRAP_PORT, 0xf4, 0xeb, 0xfd]));
    m.writeBytes(0xffff0, new Uint8Array([0xea, 0x5b, 0xe0, 0x00, 0xf0])); // reset vector: jmp F000:E05B
    m.writeBytes(0xffff5, new TextEncoder().encode('01/01/26'));
    m.writeBytes(0xffffe, new Uint8Array([0xfc])); // model byte: AT
    m.writeBytes(DISKETTE_TABLE, new Uint8Array([0xaf, 0x02, 0x25, 0x02, 0x12, 0x1b, 0xff, 0x6c, 0xf6, 0x0f, 0x08]));
    // Flat GDT for the protected-mode loaders: null, code 0x08, data 0x10 (4 GiB, ring 0).
    m.writeBytes(GDT_ADDR, new Uint8Array([0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0, 0, 0x9b, 0xcf, 0, 0xff, 0xff, 0, 0, 0, 0x93, 0xcf, 0]));

    // Interrupt vector table.
    const ivt = new Uint8Array(1024);
    const dv = new DataView(ivt.buffer);
    const set = (v: number, linear: number) => { dv.setUint16(v * 4, linear - (SEG << 4), true); dv.setUint16(v * 4 + 2, SEG, true); };
    for (let v = 0; v < 256; v++) set(v, IRET_ONLY);
    for (const v of TRAPPED_VECTORS) set(v, STUBS + v * 4);
    set(0x08, IRQ0_STUB);
    set(0x16, INT16_STUB);
    set(0x1e, DISKETTE_TABLE);
    m.writeBytes(0, ivt);

    // BIOS data area.
    m.writeBytes(BDA, new Uint8Array(0x100));
    m.write16(BDA + 0x00, 0x3f8); // COM1
    m.write16(BDA + 0x0e, EBDA_ADDR >> 4);
    const floppy = this.diskService.disk?.isFloppy ? 1 : 0;
    m.write16(BDA + 0x10, 0x0220 | floppy); // equipment: 80x25 colour, one serial port, floppy if booting one
    m.write16(BDA + 0x13, BASE_MEMORY_KB);
    m.write16(BDA + 0x1a, 0x1e); // keyboard buffer head
    m.write16(BDA + 0x1c, 0x1e); // tail
    m.write16(BDA + 0x80, 0x1e); // buffer start
    m.write16(BDA + 0x82, 0x3e); // buffer end
    m.write8(EBDA_ADDR, 1); // EBDA size in KiB
    this.video.init();
    this.diskService.init();
  }

  /** Runs the service for trap `id` on `st` (modified in place). */
  handle(id: number, st: CpuStateLike): TrapOutcome {
    const m = this.host.memory;
    switch (id) {
      case TRAP_IRQ0: {
        let ticks = m.read32(BDA + 0x6c) + 1;
        if (ticks >= 0x1800b0) { ticks = 0; m.write8(BDA + 0x70, 1); } // midnight
        m.write32(BDA + 0x6c, ticks);
        return 'done';
      }
      case TRAP_INT16: return this.keyboardService(st);
      case TRAP_POST: return 'reboot';
      case 0x09: this.keyboardIrq(); this.eoi(1); return 'done';
      case 0x10: this.video.handle(st); return 'done';
      case 0x11: st.eax = setLo16(st.eax, m.read16(BDA + 0x10)); return 'done';
      case 0x12: st.eax = setLo16(st.eax, m.read16(BDA + 0x13)); return 'done';
      case 0x13: this.diskService.handle(st); return 'done';
      case 0x14: this.serialService(st); return 'done';
      case 0x15: this.systemService(st); return 'done';
      case 0x17: st.eax = setHi8(st.eax, 0x30); return 'done'; // printer: not present
      case 0x18: return 'boot-failed';
      case 0x19: return 'reboot';
      case 0x1a: this.timeService(st); return 'done';
      default:
        if (id >= 0x0a && id <= 0x0f) this.eoi(id - 0x08);
        else if (id >= 0x70 && id <= 0x77) {
          if (id === 0x70) { this.host.io.write(0x70, 1, 0x0c); this.host.io.read(0x71, 1); }
          this.eoi(id - 0x70 + 8);
        }
        return 'done';
    }
  }

  /** EOI for a hardware IRQ, skipping spurious IRQ 7/15 (no in-service bit to clear). */
  private eoi(irq: number): void {
    const r = this.host.pic.registers();
    if (irq === 7 && (r.master.isr & 0x80) === 0) return;
    if (irq === 15 && (r.slave.isr & 0x80) === 0) { this.host.io.write(0x20, 1, 0x20); return; }
    if (irq >= 8) this.host.io.write(0xa0, 1, 0x20);
    this.host.io.write(0x20, 1, 0x20);
  }

  private keyboardIrq(): void {
    const io = this.host.io;
    if ((io.read(0x64, 1) & 1) === 0) return;
    const scan = io.read(0x60, 1);
    const m = this.host.memory;
    const word = kbdTranslate(scan, m.read8(BDA + 0x17), m.read8(BDA + 0x96));
    m.write8(BDA + 0x17, word.shiftFlags);
    m.write8(BDA + 0x96, word.extendedFlags);
    if (word.key !== undefined) this.pushKey(word.key);
  }

  pushKey(key: number): boolean {
    const m = this.host.memory;
    const head = m.read16(BDA + 0x1a), tail = m.read16(BDA + 0x1c);
    let next = tail + 2;
    if (next >= m.read16(BDA + 0x82)) next = m.read16(BDA + 0x80);
    if (next === head) return false; // buffer full
    m.write16(BDA + tail, key);
    m.write16(BDA + 0x1c, next);
    return true;
  }

  private peekKey(remove: boolean): number | undefined {
    const m = this.host.memory;
    const head = m.read16(BDA + 0x1a), tail = m.read16(BDA + 0x1c);
    if (head === tail) return undefined;
    const key = m.read16(BDA + head);
    if (remove) {
      let next = head + 2;
      if (next >= m.read16(BDA + 0x82)) next = m.read16(BDA + 0x80);
      m.write16(BDA + 0x1a, next);
    }
    return key;
  }

  private keyboardService(st: CpuStateLike): TrapOutcome {
    const ah = hi8(st.eax);
    st.eflags &= ~1; // CF clear in the live flags = the stub returns (set = wait and retry)
    switch (ah) {
      case 0x00: case 0x10: {
        const key = this.peekKey(true);
        if (key === undefined) { st.eflags |= 1; return 'wait-key'; }
        st.eax = setLo16(st.eax, key);
        return 'done';
      }
      case 0x01: case 0x11: {
        const key = this.peekKey(false);
        setStackedFlag(this.host.memory, st, FLAG_ZF, key === undefined);
        if (key !== undefined) st.eax = setLo16(st.eax, key);
        return 'done';
      }
      case 0x02: case 0x12: st.eax = setLo8(st.eax, this.host.memory.read8(BDA + 0x17)); return 'done';
      case 0x05: st.eax = setLo8(st.eax, this.pushKey(lo16(st.ecx)) ? 0 : 1); return 'done';
      default: return 'done';
    }
  }

  private serialService(st: CpuStateLike): void {
    const io = this.host.io, ah = hi8(st.eax);
    if (lo16(st.edx) !== 0) { st.eax = setHi8(st.eax, 0x80); return; }
    if (ah === 0x01) io.write(0x3f8, 1, lo8(st.eax));
    if (ah === 0x02) st.eax = setLo8(st.eax, (io.read(0x3fd, 1) & 1) ? io.read(0x3f8, 1) : 0);
    st.eax = setHi8(st.eax, io.read(0x3fd, 1));
    if (ah === 0x00 || ah === 0x03) st.eax = setLo8(st.eax, io.read(0x3fe, 1));
  }

  private systemService(st: CpuStateLike): void {
    const m = this.host.memory;
    const ax = lo16(st.eax), ah = hi8(st.eax);
    const fail = () => { st.eax = setHi8(st.eax, 0x86); setCarry(m, st, true); };
    const ok = () => setCarry(m, st, false);
    if (ax === 0x2400 || ax === 0x2401) { this.host.setA20(ax === 0x2401); st.eax = setHi8(st.eax, 0); return ok(); }
    if (ax === 0x2402) { st.eax = setLo16(st.eax, this.host.getA20() ? 1 : 0); return ok(); }
    if (ax === 0x2403) { st.eax = setHi8(st.eax, 0); st.ebx = setLo16(st.ebx, 0x0003); return ok(); }
    if (ax === 0xe820) {
      if (st.edx >>> 0 !== 0x534d4150 || (st.ecx >>> 0) < 20) return fail();
      const map = e820Map(m.size);
      const i = st.ebx >>> 0;
      if (i >= map.length) return fail();
      const e = map[i];
      const buf = st.es.base + lo16(st.edi);
      m.write32(buf, e.base); m.write32(buf + 4, 0);
      m.write32(buf + 8, e.length); m.write32(buf + 12, 0);
      m.write32(buf + 16, e.type);
      st.eax = 0x534d4150;
      st.ecx = 20;
      st.ebx = i + 1 < map.length ? i + 1 : 0;
      return ok();
    }
    if (ax === 0xe801) {
      const kb = Math.floor(m.size / 1024);
      const low = Math.min(15 * 1024, Math.max(0, kb - 1024));
      const high = Math.max(0, Math.floor((m.size - 16 * 1048576) / 65536));
      st.eax = setLo16(st.eax, low); st.ecx = setLo16(st.ecx, low);
      st.ebx = setLo16(st.ebx, high); st.edx = setLo16(st.edx, high);
      return ok();
    }
    if (ah === 0x88) { st.eax = setLo16(st.eax, Math.min(0xfc00, Math.max(0, Math.floor(m.size / 1024) - 1024))); return ok(); }
    if (ah === 0x86) return ok(); // wait: returns at once (virtual time does not stall here)
    return fail();
  }

  private timeService(st: CpuStateLike): void {
    const m = this.host.memory, ah = hi8(st.eax);
    const io = this.host.io;
    const cmos = (reg: number) => { io.write(0x70, 1, reg); return io.read(0x71, 1); };
    switch (ah) {
      case 0x00: {
        const t = m.read32(BDA + 0x6c);
        st.ecx = setLo16(st.ecx, t >>> 16);
        st.edx = setLo16(st.edx, t & 0xffff);
        st.eax = setLo8(st.eax, m.read8(BDA + 0x70));
        m.write8(BDA + 0x70, 0);
        return setCarry(m, st, false);
      }
      case 0x01: m.write32(BDA + 0x6c, ((lo16(st.ecx) << 16) | lo16(st.edx)) >>> 0); m.write8(BDA + 0x70, 0); return setCarry(m, st, false);
      case 0x02:
        st.ecx = setLo16(st.ecx, (cmos(4) << 8) | cmos(2));
        st.edx = setLo16(st.edx, cmos(0) << 8);
        return setCarry(m, st, false);
      case 0x04:
        st.ecx = setLo16(st.ecx, (cmos(0x32) << 8) | cmos(9));
        st.edx = setLo16(st.edx, (cmos(8) << 8) | cmos(7));
        return setCarry(m, st, false);
      default: return setCarry(m, st, true);
    }
  }
}

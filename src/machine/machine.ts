// The PC: memory, CPU, port bus and devices on one virtual clock. The CPU runs in slices that end
// at the next device deadline (one instruction = 32 ns, QEMU's -icount shift=5); HLT fast-forwards
// the clock to the next device event. Nothing here reads the wall clock.
import { Memory } from './memory.ts';
import { Cpu } from './cpu/cpu.ts';
import { PortBus } from './io.ts';
import { Emitter } from '../trace/emitter.ts';
import { KIND_BIT } from '../trace/schema.ts';
import { Pic } from './devices/pic.ts';
import { Pit } from './devices/pit.ts';
import { Uart16550 } from './devices/uart16550.ts';
import { VgaText } from './devices/vga-text.ts';
import { Cmos } from './devices/cmos.ts';
import { Ps2Controller } from './devices/ps2.ts';
import { DebugExit, PostPort, SystemControlA } from './devices/misc.ts';
import { NS_PER_INSTRUCTION } from './devices/clock.ts';
import { Bios, BIOS_TRAP_PORT } from './boot/bios.ts';
import { Disk } from './boot/disk.ts';
import { bootSector, checkRom, loadFlat, loadMultiboot, type BootMode } from './boot/load.ts';
import { bootSectorEntry, multibootEntry, protectedModeEntry } from './boot/entry.ts';
import { byteDevice } from './io.ts';
import { MACHINE_SNAPSHOT_VERSION, type MachineSnapshot } from './snapshot.ts';
import type { CpuStateLike } from './boot/realmode.ts';

export type { BootMode } from './boot/load.ts';
export { BootError } from './boot/errors.ts';
export type { MachineSnapshot } from './snapshot.ts';

export type RunResult =
  | { reason: 'debug-exit'; code: number } // code = the value written to port 0xF4
  | { reason: 'triple-fault' }
  | { reason: 'instruction-limit' }
  /** Nothing can ever wake the CPU: HLT with IF=0, HLT with no device event left, or the BIOS waiting for a key no one can press. */
  | { reason: 'halted'; interruptsEnabled: boolean; waitingForKey?: boolean }
  | { reason: 'stopped' };

export interface MachineOptions {
  memoryBytes?: number;
  emitter?: Emitter;
  serial?: (text: string) => void;
  serialInput?: () => number | undefined;
  /** A user can press keys (UI): a BIOS key wait halts until one arrives instead of ending the run. */
  interactive?: boolean;
}

/**
 * Under `qemu -icount shift=5,sleep=off -kernel`, SeaBIOS programs PIT channel 0 this long before
 * the kernel's first instruction (measured with -m 64: the first IRQ 0 comes 891k instructions
 * after entry, not 1.716M); starting our timer with the same phase puts IRQ 0 at the same counts.
 */
const QEMU_MULTIBOOT_PIT_PHASE_NS = 26_409_024;

type ResetCause = 'keyboard-controller' | 'port-92' | 'software';

export class Machine {
  readonly memory: Memory;
  readonly cpu: Cpu;
  readonly io: PortBus;
  readonly emitter: Emitter;
  readonly pic = new Pic();
  readonly pit: Pit;
  readonly uart = new Uart16550();
  readonly vga: VgaText;
  readonly cmos: Cmos;
  readonly ps2 = new Ps2Controller();
  readonly debugExit = new DebugExit();
  readonly post = new PostPort();
  readonly port92 = new SystemControlA();
  bios: Bios | null = null;
  interactive: boolean;

  private idleNs = 0;
  private a20 = true;
  private pendingExit: number | null = null;
  private pendingTrap = false;
  private pendingReset: ResetCause | null = null;
  private userStop = false;
  /** The PIT was reprogrammed mid-slice: the stop only re-sizes the slice. */
  private sliceResized = false;
  private image: Uint8Array | null = null;
  private mode: BootMode | null = null;
  private romMapped = false;
  private romImage = new Uint8Array(0);

  constructor(opts: MachineOptions = {}) {
    const bytes = opts.memoryBytes ?? 64 * 1024 * 1024;
    this.emitter = opts.emitter ?? new Emitter();
    this.interactive = opts.interactive ?? false;
    this.memory = new Memory(bytes);
    this.io = new PortBus(this.emitter);
    this.cpu = new Cpu(this.memory, this.io, this.emitter);
    const clock = { nowNs: () => this.nowNs() };
    this.emitter.now = () => Math.floor(this.nowNs() / NS_PER_INSTRUCTION);
    this.pit = new Pit(clock);
    this.vga = new VgaText((a, n) => this.memory.readBytes(a, n));
    this.cmos = new Cmos(clock, bytes);
    this.wire(opts);
  }

  private wire(opts: MachineOptions): void {
    const { pic, pit, uart, ps2, io } = this;
    this.cpu.pic = pic;
    pic.onChange = () => this.cpu.interruptCheck();
    pit.setIrq0 = (h) => pic.setIrq(0, h);
    pit.onReprogram = () => { this.sliceResized = true; this.cpu.requestStop(); }; // the slice was sized for the old deadline
    uart.setIrq = (h) => pic.setIrq(4, h);
    ps2.setIrq1 = (h) => pic.setIrq(1, h);
    const serial = opts.serial;
    uart.output = (b) => {
      const text = String.fromCharCode(b);
      if (serial) serial(text);
      if ((this.emitter.mask & KIND_BIT.console) !== 0) this.emitter.emit('console', { device: 'serial', text });
    };
    if (opts.serialInput) uart.input = opts.serialInput;
    this.debugExit.onExit = (code) => { this.pendingExit = code; this.cpu.requestStop(); };
    const reset = (cause: ResetCause) => { this.pendingReset = cause; this.cpu.requestStop(); };
    ps2.onReset = () => reset('keyboard-controller');
    this.port92.onReset = () => reset('port-92');
    ps2.onA20 = (on) => this.setA20(on);
    this.port92.onA20 = (on) => this.setA20(on);
    for (const d of [pic, pit, uart, this.vga, this.cmos, ps2, this.post, this.port92]) d.register(io);
    this.debugExit.register(io);
    io.register(BIOS_TRAP_PORT, 1, byteDevice(() => 0xff, () => { this.pendingTrap = true; this.cpu.requestStop(); }), 'bios-trap');
  }

  /** Virtual time in nanoseconds: instructions × 32 ns plus time skipped while halted. */
  nowNs(): number {
    return this.cpu.retired() * NS_PER_INSTRUCTION + this.idleNs;
  }

  get a20Enabled(): boolean {
    return this.a20;
  }

  setA20(on: boolean): void {
    this.a20 = on;
    this.port92.value = (this.port92.value & ~2) | (on ? 2 : 0);
    const mem = this.memory as unknown as { setA20?: (on: boolean) => void };
    mem.setA20?.(on); // the address-bit-20 mask lives in Memory once it offers the hook
  }

  /** Loads an image and prepares the CPU; throws BootError for a bad image. */
  load(image: Uint8Array, mode: BootMode): void {
    this.image = image;
    this.mode = mode;
    this.boot();
  }

  private resetDevices(): void {
    this.cpu.reset();
    this.pic.reset();
    this.pit.reset();
    this.uart.reset();
    this.vga.reset();
    this.cmos.reset(this.memory.size);
    this.ps2.reset();
    this.pendingExit = null;
    this.pendingTrap = false;
    this.pendingReset = null;
    this.setA20(true);
  }

  /** Firmware state every built-in boot path shares: BIOS tables, PIC at 08h/70h, PIT at 18.2 Hz. */
  private installBios(disk: Disk | null, pitPhaseNs = 0): void {
    this.bios = new Bios({
      memory: this.memory, io: this.io, vga: this.vga, cmos: this.cmos, pic: this.pic,
      serialMirror: (b) => this.uart.output(b),
      getA20: () => this.a20, setA20: (on) => this.setA20(on),
    }, disk);
    this.bios.install();
    this.pic.biosInit(0xb8, 0x8e); // measured under SeaBIOS: IRQ 0, 1, 2, 6 and 8, 12, 13, 14 unmasked
    this.pit.biosInit(pitPhaseNs);
  }

  private boot(): void {
    const image = this.image!, mode = this.mode!;
    this.resetDevices();
    const st = this.cpu.getState() as CpuStateLike;
    switch (mode.kind) {
      case 'boot-sector': {
        const sector = bootSector(image);
        const disk = new Disk(image);
        this.installBios(disk);
        this.memory.writeBytes(0x7c00, sector);
        bootSectorEntry(st, disk.drive);
        break;
      }
      case 'multiboot': {
        this.installBios(null, QEMU_MULTIBOOT_PIT_PHASE_NS);
        const loaded = loadMultiboot(image, this.memory, mode.cmdline ?? '');
        multibootEntry(st, loaded.entry, loaded.infoAddr);
        break;
      }
      case 'flat': {
        this.installBios(null);
        loadFlat(image, mode.address, this.memory);
        protectedModeEntry(st, mode.address, 0, 0);
        break;
      }
      case 'rom': {
        checkRom(image);
        this.bios = null;
        this.mapRom(image);
        return; // the CPU's reset state: F000:FFF0 with CS base 0xFFFF0000
      }
    }
    this.cpu.setState(st as Parameters<Cpu['setState']>[0]);
  }

  /** A BIOS ROM at the top of the first MiB (a RAM copy) and at the top of 4 GiB (read-only MMIO). */
  private mapRom(image: Uint8Array): void {
    this.romImage = image.slice();
    this.memory.writeBytes(0x100000 - image.length, image);
    if (!this.romMapped) {
      const top = 0x100000000 - 0x20000;
      this.memory.mapMmio(top, 0x20000, {
        read: (addr, size) => {
          const rom = this.romImage;
          const off = addr - (0x100000000 - rom.length);
          let v = 0;
          for (let i = 0; i < size; i++) v |= (off + i >= 0 && off + i < rom.length ? rom[off + i] : 0xff) << (8 * i);
          return v >>> 0;
        },
        write: () => {},
      });
      this.romMapped = true;
    }
  }

  /** Runs until an ending event or `maxInstructions` of virtual time (halted time counts too). */
  run(maxInstructions = Infinity): RunResult {
    if (this.image === null) throw new Error('Machine.run before load()');
    const cpu = this.cpu, pit = this.pit;
    const budgetEndNs = this.nowNs() + maxInstructions * NS_PER_INSTRUCTION;
    this.userStop = false;
    let idleSkips = 0;
    let lastInstructions = cpu.instructions;
    for (;;) {
      const now = this.nowNs();
      pit.advanceTo(now);
      this.uart.pollInput();
      if (now >= budgetEndNs) return this.end({ reason: 'instruction-limit' });
      const deadline = Math.min(pit.nextDeadlineNs(), budgetEndNs);
      const slice = Math.max(1, Math.ceil((deadline - now) / NS_PER_INSTRUCTION));
      const r = cpu.run(Number.isFinite(slice) ? slice : 1e9);
      if (r === 'budget') continue;
      if (r === 'shutdown') return this.end({ reason: 'triple-fault' });
      if (r === 'stop') {
        const ended = this.afterStop();
        if (ended !== null) return this.end(ended);
        continue;
      }
      // 'halt': sleep until the next device event, or report that nothing can wake the CPU.
      const st = cpu.getState();
      const ifOn = (st.eflags & 0x200) !== 0;
      if (!ifOn) return this.end({ reason: 'halted', interruptsEnabled: false });
      const next = pit.nextDeadlineNs();
      if (!Number.isFinite(next)) {
        if (this.interactive) return { reason: 'stopped' };
        return this.end({ reason: 'halted', interruptsEnabled: true });
      }
      // Halted with interrupts on but no interrupt ever arriving (e.g. IRQ 0 masked): give up.
      if (cpu.instructions !== lastInstructions) { lastInstructions = cpu.instructions; idleSkips = 0; }
      if (++idleSkips > 100_000) return this.end({ reason: 'halted', interruptsEnabled: true });
      // Sleep from the moment the CPU halted (not from the top of this iteration: the slice may
      // have run instructions before the HLT), so the wake-up time does not depend on slicing.
      const haltedAt = this.nowNs();
      const wake = Math.min(next, budgetEndNs);
      if (wake > haltedAt) this.idleNs += wake - haltedAt;
    }
  }

  private afterStop(): RunResult | null {
    if (this.pendingExit !== null) {
      const code = this.pendingExit;
      this.pendingExit = null;
      return { reason: 'debug-exit', code };
    }
    let ours = false; // did the machine itself ask for this stop?
    if (this.pendingTrap) {
      ours = true;
      this.pendingTrap = false;
      const r = this.serviceTrap();
      if (r !== null) return r;
    }
    if (this.pendingReset !== null) {
      ours = true;
      const cause = this.pendingReset;
      this.pendingReset = null;
      this.reboot(cause);
    }
    if (this.userStop) {
      this.userStop = false;
      return { reason: 'stopped' };
    }
    if (this.sliceResized) {
      ours = true;
      this.sliceResized = false;
    }
    // Otherwise a debugger hook asked for it (beforeInstruction returned true).
    return ours ? null : { reason: 'stopped' };
  }

  private serviceTrap(): RunResult | null {
    if (this.bios === null) return null;
    const st = this.cpu.getState() as CpuStateLike;
    const id = this.bios.trapAt(st.cs.base + st.eip);
    if (id < 0) return null; // an OUT to the trap port from outside the ROM: ignored
    const outcome = this.bios.handle(id, st);
    this.cpu.setState(st as Parameters<Cpu['setState']>[0]);
    if (outcome === 'reboot') this.reboot('software');
    if (outcome === 'boot-failed') return { reason: 'halted', interruptsEnabled: false };
    if (outcome === 'wait-key' && !this.interactive && !this.ps2.s.outFull && this.ps2.s.out.length === 0) {
      return { reason: 'halted', interruptsEnabled: true, waitingForKey: true };
    }
    return null;
  }

  /** A guest-requested reset: the ROM restarts from the reset vector, built-in firmware reloads the image. */
  private reboot(cause: ResetCause): void {
    if ((this.emitter.mask & KIND_BIT.reset) !== 0) this.emitter.emit('reset', { cause });
    if (this.mode?.kind === 'rom') {
      this.resetDevices();
      return;
    }
    this.boot();
  }

  private end(r: RunResult): RunResult {
    if ((this.emitter.mask & KIND_BIT.shutdown) !== 0) {
      // A triple fault's shutdown event is the CPU's own (cpu.ts, at the moment it happens): not twice.
      if (r.reason === 'debug-exit') this.emitter.emit('shutdown', { reason: 'debug-exit', code: r.code });
      // An instruction limit ends one run() call, not the machine: callers slice runs as they like
      // (the CLI reports its overall limit itself), and the stream must not depend on the slicing.
    }
    return r;
  }

  /** Ends the current run() at the next instruction boundary (UI, debugger). */
  stop(): void {
    this.userStop = true;
    this.cpu.requestStop();
  }

  vgaText(): string[] {
    return this.vga.text();
  }

  snapshot(): MachineSnapshot {
    return {
      version: MACHINE_SNAPSHOT_VERSION,
      cpu: this.cpu.saveSnapshot(),
      memory: this.memory.saveSnapshot(),
      idleNs: this.idleNs,
      a20: this.a20,
      eventSeq: this.emitter.nextSeq,
      devices: {
        pic: this.pic.saveState(), pit: this.pit.saveState(), uart: this.uart.saveState(), cmos: this.cmos.saveState(),
        ps2: this.ps2.saveState(), vga: this.vga.saveState(), port92: this.port92.value,
        post: { last: this.post.last, count: this.post.count },
        disk: this.bios ? this.bios.diskService.saveState() : null,
      },
    };
  }

  restore(s: MachineSnapshot): void {
    if (s.version !== MACHINE_SNAPSHOT_VERSION) throw new Error(`machine snapshot version ${s.version}, expected ${MACHINE_SNAPSHOT_VERSION}`);
    this.memory.loadSnapshot(s.memory);
    this.cpu.loadSnapshot(s.cpu);
    this.idleNs = s.idleNs;
    this.emitter.nextSeq = s.eventSeq;
    const d = s.devices;
    this.pit.loadState(d.pit);
    this.uart.loadState(d.uart);
    this.cmos.loadState(d.cmos);
    this.ps2.loadState(d.ps2);
    this.vga.loadState(d.vga);
    this.post.last = d.post.last;
    this.post.count = d.post.count;
    if (d.disk && this.bios) this.bios.diskService.loadState(d.disk);
    this.setA20(s.a20);
    this.port92.value = d.port92;
    this.pic.loadState(d.pic);
    this.pendingExit = null;
    this.pendingTrap = false;
    this.pendingReset = null;
  }
}

// A virtual machine: guest-physical memory (p2m), its own devices on its own port bus, and one
// vCPU. The vCPU is a Cpu object in guest mode (cpu.guest = the VM's exit controls, vcpu.ts): its
// registers, TLB and decoded-code cache are the VMCS-like saved state the scheduler switches
// between, all running on the one host Memory. Virtual time (PIT, CMOS, TSC) counts only this
// VM's own retired instructions plus the time it spent halted, so its output matches bare metal.
import { Cpu } from '../machine/cpu/cpu.ts';
import { PortBus } from '../machine/io.ts';
import { Pic } from '../machine/devices/pic.ts';
import { Pit } from '../machine/devices/pit.ts';
import { Uart16550 } from '../machine/devices/uart16550.ts';
import { VgaText } from '../machine/devices/vga-text.ts';
import { Cmos } from '../machine/devices/cmos.ts';
import { Ps2Controller } from '../machine/devices/ps2.ts';
import { DebugExit, PostPort, SystemControlA } from '../machine/devices/misc.ts';
import { NS_PER_INSTRUCTION } from '../machine/devices/clock.ts';
import { Machine, type BootMode } from '../machine/machine.ts';
import { BIOS_TRAP_PORT } from '../machine/boot/bios.ts';
import { byteDevice } from '../machine/io.ts';
import { KIND_BIT } from '../trace/schema.ts';
import type { Memory } from '../machine/memory.ts';
import type { Emitter } from '../trace/emitter.ts';
import { GuestPhysical, type HostFrames } from './p2m.ts';
import { ShadowPaging } from './shadow.ts';
import { NestedPaging } from './nested.ts';
import type { Paging } from './paging.ts';
import { VmStats } from './stats.ts';
import type { CostTable } from './costs.ts';
import { Vcpu } from './vcpu.ts';
import { VirtualBios, guestBiosMemory, type BiosEnd } from './vbios.ts';

export type CpuTechnique = 'vtx' | 'deprivilege' | 'bt';
export type PagingTechnique = 'shadow' | 'nested';

export interface VmConfig {
  name?: string;
  image: Uint8Array;
  /** How to load the image (default Multiboot). Boot sectors need the bare machine's BIOS. */
  boot?: BootMode;
  /** Guest RAM (default 64 MiB, as the fixture kernels expect). */
  memoryBytes?: number;
  cpu?: CpuTechnique;
  paging?: PagingTechnique;
  /** Credit scheduler: relative weight (default 256, Xen's default) and cap in % of one CPU (0 = none). */
  weight?: number;
  cap?: number;
  /** Serial output of this VM (COM1). */
  serial?: (text: string) => void;
  /** Stop the VM after this many of its own instructions. */
  maxInstructions?: number;
  /** Shadow paging: address spaces (guest CR3 values) whose shadow tables are cached (default 4; 1 = none kept). */
  shadowRoots?: number;
}

export type VmEnd =
  | { reason: 'debug-exit'; code: number }
  | { reason: 'triple-fault' }
  | { reason: 'halted'; interruptsEnabled: boolean }
  | { reason: 'instruction-limit' }
  | { reason: 'reset' }
  | { reason: 'killed'; message: string };

export type VmState = 'runnable' | 'blocked' | 'exited';

/** What the hypervisor offers a VM. */
export interface HostServices {
  readonly memory: Memory;
  readonly frames: HostFrames;
  readonly emitter: Emitter;
  readonly costs: CostTable;
  /** Adds modelled cycles to the host timeline, charged to `vm`. */
  charge(vm: Vm, cycles: number): void;
  /** Fan-out of decoded-code invalidation to every vCPU sharing the host memory. */
  registerCpu(cpu: Cpu): void;
  /** A read-only host window holding a ROM image; returns its first host page. */
  mapRom(image: Uint8Array): number;
}

export class Vm {
  readonly name: string;
  readonly gmem: GuestPhysical;
  readonly io: PortBus;
  readonly cpu: Cpu;
  readonly vcpu: Vcpu;
  readonly paging: Paging;
  readonly stats = new VmStats();
  readonly pic = new Pic();
  readonly pit: Pit;
  readonly uart = new Uart16550();
  readonly vga: VgaText;
  readonly cmos: Cmos;
  readonly ps2 = new Ps2Controller();
  readonly debugExit = new DebugExit();
  readonly post = new PostPort();
  readonly port92 = new SystemControlA();
  readonly cpuTechnique: CpuTechnique;
  readonly weight: number;
  readonly cap: number;
  readonly maxInstructions: number;
  state: VmState = 'runnable';
  end: VmEnd | null = null;
  /** Nanoseconds skipped while halted (virtual time = instructions × 32 ns + idleNs). */
  idleNs = 0;
  /** While blocked: the host tick at which the VM's next device event falls, and its own time then. */
  wakeAtTick = 0;
  wakeNs = 0;
  idleSkips = 0;
  lastHaltInstructions = -1;
  pendingExitCode: number | null = null;
  pendingReset = false;
  /** The loader's BIOS, bound to this VM (boot sectors call it; see vbios.ts). */
  bios: VirtualBios | null = null;
  /** A BIOS ROM stub wrote the trap port: the run loop services the call. */
  pendingTrap = false;
  /** The VM's A20 gate (port 0x92, keyboard controller) as an address mask. */
  a20Mask = -1;
  /** Text written to COM1 (kept for tests and the CLI's per-VM files). */
  serialText = '';
  /** PAUSE-loop exiting: guest time of the current spin loop's first and latest PAUSE. */
  private pleFirst = -Infinity;
  private pleLast = -Infinity;
  /** A PAUSE-loop exit asked the scheduler to run someone else (run-vm.ts ends the slice). */
  yieldRequested = false;

  constructor(readonly id: number, readonly host: HostServices, config: VmConfig) {
    this.name = config.name ?? `vm${id}`;
    const bytes = config.memoryBytes ?? 64 * 1024 * 1024;
    this.cpuTechnique = config.cpu ?? 'vtx';
    this.weight = config.weight ?? 256;
    this.cap = config.cap ?? 0;
    this.maxInstructions = config.maxInstructions ?? Infinity;
    this.gmem = new GuestPhysical(host.frames, bytes);
    this.gmem.vm = id;
    this.io = new PortBus(host.emitter);
    this.cpu = new Cpu(host.memory, this.io, host.emitter);
    host.registerCpu(this.cpu);
    const clock = { nowNs: () => this.nowNs() };
    this.pit = new Pit(clock);
    this.vga = new VgaText((a, n) => this.gmem.readBytes(a, n));
    this.cmos = new Cmos(clock, bytes);
    this.vcpu = new Vcpu(this);
    this.paging = (config.paging ?? 'shadow') === 'nested' ? new NestedPaging(this.vcpu) : new ShadowPaging(this.vcpu, config.shadowRoots);
    this.wire(config.serial);
    this.load(config.image, config.boot ?? { kind: 'multiboot' }, bytes);
    this.cpu.guest = this.vcpu;
  }

  private wire(serial: ((text: string) => void) | undefined): void {
    const { pic, pit, uart, ps2, io, cpu } = this;
    cpu.pic = pic;
    pic.onChange = () => cpu.interruptCheck();
    pit.setIrq0 = (h) => pic.setIrq(0, h);
    pit.onReprogram = () => cpu.requestStop();
    uart.setIrq = (h) => pic.setIrq(4, h);
    ps2.setIrq1 = (h) => pic.setIrq(1, h);
    uart.output = (b) => {
      const text = String.fromCharCode(b);
      this.serialText += text;
      if (serial) serial(text);
      const em = this.host.emitter;
      if ((em.mask & KIND_BIT.console) !== 0) em.emit('console', { device: 'serial', text });
    };
    this.debugExit.onExit = (code) => { this.pendingExitCode = code; cpu.requestStop(); };
    ps2.onReset = () => { this.pendingReset = true; cpu.requestStop(); };
    this.port92.onReset = () => { this.pendingReset = true; cpu.requestStop(); };
    ps2.onA20 = (on) => this.setA20(on);
    this.port92.onA20 = (on) => this.setA20(on);
    for (const d of [pic, pit, uart, this.vga, this.cmos, ps2, this.post, this.port92]) d.register(io);
    this.debugExit.register(io);
    io.register(BIOS_TRAP_PORT, 1, byteDevice(() => 0xff, () => { this.pendingTrap = true; cpu.requestStop(); }), 'bios-trap');
  }

  /**
   * Loads the image exactly as the bare machine does (same loader, firmware tables and device
   * state: a scratch Machine does the work), then copies the pages it wrote into guest memory and
   * takes over its BIOS, bound to this VM's memory and devices (boot sectors call it).
   */
  private load(image: Uint8Array, boot: BootMode, bytes: number): void {
    const m = new Machine({ memoryBytes: bytes });
    m.load(image, boot);
    // A ROM: its RAM copy below 1 MiB is copied with the rest; its alias at the top of 4 GiB,
    // where the reset vector is, becomes a read-only host window (the scratch machine's MMIO).
    if (boot.kind === 'rom') this.gmem.mapRom(this.host.mapRom(image), image.length >>> 12);
    const ram32 = m.memory.ram32, ram = m.memory.ram;
    for (let page = 0; page < bytes >>> 12; page++) {
      const w = page << 10;
      let nonZero = false;
      for (let k = 0; k < 1024; k++) if (ram32[w + k] !== 0) { nonZero = true; break; }
      if (nonZero) this.gmem.writeBytes(page << 12, ram.subarray(page << 12, (page + 1) << 12));
    }
    this.pic.loadState(m.pic.saveState());
    this.pit.loadState(m.pit.saveState());
    this.uart.loadState(m.uart.saveState());
    this.cmos.loadState(m.cmos.saveState());
    this.ps2.loadState(m.ps2.saveState());
    this.vga.loadState(m.vga.saveState());
    this.cpu.setState(m.cpu.getState());
    if (m.bios !== null) {
      this.bios = new VirtualBios({
        memory: guestBiosMemory(this.gmem), io: this.io, vga: this.vga, cmos: this.cmos, pic: this.pic,
        serialMirror: (b) => this.uart.output(b),
        getA20: () => this.a20Mask === -1, setA20: (on) => this.setA20(on),
      }, m.bios, () => this.ps2.s.outFull || this.ps2.s.out.length > 0);
    }
  }

  /**
   * The vCPU ran PAUSE at CPL 0 (VT-x PAUSE-loop exiting; under bt the translator's callout does
   * the same). PAUSEs at most PLE_Gap apart form one spin loop; once the loop has spun longer than
   * PLE_Window the VM exits and yields the CPU: it stays runnable, it just stops burning its
   * quantum on a lock (or a flag) that only someone else can release.
   */
  pauseLoop(cpu: Cpu, s: { eip: number; length: number }): void {
    const costs = this.host.costs;
    const now = cpu.retired();
    if (now - this.pleLast > costs.pleGap) this.pleFirst = now;
    this.pleLast = now;
    if (now - this.pleFirst <= costs.pleWindow) return;
    this.pleFirst = now;
    this.stats.pauseExits++;
    this.vcpu.exit(cpu, 'PAUSE_INSTRUCTION', 0, costs.handler.PAUSE_INSTRUCTION ?? 0, { instructionLength: s.length, eip: s.eip });
    this.yieldRequested = true;
    cpu.requestStop();
  }

  /** Runs the BIOS service a ROM stub asked for; how the VM ends when the service ends it. */
  serviceBiosTrap(): BiosEnd | null {
    this.pendingTrap = false;
    return this.bios === null ? null : this.bios.trap(this.cpu);
  }

  private setA20(on: boolean): void {
    const mask = on ? -1 : ~0x100000;
    this.port92.value = (this.port92.value & ~2) | (on ? 2 : 0);
    if (mask === this.a20Mask) return;
    this.a20Mask = mask;
    // Every translation may change: drop the TLB and whatever the VMM derived from the old view.
    if (this.cpu.guest !== null) this.paging.pagingModeChanged(this.cpu);
    this.cpu.flushTlb();
  }

  /** This VM's virtual time in nanoseconds. */
  nowNs(): number {
    return this.cpu.retired() * NS_PER_INSTRUCTION + this.idleNs;
  }

  finish(end: VmEnd): void {
    if (this.state === 'exited') return;
    this.state = 'exited';
    this.end = end;
    const em = this.host.emitter;
    if ((em.mask & KIND_BIT.shutdown) !== 0) {
      if (end.reason === 'debug-exit') em.emit('shutdown', { reason: 'debug-exit', code: end.code >>> 0 });
      else if (end.reason === 'triple-fault') { /* the CPU emitted it when the triple fault happened */ }
      else if (end.reason === 'instruction-limit') em.emit('shutdown', { reason: 'instruction-limit' });
      else em.emit('shutdown', { reason: 'stopped' });
    }
    if (end.reason === 'killed' && (em.mask & KIND_BIT.warning) !== 0) {
      em.emit('warning', { message: `${this.name} stopped by the hypervisor: ${end.message}` });
    }
  }

  /** A one-line description of how the VM ended. */
  describeEnd(): string {
    const e = this.end;
    if (e === null) return 'running';
    switch (e.reason) {
      case 'debug-exit': return `debug-exit code 0x${e.code.toString(16)}`;
      case 'triple-fault': return `triple fault at EIP=0x${(this.cpu.eip >>> 0).toString(16)}, the VM shut down`;
      case 'halted': return e.interruptsEnabled ? 'halted waiting for an interrupt that can never come' : 'halted with interrupts disabled';
      case 'instruction-limit': return 'instruction limit reached';
      case 'reset': return 'the guest asked for a reset (not modelled for VMs): stopped';
      case 'killed': return `stopped by the hypervisor: ${e.message}`;
    }
  }

  /** VGA text screen of this VM. */
  vgaText(): string[] {
    return this.vga.text();
  }

  release(): void {
    this.paging.release();
    this.gmem.releaseAll();
  }
}

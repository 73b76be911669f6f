// The vCPU's exit controls: the GuestMode object the CPU consults in guest mode. Exits come in
// two shapes. Synchronous ones (I/O, CR bookkeeping, shadow fills, EPT violations, BT callouts)
// are handled on the spot and the instruction then completes natively, which is what the
// handler would have emulated anyway. Unwound ones (CPUID, RDMSR/WRMSR, INVLPG under shadow)
// abandon the instruction with EIP on it; the VM's run loop (run-vm.ts) emulates it and resumes
// after it. A deprivileged guest kernel really runs at CPL 1 (ring-compression.ts): its
// privileged instructions fault natively and the VMM emulates them (deprivilege-emulate.ts);
// its sensitive ones run natively and misbehave. Every exit is an 'exit' + 'entry' pair of
// events and costs modelled cycles from the cost table.
import type { Cpu } from '../machine/cpu/cpu.ts';
import type { CpuMmu } from '../machine/mmu.ts';
import { VMEXIT_VECTOR, type GuestMode, type GuestSite } from '../machine/cpu/guest-mode.ts';
import { checkIo } from '../machine/cpu/exec-system.ts';
import { deliver } from '../machine/cpu/transfer.ts';
import { FAULT, F_IF } from '../machine/cpu/state.ts';
import { RowFlag } from '../x86/types.ts';
import { KIND_BIT, type ExitReason } from '../trace/schema.ts';
import type { PagingContext } from './paging.ts';
import type { Vm } from './vm.ts';
import { RingCompressor } from './ring-compression.ts';
import { DeprivilegeEmulator, showsRpl } from './deprivilege-emulate.ts';
import { invlpgTarget } from './emulate.ts';

/** Sensitive instructions the binary translator turns into callouts in kernel code (bt). */
const TRANSLATED = new Set(['popf', 'pushf', 'sgdt', 'sidt', 'smsw', 'mov_from_seg', 'push_seg', 'lar', 'lsl', 'verr', 'verw']);

/** Exits that are hardware traps even under binary translation. */
const TRAPS = new Set<ExitReason>(['EXCEPTION_NMI', 'EXTERNAL_INTERRUPT', 'TRIPLE_FAULT', 'PREEMPTION_TIMER', 'HLT']);

const CR0_PE = 1, CR0_WP = 0x10000, CR0_PG = 0x80000000 | 0, CR4_PSE = 0x10;

/** An exit that unwound the instruction and waits for the run loop to emulate it. */
export interface PendingExit {
  reason: ExitReason;
  site: GuestSite | null;
  /** Set when the VM must stop (hostile or out of resources). */
  kill?: string;
}

export class Vcpu implements GuestMode, PagingContext {
  pending: PendingExit | null = null;
  /** Deprivilege: the guest kernel's ring compression and the VMM's trap-and-emulate. */
  readonly rings: RingCompressor;
  readonly emulator: DeprivilegeEmulator;
  /** Set while the VMM emulates a trapped instruction on the guest's own (uncompressed) state. */
  emulating = false;
  /** Set while the VMM delivers an injected interrupt (its faults are the guest's, not traps). */
  private delivering = false;

  constructor(readonly vm: Vm) {
    this.rings = new RingCompressor(vm.cpu);
    this.emulator = new DeprivilegeEmulator(this, this.rings);
  }

  /** VM entry: a deprivileged guest in protected mode runs compressed (ring 1). */
  enterGuest(): void {
    if (this.vm.cpuTechnique === 'deprivilege') this.rings.enter();
  }

  /** The VM ended: its final state is the guest's own view (CPL 0, its GDTR and IDTR). */
  leaveGuest(): void {
    this.rings.leave();
  }

  /** Snapshots and migrations carry the guest's own view; the vCPU runs compressed again at once. */
  guestView<T>(_cpu: Cpu, fn: () => T, load: boolean): T {
    const was = this.rings.active;
    this.rings.leave();
    try {
      return fn();
    } finally {
      if (load) this.enterGuest();
      else if (was) this.rings.enter();
    }
  }

  get gmem() { return this.vm.gmem; }
  get frames() { return this.vm.host.frames; }
  get emitter() { return this.vm.host.emitter; }
  get stats() { return this.vm.stats; }
  get costs() { return this.vm.host.costs; }
  get a20Mask() { return this.vm.a20Mask; }

  /**
   * The transition cost of one exit: a hardware exit under vtx (and for EPT violations), a trap
   * into the VMM for a deprivileged guest, and for bt a callout from translated code unless the
   * exit is a real trap (a fault, an interrupt, the timer).
   */
  private transition(reason: ExitReason): number {
    const c = this.costs;
    const t = this.vm.cpuTechnique;
    if (t === 'vtx' || reason === 'EPT_VIOLATION') return c.hwRoundTrip;
    if (t === 'deprivilege') return c.trapRoundTrip;
    return TRAPS.has(reason) ? c.trapRoundTrip : c.btCallout;
  }

  // ---- PagingContext ---------------------------------------------------------------------------

  exit(cpu: CpuMmu, reason: ExitReason, qualification: number, cycles: number,
    extra: { guestLinear?: number; guestPhysical?: number; injectedVector?: number; instructionLength?: number; eip?: number } = {}): void {
    const total = this.transition(reason) + cycles;
    this.stats.countExit(reason);
    const em = this.emitter;
    const eip = (extra.eip ?? cpu.instructionEip()) >>> 0;
    if ((em.mask & KIND_BIT.exit) !== 0) {
      const ev: Parameters<typeof em.emit<'exit'>>[1] = { reason, qualification: qualification >>> 0, instructionLength: extra.instructionLength ?? 0, eip, cycles: total };
      if (extra.guestLinear !== undefined) ev.guestLinear = extra.guestLinear >>> 0;
      if (extra.guestPhysical !== undefined) ev.guestPhysical = extra.guestPhysical >>> 0;
      em.emit('exit', ev);
    }
    this.vm.host.charge(this.vm, total); // the entry event comes after the handler's cycles
    if ((em.mask & KIND_BIT.entry) !== 0) {
      em.emit('entry', extra.injectedVector !== undefined ? { eip, injectedVector: extra.injectedVector } : { eip });
    }
  }

  charge(cycles: number): void {
    this.vm.host.charge(this.vm, cycles);
  }

  kill(cpu: CpuMmu, message: string): never {
    this.pending = { reason: 'EXCEPTION_NMI', site: null, kill: message };
    return cpu.raise(VMEXIT_VECTOR);
  }

  // ---- GuestMode -------------------------------------------------------------------------------

  translate(cpu: CpuMmu, lin: number, write: boolean, user: boolean): number {
    return this.vm.paging.translate(cpu, lin, write, user);
  }

  exception(cpu: Cpu, vector: number): boolean {
    if (vector === VMEXIT_VECTOR) {
      cpu.requestStop();
      return true;
    }
    // Deprivilege: a #GP (or the #NP of a return to hidden user code) from the compressed guest
    // kernel traps into the VMM, which emulates the instruction. Anything else — faults in guest
    // ring 3 (but for I/O), faults of an emulation, faults while delivering an injected interrupt —
    // is the guest's own and is delivered through its IDT (the other exception-bitmap exits, such
    // as shadow paging's, are handled where the faults arise).
    if (cpu.rings === null || this.delivering) return false;
    if ((vector === 13 || vector === 11) && cpu.cpl === 1) {
      this.emulator.trap(cpu, vector);
      return true;
    }
    // Ring 3's I/O: the guest's own I/O permission bitmap decides, which the VMM checks.
    if (vector === 13 && cpu.cpl === 3 && this.emulator.isIoAt(cpu)) {
      this.emulator.trap(cpu, vector);
      return true;
    }
    return false;
  }

  /**
   * Interrupt injection: the VM's virtual PIC has an unmasked IRQ and the guest has IF=1. Under
   * ring compression the delivery goes through the guest's IDT as the compressed view shows it
   * (transfer.ts), with the frame the guest expects (CS with RPL 0 for its kernel).
   */
  interrupt(cpu: Cpu): void {
    const pic = this.vm.pic;
    if (!pic.hasInterrupt()) {
      cpu.intrPending = false;
      return;
    }
    const vector = pic.acknowledge() & 0xff;
    cpu.halted = false;
    this.stats.interruptsInjected++;
    const em = this.emitter;
    if ((em.mask & KIND_BIT.interrupt) !== 0) em.emit('interrupt', { vector, source: 'injected' });
    this.delivering = true;
    try {
      deliver(cpu, vector, 2, false, 0);
    } catch (e) {
      if (e !== FAULT) throw e;
      cpu.exception(cpu.excVector, cpu.excHasCode, cpu.excCode);
    } finally {
      this.delivering = false;
    }
    cpu.stopBlock = 0;
  }

  instruction(cpu: Cpu, s: GuestSite): void {
    const t = this.vm.cpuTechnique;
    if (this.emulating) return this.emulationBookkeeping(cpu, s);
    if (t === 'deprivilege' && cpu.rings !== null) {
      // Ring compression: privileged instructions fault at CPL 1 before they get here; the
      // sensitive ones run natively — the hole monitor only watches them.
      if (cpu.cpl === 1 && (s.flags & RowFlag.SENSITIVE) !== 0) this.emulator.observe(cpu, s);
      return;
    }
    // Deprivilege in real mode: the VMM's interpreter, with vtx's exit controls. When the guest
    // sets CR0.PE the VMM takes over (a stop after this instruction) and compresses its rings.
    if (t === 'deprivilege' && ((s.op === 'mov_to_cr' && s.reg === 0 && (cpu.regs[s.rm]! & CR0_PE) !== 0) || s.op === 'lmsw')) {
      cpu.requestStop();
    }
    if (s.op === 'hlt') return; // HLT runs natively; the CPU stopping on it is the HLT exit (run-vm.ts)
    if (s.op === 'invlpg' && this.vm.paging.kind === 'shadow' && cpu.cpl === 0) {
      // The shadow entry must go too: the VMM needs the address, so the instruction is emulated.
      return this.unwind(cpu, t === 'vtx' ? 'INVLPG' : t === 'bt' ? 'SENSITIVE_INSTRUCTION' : 'EXCEPTION_NMI', s);
    }
    if (t === 'bt' && (s.flags & RowFlag.SENSITIVE) !== 0) {
      // Kernel code: the translator replaced the instructions that would behave differently
      // (TRANSLATED; for segment pushes and moves only CS and SS) with a callout into the VMM; the
      // rest is translated one to one. User code runs untranslated.
      if (cpu.cpl === 0 && TRANSLATED.has(s.op) && ((s.op !== 'mov_from_seg' && s.op !== 'push_seg') || showsRpl(cpu, s))) {
        this.syncExit(cpu, s, 'SENSITIVE_INSTRUCTION', 0);
      }
      return;
    }
    if (t === 'bt' && (s.flags & RowFlag.PRIV) !== 0) {
      this.syncExit(cpu, s, 'SENSITIVE_INSTRUCTION', 0); // a callout from translated code
      this.bookkeeping(cpu, s);
      return;
    }
    this.hardwareExit(cpu, s);
  }

  /** VT-x exit controls (also the non-kernel path of the other techniques). */
  private hardwareExit(cpu: Cpu, s: GuestSite): void {
    const shadow = this.vm.paging.kind === 'shadow';
    switch (s.op) {
      case 'in': case 'out': case 'ins': case 'outs':
        return this.ioExit(cpu, s);
      case 'mov_to_cr':
        if (!shadow) return;
        this.syncExit(cpu, s, 'CR_ACCESS', s.reg | (s.rm << 8));
        return this.bookkeeping(cpu, s);
      case 'mov_from_cr':
        if (shadow && s.reg === 3) this.syncExit(cpu, s, 'CR_ACCESS', 3 | (1 << 4) | (s.rm << 8));
        return;
      case 'lmsw': case 'clts':
        if (!shadow) return;
        this.syncExit(cpu, s, 'CR_ACCESS', s.op === 'clts' ? 2 << 4 : 3 << 4);
        return this.bookkeeping(cpu, s);
      case 'invlpg':
        if (shadow) this.unwind(cpu, 'INVLPG', s);
        return;
      // The handler's answer is the CPU's own (same CPUID leaves, same TSC MSR, same #GP for
      // others), so after the exit the instruction completes natively with that answer.
      case 'cpuid':
        return this.syncExit(cpu, s, 'CPUID', 0);
      case 'rdmsr':
        return this.syncExit(cpu, s, 'RDMSR', cpu.regs[1]! >>> 0);
      case 'wrmsr':
        return this.syncExit(cpu, s, 'WRMSR', cpu.regs[1]! >>> 0);
      case 'wbinvd':
        return this.syncExit(cpu, s, 'WBINVD', 0);
      case 'invd':
        return this.syncExit(cpu, s, 'INVD', 0);
      case 'pause': // PAUSE-loop exiting applies at CPL 0 only (Intel SDM 25.1.3); vm.ts keeps the window
        if (cpu.cpl === 0) this.vm.pauseLoop(cpu, s);
        return;
      default:
        return; // LGDT, LIDT, CLI, STI, PUSHF ... run natively in guest mode (no exiting control set)
    }
  }

  /** Inside an emulation (deprivilege-emulate.ts): what the VMM keeps in step besides the instruction. */
  private emulationBookkeeping(cpu: Cpu, s: GuestSite): void {
    if (s.op === 'invlpg' && this.vm.paging.kind === 'shadow') this.vm.paging.invlpg(cpu, invlpgTarget(cpu, s));
    else this.bookkeeping(cpu, s);
  }

  private checkPort(cpu: Cpu, s: GuestSite): number {
    const port = s.port >= 0 ? s.port : cpu.regs[2]! & 0xffff;
    checkIo(cpu, port, s.ioSize);
    return port;
  }

  private ioExit(cpu: Cpu, s: GuestSite): void {
    const port = this.checkPort(cpu, s);
    const isIn = s.op === 'in' || s.op === 'ins';
    const string = s.op === 'ins' || s.op === 'outs';
    const q = (s.ioSize - 1) | (isIn ? 8 : 0) | (string ? 16 : 0) | (port << 16);
    this.syncExit(cpu, s, 'IO_INSTRUCTION', q);
  }

  /** Keeps shadow tables true to the guest's CR0/CR3/CR4 (before the write completes natively). */
  private bookkeeping(cpu: Cpu, s: GuestSite): void {
    const paging = this.vm.paging;
    if (paging.kind !== 'shadow') return;
    if (s.op === 'mov_to_cr') {
      const v = cpu.regs[s.rm]!;
      if (s.reg === 3) paging.cr3Written(cpu, v);
      else if (s.reg === 0 && ((cpu.cr0 ^ v) & (CR0_PG | CR0_WP | CR0_PE)) !== 0) paging.pagingModeChanged(cpu);
      else if (s.reg === 4 && ((cpu.cr4 ^ v) & CR4_PSE) !== 0) paging.pagingModeChanged(cpu);
    } else if (s.op === 'lmsw') {
      paging.pagingModeChanged(cpu);
    }
  }

  private syncExit(cpu: Cpu, s: GuestSite, reason: ExitReason, qualification: number, extraCycles = 0): void {
    this.exit(cpu, reason, qualification, (this.costs.handler[reason] ?? 0) + extraCycles, { instructionLength: s.length, eip: s.eip });
  }

  private unwind(cpu: Cpu, reason: ExitReason, s: GuestSite): void {
    this.pending = { reason, site: s };
    cpu.raise(VMEXIT_VECTOR);
  }

  /** IF as the guest sees it (for HLT handling). */
  interruptsEnabled(cpu: Cpu): boolean {
    return (cpu.flags & F_IF) !== 0;
  }
}

// Ring compression: how a classic trap-and-emulate VMM (VMware before VT-x, Xen's 32-bit PV
// guests) runs a guest kernel written for ring 0 in ring 1. While the guest is in protected mode:
//   - the CPU really runs the guest kernel at CPL 1 (CS and SS carry RPL 1);
//   - the CPU's GDTR and IDTR hold the VMM's own tables (VMM_GDT_BASE, VMM_IDT_BASE), so SGDT and
//     SIDT, which are not privileged, reveal them; the guest's GDTR/IDTR live here, recorded when
//     the VMM emulated the guest's LGDT/LIDT (privileged: they fault at CPL 1);
//   - the CPU sees the guest's descriptors through a shadow view (the RingCompression hook that
//     segments.ts, transfer.ts and exec-system.ts consult): DPL 0 reads as DPL 1, so the kernel's
//     own segments and gates work at ring 1, and an interrupt from ring 3 takes the guest's ring-0
//     stack (its TSS's SS0:ESP0) for the compressed ring;
//   - in that view the guest's user code segments (DPL 2-3) are not present while the kernel
//     runs: every return to user mode (IRET, RETF) faults into the VMM, which emulates it and so
//     gives user mode the IF and IOPL the kernel asked for — ring 1 may change neither itself;
//   - the CPU's TSS is the VMM's shadow TSS: its ring-1 stack is the guest's ring-0 stack (SS0:ESP0
//     of the guest's TSS, read through the hook) and it has no I/O permission bitmap, so every
//     IN/OUT above IOPL faults into the VMM whatever the guest's TSS says (the visible TR selector
//     is the guest's: the shadow GDT holds the shadow TSS at the guest's TR index);
//   - every interrupt or exception reaches the VMM first (the CPU's IDT is the VMM's), which
//     reflects it through the guest's IDT with the frame the guest would see on bare metal: CS
//     with RPL 0. The handler's IRET to that frame is then refused at CPL 1 (RPL 0 < CPL), so it
//     traps too, and the VMM restores IF from the frame.
// EFLAGS are the guest's own (IF and IOPL included): CLI/STI and I/O fault at CPL 1 with IOPL 0 and
// are emulated; POPF cannot change IF at ring 1 and does not fault — the hole.
//
// Real mode cannot be deprivileged on this 486 (no virtual-8086 mode): there the guest runs under
// the VMM's interpreter, which executes every instruction exactly as the hardware would, with the
// same exit controls as vtx (I/O, CR accesses). Compression starts when the guest sets CR0.PE: the
// VMM puts CPL 1 in force at that exit. Multiboot guests start in protected mode: compression
// starts at VM entry.
//
// The VM's saved state (between runs, in snapshots and migrations) is the guest's architectural
// state: the VMM compresses it at VM entry (`enter`) and restores the guest's view at VM exit
// (`leave`), as a VMCS holds guest state while the hardware runs its own.
import type { Cpu } from '../machine/cpu/cpu.ts';
import type { CpuMmu } from '../machine/mmu.ts';
import type { RingCompression } from '../machine/cpu/guest-mode.ts';
import type { Descriptor } from '../machine/cpu/segments.ts';
import { CR0_PE, CS, SS } from '../machine/cpu/state.ts';

/** Where the VMM keeps its own descriptor tables in every guest's linear space (deprivilege). */
export const VMM_GDT_BASE = 0xffc01000;
export const VMM_IDT_BASE = 0xffc02000;
export const VMM_GDT_LIMIT = 0xfff;
export const VMM_IDT_LIMIT = 0x7ff;

const DPL_MASK = 0x6000, PRESENT = 0x8000, CODE = 0x1800;
/** The DPL bits in a cached SegmentState access value (access byte | flags << 8). */
const DPL_ACCESS = 0x60;

export class RingCompressor implements RingCompression {
  gdtBase = 0;
  gdtLimit = 0;
  idtBase = 0;
  idtLimit = 0;

  /** True while the CPU runs the guest compressed (cpu.rings === this). */
  get active(): boolean {
    return this.cpu.rings === this;
  }

  constructor(private readonly cpu: Cpu) {}

  compress(cpu: CpuMmu, d: Descriptor): void {
    const dpl = (d.hi & DPL_MASK) >>> 13;
    if (dpl === 0) d.hi |= 1 << 13;
    // The guest's user code is absent from the kernel's view: returns to user mode trap.
    else if (dpl >= 2 && cpu.cpl === 1 && (d.hi & CODE) === CODE) d.hi &= ~PRESENT;
  }

  stackRing(cpl: number): number {
    return cpl === 1 ? 0 : cpl;
  }

  stackSelector(ss: number, cpl: number): number {
    return cpl === 1 && (ss & 3) === 0 ? ss | 1 : ss;
  }

  frameSelector(cs: number): number {
    return this.cpu.cpl === 1 ? cs & ~3 : cs;
  }

  /**
   * VM entry (or the end of an emulation): the guest's architectural state becomes the CPU's
   * compressed state. Does nothing in real mode or when already compressed.
   */
  enter(): void {
    const cpu = this.cpu;
    if (cpu.rings === this || (cpu.cr0 & CR0_PE) === 0) return;
    this.gdtBase = cpu.gdtBase; this.gdtLimit = cpu.gdtLimit;
    this.idtBase = cpu.idtBase; this.idtLimit = cpu.idtLimit;
    cpu.gdtBase = VMM_GDT_BASE | 0; cpu.gdtLimit = VMM_GDT_LIMIT;
    cpu.idtBase = VMM_IDT_BASE | 0; cpu.idtLimit = VMM_IDT_LIMIT;
    if (cpu.cpl === 0) {
      cpu.segSel[CS] = (cpu.segSel[CS]! & ~3) | 1;
      if ((cpu.segSel[SS]! & 3) === 0) cpu.segSel[SS] = cpu.segSel[SS]! | 1;
      cpu.cpl = 1;
      cpu.updateMasks();
    }
    // The descriptor caches hold what the CPU loaded: the compressed view (DPL 0 as 1).
    for (let s = 0; s < 6; s++) if ((cpu.segAccess[s]! & (0x80 | DPL_ACCESS)) === 0x80) cpu.segAccess[s] = cpu.segAccess[s]! | (1 << 5);
    cpu.rings = this;
    cpu.epoch++;
  }

  /** VM exit (or the start of an emulation): the CPU's state becomes the guest's own view. */
  leave(): void {
    const cpu = this.cpu;
    if (cpu.rings !== this) return;
    cpu.rings = null;
    cpu.gdtBase = this.gdtBase; cpu.gdtLimit = this.gdtLimit;
    cpu.idtBase = this.idtBase; cpu.idtLimit = this.idtLimit;
    // This VMM gives the guest rings 0 and 3 (ring 1 is its own): a cached DPL 1 was a DPL 0.
    for (let s = 0; s < 6; s++) if ((cpu.segAccess[s]! & (0x80 | DPL_ACCESS)) === (0x80 | (1 << 5))) cpu.segAccess[s] = cpu.segAccess[s]! & ~DPL_ACCESS;
    if (cpu.cpl === 1) {
      cpu.segSel[CS] = cpu.segSel[CS]! & ~3;
      if ((cpu.segSel[SS]! & 3) === 1) cpu.segSel[SS] = cpu.segSel[SS]! & ~3;
      cpu.cpl = 0;
      cpu.updateMasks();
    }
    cpu.epoch++;
  }
}

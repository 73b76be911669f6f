// The one cost table: modelled cycles charged for the hypervisor's work, so timelines show
// realistic proportions. Guest instructions cost 1 tick each (virtual time); everything here is
// charged on the host timeline only, never to a guest's own clock (its output stays identical to
// bare metal). Numbers are approximate values read from the cited publications; they set
// proportions, not a cycle-exact model of any one processor.
import type { ExitReason } from '../trace/schema.ts';

export interface CostTable {
  /** VM exit + VM entry round trip in hardware (VT-x). */
  hwRoundTrip: number;
  /** A software trap into the VMM and back (deprivileged guest: #GP into ring 0, IRET back). */
  trapRoundTrip: number;
  /** A binary-translation callout (translated code calls the VMM without a hardware trap). */
  btCallout: number;
  /** Decoding and emulating one instruction in the VMM (deprivilege, bt and I/O paths). */
  emulate: number;
  /** Handler work per exit reason, on top of the transition. */
  handler: Partial<Record<ExitReason, number>>;
  /** Shadow paging: filling one shadow entry after walking the guest's tables. */
  shadowFill: number;
  /** Shadow paging: a trapped write to a guest page-table page (decode, apply, invalidate). */
  shadowWriteProtect: number;
  /** Shadow paging: dropping every shadow table (CR3 switch, CR0/CR4 paging change). */
  shadowFlush: number;
  /** Nested paging: one memory reference of the two-dimensional walk. */
  walkReference: number;
  /** Nested paging: allocating and mapping one guest-physical page on an EPT violation. */
  eptFill: number;
  /** A scheduler decision and world switch between VMs. */
  worldSwitch: number;
}

export const DEFAULT_COSTS: CostTable = {
  // Agesen, Mattson, Rugina, Sheldon, "Software Techniques for Avoiding Hardware Virtualization
  // Exits", USENIX ATC 2012, Figure 1: VM exit + entry round-trip latency fell from roughly 2,400
  // cycles (Prescott, 2005) to about 500 (Sandy Bridge, 2011); we take a Core 2-era ~1,000.
  hwRoundTrip: 1000,
  // Adams & Agesen, "A Comparison of Software and Hardware Techniques for x86 Virtualization",
  // ASPLOS 2006, sect. 2: a classical trap (fault into the VMM, return to the guest) costs several
  // hundred cycles on the Pentium 4 before any emulation work.
  trapRoundTrip: 600,
  // Adams & Agesen 2006, sect. 3: a translated sensitive instruction becomes inline code or an
  // in-VMM callout and avoids the trap entirely; tens of cycles for the common cases.
  btCallout: 40,
  // Adams & Agesen 2006, sect. 4 ("decoding and emulating the faulting instruction"): a few
  // hundred cycles of interpretive work per emulated instruction.
  emulate: 300,
  handler: {
    // Intel SDM vol. 3C ch. 25 lists what each exit saves; handler work beyond the transition is
    // modelled small for register-only instructions and larger for device models.
    CPUID: 100,
    RDMSR: 100,
    WRMSR: 150,
    CR_ACCESS: 200,
    INVLPG: 200,
    HLT: 100,
    IO_INSTRUCTION: 400,
    GDTR_IDTR_ACCESS: 150,
    LDTR_TR_ACCESS: 150,
    SENSITIVE_INSTRUCTION: 0,
    EXCEPTION_NMI: 300,
    EXTERNAL_INTERRUPT: 200,
    PREEMPTION_TIMER: 100,
    TRIPLE_FAULT: 100,
    WBINVD: 100,
    INVD: 100,
    EPT_VIOLATION: 300,
  },
  // Adams & Agesen 2006, sect. 2.4 and fig. 4 (pgfault, ptemod): a hidden page fault costs
  // thousands of cycles under shadow paging; ~2,000 of walking and filling on top of the trap.
  shadowFill: 2000,
  // Adams & Agesen 2006, fig. 4 "ptemod": a traced PTE write costs a trap plus emulation.
  shadowWriteProtect: 1500,
  // Rebuilding shadows after a CR3 switch is the dominant cost of context switches under shadow
  // paging (Adams & Agesen 2006, sect. 5, "ptemod"/"cr3wr"); modelled as a flat 4,000.
  shadowFlush: 4000,
  // Bhargava, Serebrin, Spadini, Manne, "Accelerating Two-Dimensional Page Walks for Virtualized
  // Systems", ASPLOS 2008: a 2-D walk makes up to (n+1)(m+1)-1 references; each is a cache
  // access, ~10 cycles when the page-walk caches hit, more when they miss.
  walkReference: 10,
  // An EPT violation: exit, allocate a host frame, map it, resume (SDM vol. 3C 28.2.3).
  eptFill: 1500,
  // Saving one vCPU's state and loading another's (SDM vol. 3C ch. 24: VMCS switch via VMPTRLD)
  // plus the scheduler's own bookkeeping.
  worldSwitch: 2000,
};

export function costTable(overrides: Partial<CostTable> = {}): CostTable {
  return { ...DEFAULT_COSTS, ...overrides, handler: { ...DEFAULT_COSTS.handler, ...(overrides.handler ?? {}) } };
}

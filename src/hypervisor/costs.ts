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
  /** Shadow paging: a CR3 switch to an address space whose shadow root is still cached. */
  shadowRootSwitch: number;
  /** Nested paging: one memory reference of the two-dimensional walk. */
  walkReference: number;
  /** Nested paging: allocating and mapping one guest-physical page on an EPT violation. */
  eptFill: number;
  /** A scheduler decision and world switch between VMs. */
  worldSwitch: number;
  /**
   * PAUSE-loop exiting (VT-x): two PAUSEs at most `pleGap` ticks apart belong to one spin loop;
   * a loop spinning longer than `pleWindow` ticks exits (PAUSE_INSTRUCTION) and the VM yields.
   */
  pleGap: number;
  pleWindow: number;
}

export const DEFAULT_COSTS: CostTable = {
  // Agesen, Mattson, Rugina, Sheldon, "Software Techniques for Avoiding Hardware Virtualization
  // Exits", USENIX ATC 2012, Figure 1: VM exit + entry round-trip latency fell from roughly 2,400
  // cycles (Prescott, 2005) to about 500 (Sandy Bridge, 2011); we take a Core 2-era ~1,000.
  hwRoundTrip: 1000,
  // Adams & Agesen, "A Comparison of Software and Hardware Techniques for x86 Virtualization",
  // ASPLOS 2006: a classical trap (fault into the VMM, return to the guest) costs hundreds of
  // cycles on the Pentium 4 of the paper before any emulation work; we take 600.
  trapRoundTrip: 600,
  // Adams & Agesen 2006 (binary translation): a translated sensitive instruction becomes inline
  // code or a callout into the VMM and avoids the trap entirely; tens of cycles, we take 40.
  btCallout: 40,
  // Adams & Agesen 2006: after a trap the VMM decodes and emulates the faulting instruction,
  // interpretive work of a few hundred cycles; we take 300.
  emulate: 300,
  handler: {
    // Handler work beyond the transition (our estimates, not measurements): small for
    // register-only instructions (CPUID, MSRs), larger for device models (I/O) and fault handling.
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
    // The handler only asks the scheduler to run someone else (Linux KVM's handle_pause calls
    // kvm_vcpu_on_spin); the switch itself is worldSwitch. Our estimate.
    PAUSE_INSTRUCTION: 100,
  },
  // Adams & Agesen 2006 (their page-fault and PTE-modification microbenchmarks): a hidden page
  // fault under shadow paging costs thousands of cycles; 2,000 of walking and filling on top of
  // the exit itself.
  shadowFill: 2000,
  // Adams & Agesen 2006 (PTE modification): a traced page-table write costs an exit plus the
  // emulation of the write and the invalidation of what was derived from it.
  shadowWriteProtect: 1500,
  // Rebuilding shadows after a CR3 switch dominates context switches under shadow paging (Adams
  // & Agesen 2006, context-switch discussion); modelled as a flat 4,000 plus the refills.
  shadowFlush: 4000,
  // A CR3 switch that finds its shadow root in the cache (KVM's "cached roots", VMware's
  // multi-root shadows) only looks the root up and loads it: a hash lookup plus the root switch;
  // our estimate, a tenth of a rebuild's fixed part.
  shadowRootSwitch: 400,
  // Bhargava, Serebrin, Spadini, Manne, "Accelerating Two-Dimensional Page Walks for Virtualized
  // Systems", ASPLOS 2008: a 2-D walk makes up to (n+1)(m+1)-1 references; each is a cache
  // access, ~10 cycles when the page-walk caches hit, more when they miss.
  walkReference: 10,
  // An EPT violation: exit, allocate a host frame, map it in the nested table, resume (Intel SDM
  // vol. 3C, "EPT violations"); our estimate.
  eptFill: 1500,
  // Saving one vCPU's state and loading another's (a VMCS switch, VMPTRLD, in Intel's terms) plus
  // the scheduler's own bookkeeping; our estimate.
  worldSwitch: 2000,
  // Intel SDM vol. 3C, 25.1.3 (PAUSE-loop exiting, PLE_Gap and PLE_Window VM-execution fields),
  // with Linux KVM's defaults (kvm_intel module parameters ple_gap=128, ple_window=4096 cycles);
  // here in ticks of virtual time (one guest instruction = one tick).
  pleGap: 128,
  pleWindow: 4096,
};

export function costTable(overrides: Partial<CostTable> = {}): CostTable {
  return { ...DEFAULT_COSTS, ...overrides, handler: { ...DEFAULT_COSTS.handler, ...(overrides.handler ?? {}) } };
}

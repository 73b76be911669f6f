// Per-VM counters: what a teacher predicts and the benchmark prints.
import type { ExitReason } from '../trace/schema.ts';

export class VmStats {
  /** Guest instructions retired. */
  instructions = 0;
  /** Host ticks this VM consumed: its instructions plus the modelled cycles of its exits. */
  ticks = 0;
  /** Modelled cycles of hypervisor work charged to this VM. */
  overheadCycles = 0;
  exits = 0;
  readonly exitsByReason = new Map<ExitReason, number>();
  /** Shadow: page faults the guest never saw (shadow fills). */
  hiddenFaults = 0;
  /** Shadow: true faults reflected into the guest. */
  injectedFaults = 0;
  /** Shadow: guest writes to its own (write-protected) page tables. */
  pageTableWrites = 0;
  /** Shadow: supervisor writes to read-only pages emulated for a guest with CR0.WP=0. */
  emulatedWrites = 0;
  shadowFlushes = 0;
  shadowFills = 0;
  /** Nested: EPT violations (first touches of guest-physical pages). */
  eptViolations = 0;
  /** Memory references of address translations (2-D or shadow walks). */
  walkReferences = 0;
  interruptsInjected = 0;
  /** PAUSE-loop exits, each one a yield of the CPU. */
  pauseExits = 0;
  /** Shadow: CR3 loads that found their address space's shadow table in the cache. */
  shadowCacheHits = 0;
  /** Deprivilege: sensitive instructions that ran with ring-1 behaviour (the Popek-Goldberg hole). */
  holeHits = 0;

  countExit(reason: ExitReason): void {
    this.exits++;
    this.exitsByReason.set(reason, (this.exitsByReason.get(reason) ?? 0) + 1);
  }

  exitsOf(reason: ExitReason): number {
    return this.exitsByReason.get(reason) ?? 0;
  }
}

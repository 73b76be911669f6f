// What the two memory-virtualization techniques share: the interface the vCPU calls on a TLB
// miss and on the guest's paging-control events, and the services of the VM they work for.
import type { CpuMmu } from '../machine/mmu.ts';
import type { Emitter } from '../trace/emitter.ts';
import type { ExitReason } from '../trace/schema.ts';
import type { HostFrames, GuestPhysical } from './p2m.ts';
import type { CostTable } from './costs.ts';
import type { VmStats } from './stats.ts';
import { hostPageKindBits } from '../machine/cpu/guest-mode.ts';
import { T_DIRTY, T_NOUSER, T_ROSUP, T_ROUSER, T_VALID } from '../machine/mmu.ts';

export interface PagingContext {
  readonly gmem: GuestPhysical;
  readonly frames: HostFrames;
  readonly emitter: Emitter;
  readonly stats: VmStats;
  readonly costs: CostTable;
  /** Records a synchronous exit (exit + entry events, cycles charged, counted by reason). */
  exit(cpu: CpuMmu, reason: ExitReason, qualification: number, cycles: number, extra?: { guestLinear?: number; guestPhysical?: number; injectedVector?: number }): void;
  /** Charges hypervisor/hardware work that is not an exit (walk references). */
  charge(cycles: number): void;
  /** The VM's A20 gate as an address mask (bit 20 cleared while the gate is off, as on a PC). */
  readonly a20Mask: number;
  /** Stops the VM for good with a reason (host memory exhausted ...): never returns. */
  kill(cpu: CpuMmu, message: string): never;
}

export interface Paging {
  readonly kind: 'shadow' | 'nested';
  /** TLB miss: the TLB entry for `lin` (or a #PF raised into the guest). */
  translate(cpu: CpuMmu, lin: number, write: boolean, user: boolean): number;
  /** Guest wrote CR3 (shadow: an exit; nested: never called). */
  cr3Written(cpu: CpuMmu, value: number): void;
  /** Guest changed CR0/CR4 paging bits. */
  pagingModeChanged(cpu: CpuMmu): void;
  /** Guest INVLPG of `lin`. */
  invlpg(cpu: CpuMmu, lin: number): void;
  /** Host frames used for the VMM's own tables. */
  readonly tableFrames: number;
  release(): void;
}

/** Builds a TLB entry for host page `hostPage` with the guest's effective permissions. */
export function tlbEntry(cpu: CpuMmu, hostPage: number, user: boolean, writable: boolean, fastWrites: boolean): number {
  let e = (hostPage << 12) | T_VALID | hostPageKindBits(cpu, hostPage);
  if (!user) e |= T_NOUSER;
  if (!writable) e |= T_ROUSER | ((cpu.cr0 & 0x10000) !== 0 ? T_ROSUP : 0);
  if (fastWrites) e |= T_DIRTY;
  return e;
}

export const PG = 0x80000000 | 0;

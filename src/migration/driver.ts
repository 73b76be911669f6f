// Runs one VM on its host up to a point in its own virtual time, through the hypervisor's own
// VM-entry loop (runVm). With a single VM on the host this is exactly what Hypervisor.run does
// (halted time fast-forwards to the next device event), but it can stop at an exact instruction
// count or clock value, which snapshots and migration rounds need.
import { runVm, wakeVm } from '../hypervisor/run-vm.ts';
import type { Hypervisor, Vm } from '../hypervisor/index.ts';

/** Largest piece run at once (ticks): keeps stops timely without costing speed. */
const SLICE = 1_000_000;

export type DriveEnd = 'reached' | 'ended';

/**
 * Runs `vm` until it has retired `untilInstructions`, or its clock has reached `untilNs`, or it
 * ended. Never runs past `untilInstructions` (the budget counts ticks, which are at least instructions).
 */
export function driveVm(host: Hypervisor, vm: Vm, until: { instructions?: number; ns?: number }): DriveEnd {
  const maxI = until.instructions ?? Infinity, maxNs = until.ns ?? Infinity;
  for (;;) {
    if (vm.state === 'exited') return 'ended';
    if (vm.cpu.instructions >= maxI || vm.nowNs() >= maxNs) return 'reached';
    if (vm.state === 'blocked') wakeVm(vm);
    let budget = Math.min(SLICE, maxI - vm.cpu.instructions);
    if (Number.isFinite(maxNs)) budget = Math.min(budget, Math.max(1, Math.ceil((maxNs - vm.nowNs()) / 32)));
    runVm(vm, budget, host);
  }
}

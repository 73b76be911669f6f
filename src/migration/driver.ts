// Running VMs on a host in pieces of virtual time, which snapshots and migration rounds need.
//
// driveVm runs ONE VM through the hypervisor's VM-entry loop (runVm) up to an exact instruction
// count or clock value; with a single VM on the host this is what Hypervisor.run does.
//
// The WHOLE host, every VM under its scheduler, runs up to an exact host tick through the
// hypervisor's own resumable loop, Hypervisor.runUntil: a migrating VM's neighbours keep running
// during pre-copy rounds and compete with it for the one CPU, as on a real source host, and
// cutting a run into rounds changes nothing for the schedule. runHostUntilVm builds on it.
import { runVm, wakeVm } from '../hypervisor/run-vm.ts';
import type { Hypervisor, Vm } from '../hypervisor/index.ts';
import { NS_PER_INSTRUCTION } from '../machine/devices/clock.ts';

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

/** The host's clock in ns: host ticks (guest instructions, VMM cycles, idle time) × 32 ns. */
export function hostNs(host: Hypervisor): number {
  return host.hostTick() * NS_PER_INSTRUCTION;
}

/**
 * Runs the whole host (Hypervisor.runUntil) until `vm` has retired `instructions` or ended; never
 * past that count. Returns how the VM stands. With no other VM runnable this is driveVm's run.
 */
export function runHostUntilVm(host: Hypervisor, vm: Vm, instructions: number): DriveEnd {
  for (;;) {
    if (vm.state === 'exited') return 'ended';
    if (vm.cpu.instructions >= instructions) return 'reached';
    // The VM retires at most one instruction per host tick: this step never overshoots.
    if (host.runUntil(host.hostTick() + Math.max(1, instructions - vm.cpu.instructions)) === 'done') break;
  }
  return (vm.state as Vm['state']) === 'exited' ? 'ended' : 'reached';
}

// Running VMs on a host in pieces of virtual time, which snapshots and migration rounds need.
//
// driveVm runs ONE VM through the hypervisor's VM-entry loop (runVm) up to an exact instruction
// count or clock value; with a single VM on the host this is what Hypervisor.run does.
//
// runHostUntil runs the WHOLE host, every VM under its scheduler, up to an exact host tick: a
// migrating VM's neighbours keep running during pre-copy rounds and compete with it for the one
// CPU, as on a real source host. It is Hypervisor.runUntil, the hypervisor's own resumable loop,
// so cutting a run into rounds changes nothing for the schedule. Parked VMs (a migration's
// incoming VM, whose state is not there yet) are left alone.
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

export type HostEnd = 'reached' | 'done';

/**
 * Runs every VM of `host` but the parked ones, under its scheduler, until the host clock reaches
 * `tick` ('reached') or no such VM is left to run ('done', the clock then stays where it is).
 */
export function runHostUntil(host: Hypervisor, tick: number, parked: ReadonlySet<Vm> = new Set()): HostEnd {
  return host.runUntil(tick, parked);
}

/**
 * Runs the whole host (as runHostUntil) until `vm` has retired `instructions` or ended; never
 * past that count. Returns how the VM stands. With no other VM runnable this is driveVm's run.
 */
export function runHostUntilVm(host: Hypervisor, vm: Vm, instructions: number): DriveEnd {
  for (;;) {
    if (vm.state === 'exited') return 'ended';
    if (vm.cpu.instructions >= instructions) return 'reached';
    // The VM retires at most one instruction per host tick: this step never overshoots.
    if (runHostUntil(host, host.hostTick() + Math.max(1, instructions - vm.cpu.instructions)) === 'done') break;
  }
  return (vm.state as Vm['state']) === 'exited' ? 'ended' : 'reached';
}

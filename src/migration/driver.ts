// Running VMs on a host in pieces of virtual time, which snapshots and migration rounds need.
//
// driveVm runs ONE VM through the hypervisor's VM-entry loop (runVm) up to an exact instruction
// count or clock value; with a single VM on the host this is what Hypervisor.run does.
//
// runHostUntil runs the WHOLE host, every VM under its scheduler, up to an exact host tick: a
// migrating VM's neighbours keep running during pre-copy rounds and compete with it for the one
// CPU, as on a real source host. It is Hypervisor.run's loop made resumable: a turn cut at the
// limit continues (with the rest of its quantum, no preemption, no new scheduling decision) at
// the next call, and idle time stops at the limit, so cutting a run into rounds changes nothing
// for the schedule. Hypervisor.run keeps its loop state in locals and its helpers private; like
// src/debug/vcpu-target.ts this file reaches them through HostInternals (checked on first use)
// until the hypervisor offers a resumable run. Parked VMs (a migration's incoming VM, whose
// state is not there yet) are left alone.
import { runVm, wakeVm } from '../hypervisor/run-vm.ts';
import type { Hypervisor, Vm } from '../hypervisor/index.ts';
import { NS_PER_INSTRUCTION } from '../machine/devices/clock.ts';
import type { SchedReason } from '../trace/schema.ts';

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

type SliceEnd = 'quantum' | 'halt' | 'exit' | 'yield';

/** The private parts of Hypervisor.run this loop needs (runtime names; checked before first use). */
interface HostInternals {
  tick: number;
  current: Vm | null;
  sliceStart: number;
  wakeDue(): void;
  switchTo(from: Vm | null, to: Vm, reason: SchedReason): void;
  budgetFor(vm: Vm, runnable: number): number;
  runGuarded(vm: Vm, budget: number): SliceEnd;
}
const NEEDED = ['wakeDue', 'switchTo', 'budgetFor', 'runGuarded'] as const;

/** Hypervisor.run's loop state, kept between calls: who ran last, and a turn cut at the limit. */
interface LoopState { last: Vm | null; lastEnd: SchedReason; turn: { vm: Vm; left: number } | null }
const loops = new WeakMap<Hypervisor, LoopState>();

function internals(host: Hypervisor): HostInternals {
  const h = host as unknown as Record<string, unknown>;
  for (const name of NEEDED) {
    if (typeof h[name] !== 'function') throw new Error(`running a whole host in rounds needs Hypervisor.${name}, which is gone`);
  }
  if (typeof h.tick !== 'number') throw new Error('running a whole host in rounds needs Hypervisor.tick, which is gone');
  return host as unknown as HostInternals;
}

export type HostEnd = 'reached' | 'done';

/**
 * Runs every VM of `host` but the parked ones, under its scheduler, until the host clock reaches
 * `tick` ('reached') or no such VM is left to run ('done', the clock then stays where it is).
 */
export function runHostUntil(host: Hypervisor, tick: number, parked: ReadonlySet<Vm> = new Set()): HostEnd {
  const h = internals(host);
  let s = loops.get(host);
  if (s === undefined) loops.set(host, (s = { last: null, lastEnd: 'start', turn: null }));
  for (;;) {
    const live = host.vms.filter((v) => v.state !== 'exited' && !parked.has(v));
    if (live.length === 0) return 'done';
    if (h.tick >= tick) return 'reached';
    h.wakeDue();
    const runnable = live.filter((v) => v.state === 'runnable');
    const cut = s.turn !== null && runnable.includes(s.turn.vm) ? s.turn : null;
    s.turn = null;
    let next: Vm, full: number;
    if (cut !== null) {
      next = cut.vm;
      full = cut.left;
    } else {
      const picked = runnable.length > 0 ? (host.scheduler.pick(runnable, s.last, h.tick, s.lastEnd === 'yield') as Vm | null) : null;
      if (picked === null) {
        idleUntil(host, h, live, runnable.length > 0, tick);
        continue;
      }
      next = picked;
      if (next !== s.last || s.lastEnd === 'start') h.switchTo(s.last, next, s.lastEnd);
      full = h.budgetFor(next, runnable.length);
    }
    const budget = Math.min(full, tick - h.tick);
    const before = next.stats.ticks;
    const end = runTurn(h, next, budget);
    const used = next.stats.ticks - before;
    host.scheduler.charge(next, used, h.tick);
    s.last = next;
    if (end === 'quantum' && budget < full && used < full) {
      s.turn = { vm: next, left: full - used }; // cut by the limit: the turn goes on next time
      s.lastEnd = 'quantum';
      continue;
    }
    if (end === 'quantum' && host.vms.some((v) => v !== next && v.state === 'runnable' && !parked.has(v))) {
      next.vcpu.exit(next.cpu, 'PREEMPTION_TIMER', 0, host.costs.handler.PREEMPTION_TIMER ?? 0);
    }
    s.lastEnd = end;
  }
}

/**
 * Runs `vm` for about `budget` host ticks. runVm's budget bounds the instructions of each
 * cpu.run call, not the cycles the VMM charges meanwhile, so a VM that exits often (tens of
 * ticks per instruction) would overrun it many times over; the turn is therefore run in pieces
 * sized by the VM's ticks per instruction so far, which keeps the end of a round, and the
 * preemption timer, on time.
 */
function runTurn(h: HostInternals, vm: Vm, budget: number): SliceEnd {
  const start = vm.stats.ticks;
  for (;;) {
    const left = budget - (vm.stats.ticks - start);
    const ticksPerInstruction = Math.max(1, vm.stats.ticks / Math.max(1, vm.stats.instructions));
    h.current = vm;
    h.sliceStart = vm.cpu.instructions;
    const end = h.runGuarded(vm, Math.max(1, Math.floor(left / ticksPerInstruction)));
    h.current = null;
    if (end !== 'quantum' || vm.stats.ticks - start >= budget) return end;
  }
}

/** Nothing can run: time passes to the next wake-up (or accounting period), but not past `limit`. */
function idleUntil(host: Hypervisor, h: HostInternals, live: readonly Vm[], cappedOnly: boolean, limit: number): void {
  let next = Infinity;
  for (const v of live) if (v.state === 'blocked') next = Math.min(next, v.wakeAtTick);
  if (cappedOnly) next = Math.min(next, host.scheduler.nextEvent?.(h.tick) ?? h.tick + 1);
  const target = Number.isFinite(next) ? Math.max(h.tick + 1, Math.min(next, limit)) : limit;
  host.idleTicks += target - h.tick;
  h.tick = target;
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

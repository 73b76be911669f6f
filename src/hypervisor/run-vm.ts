// Running one VM for up to a quantum: the VM-entry/exit loop. It mirrors Machine.run (slices that
// end at the VM's next device deadline, HLT skipping to the next device event) so that a guest's
// virtual time, and therefore its output, is the same as on bare metal; the differences are that
// a quantum (the preemption timer) bounds the run, HLT blocks the vCPU instead of skipping time
// while other VMs wait, and unwound exits are emulated here. A deprivileged guest in protected
// mode runs compressed (ring 1, ring-compression.ts) from its first VM entry until it ends;
// snapshots of it hold its own architectural view (Vcpu.guestView).
import { FAULT, F_IF } from '../machine/cpu/state.ts';
import { NS_PER_INSTRUCTION } from '../machine/devices/clock.ts';
import type { Vm } from './vm.ts';
import type { PendingExit } from './vcpu.ts';
import { emulateCpuid, emulateMsr, invlpgTarget } from './emulate.ts';

export type SliceEnd = 'quantum' | 'halt' | 'exit' | 'yield';

/** The host side the loop needs: the host clock and instruction accounting. */
export interface RunHost {
  hostTick(): number;
  retire(vm: Vm, instructions: number): void;
}

/** A halted VM waits this many device events without running an instruction before giving up (as Machine.run). */
const MAX_IDLE_SKIPS = 100_000;

/** Runs `vm` until it has used `budget` host ticks, halts, or ends. */
export function runVm(vm: Vm, budget: number, host: RunHost): SliceEnd {
  try {
    return runSlices(vm, budget, host);
  } finally {
    // Between slices a deprivileged vCPU stays compressed (a debugger paused in it sees ring 1);
    // once the VM has ended its state is the guest's own view.
    if (vm.state === 'exited') vm.vcpu.leaveGuest();
  }
}

function runSlices(vm: Vm, budget: number, host: RunHost): SliceEnd {
  const cpu = vm.cpu, pit = vm.pit;
  const budgetEndNs = vm.maxInstructions * NS_PER_INSTRUCTION;
  const startTicks = vm.stats.ticks;
  while (vm.stats.ticks - startTicks < budget) {
    const now = vm.nowNs();
    const hadIrq = vm.pic.hasInterrupt();
    pit.advanceTo(now);
    // The VM's timer fired while it ran: on hardware the host's timer interrupt exits to the
    // VMM, which raises the virtual IRQ; the injection follows at the guest's interrupt window.
    if (!hadIrq && vm.pic.hasInterrupt()) vm.vcpu.exit(cpu, 'EXTERNAL_INTERRUPT', 0, vm.host.costs.handler.EXTERNAL_INTERRUPT ?? 0);
    vm.uart.pollInput();
    if (now >= budgetEndNs) {
      vm.finish({ reason: 'instruction-limit' });
      return 'exit';
    }
    const deadline = Math.min(pit.nextDeadlineNs(), budgetEndNs);
    let slice = Math.max(1, Math.ceil((deadline - now) / NS_PER_INSTRUCTION));
    if (!Number.isFinite(slice)) slice = 1e9;
    // The budget is host ticks, and exits charge VMM cycles on top of each instruction: a VM that
    // exits often (tens of ticks per instruction) would overrun its quantum many times over in
    // one cpu.run, so the slice is sized by the VM's ticks per instruction so far.
    const ticksPerInstruction = Math.max(1, vm.stats.ticks / Math.max(1, vm.stats.instructions));
    slice = Math.max(1, Math.min(slice, Math.floor((budget - (vm.stats.ticks - startTicks)) / ticksPerInstruction)));
    const before = cpu.instructions;
    vm.vcpu.enterGuest(); // also where real mode's CR0.PE write hands over to ring compression
    const r = cpu.run(slice);
    host.retire(vm, cpu.instructions - before);
    if (r === 'budget') continue;
    if (r === 'shutdown') {
      vm.vcpu.exit(cpu, 'TRIPLE_FAULT', 0, vm.host.costs.handler.TRIPLE_FAULT ?? 0);
      vm.finish({ reason: 'triple-fault' });
      return 'exit';
    }
    if (r === 'stop') {
      if (afterStop(vm)) return 'exit';
      if (vm.yieldRequested) { vm.yieldRequested = false; return 'yield'; } // a PAUSE-loop exit (vm.ts)
      continue;
    }
    return halted(vm, host, budgetEndNs);
  }
  return 'quantum';
}

/** HLT: an exit; the vCPU blocks until its next device event (or the VM can never wake). */
function halted(vm: Vm, host: RunHost, budgetEndNs: number): SliceEnd {
  const cpu = vm.cpu;
  // Deprivileged and compressed, HLT faulted at CPL 1: that #GP was the exit (the VMM emulated it).
  if (cpu.rings === null) vm.vcpu.exit(cpu, 'HLT', 0, vm.host.costs.handler.HLT ?? 0, { instructionLength: 1, eip: (cpu.eip - 1) >>> 0 });
  if ((cpu.flags & F_IF) === 0) {
    vm.finish({ reason: 'halted', interruptsEnabled: false });
    return 'exit';
  }
  // Blocked until the timer's next rising edge (what raises IRQ 0), not its next transition of
  // any kind: a wake that brings no interrupt would re-enter the guest only to exit on HLT again.
  const next = vm.pit.nextRiseNs();
  if (!Number.isFinite(next)) {
    vm.finish({ reason: 'halted', interruptsEnabled: true });
    return 'exit';
  }
  if (cpu.instructions !== vm.lastHaltInstructions) {
    vm.lastHaltInstructions = cpu.instructions;
    vm.idleSkips = 0;
  }
  if (++vm.idleSkips > MAX_IDLE_SKIPS) {
    vm.finish({ reason: 'halted', interruptsEnabled: true });
    return 'exit';
  }
  const now = vm.nowNs();
  const wake = Math.max(now, Math.min(next, budgetEndNs));
  vm.state = 'blocked';
  vm.wakeNs = wake;
  vm.wakeAtTick = host.hostTick() + Math.ceil((wake - now) / NS_PER_INSTRUCTION);
  return 'halt';
}

/** Wakes a blocked VM: the time it slept passes on its own clock, as HLT does on bare metal. */
export function wakeVm(vm: Vm): void {
  vm.idleNs += Math.max(0, vm.wakeNs - vm.nowNs());
  vm.state = 'runnable';
}

/** After cpu.run returned 'stop': debug-exit, unwound exits, kills, resets. True when the VM ended. */
function afterStop(vm: Vm): boolean {
  if (vm.pendingExitCode !== null) {
    vm.finish({ reason: 'debug-exit', code: vm.pendingExitCode });
    return true;
  }
  if (vm.pendingTrap) {
    const end = vm.serviceBiosTrap();
    if (end !== null) {
      vm.finish(end);
      return true;
    }
  }
  for (let guard = 0; vm.vcpu.pending !== null && guard < 4; guard++) {
    const p = vm.vcpu.pending;
    vm.vcpu.pending = null;
    if (p.kill !== undefined) {
      vm.vcpu.exit(vm.cpu, p.reason, 0, 0);
      vm.finish({ reason: 'killed', message: p.kill });
      return true;
    }
    emulatePending(vm, p);
  }
  if (vm.pendingExitCode !== null) {
    vm.finish({ reason: 'debug-exit', code: vm.pendingExitCode });
    return true;
  }
  if (vm.pendingReset) {
    vm.finish({ reason: 'reset' });
    return true;
  }
  return false;
}

/** Emulates an unwound instruction and resumes after it (a fault goes to the guest instead). */
function emulatePending(vm: Vm, p: PendingExit): void {
  const cpu = vm.cpu, s = p.site!;
  const costs = vm.host.costs;
  try {
    let linear: number | undefined;
    switch (s.op) {
      case 'cpuid': emulateCpuid(cpu); break;
      case 'rdmsr': emulateMsr(cpu, false); break;
      case 'wrmsr': emulateMsr(cpu, true); break;
      case 'invlpg': linear = invlpgTarget(cpu, s) >>> 0; vm.paging.invlpg(cpu, linear); break;
      default: break;
    }
    // Intel's INVLPG exit qualification is the linear address the instruction names.
    const q = p.reason === 'EXCEPTION_NMI' ? 13 : p.reason === 'INVLPG' && linear !== undefined ? linear : 0;
    const extra: { instructionLength: number; eip: number; guestLinear?: number } = { instructionLength: s.length, eip: s.eip };
    if (linear !== undefined) extra.guestLinear = linear;
    vm.vcpu.exit(cpu, p.reason, q, (costs.handler[p.reason] ?? 0) + costs.emulate, extra);
    cpu.eip = (s.eip + s.length) & (cpu.code32 ? -1 : 0xffff);
    cpu.instructions++;
  } catch (e) {
    if (e !== FAULT) throw e;
    cpu.exception(cpu.excVector, cpu.excHasCode, cpu.excCode);
  }
}

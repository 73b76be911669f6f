// A debug target for one vCPU under the hypervisor: the engine (engine.ts) sees the focused VM's
// CPU, its guest-physical memory and the host's event stream, and `run(n)` advances the WHOLE host
// (every VM on its schedule) until the focused vCPU has retired n guest instructions or the engine
// stopped it. Guest instructions that exit emit their 'exit'/'entry' events while the vCPU is
// stepped, so a step into an OUT shows the exit and its handling in the stream.
//
// The scheduling loop is Hypervisor.run's, made resumable: run() may end in the middle of a VM's
// slice (at the focused vCPU's next boundary) and the next run() continues that slice exactly as
// if it had never stopped. Two things make the split invisible to the schedule:
// - the focused CPU's run() is wrapped: a cut slice of k instructions resumes with the rest of
//   that same cpu.run call (the "carry"), not with a slice re-derived from the budget (exit cycles
//   charged meanwhile would make it shorter);
// - runVm is made to return at its next loop top by adding a large constant to the VM's tick count
//   for the call (taken off right after), so no cycles are charged and no preemption is modelled.
// Hypervisor.run keeps its loop state in locals and its helpers private; this file reaches them
// through HostInternals (checked at construction) until the hypervisor offers a resumable run.
// snapshot()/restore() cover the whole host (vcpu-snapshot.ts), so reverse execution works.
//
// Typed input is the host's too: one log (input.ts) for every VM, shared by every target on the
// hypervisor, each record placed at its VM's instruction count and the host tick it went in at.
// run() delivers each record when the host gets there again, whichever vCPU is focused: a VM's
// cpu.run is cut where a record falls inside it (its own count, or the host tick for a record of
// a VM that waits meanwhile), the same cut a stop there makes, and the record is handed over
// between the host loop's steps. Nothing per instruction: one check per cpu.run call.
import type { Hypervisor } from '../hypervisor/hypervisor.ts';
import type { Vm } from '../hypervisor/vm.ts';
import type { Cpu } from '../machine/cpu/cpu.ts';
import type { StopReason as CpuStop } from '../machine/bus.ts';
import type { Emitter } from '../trace/emitter.ts';
import type { SchedReason } from '../trace/schema.ts';
import type { DebugMachine, DebugMemory, DebugRunResult } from './types.ts';
import { captureHost, restoreHost, type HostSnapshot } from './vcpu-snapshot.ts';
import { connectDevices, deliver, InputLog, type InputPort, type InputRecord } from './input.ts';

/** Added to a VM's tick count while runVm finishes a cut slice (far above any quantum). */
const BUMP = 2 ** 40;

type SliceEnd = 'quantum' | 'halt' | 'exit' | 'yield';

/** The private parts of Hypervisor.run this loop needs (runtime names; checked in the constructor). */
interface HostInternals {
  tick: number;
  current: Vm | null;
  sliceStart: number;
  wakeDue(): void;
  idle(live: readonly Vm[], cappedOnly: boolean, limit: number): boolean;
  switchTo(from: Vm | null, to: Vm, reason: SchedReason): void;
  budgetFor(vm: Vm, runnable: number): number;
  runGuarded(vm: Vm, budget: number): SliceEnd;
}

const NEEDED = ['wakeDue', 'idle', 'switchTo', 'budgetFor', 'runGuarded'] as const;

/** VM `vmId`'s retired instructions in a host snapshot (a VcpuTarget's snapshot()): its position there. */
export function instructionsIn(snapshot: unknown, vmId: number): number {
  const cpu = (snapshot as HostSnapshot).vms[vmId]?.cpu as { instructions?: unknown } | undefined;
  if (typeof cpu?.instructions !== 'number') throw new Error(`no VM ${vmId} in this host snapshot`);
  return cpu.instructions;
}

/** Guest-physical memory as the engine reads it: `ram[gpa]`, 0 where no host frame backs the page yet. */
function guestRam(vm: Vm): DebugMemory {
  const gmem = vm.gmem;
  const host = gmem.memory.ram;
  const peek = (gpa: number): number => {
    const f = gmem.peekBacking(gpa >>> 12);
    return f > 0 ? host[(f << 12) | (gpa & 0xfff)]! : 0;
  };
  const ram = new Proxy(new Uint8Array(0), {
    get(target, key) {
      if (typeof key === 'string') {
        const p = Number(key);
        if (Number.isInteger(p)) return peek(p);
      }
      return Reflect.get(target, key) as unknown;
    },
  });
  return { ram, size: gmem.bytes, writeBytes: (p, bytes) => gmem.writeBytes(p, bytes) };
}

/**
 * Hypervisor.run's loop state, kept between runs and shared by every target on one hypervisor (the
 * debugger may switch its focus from one vCPU to another and back: the host's schedule must not
 * notice, so the loop and the cut slices belong to the host, not to one target).
 */
interface HostLoop {
  last: Vm | null;
  lastEnd: SchedReason;
  /** The slice in progress (cut short by a stop), or null between slices. */
  slice: { vm: Vm; budget: number; before: number } | null;
  /** Per VM id: instructions left of its CPU's cut cpu.run call (the next call runs exactly these). */
  carry: number[];
  cut: boolean;
  /** The target inside run() now (it caps its own vCPU's runs), or null. */
  driver: VcpuTarget | null;
  /** VM ids whose cpu.run is wrapped. */
  wrapped: Set<number>;
  /** Typed input of every VM, in the order the host received it (channel = VM id). */
  input: InputLog;
  /** Per VM id: its devices, connected to the log (connectInput). */
  ports: InputPort[];
}

const loops = new WeakMap<Hypervisor, HostLoop>();

function loopOf(hv: Hypervisor): HostLoop {
  let l = loops.get(hv);
  if (!l) {
    l = { last: null, lastEnd: 'start', slice: null, carry: [], cut: false, driver: null, wrapped: new Set(), input: new InputLog(), ports: [] };
    loops.set(hv, l);
  }
  return l;
}

export class VcpuTarget implements DebugMachine {
  readonly vm: Vm;
  readonly cpu: Cpu;
  readonly memory: DebugMemory;
  readonly emitter: Emitter;
  private readonly host: HostInternals;
  private readonly loop: HostLoop;
  /** The host's input log, shared by every target (and so every debugger) on this hypervisor. */
  readonly input: InputLog;
  /** The focused vCPU's instruction count this run() ends at. */
  private target = 0;
  private stopLatched = false;

  constructor(readonly hv: Hypervisor, vmId: number) {
    const vm = hv.vms[vmId];
    if (vm === undefined) throw new Error(`no VM ${vmId}: the hypervisor has ${hv.vms.length}`);
    const internals = hv as unknown as Record<string, unknown>;
    for (const name of NEEDED) {
      if (typeof internals[name] !== 'function') throw new Error(`the vCPU debug target needs Hypervisor.${name}, which is gone`);
    }
    this.host = hv as unknown as HostInternals;
    this.vm = vm;
    this.cpu = vm.cpu;
    this.memory = guestRam(vm);
    this.emitter = hv.emitter;
    this.loop = loopOf(hv);
    this.input = this.loop.input;
    // Every vCPU's, not only this one's: any of them may have to stop where recorded input falls due.
    for (const v of hv.vms) this.wrapCpuRun(v);
  }

  /**
   * This VM's UART and keyboard, fed from the host's input log: the debugger's inputPort. Typed
   * input is stamped with the host's place, and run() replays it (not the debugger).
   */
  connectInput(): InputPort {
    const vm = this.vm, l = this.loop;
    const port = (l.ports[vm.id] ??= connectDevices(vm.uart, vm.ps2, l.input, undefined, vm.id));
    return { ...port, stamp: () => ({ vm: vm.id, tick: this.host.tick }) };
  }

  /** Advances the host until the focused vCPU retired `max` instructions, stop() was called or it ended. */
  run(max = Number.MAX_SAFE_INTEGER): DebugRunResult {
    const vm = this.vm;
    this.stopLatched = false;
    this.target = vm.cpu.instructions + max;
    this.loop.driver = this;
    try {
      for (;;) {
        this.deliverDueInput();
        if (vm.state === 'exited') return this.ending();
        if (this.stopLatched) return { reason: 'stopped' };
        if (vm.cpu.instructions >= this.target) return { reason: 'instruction-limit' };
        if (!this.advance()) return { reason: 'halted' }; // nothing can ever run again
      }
    } finally {
      this.loop.driver = null;
      this.stopLatched = false;
    }
  }

  /** Ends run() at the focused vCPU's next instruction boundary (from a hook or a handler). */
  stop(): void {
    this.stopLatched = true;
    if (this.host.current === this.vm) this.vm.cpu.requestStop();
  }

  /** The whole host (every VM, the scheduler, host memory) and this loop's place in it. */
  snapshot(): unknown {
    const l = this.loop;
    const slice = l.slice === null ? null : { vm: l.slice.vm.id, budget: l.slice.budget, before: l.slice.before };
    return captureHost(this.hv, { last: l.last?.id ?? -1, lastEnd: l.lastEnd, slice, carry: l.carry.slice() });
  }

  restore(s: unknown): void {
    const loop = restoreHost(this.hv, s as HostSnapshot) as { last: number; lastEnd: SchedReason; slice: { vm: number; budget: number; before: number } | null; carry: number[] };
    const vms = this.hv.vms;
    const l = this.loop;
    l.last = loop.last < 0 ? null : vms[loop.last]!;
    l.lastEnd = loop.lastEnd;
    l.slice = loop.slice === null ? null : { vm: vms[loop.slice.vm]!, budget: loop.slice.budget, before: loop.slice.before };
    l.carry = loop.carry.slice();
    l.cut = false;
  }

  /** Hands over the recorded input the host has reached (between the loop's steps). */
  private deliverDueInput(): void {
    const log = this.loop.input;
    for (let r = log.next; r !== undefined && this.reached(r); r = log.next) {
      const port = this.loop.ports[r.vm ?? 0];
      if (port === undefined) throw new Error(`input recorded for VM ${r.vm ?? 0}, whose devices are not connected`);
      deliver(port, log.advance());
    }
  }

  /** The host is at (or past) the place where `r` went in: its VM retired as much, and the host's clock got there. */
  private reached(r: InputRecord): boolean {
    const at = this.hv.vms[r.vm ?? 0];
    return at !== undefined && at.cpu.instructions >= r.n && this.host.tick >= (r.tick ?? 0);
  }

  /**
   * How many instructions `vm`'s CPU may run before the next recorded input falls due: up to the
   * record's count on its own VM; on any VM, up to the host tick of a record whose VM has reached
   * its count (it waits, halted or descheduled, and the input reaches it while another VM runs).
   * The host's tick between cpu.run calls is the one the loop's steps see (hostTick() inside a
   * slice may count an emulated instruction early), so a cut here is a place reached() agrees with.
   */
  private untilInput(vm: Vm): number {
    const r = this.loop.input.next;
    if (r === undefined) return Infinity;
    const owner = r.vm ?? 0;
    const own = this.hv.vms[owner]?.cpu.instructions ?? 0;
    if (own < r.n) return owner === vm.id ? r.n - own : Infinity;
    return Math.max(0, Math.ceil((r.tick ?? 0) - this.host.tick));
  }

  /** How the focused VM ended, in the engine's words. */
  private ending(): DebugRunResult {
    const e = this.vm.end;
    if (e?.reason === 'debug-exit') return { reason: 'debug-exit', code: e.code };
    if (e?.reason === 'triple-fault') return { reason: 'triple-fault' };
    return { reason: 'halted' }; // halted, instruction limit, reset, killed: it will not run again (vm.end says why)
  }

  /** One step of Hypervisor.run's loop: picks a VM (or idles) and runs (the rest of) its slice. False when nothing can run. */
  private advance(): boolean {
    const h = this.host, hv = this.hv, l = this.loop;
    if (l.slice === null) {
      if (!hv.vms.some((v) => v.state !== 'exited')) return false;
      h.wakeDue();
      const runnable = hv.vms.filter((v) => v.state === 'runnable');
      const next = runnable.length > 0 ? (hv.scheduler.pick(runnable, l.last, h.tick, l.lastEnd === 'yield') as Vm | null) : null;
      if (next === null) {
        return h.idle(hv.vms.filter((v) => v.state !== 'exited'), runnable.length > 0, Infinity);
      }
      if (next !== l.last || l.lastEnd === 'start') h.switchTo(l.last, next, l.lastEnd);
      l.slice = { vm: next, budget: h.budgetFor(next, runnable.length), before: next.stats.ticks };
    }
    const s = l.slice, vm = s.vm;
    const remaining = s.budget - (vm.stats.ticks - s.before);
    h.current = vm;
    h.sliceStart = vm.cpu.instructions;
    l.cut = false;
    // A carried cpu.run must run even when exit cycles already used up the budget (it would have, uncut).
    const end = h.runGuarded(vm, (l.carry[vm.id] ?? 0) > 0 ? Math.max(1, remaining) : remaining);
    h.current = null;
    if (l.cut) {
      vm.stats.ticks -= BUMP;
      l.cut = false;
      if (end === 'quantum') return true; // the slice goes on at the next advance()
    }
    l.carry[vm.id] = 0;
    hv.scheduler.charge(vm, vm.stats.ticks - s.before, h.tick);
    if (end === 'quantum' && hv.vms.some((v) => v !== vm && v.state === 'runnable')) {
      vm.vcpu.exit(vm.cpu, 'PREEMPTION_TIMER', 0, hv.costs.handler.PREEMPTION_TIMER ?? 0);
    }
    l.lastEnd = end;
    l.last = vm;
    l.slice = null;
    return true;
  }

  /**
   * A VM's CPU run() (wrapped once per VM, whichever target focuses it): while a target drives
   * the host it is capped at the run's target count (the focused vCPU) and where the next recorded
   * input falls due (any vCPU); a cut call (cap reached, or the engine's stop) makes runVm return at
   * its loop top, and the next call on that CPU runs the cut call's remainder, whoever drives then,
   * so the schedule is that of an uncut run.
   */
  private wrapCpuRun(vm: Vm): void {
    const l = this.loop, cpu = vm.cpu;
    if (l.wrapped.has(vm.id)) return;
    l.wrapped.add(vm.id);
    const original = cpu.run.bind(cpu);
    const cut = (): void => {
      if (!l.cut) vm.stats.ticks += BUMP;
      l.cut = true;
    };
    cpu.run = (asked: number): CpuStop => {
      const driver = l.driver;
      if (driver === null) return original(asked);
      const carry = l.carry[vm.id] ?? 0;
      const want = carry > 0 ? carry : asked;
      const own = driver.vm === vm;
      const allowed = Math.min(want, own ? driver.target - cpu.instructions : Infinity, driver.untilInput(vm));
      if (allowed <= 0) {
        // At the cap already (the VMM emulated the instruction that reached it, and runVm goes
        // on): cut before running anything; this whole call is carried to the next run.
        l.carry[vm.id] = want;
        cut();
        return 'budget';
      }
      l.carry[vm.id] = 0;
      const start = cpu.instructions;
      const r = original(allowed);
      const ran = cpu.instructions - start;
      const debugStop = own && r === 'stop' && driver.stopLatched && !driver.naturalStop();
      if ((r === 'budget' && allowed < want) || debugStop) {
        l.carry[vm.id] = Math.max(0, want - ran);
        cut();
      }
      return r;
    };
  }

  /** The VM itself asked the CPU to stop (an exit to emulate, a BIOS call, debug-exit, reset). */
  naturalStop(): boolean {
    const vm = this.vm;
    return vm.vcpu.pending !== null || vm.pendingTrap || vm.pendingExitCode !== null || vm.pendingReset;
  }

  /** Puts the focused CPU's own run() back (no target on this VM is used afterwards). */
  dispose(): void {
    delete (this.vm.cpu as unknown as { run?: unknown }).run;
    this.loop.wrapped.delete(this.vm.id);
  }
}

// The worker's debugging engine: the machine under src/debug's Debugger (breakpoints with
// conditions, stepping, reverse execution), plus what the app adds around it: typed input (serial
// bytes, PS/2 keys) recorded in the debugger's history so that it replays exactly (debug/input.ts),
// where each event happened so that a click on it goes there (debug/event-locator.ts), and the
// event batch the UI has not seen yet. In hypervisor mode the debugger drives one VM's vCPU
// (src/debug/vcpu-target.ts) on a Hypervisor built from the settings, every VM booting the same
// program; the views then read that VM's CPU and guest-physical memory, and typing goes to that
// VM. Switching the focus keeps each vCPU's debugger and history. The UI's breakpoint lists live in
// breakpoint-lists.ts (they move between those debuggers), and what a stop means in outcome.ts.
import { Emitter } from '../trace/emitter.ts';
import { KIND_BIT, type TraceEvent } from '../trace/schema.ts';
import { Debugger } from '../debug/debugger.ts';
import type { StopInfo } from '../debug/types.ts';
import type { EventBreakSpec } from '../debug/event-conditions.ts';
import type { BootMode, Core, Machine } from './core.ts';
import type { CpuView } from './protocol.ts';
import { linearToPhysical } from './walk.ts';
import { Hypervisor } from '../hypervisor/index.ts';
import { instructionsIn, VcpuTarget } from '../debug/vcpu-target.ts';
import type { HistoryEntry } from '../debug/history.ts';
import { EventLocator } from '../debug/event-locator.ts';
import { connectDevices } from '../debug/input.ts';
import type { HvConfig } from './protocol.ts';
import type { Cpu } from '../machine/cpu/cpu.ts';
import type { DebugMachine, DebugMemory } from '../debug/types.ts';
import { BreakpointLists, type CodeBreakpoint, type Watch } from './breakpoint-lists.ts';
import { endsTheRun, outcomeOf, type Outcome } from './outcome.ts';

/** Under the hypervisor: every VM boots the project's program; the debugger drives the focused vCPU. */
export interface HvFocus {
  hv: Hypervisor;
  target: VcpuTarget;
  focus: number;
}

/** Events the UI gets by default: everything except the per-reference page walks. */
export const DEFAULT_EVENT_MASK = Object.values(KIND_BIT).reduce((m, b) => m | b, 0) & ~KIND_BIT.walk;

export class Engine {
  readonly machine: Machine;
  readonly emitter = new Emitter();
  dbg!: Debugger;
  /** Set when the run has ended for good (debug exit, triple fault, halt with IF=0). */
  finished: Outcome | null = null;
  pendingEvents: TraceEvent[] = [];
  /** Set when the machine moved back in time: the UI drops events from this sequence number on. */
  rewoundTo: number | null = null;
  /** Where each event sent happened (the debugged CPU's retired count): event clicks go there. */
  private readonly events = new EventLocator(() => this.cpu.retired());
  /** Set while going to an event: the event list is cut right after it, not by position. */
  private seekingEvent = false;
  /** Set during a command that may go back (its replays re-emit events up to `knownUpTo` retired). */
  private rewinding = false;
  private knownUpTo = -1;
  /** The UI's breakpoint lists, installed in `dbg` (moved to another vCPU's debugger on a change of focus). */
  private readonly lists = new BreakpointLists();

  /** Set in hypervisor mode (load() builds it): the views then show the focused VM. */
  hvFocus: HvFocus | null = null;
  private hv: Hypervisor | null = null;
  /** Under the hypervisor: one debugger per vCPU focused so far (each with its own history). */
  private readonly vcpuDebuggers = new Map<number, { target: VcpuTarget; dbg: Debugger }>();
  private readonly memoryBytes: number;

  constructor(core: Core, memoryBytes: number, private readonly hvConfig: (HvConfig & { focusVm?: number }) | null = null) {
    this.memoryBytes = memoryBytes;
    // Typed input reaches the guest through the debugger's input log (src/debug/input.ts), which
    // replays it exactly after going back in time.
    this.machine = core.createMachine({ memoryBytes, emitter: this.emitter, serialInput: () => undefined });
    this.emitter.listen({
      // Under the hypervisor the walks too: the Hypervisor tab draws the last fault's (2-D) walk.
      mask: hvConfig ? DEFAULT_EVENT_MASK | KIND_BIT.walk : DEFAULT_EVENT_MASK,
      onEvent: (ev) => {
        // Going back replays from a snapshot: what the UI already has comes again, not anew.
        if (this.rewinding && this.cpu.retired() <= this.knownUpTo) return;
        this.pendingEvents.push(ev);
        this.events.record(ev, this.hvFocus?.focus ?? 0);
      },
    });
  }

  /** The CPU the debugger drives: the bare machine's, or the focused vCPU. */
  get cpu(): Cpu {
    return this.hvFocus ? this.hvFocus.target.cpu : this.machine.cpu;
  }

  /** Physical memory as the views read it: guest-physical memory of the focused VM under the hypervisor. */
  private get physical(): DebugMemory | null {
    return this.hvFocus ? this.hvFocus.target.memory : null;
  }

  get instructions(): number {
    return this.cpu.instructions;
  }

  writePhys(p: number, bytes: Uint8Array): void {
    const m = this.physical;
    if (m) m.writeBytes(p >>> 0, bytes);
    else this.machine.memory.writeBytes(p >>> 0, bytes);
  }

  vgaText(): string[] {
    return this.hvFocus ? this.hvFocus.target.vm.vgaText() : this.machine.vgaText();
  }

  vgaCells(): Uint8Array {
    const m = this.physical;
    if (!m) return this.machine.memory.readBytes(0xb8000, 80 * 25 * 2);
    const out = new Uint8Array(80 * 25 * 2);
    for (let i = 0; i < out.length; i++) out[i] = m.ram[0xb8000 + i] ?? 0;
    return out;
  }

  get historyStart(): number {
    return this.dbg.state().history.start;
  }

  /** The serial console: under the hypervisor, the focused VM's (the debugger's own mixes every VM's). */
  get console(): string {
    if (this.hvFocus) return this.hvFocus.target.vm.serialText;
    return this.dbg.console;
  }

  /**
   * The CPU as the views show it. Under ring compression (--cpu deprivilege) the CPU's GDTR and
   * IDTR hold the VMM's own tables while the guest runs: the views show the tables the guest
   * loaded (what its LGDT/LIDT asked for, kept by the VMM), and `cpuTables` says where the CPU's
   * registers point, so that a teacher sees both facts.
   */
  state(): CpuView {
    const s = this.cpu.getState();
    const rings = this.cpu.rings;
    if (rings === null) return s;
    return {
      ...s,
      gdtr: { base: rings.gdtBase >>> 0, limit: rings.gdtLimit },
      idtr: { base: rings.idtBase >>> 0, limit: rings.idtLimit },
      cpuTables: { gdtr: { ...s.gdtr }, idtr: { ...s.idtr } },
    };
  }

  load(image: Uint8Array, mode: BootMode): void {
    if (this.hvConfig) {
      const { hv, focus } = this.buildHypervisor(image, mode, this.hvConfig);
      this.hv = hv;
      this.dbg = this.debuggerFor(focus);
    } else {
      this.machine.load(image, mode);
      this.dbg = this.newDebugger(this.machine, 250_000);
      const m = this.machine;
      this.dbg.inputPort = connectDevices(m.uart, m.ps2, this.dbg.input, () => m.nowNs());
    }
    this.dbg.takeSnapshot();
  }

  private newDebugger(target: DebugMachine, snapshotInterval: number): Debugger {
    const dbg = new Debugger(target, { snapshotInterval, historyBudgetBytes: 96 * 1024 * 1024 });
    dbg.onRewind = () => {
      if (this.seekingEvent) return;
      // Events from the instructions not yet retired here are in the future now (by position:
      // a replay's sequence numbers may run ahead of the first run's, see event-locator.ts).
      const keep = this.events.keepBefore(this.instructions, this.dbg.hereSub > 0);
      this.pendingEvents = this.pendingEvents.filter((ev) => ev.seq <= keep);
      this.rewoundTo = Math.min(this.rewoundTo ?? keep + 1, keep + 1);
    };
    return dbg;
  }

  /**
   * Under the hypervisor: the debugger of one VM's vCPU, made on first use. Each focused vCPU keeps
   * its own debugger and history (snapshots of the whole host, positions in its own instructions),
   * so switching the focus away and back keeps step back; the host's schedule and typed input are
   * shared (vcpu-target.ts), so every history describes the same run. Typed input goes to that VM.
   */
  private debuggerFor(vmId: number): Debugger {
    const hv = this.hv!;
    let f = this.vcpuDebuggers.get(vmId);
    if (!f) {
      const target = new VcpuTarget(hv, vmId);
      const dbg = this.newDebugger(target, 100_000);
      // The host's input log (every VM's, shared by every vCPU's debugger): replayed by the host
      // whichever vCPU is focused, and marked in every history's snapshots.
      dbg.input = target.input;
      dbg.inputPort = target.connectInput();
      f = { target, dbg };
      this.vcpuDebuggers.set(vmId, f);
    }
    this.hvFocus = { hv, target: f.target, focus: vmId };
    return f.dbg;
  }

  /** After a snapshot was restored into the machine: the history starts here, the console shows `serialText`. */
  restarted(serialText: string): void {
    this.dbg.history.clear();
    this.dbg.input.dropFuture(); // input recorded after the point left is no longer anyone's future
    this.dbg.hereSub = 0;
    if (this.hvFocus) this.hvFocus.target.vm.serialText = serialText;
    else this.dbg.console = serialText;
    this.events.truncate(0);
    this.pendingEvents = [];
    this.dbg.takeSnapshot();
  }

  /** Under the hypervisor: debug VM `vmId`'s vCPU from now on (the machine stays where it is). */
  focus(vmId: number): void {
    const hv = this.hvFocus;
    if (!hv) throw new Error('only under the hypervisor is there a VM to focus on');
    if (vmId < 0 || vmId >= hv.hv.vms.length || !Number.isInteger(vmId)) throw new Error(`there is no VM ${vmId}`);
    if (vmId === hv.focus) return;
    this.lists.uninstall(this.dbg);
    const from = this.dbg, fromVm = hv.focus;
    this.dbg = this.debuggerFor(vmId);
    // Its vCPU stands between two of its instructions (the host stopped at another vCPU's boundary).
    this.dbg.hereSub = 0;
    this.shareHistory(from, fromVm, this.dbg, vmId);
    this.dbg.takeSnapshot();
    this.finished = null;
    this.lists.reinstall(this.dbg, vmId);
  }

  /**
   * Every snapshot of the host is a point the newly focused vCPU can go back to as well (at its own
   * instruction count there): its history gets the snapshots of the previous focus's history up to
   * now, besides its own from the times it was focused before (those after now are dropped: the
   * host may have gone back meanwhile).
   */
  private shareHistory(from: Debugger, fromVm: number, to: Debugger, toVm: number): void {
    const now = this.cpu.instructions;
    const fromNow = this.hv!.vms[fromVm]!.cpu.instructions;
    const byCount = new Map<number, HistoryEntry>();
    for (const e of to.history.entries) if (e.instructions <= now) byCount.set(e.instructions, e);
    for (const e of from.history.entries) {
      if (e.instructions > fromNow) continue;
      const n = instructionsIn(e.snapshot, toVm);
      if (n > now) continue;
      // The input log is the host's (one for every vCPU), so the entry's mark holds as it is.
      byCount.set(n, { ...e, instructions: n });
    }
    to.history.clear();
    for (const e of [...byCount.values()].sort((a, b) => a.instructions - b.instructions)) to.history.add(e.instructions, e.snapshot, e.seq, e.extra);
  }

  private buildHypervisor(image: Uint8Array, boot: BootMode, c: HvConfig & { focusVm?: number }): { hv: Hypervisor; focus: number } {
    const hv = new Hypervisor({ emitter: this.emitter, sched: c.sched });
    for (let i = 0; i < c.vms; i++) hv.addVm({ name: `vm${i}`, image, boot, memoryBytes: this.memoryBytes, cpu: c.cpu, paging: c.paging });
    return { hv, focus: Math.max(0, Math.min(c.vms - 1, c.focusVm ?? 0)) };
  }

  /** Frees the hypervisor's host memory (a new load replaces this engine). */
  dispose(): void {
    this.hvFocus?.hv.release();
  }

  /** Returns a message for each condition refused (that breakpoint stays, unconditional). */
  setBreakpoints(list: CodeBreakpoint[]): string[] {
    return this.lists.setBreakpoints(this.dbg, list);
  }

  /** Returns a message for each one refused. Under the hypervisor they stop on the focused VM's events only. */
  setEventBreakpoints(list: EventBreakSpec[]): string[] {
    return this.lists.setEventBreakpoints(this.dbg, list, this.hvFocus?.focus);
  }

  setWatchpoints(list: Watch[]): string[] {
    return this.lists.setWatchpoints(this.dbg, list);
  }

  /** Text typed on the serial console: the guest's UART receives it here and now (Enter is CR). */
  typeSerial(text: string): void {
    this.dbg.feedInput('serial', Array.from(new TextEncoder().encode(text.replace(/\n/g, '\r'))));
  }

  /** Keys pressed on the VGA screen: PS/2 scan codes (set 1; bit 7 = release) for the guest's keyboard. */
  pressKeys(scancodes: number[]): void {
    this.dbg.feedInput('ps2', scancodes.map((c) => c & 0xff));
  }

  // ---- memory, as the views see it -----------------------------------------------------------

  readPhys32(p: number): number {
    const m = this.physical;
    if (m) return (this.readPhys8(p) | (this.readPhys8(p + 1) << 8) | (this.readPhys8(p + 2) << 16) | (this.readPhys8(p + 3) << 24)) >>> 0;
    return this.machine.memory.read32(p >>> 0) >>> 0;
  }

  readPhys8(p: number): number {
    const m = this.physical;
    if (m) return (p >>> 0) < m.size ? m.ram[p >>> 0]! : 0xff;
    return this.machine.memory.read8(p >>> 0);
  }

  toPhysical(linear: number, cpu = this.state()): number | null {
    return linearToPhysical(linear, cpu.cr0, cpu.cr3, cpu.cr4, (a) => this.readPhys32(a));
  }

  linearEip(cpu: CpuView): number {
    return (cpu.cs.base + cpu.eip) >>> 0;
  }

  // ---- running ------------------------------------------------------------------------------

  run(budget: number): Outcome {
    if (this.finished) return this.finished;
    return this.outcome(this.dbg.continue(budget));
  }

  stepInto(): Outcome { return this.forward(() => this.dbg.stepInto()); }
  stepOver(): Outcome { return this.forward(() => this.dbg.stepOver()); }
  stepOut(): Outcome { return this.forward(() => this.dbg.stepOut()); }
  runTo(address: number): Outcome { return this.forward(() => this.dbg.runTo({ address })); }

  stepBack(): Outcome { return this.backward(() => this.dbg.stepBack()); }
  reverseContinue(): Outcome { return this.backward(() => this.dbg.reverseContinue()); }
  seek(n: number): Outcome { return this.backward(() => this.dbg.goTo(n)); }

  /**
   * Goes to just after event `seq`: the first instruction boundary of the debugged CPU after it
   * was emitted (ticks are virtual time, which jumps while the CPU idles in HLT: no instruction
   * count). Null when the event is not one this engine sent.
   */
  seekEvent(seq: number): Outcome | null {
    const place = this.events.place(seq);
    if (place === null) return null;
    if (this.hvFocus && place.tag !== this.hvFocus.focus) {
      throw new Error(`event #${seq} happened while the debugger followed VM ${place.tag}: focus VM ${place.tag} to go there`);
    }
    this.seekingEvent = true;
    let o: Outcome;
    try {
      o = this.backward(() => this.dbg.goToEvent(place.retired, place.isIt));
    } finally {
      this.seekingEvent = false;
    }
    if (o.kind === 'target') {
      this.events.truncateAfterSeq(seq);
      this.pendingEvents = this.pendingEvents.filter((ev) => ev.seq <= seq);
      this.rewoundTo = Math.min(this.rewoundTo ?? seq + 1, seq + 1);
    }
    return o;
  }

  private forward(op: () => StopInfo): Outcome {
    if (this.finished) return this.finished;
    return this.outcome(op());
  }

  private backward(op: () => StopInfo): Outcome {
    this.finished = null;
    this.rewinding = true;
    this.knownUpTo = this.events.lastRetired;
    try {
      return this.outcome(op());
    } finally {
      this.rewinding = false;
    }
  }

  /** Remembers an outcome that ends the run, so that going forward repeats it without running. */
  private outcome(s: StopInfo): Outcome {
    const o = outcomeOf(s, (stop) => this.lists.describeEventStop(stop));
    if (endsTheRun(o.kind)) this.finished = o;
    return o;
  }
}

// The execution core of the debugger: runs the machine in chunks, on the CPU's hooked path when
// something needs a per-instruction look (breakpoints, watchpoints, event breakpoints, stepping),
// hook-free otherwise; decides at each instruction boundary whether to stop. The recorded run
// (history snapshots, guest input, console text) is in recording.ts, following the event stream in
// event-stream.ts (both base classes of this one); the public commands are in debugger.ts.
import { BreakpointTable, type LineMapEntry } from './breakpoints.ts';
import { classify } from './classify.ts';
import { before, code32Of, returnedOut, type Position, type RunControl, type StopCore } from './control.ts';
import { EventBreakpointTable } from './event-filter.ts';
import { EventStream } from './event-stream.ts';
import type { EvalContext } from './expr.ts';
import { readLinear, readLinearValue, registerValue, translate } from './linear.ts';
import type { RecordingOptions } from './recording.ts';
import type { DebugCpuState, DebugMachine, DebugRunResult, StopInfo } from './types.ts';
import { WatchpointTable } from './watch.ts';

/**
 * Instructions per Machine.run call on the hooked path. The CPU keeps `cpu.instructions` exact at
 * every beforeInstruction on its hooked path and runs one REP iteration per call there, so a chunk
 * can be long: a stop comes from the hook (machine.stop()), never from the chunk's end.
 */
const HOOKED_CHUNK = 1 << 20;

export interface DebuggerOptions extends RecordingOptions {
  /** The assembler's address map, for file:line breakpoints. */
  lineMap?: readonly LineMapEntry[];
  /** Symbol values for conditions (labels). */
  symbols?: ReadonlyMap<string, number>;
  /** Instructions one command may run before returning 'budget' (the caller calls again). */
  defaultBudget?: number;
}

/** Fields the real CPU exposes; read directly when present (getState() builds a whole object). */
interface FastCpu {
  eip: number;
  segBase: Int32Array;
  regs: Int32Array;
  halted: boolean;
  cr0?: number;
  cr3?: number;
  cr4?: number;
}

export abstract class Engine extends EventStream {
  readonly breakpoints: BreakpointTable;
  /** The sub of the current state (0 unless stopped at a repeated boundary, see Position). */
  hereSub = 0;
  symbols: ReadonlyMap<string, number>;
  readonly defaultBudget: number;

  protected readonly ctx: EvalContext;
  protected pauseRequested = false;
  /** Boundary bookkeeping for positions: the count seen at the last beforeInstruction and its sub. */
  private boundaryN = -1;
  private boundarySub = 0;
  private readonly fast: FastCpu | undefined;
  /** Set while a halted CPU sleeps through one long run: stop (unevaluated) at the first boundary. */
  private yieldAtBoundary = false;
  /** Reused per boundary by the watchpoint value check (linear.ts's walk reads only these). */
  private readonly pagingView = { cr0: 0, cr3: 0, cr4: 0 };
  private readonly watchScratch = new Uint8Array(64);
  private readonly hooks = {
    beforeInstruction: () => this.beforeHook(),
  };
  /** The same plus data-access reports, attached while watchpoints need them (they cost a slow path per access). */
  private readonly watchHooks = {
    beforeInstruction: () => this.beforeHook(),
    /** Data accesses the CPU reports on its hooked path: exact read, write and access watchpoints. */
    memoryAccess: (linear: number, physical: number, size: number, write: boolean) => {
      if (this.pendingWatch) return;
      this.pendingWatch = this.watchpoints.onAccess(linear, physical, size, write, this.ctx);
    },
  };
  private beforeHook(): boolean {
    if (this.yieldAtBoundary) {
      // Woken from HLT: hand control back so the boundary is checked on the exact path.
      this.yieldAtBoundary = false;
      this.machine.stop();
      return true;
    }
    if (!this.before()) return false;
    // The machine only ends run() for a stop it was asked for; a hook's "stop" alone would resume.
    this.machine.stop();
    return true;
  }

  constructor(machine: DebugMachine, options: DebuggerOptions) {
    // One id sequence for all three tables: a breakpoint of any kind is removed by its id alone.
    let ids = 1;
    const nextId = () => ids++;
    super(machine, options, new WatchpointTable(nextId), new EventBreakpointTable(nextId));
    this.breakpoints = new BreakpointTable(nextId);
    this.symbols = options.symbols ?? new Map();
    this.defaultBudget = options.defaultBudget ?? 50_000_000;
    const c = machine.cpu as unknown as Partial<FastCpu>;
    const fast = typeof c.eip === 'number' && typeof c.halted === 'boolean' && c.segBase instanceof Int32Array && c.regs instanceof Int32Array;
    this.fast = fast ? (c as FastCpu) : undefined;
    this.ctx = {
      register: (name) => registerValue(this.cpuState(), name),
      memory: (addr, size) => readLinearValue(this.machine.memory, this.cpuState(), addr, size),
      symbol: (name) => this.symbols.get(name),
    };
    this.relisten();
  }

  /** Linear address of the next instruction. */
  pc(): number {
    const f = this.fast;
    if (f) return (f.segBase[1]! + f.eip) >>> 0;
    const s = this.machine.cpu.getState();
    return (s.cs.base + s.eip) >>> 0;
  }

  /** EIP, the offset in the code segment: what offset breakpoints match. */
  csOffset(): number {
    const f = this.fast;
    return (f ? f.eip : this.machine.cpu.getState().eip) >>> 0;
  }

  cpuState(): DebugCpuState {
    return this.machine.cpu.getState();
  }

  readMemory(linear: number, length: number): { bytes: Uint8Array; ok: boolean } {
    return readLinear(this.machine.memory, this.cpuState(), linear, length);
  }

  protected halted(): boolean {
    return this.fast ? this.fast.halted : this.machine.cpu.getState().halted;
  }

  stopInfo(s: StopCore): StopInfo {
    const sub = this.hereSub;
    return { ...s, eip: this.pc(), instructions: this.machine.cpu.instructions, ...(sub > 0 ? { sub } : {}) };
  }

  /** Runs until `control` says stop, an exit/halt/triple fault, or `budget` instructions. */
  execute(control: RunControl, budget: number): StopInfo {
    const cpu = this.machine.cpu;
    this.control = control;
    this.clearPending();
    // The first boundary of this run continues the numbering of the state we are in.
    this.boundaryN = this.hereSub > 0 ? cpu.instructions : -1;
    this.boundarySub = this.hereSub - 1;
    if (control.mode === 'out') this.relisten();
    this.watchpoints.resync(this.machine.memory, this.cpuState());
    let stop: StopCore;
    try {
      stop = this.runLoop(control, cpu.instructions + budget);
    } finally {
      cpu.hooks = null;
      this.control = undefined;
      if (control.mode === 'out') this.relisten();
      this.hereSub = control.stop && this.boundaryN === cpu.instructions ? this.boundarySub : 0;
    }
    return this.stopInfo(stop);
  }

  private runLoop(control: RunControl, limit: number): StopCore {
    const cpu = this.machine.cpu;
    for (;;) {
      if (!control.record && !this.replaying && this.hereSub === 0 && this.snapshots.due(cpu.instructions)) this.takeSnapshot();
      this.deliverDueInput();
      const chunk = Math.min(Math.max(1, Math.min(limit - cpu.instructions, this.snapshots.chunkEnd(cpu.instructions) - cpu.instructions)), this.untilInput());
      const t0 = this.snapshots.clock();
      const pastHistory = cpu.instructions > (this.history.newest?.instructions ?? -1);
      const r = this.needsHooks(control) ? this.runHooked(chunk, control) : this.machine.run(chunk);
      if (pastHistory && !this.replaying) this.snapshots.ran(this.snapshots.clock() - t0);
      if (control.stop) return control.stop;
      if (this.pendingEvent && !control.record) return this.eventStop();
      if (this.pauseRequested) {
        this.pauseRequested = false;
        return { reason: 'pause' };
      }
      if (r.reason === 'debug-exit') return { reason: 'exited', exitCode: r.code };
      if (r.reason === 'triple-fault') return { reason: 'triple-fault' };
      if (r.reason === 'halted') return { reason: 'halted' };
      if (cpu.instructions >= limit) return { reason: 'budget' };
    }
  }

  private runHooked(chunk: number, control: RunControl): DebugRunResult {
    const cpu = this.machine.cpu;
    // Access reports only where a watchpoint can use them (not in plain replays, which skip checks).
    const watching = this.watchpoints.active && (control.mode !== 'count' || control.record !== undefined);
    cpu.hooks = watching ? this.watchHooks : this.hooks;
    try {
      let r: DebugRunResult = { reason: 'instruction-limit' };
      for (let k = 0; k < chunk; ) {
        // A halted CPU has no boundaries until an interrupt wakes it: sleep in one long run (the
        // virtual-time budget is what it counts) and stop at the first boundary after waking.
        const sleeping = this.halted();
        const n = sleeping ? chunk - k : Math.min(HOOKED_CHUNK, chunk - k);
        this.yieldAtBoundary = sleeping;
        const before = cpu.instructions;
        r = this.machine.run(n);
        // Slept through the whole budget (no wake-up), or woke and stopped at the first boundary.
        k += sleeping && !this.yieldAtBoundary ? Math.max(1, cpu.instructions - before) : n;
        if (sleeping && !this.yieldAtBoundary && r.reason === 'stopped') r = { reason: 'instruction-limit' };
        if (r.reason !== 'instruction-limit' || control.stop || (this.pendingEvent && !control.record)) break;
      }
      return r;
    } finally {
      cpu.hooks = null;
      this.yieldAtBoundary = false;
    }
  }

  private needsHooks(c: RunControl): boolean {
    return (
      c.mode !== 'continue' ||
      c.record !== undefined ||
      this.breakpoints.active ||
      this.watchpoints.active ||
      this.eventBreakpoints.mask !== 0 ||
      this.pauseRequested
    );
  }

  /** The per-instruction check (the CPU's hooked path). True = stop before this instruction. */
  private before(): boolean {
    const c = this.control!;
    const n = this.machine.cpu.instructions;
    c.calls++;
    if (n === this.boundaryN) this.boundarySub++;
    else {
      this.boundaryN = n;
      this.boundarySub = 0;
    }
    const sub = this.boundarySub;
    if (c.afterEvent?.seen === true) return this.stopWith(c, { reason: 'step' });
    if (c.mode === 'count' && !c.record) {
      const end = c.end!;
      if (n < end.n || (n === end.n && sub < end.sub)) {
        c.observe?.({ n, sub });
        return false;
      }
      return this.stopWith(c, { reason: 'step' });
    }
    // Hits made by the previous instruction (or the interrupt delivered after it): a reported
    // access (pendingWatch) or a changed byte nobody reported (watch.ts).
    if (this.watchpoints.comparesValues && c.calls > 1) {
      const w = this.watchpoints.checkChanged(this.machine.memory, this.pagingState(), this.ctx, this.pendingWatch === undefined, this.watchScratch);
      if (w && !this.pendingWatch) this.pendingWatch = w;
    }
    if (this.pendingWatch) {
      const watch = this.pendingWatch;
      this.pendingWatch = undefined;
      if (this.hit(c, { reason: 'watchpoint', watch }, { n, sub })) return true;
    }
    if (this.pendingEvent && this.hit(c, this.eventStop(), { n, sub })) return true;
    if (c.end !== undefined && !before({ n, sub }, c.end)) return this.stopWith(c, { reason: 'step' });
    if (this.pauseRequested) {
      this.pauseRequested = false;
      return this.stopWith(c, { reason: 'pause' });
    }
    if (c.mode === 'step' && c.calls > 1) return this.stopWith(c, { reason: 'step' });
    const pc = this.pc();
    // Resuming from a breakpoint must not stop at it again: the first instruction is not checked.
    if (this.breakpoints.active && (c.calls > 1 || c.record)) {
      const phys = this.breakpoints.hasPhysical ? translate(this.machine.memory, this.cpuState(), pc) : -1;
      const b = this.breakpoints.check(pc, phys, this.ctx, !c.record, this.breakpoints.hasOffsets ? this.csOffset() : -1);
      if (b && this.hit(c, { reason: 'breakpoint', breakpointId: b.bp.id }, { n, sub })) {
        if (b.bp.spec.temporary) this.breakpoints.remove(b.bp.id);
        return true;
      }
    }
    if ((c.mode === 'over' || c.mode === 'to') && pc === c.targetPc && c.calls > 1) {
      if (c.targetSp === undefined || this.sp() >= c.targetSp) return this.stopWith(c, { reason: 'step' });
    }
    if (c.mode === 'out') {
      if (returnedOut(c)) return this.stopWith(c, { reason: 'step' });
      c.prevClass = classify(this.readMemory(pc, 15).bytes, code32Of(this.cpuState())).kind;
    }
    return false;
  }

  /** A state whose paging registers are current (all linear-to-physical walks need), cheaply when possible. */
  private pagingState(): DebugCpuState {
    const f = this.fast;
    if (!f || f.cr0 === undefined || f.cr3 === undefined || f.cr4 === undefined) return this.cpuState();
    const v = this.pagingView;
    v.cr0 = f.cr0;
    v.cr3 = f.cr3;
    v.cr4 = f.cr4;
    return v as unknown as DebugCpuState;
  }

  private stopWith(c: RunControl, info: StopCore): true {
    c.stop = info;
    return true;
  }

  /** Records (reverse search) or stops (forward) at a hit. */
  private hit(c: RunControl, info: StopCore, at: Position): boolean {
    if (c.record) {
      c.record(info, at);
      return false;
    }
    return this.stopWith(c, info);
  }

  private sp(): number {
    const f = this.fast;
    return f ? f.regs[4]! >>> 0 : this.cpuState().esp >>> 0;
  }
}

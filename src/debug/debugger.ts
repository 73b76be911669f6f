// The debugger engine: breakpoints, watchpoints, event breakpoints, stepping and reverse execution
// over a machine, with no UI inside. The app (through its worker), the CLI and the GDB stub all
// drive this one class.
//
// Execution: every forward command is one `execute(control)` loop that runs the machine in chunks
// (ending at the next snapshot position and the caller's budget). The CPU runs hook-free when
// nothing needs a per-instruction look; otherwise `cpu.hooks.beforeInstruction` calls `before()`,
// which decides whether to stop *before* the instruction about to run.
//
// Future: under the hypervisor the focus is one vCPU. A vCPU target implements DebugMachine
// (its own CPU state and guest-physical memory, `run` advancing the whole host until the focused
// vCPU has retired N guest instructions, other VMs keeping their schedule); the engine, the tables
// and the stub work unchanged, and event breakpoints already filter by `vm`.
import { KIND_BIT, type TraceEvent } from '../trace/schema.ts';
import type { Listener } from '../trace/emitter.ts';
import { BreakpointTable, resolveLine, type Breakpoint, type BreakpointSpec, type LineMapEntry, type WatchpointSpec, type Watchpoint } from './breakpoints.ts';
import { classify, type StepClass } from './classify.ts';
import { EventBreakpointTable, type EventBreakpoint, type EventFilter } from './event-filter.ts';
import { compileExpression, type EvalContext } from './expr.ts';
import { History } from './history.ts';
import { readLinear, readLinearValue, registerValue, translate, writeLinear } from './linear.ts';
import { Reverse } from './reverse.ts';
import type { DebugCpuState, DebugMachine, DebugRunResult, StopInfo, WatchHit } from './types.ts';

const HOOKED_CHUNK = 1;
import { WatchpointTable } from './watch.ts';

export interface DebuggerOptions {
  /** Instructions between history snapshots (0 disables reverse execution). Default 1,000,000. */
  snapshotInterval?: number;
  /** Byte budget for the history. Default 64 MiB. */
  historyBudgetBytes?: number;
  /** The assembler's address map, for file:line breakpoints. */
  lineMap?: readonly LineMapEntry[];
  /** Symbol values for conditions (labels). */
  symbols?: ReadonlyMap<string, number>;
  /** Instructions one command may run before returning 'budget' (the caller calls again). */
  defaultBudget?: number;
}

/** What a forward run is looking for; built by each command, read by before(). */
export interface RunControl {
  /** 'step': stop at the next instruction boundary; 'over'/'to': at pc (and esp >= sp); 'out': after the matching return; 'count': at an instruction count. */
  mode: 'continue' | 'step' | 'over' | 'to' | 'out' | 'count';
  targetPc?: number;
  targetSp?: number;
  /** 'count' and record runs: stop at the first boundary at or after this position. */
  end?: Position;
  /** Record hits instead of stopping (reverse search); called with the hit and its position. */
  record?: (info: Omit<StopInfo, 'eip' | 'instructions'>, at: Position) => void;
  calls: number;
  /** 'count' runs: told every boundary before the end. */
  observe?: (at: Position) => void;
  depth: number;
  prevClass: StepClass;
  sawInterrupt: boolean;
  stop?: Omit<StopInfo, 'eip' | 'instructions'>;
}

export class DebugError extends Error {}

/**
 * A point in time: instructions retired, and how many instruction boundaries were already passed at
 * that count (an instruction that faults is not retired, so "before it" and "at the handler's first
 * instruction" share a count: sub 0 and sub 1).
 */
export interface Position {
  n: number;
  sub: number;
}

export function before(a: Position, b: Position): boolean {
  return a.n < b.n || (a.n === b.n && a.sub < b.sub);
}

interface FastCpu {
  eip: number;
  segBase: Int32Array;
  regs: Int32Array;
  code32: boolean;
}

export class Debugger {
  readonly breakpoints: BreakpointTable;
  readonly watchpoints: WatchpointTable;
  readonly eventBreakpoints: EventBreakpointTable;
  readonly history: History;
  /** Text each console device wrote so far (truncated when going back in time). */
  console = '';
  /**
   * Console text the guest writes for the first time (replays after going back do not repeat it):
   * hosts that print serial output (the CLI with --gdb) print through this.
   */
  onOutput: ((text: string) => void) | undefined;
  private printed = 0;
  /** Called after the machine was moved back in time: consumers drop events with seq >= nextSeq. */
  onRewind: (nextSeq: number) => void = () => {};
  lineMap: readonly LineMapEntry[];
  symbols: ReadonlyMap<string, number>;
  readonly defaultBudget: number;

  private ids = 1;
  private control: RunControl | undefined;
  private pauseRequested = false;
  /** Boundary bookkeeping for positions: the count seen at the last beforeInstruction and its sub. */
  private boundaryN = -1;
  private boundarySub = 0;
  /** The sub of the current state (0 unless stopped at a repeated boundary). */
  hereSub = 0;
  /** Exception events so far (tells step-back whether an instruction may have faulted). */
  exceptions = 0;
  private pendingWatch: WatchHit | undefined;
  private pendingEvent: { eb: EventBreakpoint; ev: TraceEvent } | undefined;
  private replaying = false;
  private unlisten: (() => void) | undefined;
  private listenMask = 0;
  private readonly fast: FastCpu | undefined;
  private readonly reverse: Reverse;
  private readonly hooks = {
    beforeInstruction: () => {
      if (!this.before()) return false;
      // The machine only ends run() for a stop it was asked for; a hook's "stop" alone would resume.
      this.machine.stop();
      return true;
    },
    memoryAccess: (linear: number, physical: number, size: number, write: boolean) => this.onAccess(linear, physical, size, write),
  };
  private readonly ctx: EvalContext;
  private ctxState: DebugCpuState | undefined;

  constructor(
    readonly machine: DebugMachine,
    options: DebuggerOptions = {},
  ) {
    const nextId = () => this.ids++;
    this.breakpoints = new BreakpointTable(nextId);
    this.watchpoints = new WatchpointTable(nextId);
    this.eventBreakpoints = new EventBreakpointTable(nextId);
    this.history = new History({ interval: options.snapshotInterval ?? 1_000_000, budgetBytes: options.historyBudgetBytes ?? 64 * 1024 * 1024 });
    this.lineMap = options.lineMap ?? [];
    this.symbols = options.symbols ?? new Map();
    this.defaultBudget = options.defaultBudget ?? 50_000_000;
    const c = machine.cpu as unknown as Partial<FastCpu>;
    this.fast = typeof c.eip === 'number' && c.segBase instanceof Int32Array && c.regs instanceof Int32Array ? (c as FastCpu) : undefined;
    this.ctx = {
      register: (name) => registerValue(this.cpuState(), name),
      memory: (addr, size) => readLinearValue(this.machine.memory, this.cpuState(), addr, size),
      symbol: (name) => this.symbols.get(name),
    };
    this.reverse = new Reverse(this, this.history);
    this.relisten();
  }

  // ---- breakpoints ------------------------------------------------------------------------------

  addBreakpoint(spec: BreakpointSpec): number {
    const loc = spec.location;
    let address: number;
    if (loc.kind === 'line') {
      const a = resolveLine(this.lineMap, loc.file, loc.line);
      if (a === undefined) throw new DebugError(`no code at or after ${loc.file}:${loc.line}`);
      address = a;
    } else address = loc.address;
    return this.breakpoints.add(spec, address, loc.kind === 'physical').id;
  }

  removeBreakpoint(id: number): boolean {
    return this.breakpoints.remove(id) || this.watchpoints.remove(id) || this.removeEventBreakpoint(id);
  }

  setEnabled(id: number, enabled: boolean): boolean {
    if (this.breakpoints.setEnabled(id, enabled)) return true;
    if (this.watchpoints.setEnabled(id, enabled, this.machine.memory, this.cpuState())) return true;
    const eb = this.eventBreakpoints.get(id);
    if (!eb) return false;
    eb.enabled = enabled;
    this.relisten();
    return true;
  }

  addWatchpoint(spec: WatchpointSpec): number {
    return this.watchpoints.add(spec, this.machine.memory, this.cpuState()).id;
  }

  addEventBreakpoint(filter: EventFilter): number {
    const id = this.eventBreakpoints.add(filter).id;
    this.relisten();
    return id;
  }

  private removeEventBreakpoint(id: number): boolean {
    const ok = this.eventBreakpoints.remove(id);
    this.relisten();
    return ok;
  }

  listBreakpoints(): { code: Breakpoint[]; watch: Watchpoint[]; events: EventBreakpoint[] } {
    return { code: this.breakpoints.list(), watch: this.watchpoints.list(), events: this.eventBreakpoints.list() };
  }

  // ---- state ------------------------------------------------------------------------------------

  /** Linear address of the next instruction. */
  pc(): number {
    const f = this.fast;
    if (f) return (f.segBase[1]! + f.eip) >>> 0;
    const s = this.machine.cpu.getState();
    return (s.cs.base + s.eip) >>> 0;
  }

  cpuState(): DebugCpuState {
    return this.ctxState ?? this.machine.cpu.getState();
  }

  state(): { instructions: number; pc: number; registers: DebugCpuState; console: string; history: { start: number; end: number; snapshots: number; bytes: number } } {
    const h = this.history;
    return {
      instructions: this.machine.cpu.instructions,
      pc: this.pc(),
      registers: this.machine.cpu.getState(),
      console: this.console,
      history: { start: h.entries[0]?.instructions ?? this.machine.cpu.instructions, end: h.newest?.instructions ?? 0, snapshots: h.entries.length, bytes: h.bytes },
    };
  }

  readMemory(linear: number, length: number): { bytes: Uint8Array; ok: boolean } {
    return readLinear(this.machine.memory, this.cpuState(), linear, length);
  }

  /** Writes memory (GDB M/X). The past no longer leads here, so the history restarts now. */
  writeMemory(linear: number, bytes: Uint8Array): boolean {
    const ok = writeLinear(this.machine.memory, this.cpuState(), linear, bytes);
    if (ok) this.stateEdited();
    return ok;
  }

  /** Sets registers (GDB G/P); restarts the history like a memory write. */
  writeRegisters(patch: Partial<DebugCpuState>): void {
    this.machine.cpu.setState({ ...this.machine.cpu.getState(), ...patch });
    this.stateEdited();
  }

  /** Evaluates a condition expression now (throws ExprError with a column on bad input). */
  evaluate(expression: string): number {
    return compileExpression(expression)(this.ctx);
  }

  private stateEdited(): void {
    this.history.clear();
    this.watchpoints.resync(this.machine.memory, this.cpuState());
  }

  // ---- forward execution ------------------------------------------------------------------------

  /** Ask a running command to stop at the next instruction boundary (safe from device handlers). */
  pause(): void {
    this.pauseRequested = true;
    if (this.control) this.machine.stop();
  }

  stepInto(): StopInfo {
    return this.execute(this.newControl('step'), this.defaultBudget);
  }

  stepOver(): StopInfo {
    const s = this.cpuState();
    const code32 = (s.cr0 & 1) !== 0 && (s.cs.access & 0x400) !== 0 && (s.eflags & 0x20000) === 0;
    const c = classify(this.readMemory(this.pc(), 15).bytes, code32);
    if (c.kind !== 'call' && c.kind !== 'int' && c.kind !== 'rep' && c.kind !== 'loop') return this.stepInto();
    const control = this.newControl('over');
    control.targetPc = (this.pc() + c.length) >>> 0;
    control.targetSp = s.esp >>> 0;
    return this.execute(control, this.defaultBudget);
  }

  stepOut(): StopInfo {
    return this.execute(this.newControl('out'), this.defaultBudget);
  }

  runTo(target: { address: number } | { file: string; line: number }): StopInfo {
    const control = this.newControl('to');
    if ('address' in target) control.targetPc = target.address >>> 0;
    else {
      const a = resolveLine(this.lineMap, target.file, target.line);
      if (a === undefined) throw new DebugError(`no code at or after ${target.file}:${target.line}`);
      control.targetPc = a;
    }
    return this.execute(control, this.defaultBudget);
  }

  continue(budget = this.defaultBudget): StopInfo {
    return this.execute(this.newControl('continue'), budget);
  }

  // ---- reverse ----------------------------------------------------------------------------------

  stepBack(): StopInfo {
    return this.reverse.stepBack();
  }

  reverseContinue(): StopInfo {
    return this.reverse.reverseContinue();
  }

  /** Moves to instruction count `n` (backwards through the history, or forwards by replay). */
  goTo(n: number, sub = 0): StopInfo {
    return this.reverse.goTo({ n, sub });
  }

  // ---- the engine -------------------------------------------------------------------------------

  newControl(mode: RunControl['mode']): RunControl {
    return { mode, calls: 0, depth: 0, prevClass: 'other', sawInterrupt: false };
  }

  /** Runs until `control` says stop, an exit/halt/triple fault, or `budget` instructions. */
  execute(control: RunControl, budget: number): StopInfo {
    const cpu = this.machine.cpu;
    this.control = control;
    this.pendingWatch = undefined;
    this.pendingEvent = undefined;
    // The first boundary of this run continues the numbering of the state we are in.
    this.boundaryN = this.hereSub > 0 ? cpu.instructions : -1;
    this.boundarySub = this.hereSub - 1;
    if (control.mode === 'out') this.relisten();
    this.watchpoints.resync(this.machine.memory, this.cpuState());
    let stop: Omit<StopInfo, 'eip' | 'instructions'>;
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

  private runLoop(control: RunControl, limit: number): Omit<StopInfo, 'eip' | 'instructions'> {
    const cpu = this.machine.cpu;
    for (;;) {
      if (!control.record) this.maybeSnapshot();
      const next = this.nextSnapshotAt();
      const chunk = Math.max(1, Math.min(limit - cpu.instructions, next - cpu.instructions));
      const r = this.needsHooks(control) ? this.runHooked(chunk, control) : this.machine.run(chunk);
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

  /**
   * The hooked path, one instruction per Machine.run call: the CPU adds a block's instructions to
   * `cpu.instructions` only when the block ends, so inside beforeInstruction the count is exact
   * only at a block's first instruction. Running blocks of one keeps every position exact.
   * (HOOKED_CHUNK can grow once the CPU counts per instruction on its hooked path.)
   */
  private runHooked(chunk: number, control: RunControl): DebugRunResult {
    const cpu = this.machine.cpu;
    cpu.hooks = this.hooks;
    try {
      let r: DebugRunResult = { reason: 'instruction-limit' };
      for (let k = 0; k < chunk; k += HOOKED_CHUNK) {
        r = this.machine.run(Math.min(HOOKED_CHUNK, chunk - k));
        if (r.reason !== 'instruction-limit' || control.stop || (this.pendingEvent && !control.record)) break;
      }
      return r;
    } finally {
      cpu.hooks = null;
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

  private nextSnapshotAt(): number {
    if (this.history.options.interval <= 0) return Infinity;
    const newest = this.history.newest;
    return newest ? newest.instructions + this.history.options.interval : this.machine.cpu.instructions;
  }

  private maybeSnapshot(): void {
    // Snapshots sit at first boundaries (sub 0), where a hook-free run can stop too.
    if (this.history.options.interval <= 0 || this.replaying || this.hereSub !== 0) return;
    const n = this.machine.cpu.instructions;
    const newest = this.history.newest;
    if (newest && n < newest.instructions + this.history.options.interval) return;
    this.takeSnapshot();
  }

  /** Records the current state in the history (positions must be newer than the newest entry). */
  takeSnapshot(): void {
    const n = this.machine.cpu.instructions;
    const newest = this.history.newest;
    if (newest && n <= newest.instructions) return;
    this.history.add(n, this.machine.snapshot(), this.machine.emitter.nextSeq, { consoleLength: this.console.length, exceptions: this.exceptions });
  }

  /** The per-instruction check (the CPU's hooked path). True = stop before this instruction. */
  private before(): boolean {
    const c = this.control!;
    const n = this.machine.cpu.instructions;
    c.calls++;
    this.ctxState = undefined;
    if (n === this.boundaryN) this.boundarySub++;
    else {
      this.boundaryN = n;
      this.boundarySub = 0;
    }
    const here = { n, sub: this.boundarySub };
    if (c.mode === 'count' && !c.record) {
      if (before(here, c.end!)) {
        c.observe?.(here);
        return false;
      }
      c.stop = { reason: 'step' };
      return true;
    }
    // Hits made by the previous instruction (or the interrupt delivered after it).
    if (this.watchpoints.active && c.calls > 1) {
      const w = this.watchpoints.checkChanged(this.machine.memory, this.cpuState(), this.ctx);
      if (w && !this.pendingWatch) this.pendingWatch = w;
    }
    if (this.pendingWatch) {
      const watch = this.pendingWatch;
      this.pendingWatch = undefined;
      if (this.hit(c, { reason: 'watchpoint', watch }, here)) return true;
    }
    if (this.pendingEvent) {
      const stop = this.eventStop();
      if (this.hit(c, stop, here)) return true;
    }
    if (c.end !== undefined && !before(here, c.end)) {
      c.stop = { reason: 'step' };
      return true;
    }
    if (this.pauseRequested) {
      this.pauseRequested = false;
      c.stop = { reason: 'pause' };
      return true;
    }
    if (c.mode === 'step' && c.calls > 1) {
      c.stop = { reason: 'step' };
      return true;
    }
    const pc = this.pc();
    // Resuming from a breakpoint must not stop at it again: the first instruction is not checked.
    if (this.breakpoints.active && (c.calls > 1 || c.record)) {
      const phys = this.breakpoints.hasPhysical ? translate(this.machine.memory, this.cpuState(), pc) : -1;
      const b = this.breakpoints.check(pc, phys, this.ctx, !c.record);
      if (b && this.hit(c, { reason: 'breakpoint', breakpointId: b.bp.id }, here)) {
        if (b.bp.spec.temporary) this.breakpoints.remove(b.bp.id);
        return true;
      }
    }
    if ((c.mode === 'over' || c.mode === 'to') && pc === c.targetPc && c.calls > 1) {
      if (c.targetSp === undefined || this.sp() >= c.targetSp) {
        c.stop = { reason: 'step' };
        return true;
      }
    }
    if (c.mode === 'out') return this.stepOutCheck(c, pc);
    return false;
  }

  /** Records (reverse search) or stops (forward) at a hit. */
  private hit(c: RunControl, info: Omit<StopInfo, 'eip' | 'instructions'>, at: Position): boolean {
    if (c.record) {
      c.record(info, at);
      return false;
    }
    c.stop = info;
    return true;
  }

  /** Step out: count calls and interrupt entries against returns; stop after the unmatched return. */
  private stepOutCheck(c: RunControl, pc: number): boolean {
    if (c.calls > 1) {
      const prev = c.prevClass;
      if (prev === 'ret' || prev === 'iret') {
        if (c.depth === 0) {
          c.stop = { reason: 'step' };
          return true;
        }
        c.depth--;
      } else if (prev === 'call' || (prev === 'int' && !c.sawInterrupt)) c.depth++;
    }
    c.sawInterrupt = false;
    const s = this.cpuState();
    const code32 = (s.cr0 & 1) !== 0 && (s.cs.access & 0x400) !== 0 && (s.eflags & 0x20000) === 0;
    c.prevClass = classify(this.readMemory(pc, 15).bytes, code32).kind;
    return false;
  }

  private sp(): number {
    const f = this.fast;
    return f ? f.regs[4]! >>> 0 : this.cpuState().esp >>> 0;
  }

  private onAccess(linear: number, physical: number, size: number, write: boolean): void {
    if (!this.watchpoints.active || this.pendingWatch) return;
    const w = this.watchpoints.onAccess(linear, physical, size, write, this.ctx);
    if (w) this.pendingWatch = w;
  }

  private eventStop(): Omit<StopInfo, 'eip' | 'instructions'> {
    const p = this.pendingEvent!;
    this.pendingEvent = undefined;
    return { reason: 'event', breakpointId: p.eb.id, event: p.ev };
  }

  stopInfo(s: Omit<StopInfo, 'eip' | 'instructions'>): StopInfo {
    const sub = this.hereSub;
    return { ...s, eip: this.pc(), instructions: this.machine.cpu.instructions, ...(sub > 0 ? { sub } : {}) };
  }

  // ---- the event stream -------------------------------------------------------------------------

  private relisten(): void {
    let mask = KIND_BIT.console | KIND_BIT.exception | this.eventBreakpoints.mask;
    if (this.control?.mode === 'out') mask |= KIND_BIT.interrupt | KIND_BIT.exception;
    if (mask === this.listenMask && this.unlisten) return;
    this.unlisten?.();
    this.listenMask = mask;
    const listener: Listener = { mask, onEvent: (ev) => this.onEvent(ev) };
    this.unlisten = this.machine.emitter.listen(listener);
  }

  private onEvent(ev: TraceEvent): void {
    if (ev.kind === 'console') {
      this.console += ev.text;
      if (this.console.length > this.printed) {
        this.onOutput?.(this.console.slice(this.printed));
        this.printed = this.console.length;
      }
    }
    else if (ev.kind === 'exception') this.exceptions++;
    const c = this.control;
    if (!c) return;
    if ((ev.kind === 'interrupt' || ev.kind === 'exception') && c.mode === 'out' && c.calls > 0) {
      c.depth++;
      c.sawInterrupt = true;
    }
    if (this.replaying && !c.record) return;
    const eb = this.eventBreakpoints.match(ev);
    if (eb && !this.pendingEvent) {
      if (!c.record) eb.hits++;
      // Seen at the next boundary (event breakpoints run on the hooked path), or by the run loop
      // when the run ends without one (HLT, shutdown).
      this.pendingEvent = { eb, ev };
    }
  }

  /** Used by Reverse: replay without stopping on event breakpoints, then restore normal behaviour. */
  setReplaying(on: boolean): void {
    this.replaying = on;
  }

  /** Drops hits left from an aborted run. */
  clearPending(): void {
    this.pendingWatch = undefined;
    this.pendingEvent = undefined;
  }

  detach(): void {
    this.unlisten?.();
    this.unlisten = undefined;
    this.machine.cpu.hooks = null;
  }
}

// The debugger: breakpoints, watchpoints, event breakpoints, stepping and reverse execution over a
// machine, with no UI inside. The app (through its worker), the CLI and the GDB stub all drive this
// one class; every command returns a StopInfo { reason, eip, instructions, ... }.
//
// Under the hypervisor the focus is one vCPU: `new Debugger(new VcpuTarget(hv, vmId))`
// (vcpu-target.ts) implements DebugMachine with that VM's CPU and guest memory; its `run` advances
// the whole host until the focused vCPU has retired N guest instructions, other VMs keeping their
// schedule; snapshot/restore cover the host (vcpu-snapshot.ts). The engine, the tables and the
// stub work unchanged, event breakpoints filter by `vm`, and stepping a guest instruction that
// exits shows the exit and its handling as events.
import { resolveLineEntry, type Breakpoint, type BreakpointSpec, type LineMapEntry, type Watchpoint, type WatchpointSpec } from './breakpoints.ts';
import { classify } from './classify.ts';
import { code32Of, newControl } from './control.ts';
import { Engine, type DebuggerOptions } from './engine.ts';
import type { EventBreakpoint, EventFilter } from './event-filter.ts';
import { compileExpression } from './expr.ts';
import { writeLinear } from './linear.ts';
import { Reverse } from './reverse.ts';
import { lineAt } from './source.ts';
import type { DebugCpuState, DebugMachine, StopInfo } from './types.ts';
import type { TraceEvent } from '../trace/schema.ts';

export type { DebuggerOptions } from './engine.ts';
export type { Position } from './control.ts';

/** A request that cannot be done (no code at a line, ...): the message is for the user. */
export class DebugError extends Error {}

export interface DebuggerState {
  instructions: number;
  /** See Position: 1 at a fault handler's first instruction (same count as the faulting one). */
  sub: number;
  /** Linear address of the next instruction. */
  pc: number;
  /** Source line of the next instruction, when the line map has it. */
  line?: { file: string; line: number };
  registers: DebugCpuState;
  console: string;
  history: { start: number; end: number; snapshots: number; bytes: number };
}

export class Debugger extends Engine {
  lineMap: readonly LineMapEntry[];
  private readonly reverse: Reverse;

  constructor(machine: DebugMachine, options: DebuggerOptions = {}) {
    super(machine, options);
    this.lineMap = options.lineMap ?? [];
    this.reverse = new Reverse(this, this.history);
  }

  // ---- breakpoints ------------------------------------------------------------------------------

  /** Adds a code breakpoint; throws DebugError (no code at a line) or ExprError (bad condition, with column). */
  addBreakpoint(spec: BreakpointSpec): number {
    const loc = spec.location;
    if (loc.kind === 'line') {
      const e = this.lineEntry(loc.file, loc.line);
      return this.breakpoints.add(spec, e.address, false, e.segmentRelative === true).id;
    }
    return this.breakpoints.add(spec, loc.address, loc.kind === 'physical', loc.kind === 'offset').id;
  }

  /**
   * Adds a watchpoint (see watch.ts). With a CPU that reports data accesses
   * (`cpu.reportsMemoryAccess`, as vizor's does) every kind stops right after the instruction that
   * made the access, same-value writes included; without, writes are found by comparing the
   * watched bytes at every boundary and read/access watchpoints throw DebugError.
   */
  addWatchpoint(spec: WatchpointSpec): number {
    if (spec.kind !== 'write' && !this.cpuReportsAccesses) {
      throw new DebugError(`${spec.kind} watchpoints need the CPU to report memory accesses, which this CPU does not do yet`);
    }
    return this.watchpoints.add(spec, this.machine.memory, this.cpuState()).id;
  }

  /** True when the CPU calls hooks.memoryAccess for data accesses on its hooked path. */
  get cpuReportsAccesses(): boolean {
    return (this.machine.cpu as { reportsMemoryAccess?: boolean }).reportsMemoryAccess === true;
  }

  /** Stops on the next event matching `filter` (see event-filter.ts); throws EventFilterError on a bad filter. */
  addEventBreakpoint(filter: EventFilter): number {
    const id = this.eventBreakpoints.add(filter).id;
    this.relisten();
    return id;
  }

  /** Removes any kind of breakpoint by id. */
  removeBreakpoint(id: number): boolean {
    const ok = this.breakpoints.remove(id) || this.watchpoints.remove(id) || this.eventBreakpoints.remove(id);
    this.relisten();
    return ok;
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

  listBreakpoints(): { code: Breakpoint[]; watch: Watchpoint[]; events: EventBreakpoint[] } {
    return { code: this.breakpoints.list(), watch: this.watchpoints.list(), events: this.eventBreakpoints.list() };
  }

  private lineEntry(file: string, line: number): LineMapEntry {
    const e = resolveLineEntry(this.lineMap, file, line);
    if (e === undefined) throw new DebugError(`no code at or after ${file}:${line}`);
    return e;
  }

  // ---- state ------------------------------------------------------------------------------------

  state(): DebuggerState {
    const h = this.history;
    const pc = this.pc();
    const n = this.machine.cpu.instructions;
    return {
      instructions: n,
      sub: this.hereSub,
      pc,
      line: lineAt(this.lineMap, pc),
      registers: this.machine.cpu.getState(),
      console: this.console,
      history: { start: h.entries[0]?.instructions ?? n, end: h.newest?.instructions ?? n, snapshots: h.entries.length, bytes: h.bytes },
    };
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
    this.hereSub = 0;
    this.watchpoints.resync(this.machine.memory, this.cpuState());
  }

  // ---- forward execution ------------------------------------------------------------------------

  /** Asks a running command to stop at the next instruction boundary (safe from device handlers). */
  pause(): void {
    this.pauseRequested = true;
    if (this.control) this.machine.stop();
  }

  /** One instruction (one REP iteration, as the CPU's run(1)); into calls, interrupts and faults. */
  stepInto(): StopInfo {
    const control = newControl('step');
    // Halted (stopped at a HLT): the boundary where the waking interrupt's handler starts ends the step.
    if (this.cpuState().halted) control.calls = 1;
    return this.execute(control, this.defaultBudget);
  }

  /** Over CALL, INT n, REP string ops and LOOP: to the next instruction at the same stack depth. */
  stepOver(): StopInfo {
    const s = this.cpuState();
    const c = classify(this.readMemory(this.pc(), 15).bytes, code32Of(s));
    if (c.kind !== 'call' && c.kind !== 'int' && c.kind !== 'rep' && c.kind !== 'loop') return this.stepInto();
    const control = newControl('over');
    control.targetPc = (this.pc() + c.length) >>> 0;
    control.targetSp = s.esp >>> 0;
    return this.execute(control, this.defaultBudget);
  }

  /** To the instruction after the RET/RETF/IRET that leaves the current frame. */
  stepOut(): StopInfo {
    return this.execute(newControl('out'), this.defaultBudget);
  }

  /** Runs to an address or source line (breakpoints on the way still stop). */
  runTo(target: { address: number } | { file: string; line: number }): StopInfo {
    const control = newControl('to');
    if ('address' in target) control.targetPc = target.address >>> 0;
    else {
      // A line assembled for an offset in a segment: in the code segment running now.
      const e = this.lineEntry(target.file, target.line);
      control.targetPc = (e.segmentRelative ? this.cpuState().cs.base + e.address : e.address) >>> 0;
    }
    return this.execute(control, this.defaultBudget);
  }

  /** Runs until something stops it; after `budget` instructions returns reason 'budget' (call again). */
  continue(budget = this.defaultBudget): StopInfo {
    return this.execute(newControl('continue'), budget);
  }

  // ---- reverse ----------------------------------------------------------------------------------

  /** Back one instruction boundary. */
  stepBack(): StopInfo {
    return this.reverse.stepBack();
  }

  /** Back to the last breakpoint, watchpoint or event breakpoint hit before now. */
  reverseContinue(): StopInfo {
    return this.reverse.reverseContinue();
  }

  /**
   * Moves to just after an event emitted when the CPU had retired `retired` instructions and that
   * `isIt` recognises (see Reverse.goToEvent); reason 'history-start' if it was not found.
   */
  goToEvent(retired: number, isIt: (ev: TraceEvent) => boolean): StopInfo {
    return this.reverse.goToEvent(retired, isIt);
  }

  /** Moves to instruction count `n` (sub: see Position), backwards through the history or forwards. */
  goTo(n: number, sub = 0): StopInfo {
    return this.reverse.goTo({ n, sub });
  }
}

// The debugger following the machine's trace events. Console text and exceptions are recorded
// whatever the debugger does (recording.ts); during a run, an event matching an event breakpoint
// becomes the pending event stop, taken at the next instruction boundary (or by the run loop when
// the run ends without one), and interrupt and exception entries count as frames for step out.
//
// A base class of the engine rather than a collaborator: the run state declared here (the run
// control and the pending hits) is read by the engine's per-instruction check, which must reach it
// as plain fields of `this`, with no extra indirection per instruction.
import { KIND_BIT, type TraceEvent } from '../trace/schema.ts';
import type { Listener } from '../trace/emitter.ts';
import type { RunControl, StopCore } from './control.ts';
import type { EventBreakpoint, EventBreakpointTable } from './event-filter.ts';
import { Recording, type RecordingOptions } from './recording.ts';
import type { DebugMachine, WatchHit } from './types.ts';
import type { WatchpointTable } from './watch.ts';

export abstract class EventStream extends Recording {
  /** The run in progress (set by the engine for the length of one command). */
  protected control: RunControl | undefined;
  /** A watchpoint hit by the instruction that just ran, reported at the next boundary. */
  protected pendingWatch: WatchHit | undefined;
  /** An event breakpoint hit, reported at the next boundary. */
  protected pendingEvent: { eb: EventBreakpoint; ev: TraceEvent } | undefined;
  /** Set by Reverse while it replays: event breakpoints do not stop a plain replay. */
  protected replaying = false;
  private unlisten: (() => void) | undefined;
  private listenMask = 0;

  constructor(
    machine: DebugMachine,
    options: RecordingOptions,
    readonly watchpoints: WatchpointTable,
    readonly eventBreakpoints: EventBreakpointTable,
  ) {
    super(machine, options);
  }

  /** True while the CPU sleeps in HLT (no instruction boundary until an interrupt wakes it). */
  protected abstract halted(): boolean;

  /** (Re)subscribes to the event kinds needed now: event breakpoints' kinds, interrupts while stepping out. */
  protected relisten(): void {
    let mask = KIND_BIT.console | KIND_BIT.exception | this.eventBreakpoints.mask;
    if (this.control?.mode === 'out') mask |= KIND_BIT.interrupt;
    if (mask === this.listenMask && this.unlisten) return;
    this.unlisten?.();
    this.listenMask = mask;
    const listener: Listener = { mask, onEvent: (ev) => this.onEvent(ev) };
    this.unlisten = this.machine.emitter.listen(listener);
  }

  private onEvent(ev: TraceEvent): void {
    if (ev.kind === 'console') this.appendConsole(ev.text);
    else if (ev.kind === 'exception') {
      this.exceptions++;
      // The faulting instruction did not retire: accesses it made before the fault are no hit
      // (it runs again after the handler). The exception's own frame pushes are reported after this.
      // #DB is the single-step trap here: raised after its instruction retired, its accesses count.
      if (this.pendingWatch && ev.vector !== 1) {
        this.watchpoints.unhit(this.pendingWatch);
        this.pendingWatch = undefined;
      }
    }
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
      // Emitted by an instruction that halted the CPU (HLT's own event): there is no boundary
      // until an interrupt wakes it, so end the run now and stop at the halted state.
      if (!c.record && this.halted()) this.machine.stop();
    }
  }

  /** Takes the pending event stop. */
  protected eventStop(): StopCore {
    const p = this.pendingEvent!;
    this.pendingEvent = undefined;
    return { reason: 'event', breakpointId: p.eb.id, event: p.ev };
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

  /** Stops following the machine (no hooks, no event subscription). */
  detach(): void {
    this.unlisten?.();
    this.unlisten = undefined;
    this.machine.cpu.hooks = null;
  }
}

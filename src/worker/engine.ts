// The worker's debugging engine: the machine under src/debug's Debugger (breakpoints with
// conditions, stepping, reverse execution), plus what the app adds around it: serial input that
// replays exactly, and the event batch the UI has not seen yet.
import { Emitter } from '../trace/emitter.ts';
import { KIND_BIT, type EventKind, type TraceEvent } from '../trace/schema.ts';
import { Debugger } from '../debug/debugger.ts';
import type { StopInfo } from '../debug/types.ts';
import type { BootMode, Core, Machine } from './core.ts';
import type { CpuView } from './protocol.ts';
import { linearToPhysical } from './walk.ts';

export type OutcomeKind = 'budget' | 'breakpoint' | 'target' | 'halted' | 'debug-exit' | 'triple-fault' | 'history-start';

export interface Outcome {
  kind: OutcomeKind;
  detail: string;
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
  private inputQueue: number[] = [];
  private inputLog: { at: number; byte: number }[] = [];
  private inputsConsumed = 0;
  private breakpointIds: number[] = [];
  private eventIds: number[] = [];
  private watchIds: number[] = [];

  constructor(core: Core, memoryBytes: number) {
    this.machine = core.createMachine({ memoryBytes, emitter: this.emitter, serialInput: () => this.nextInput() });
    // After a restore, serial input the guest had not read yet at that point is read again on replay.
    const restore = this.machine.restore.bind(this.machine);
    this.machine.restore = (s) => {
      restore(s);
      const at = this.machine.cpu.instructions;
      this.inputsConsumed = this.inputLog.filter((r) => r.at < at).length;
    };
    this.emitter.listen({ mask: DEFAULT_EVENT_MASK, onEvent: (ev) => this.pendingEvents.push(ev) });
  }

  get instructions(): number {
    return this.machine.cpu.instructions;
  }

  get historyStart(): number {
    return this.dbg.state().history.start;
  }

  get console(): string {
    return this.dbg.console;
  }

  state(): CpuView {
    return this.machine.cpu.getState();
  }

  load(image: Uint8Array, mode: BootMode): void {
    this.machine.load(image, mode);
    this.dbg = new Debugger(this.machine, { snapshotInterval: 250_000, historyBudgetBytes: 96 * 1024 * 1024 });
    this.dbg.onRewind = (nextSeq) => {
      this.pendingEvents = [];
      this.rewoundTo = Math.min(this.rewoundTo ?? nextSeq, nextSeq);
    };
    this.dbg.takeSnapshot();
  }

  setBreakpoints(list: { id: number; address: number; condition?: string; enabled: boolean }[]): string[] {
    for (const id of this.breakpointIds) this.dbg.removeBreakpoint(id);
    this.breakpointIds = [];
    const errors: string[] = [];
    for (const b of list) {
      try {
        this.breakpointIds.push(this.dbg.addBreakpoint({ location: { kind: 'linear', address: b.address >>> 0 }, condition: b.condition?.trim() || undefined, enabled: b.enabled }));
      } catch (e) {
        errors.push(`breakpoint condition "${b.condition}": ${(e as Error).message}`);
        this.breakpointIds.push(this.dbg.addBreakpoint({ location: { kind: 'linear', address: b.address >>> 0 }, enabled: b.enabled }));
      }
    }
    return errors;
  }

  setEventBreakpoints(kinds: EventKind[]): void {
    for (const id of this.eventIds) this.dbg.removeBreakpoint(id);
    this.eventIds = kinds.map((kind) => this.dbg.addEventBreakpoint({ kind }));
  }

  setWatchpoints(list: { address: number; length: number; kind: 'read' | 'write' | 'access' }[]): string[] {
    for (const id of this.watchIds) this.dbg.removeBreakpoint(id);
    this.watchIds = [];
    const errors: string[] = [];
    for (const w of list) {
      try {
        this.watchIds.push(this.dbg.addWatchpoint({ kind: w.kind, address: w.address >>> 0, length: w.length }));
      } catch (e) {
        errors.push(`watchpoint at 0x${w.address.toString(16)}: ${(e as Error).message}`);
      }
    }
    return errors;
  }

  typeSerial(text: string): void {
    for (const ch of new TextEncoder().encode(text.replace(/\n/g, '\r'))) this.inputQueue.push(ch);
  }

  // ---- memory, as the views see it -----------------------------------------------------------

  readPhys32(p: number): number {
    return this.machine.memory.read32(p >>> 0) >>> 0;
  }

  readPhys8(p: number): number {
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

  private forward(op: () => StopInfo): Outcome {
    if (this.finished) return this.finished;
    return this.outcome(op());
  }

  private backward(op: () => StopInfo): Outcome {
    this.finished = null;
    return this.outcome(op());
  }

  private outcome(s: StopInfo): Outcome {
    switch (s.reason) {
      case 'budget':
      case 'pause':
        return { kind: 'budget', detail: '' };
      case 'step':
        return { kind: 'target', detail: '' };
      case 'breakpoint':
        return { kind: 'breakpoint', detail: 'breakpoint' };
      case 'watchpoint':
        return { kind: 'breakpoint', detail: `watchpoint (${s.watch?.kind} at 0x${(s.watch?.address ?? 0).toString(16)})` };
      case 'event':
        return { kind: 'breakpoint', detail: `event breakpoint (${s.event?.kind})` };
      case 'history-start':
        return { kind: 'history-start', detail: 'at the start of the recorded history' };
      case 'exited':
        return (this.finished = { kind: 'debug-exit', detail: `the guest wrote 0x${(s.exitCode ?? 0).toString(16)} to the debug-exit port (QEMU would exit with status ${((s.exitCode ?? 0) << 1) | 1})` });
      case 'triple-fault':
        return (this.finished = { kind: 'triple-fault', detail: 'triple fault: the machine shut down' });
      case 'halted':
        return (this.finished = { kind: 'halted', detail: 'HLT with interrupts disabled: the machine would wait forever' });
    }
  }

  private nextInput(): number | undefined {
    // Replaying: hand back what the guest read the first time, at the same point.
    if (this.inputsConsumed < this.inputLog.length) {
      const rec = this.inputLog[this.inputsConsumed];
      if (this.instructions < rec.at) return undefined;
      this.inputsConsumed++;
      return rec.byte;
    }
    const byte = this.inputQueue.shift();
    if (byte === undefined) return undefined;
    this.inputLog.push({ at: this.instructions, byte });
    this.inputsConsumed++;
    return byte;
  }
}

// The breakpoints, event breakpoints and watchpoints the UI set, and the ids they have in the
// debugger they are installed in. The lists are kept, not just the ids, because under the
// hypervisor each focused vCPU has its own Debugger (engine.ts): on a change of focus the same
// lists move to the newly focused vCPU's debugger.
import type { Debugger } from '../debug/debugger.ts';
import type { StopInfo } from '../debug/types.ts';
import { describeSpec, toFilter, type EventBreakSpec } from '../debug/event-conditions.ts';

/** A code breakpoint as the UI lists it: `offset` means `address` is an offset in CS, not linear. */
export interface CodeBreakpoint {
  id: number;
  address: number;
  offset?: boolean;
  condition?: string;
  enabled: boolean;
}

export interface Watch {
  address: number;
  length: number;
  kind: 'read' | 'write' | 'access';
}

export class BreakpointLists {
  private breakpoints: CodeBreakpoint[] = [];
  private eventBreaks: EventBreakSpec[] = [];
  private watches: Watch[] = [];
  private breakpointIds: number[] = [];
  /** The debugger's id of each event breakpoint it accepted, with its spec (refused ones have none). */
  private eventSpecs = new Map<number, EventBreakSpec>();
  private watchIds: number[] = [];

  /** Replaces the code breakpoints in `dbg`; returns a message for each condition refused (the breakpoint stays, unconditional). */
  setBreakpoints(dbg: Debugger, list: CodeBreakpoint[]): string[] {
    this.breakpoints = list;
    for (const id of this.breakpointIds) dbg.removeBreakpoint(id);
    this.breakpointIds = [];
    const errors: string[] = [];
    for (const b of list) {
      const location = { kind: b.offset ? 'offset' : 'linear', address: b.address >>> 0 } as const;
      try {
        this.breakpointIds.push(dbg.addBreakpoint({ location, condition: b.condition?.trim() || undefined, enabled: b.enabled }));
      } catch (e) {
        errors.push(`breakpoint condition "${b.condition}": ${(e as Error).message}`);
        this.breakpointIds.push(dbg.addBreakpoint({ location, enabled: b.enabled }));
      }
    }
    return errors;
  }

  /**
   * Replaces the event breakpoints in `dbg`; returns a message for each one refused (a field or
   * value the schema lacks). Under the hypervisor (`vm` set) they stop on that VM's events only.
   */
  setEventBreakpoints(dbg: Debugger, list: EventBreakSpec[], vm: number | undefined): string[] {
    this.eventBreaks = list;
    for (const id of this.eventSpecs.keys()) dbg.removeBreakpoint(id);
    this.eventSpecs.clear();
    const errors: string[] = [];
    for (const spec of list) {
      try {
        this.eventSpecs.set(dbg.addEventBreakpoint(toFilter(spec, vm)), spec);
      } catch (e) {
        errors.push(`event breakpoint "${describeSpec(spec)}": ${(e as Error).message}`);
      }
    }
    return errors;
  }

  setWatchpoints(dbg: Debugger, list: Watch[]): string[] {
    this.watches = list;
    for (const id of this.watchIds) dbg.removeBreakpoint(id);
    this.watchIds = [];
    const errors: string[] = [];
    for (const w of list) {
      try {
        this.watchIds.push(dbg.addWatchpoint({ kind: w.kind, address: w.address >>> 0, length: w.length }));
      } catch (e) {
        errors.push(`watchpoint at 0x${w.address.toString(16)}: ${(e as Error).message}`);
      }
    }
    return errors;
  }

  /** Takes every list out of `dbg` (the focus is leaving its vCPU) but remembers them for `reinstall`. */
  uninstall(dbg: Debugger): void {
    for (const id of [...this.breakpointIds, ...this.eventSpecs.keys(), ...this.watchIds]) dbg.removeBreakpoint(id);
    this.breakpointIds = [];
    this.eventSpecs.clear();
    this.watchIds = [];
  }

  /**
   * Puts every list into `dbg` (the newly focused vCPU's debugger). Their errors were reported
   * when the UI set them, so they are not reported again.
   */
  reinstall(dbg: Debugger, vm: number | undefined): void {
    this.setBreakpoints(dbg, this.breakpoints);
    this.setEventBreakpoints(dbg, this.eventBreaks, vm);
    this.setWatchpoints(dbg, this.watches);
  }

  /** The event breakpoint that stopped `s` as the list shows it ("pagefault outcome=hidden"), else the event's kind. */
  describeEventStop(s: StopInfo): string {
    const spec = s.breakpointId === undefined ? undefined : this.eventSpecs.get(s.breakpointId);
    return spec ? describeSpec(spec) : String(s.event?.kind);
  }
}

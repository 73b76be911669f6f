// What a forward run looks for, and positions in time. Shared by the engine, the commands and
// reverse execution.
import type { StepClass } from './classify.ts';
import type { DebugCpuState, StopInfo } from './types.ts';

/** A stop without its position (the engine adds eip and the instruction count). */
export type StopCore = Omit<StopInfo, 'eip' | 'instructions'>;

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

/** What a forward run is looking for; built by each command, read at every instruction boundary. */
export interface RunControl {
  /**
   * 'continue': only breakpoints stop it; 'step': the next boundary; 'over'/'to': reaching
   * targetPc (with ESP >= targetSp); 'out': after the unmatched return; 'count': position `end`.
   */
  mode: 'continue' | 'step' | 'over' | 'to' | 'out' | 'count';
  targetPc?: number;
  targetSp?: number;
  /** 'count' and record runs: stop at the first boundary at or after this position. */
  end?: Position;
  /** Record hits instead of stopping (reverse search); called with the hit and its position. */
  record?: (info: StopCore, at: Position) => void;
  /** 'count' runs: told every boundary before the end. */
  observe?: (at: Position) => void;
  /** 'count' runs: stop at the first boundary after `seen` was set (an event the run looks for). */
  afterEvent?: { seen: boolean };
  /** Boundaries seen so far in this run. */
  calls: number;
  /** Step out: calls and interrupt entries not yet matched by a return. */
  depth: number;
  prevClass: StepClass;
  sawInterrupt: boolean;
  stop?: StopCore;
}

export function newControl(mode: RunControl['mode']): RunControl {
  return { mode, calls: 0, depth: 0, prevClass: 'other', sawInterrupt: false };
}

/** 32-bit code: protected mode with CS.D set, not virtual-8086. */
export function code32Of(s: DebugCpuState): boolean {
  return (s.cr0 & 1) !== 0 && (s.cs.access & 0x400) !== 0 && (s.eflags & 0x20000) === 0;
}

/**
 * Step out bookkeeping at one boundary, given the class of the instruction that just ran:
 * true when it was the return that leaves the frame the step started in.
 */
export function returnedOut(c: RunControl): boolean {
  if (c.calls > 1) {
    const prev = c.prevClass;
    if (prev === 'ret' || prev === 'iret') {
      if (c.depth === 0) return true;
      c.depth--;
    } else if (prev === 'call' || (prev === 'int' && !c.sawInterrupt)) c.depth++;
  }
  c.sawInterrupt = false;
  return false;
}

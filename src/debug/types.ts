// The parts of the machine the debugger uses, as structural types: the real Machine satisfies them,
// and so do small fakes in tests. Keeping this narrow is what lets a vCPU (under the hypervisor) be
// a debug target later: a `DebugTarget` is "something with a CPU state, memory, an event stream,
// a way to run N instructions and a way to snapshot/restore everything".
import type { Emitter } from '../trace/emitter.ts';
import type { TraceEvent } from '../trace/schema.ts';

export interface DebugSegment {
  selector: number;
  base: number;
  limit: number;
  access: number;
}

/** The subset of the CPU's CpuState the debugger reads (the real CpuState has more). */
export interface DebugCpuState {
  eax: number; ecx: number; edx: number; ebx: number; esp: number; ebp: number; esi: number; edi: number;
  eip: number; eflags: number;
  es: DebugSegment; cs: DebugSegment; ss: DebugSegment; ds: DebugSegment; fs: DebugSegment; gs: DebugSegment;
  cr0: number; cr2: number; cr3: number; cr4: number;
  halted: boolean;
}

export interface DebugHooks {
  beforeInstruction?(cpu: never): boolean;
}

export interface DebugCpu {
  hooks: DebugHooks | null;
  instructions: number;
  getState(): DebugCpuState;
  setState(s: DebugCpuState): void;
}

export interface DebugMemory {
  readonly ram: Uint8Array;
  readonly size: number;
  writeBytes(p: number, bytes: Uint8Array): void;
}

/** How a run ended, as Machine.run reports it. */
export type DebugRunResult =
  | { reason: 'debug-exit'; code: number }
  | { reason: 'triple-fault' }
  | { reason: 'instruction-limit' }
  | { reason: 'halted' }
  | { reason: 'stopped' };

export interface DebugMachine {
  readonly cpu: DebugCpu;
  readonly memory: DebugMemory;
  readonly emitter: Emitter;
  run(maxInstructions?: number): DebugRunResult;
  stop(): void;
  snapshot(): unknown;
  restore(s: unknown): void;
}

/** Why the debugger stopped. */
export type StopReason =
  | 'step' // a step, step over/out or run-to finished
  | 'breakpoint'
  | 'watchpoint'
  | 'event' // an event breakpoint matched
  | 'pause' // the caller asked (pause())
  | 'budget' // the instruction budget of this call ran out: still running, call again
  | 'history-start' // reverse execution reached the oldest snapshot
  | 'exited' // the guest wrote the debug-exit port
  | 'triple-fault'
  | 'halted'; // HLT with interrupts disabled: it would wait forever

export interface WatchHit {
  id: number;
  kind: 'read' | 'write' | 'access';
  /** The watched address (linear or physical, as the watchpoint was set) the access touched. */
  address: number;
}

export interface StopInfo {
  reason: StopReason;
  /** Linear address of the next instruction (CS base + EIP). */
  eip: number;
  /** Instructions retired so far (the debugger's position in time). */
  instructions: number;
  /** Present when this is a repeated boundary at the same count (at a fault handler's first instruction: 1). */
  sub?: number;
  breakpointId?: number;
  watch?: WatchHit;
  event?: TraceEvent;
  /** For 'exited': the byte written to the debug-exit port. */
  exitCode?: number;
}

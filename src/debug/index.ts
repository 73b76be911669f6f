// The debugger engine's public API (for the worker, the CLI and the GDB stub). UI-free, Node-free.
//
//   const dbg = new Debugger(machine, { lineMap, symbols } /* from sourceInfo(assemble(...).map) */);
//   dbg.addBreakpoint({ location: { kind: 'line', file: 'k.asm', line: 12 }, condition: 'eax == 3' })
//   dbg.addWatchpoint({ kind: 'write', address: 0x5000, length: 4 })
//   dbg.addEventBreakpoint({ kind: 'pagefault', where: { outcome: 'hidden' } })
//   dbg.continue() / stepInto() / stepOver() / stepOut() / runTo({ address }) / pause()
//   dbg.stepBack() / reverseContinue() / goTo(n)        → StopInfo { reason, eip, instructions, ... }
//   dbg.state()  → registers, position, console text, history extent
export { Debugger, DebugError, type DebuggerOptions, type DebuggerState, type Position } from './debugger.ts';
export type { StopInfo, StopReason, WatchHit, DebugMachine, DebugCpuState } from './types.ts';
export type { BreakpointSpec, BreakpointLocation, WatchpointSpec, WatchKind, LineMapEntry } from './breakpoints.ts';
export type { EventFilter, FieldTest } from './event-filter.ts';
export { compileExpression, checkExpression, ExprError } from './expr.ts';
export { sourceInfo, lineAt, type SourceInfo } from './source.ts';
export { VcpuTarget } from './vcpu-target.ts';
export { conditionFields, describeSpec, parseEventSpec, tryParseEventSpec, toFilter, type EventBreakSpec, type ConditionField } from './event-conditions.ts';

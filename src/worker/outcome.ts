// How a debugger stop (src/debug/types.ts StopInfo) reads in the app: a kind the host acts on and
// a sentence the status line shows. Kept apart from the engine because it is pure translation: the
// engine only has to remember the outcomes that end the run for good (`endsTheRun`).
import type { StopInfo } from '../debug/types.ts';

export type OutcomeKind = 'budget' | 'breakpoint' | 'target' | 'halted' | 'debug-exit' | 'triple-fault' | 'history-start';

export interface Outcome {
  kind: OutcomeKind;
  detail: string;
}

/** `describeEventStop` names the event breakpoint that matched; called only for event stops. */
export function outcomeOf(s: StopInfo, describeEventStop: (s: StopInfo) => string): Outcome {
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
      return { kind: 'breakpoint', detail: `event breakpoint (${describeEventStop(s)})` };
    case 'history-start':
      return { kind: 'history-start', detail: 'at the start of the recorded history' };
    case 'exited':
      return { kind: 'debug-exit', detail: `the guest wrote 0x${(s.exitCode ?? 0).toString(16)} to the debug-exit port (QEMU would exit with status ${((s.exitCode ?? 0) << 1) | 1})` };
    case 'triple-fault':
      return { kind: 'triple-fault', detail: 'triple fault: the machine shut down' };
    case 'halted':
      return { kind: 'halted', detail: 'HLT with interrupts disabled: the machine would wait forever' };
  }
}

/** Debug exit, triple fault and HLT with IF=0 (an outcome's or a stop's kind): going forward cannot change them, only going back can. */
export function endsTheRun(kind: string): boolean {
  return kind === 'debug-exit' || kind === 'triple-fault' || kind === 'halted';
}

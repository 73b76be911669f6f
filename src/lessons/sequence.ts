// Ordered event sequences: "exactly 3 hidden faults, then 1 injected fault with CR2 = 0x400000".
// The sequence looks only at its scope (by default: events of the kinds its steps name). Within
// the scope the steps must match one contiguous stretch; each step matches a run of consecutive
// events, and runs are maximal: the event before the stretch does not match the first step, and a
// run ends early only where the next step's filter claims the event. So "exactly 3" means three
// and not four. With `whole`, the stretch is the entire scope.
// When nothing matches, the message describes the attempt that got furthest.
import type { TraceEvent } from '../trace/schema.ts';
import { describeEvent, describeFilter, matchesFilter } from './predicates.ts';
import type { CountSpec, EventFilter, SequenceStep } from './types.ts';

export type SequenceResult = { ok: true; first: number; last: number } | { ok: false; message: string };

export function describeCount(c: CountSpec): string {
  if (c.min === c.max) return `${c.min}`;
  if (c.max === Infinity) return `at least ${c.min}`;
  if (c.min === 0) return `at most ${c.max}`;
  return `${c.min} to ${c.max}`;
}

export function describeStep(s: SequenceStep): string {
  return `${describeCount(s.count)} × ${describeFilter(s)}`;
}

/** The events of the scope, in order. */
export function scoped(events: readonly TraceEvent[], scope: readonly EventFilter[]): TraceEvent[] {
  return events.filter((ev) => scope.some((f) => matchesFilter(f, ev)));
}

interface Failure {
  step: number;
  pos: number;
  run: number;
  message: string;
}

export function matchSequence(events: readonly TraceEvent[], steps: readonly SequenceStep[], whole: boolean): SequenceResult {
  const n = events.length;
  let best: Failure | null = null;
  let tooManyFirst: Failure | null = null; // step 1 found, but in a longer run than allowed
  const fail = (f: Failure) => {
    if (f.step === 0 && f.run > steps[0]!.count.max && tooManyFirst === null) tooManyFirst = f;
    if (best === null || f.step > best.step || (f.step === best.step && f.pos > best.pos)) best = f;
  };
  const runAt = (step: SequenceStep, pos: number) => {
    let k = 0;
    while (pos + k < n && matchesFilter(step, events[pos + k]!)) k++;
    return k;
  };
  const what = (pos: number) => (pos < n ? describeEvent(events[pos]!) : 'the end of the events');

  const from = (pos: number, i: number): number | null => {
    if (i === steps.length) {
      if (whole && pos < n) {
        fail({ step: i, pos, run: 0, message: `all ${steps.length} steps matched, but more events followed: ${what(pos)}` });
        return null;
      }
      return pos;
    }
    const step = steps[i]!;
    const run = runAt(step, pos);
    const next = steps[i + 1];
    for (let k = Math.min(run, step.count.max); k >= step.count.min; k--) {
      // A run is maximal: it may stop early only where the next step claims the event.
      if (k < run && (next === undefined || !matchesFilter(next, events[pos + k]!))) continue;
      const end = from(pos + k, i + 1);
      if (end !== null) return end;
    }
    const before = i === 0 ? '' : `after step ${i} matched (up to ${describeEvent(events[pos - 1]!)}), `;
    const got = run > step.count.max
      ? `${run} such events in a row`
      : `${run === 0 ? 'none' : `${run} such event${run === 1 ? '' : 's'}`}, then ${what(pos + run)}`;
    if (run > step.count.max || run < step.count.min) {
      fail({ step: i, pos, run, message: `${before}expected step ${i + 1}: ${describeStep(step)}, but got ${got}` });
    }
    return null;
  };

  const starts: number[] = [];
  if (whole) starts.push(0);
  else for (let s = 0; s <= n; s++) if (s === 0 || !matchesFilter(steps[0]!, events[s - 1]!)) starts.push(s);
  for (const s of starts) {
    const end = from(s, 0);
    if (end !== null) return { ok: true, first: s, last: end - 1 };
  }
  const b = best as Failure | null;
  if (b === null || b.step === 0) {
    const first = steps[0]!;
    const shown = events.slice(0, 4).map(describeEvent);
    const list = n === 0 ? 'there were no events in its scope' : `its scope had ${n} event${n === 1 ? '' : 's'}: ${shown.join('; ')}${n > 4 ? '; ...' : ''}`;
    const tooMany = tooManyFirst as Failure | null;
    const detail = tooMany !== null ? tooMany.message : `expected step 1: ${describeStep(first)}, but no run of them fits; ${list}`;
    return { ok: false, message: detail };
  }
  return { ok: false, message: b.message };
}

// The views' figures for a big binary trace, read from its columns instead of one object per
// event: exit counts and cycles by VM and reason, and hidden/true fault counts, over the whole
// run up to the position (totals-scan.ts: a tight loop over typed arrays, with checkpoints).
// The views that need whole events get the sparse kinds decoded (shutdown, mode changes: rare in
// a run); the tables and the walk replay their kinds from the columns (table-replay.ts).
import { KIND_CODE, maskOf, type EventKind, type TraceEvent } from '../../trace/schema.ts';
import type { BatchColumns } from '../../trace/columns.ts';
import type { MemoryMap, ReasonStat, Schedule, VmCard, VmRunState } from './derive.ts';
import { TotalsScan, endOfSeq } from './totals-scan.ts';
import type { RunInfo } from './types.ts';

export interface Batch { first: number; cols: BatchColumns }

export interface ColumnTotals {
  exits: Map<number, ReasonStat[]>;
  /** Per VM: exits, hidden faults (hidden + EPT violations), true faults. */
  perVm: Map<number, { exits: number; hiddenFaults: number; trueFaults: number }>;
  /** Host frame owners from the frame events up to the position (as derive.ts's memoryMap). */
  memory: MemoryMap;
  /** Per VM: the last 400 characters its console events wrote up to the position. */
  console: Map<number, string>;
  /** The scheduler's Gantt, credits and shares (as derive.ts's schedule). */
  sched: Schedule;
  /** Per VM: running, runnable, blocked or exited at the position (as derive.ts's vmCards). */
  states: Map<number, VmRunState>;
}

/** Kinds decoded whole for the object views (rare in a run, needed from its start); frames and console text are read from the columns. */
export const SPARSE_KINDS: readonly EventKind[] = ['shutdown', 'mode', 'reset', 'migration', 'warning'];

/** The counters after every event with seq <= upTo (one scan from the start; TotalsReplay keeps checkpoints of it for seeks). */
export function columnTotals(batches: readonly Batch[], upTo: number, info: RunInfo): ColumnTotals {
  const scan = new TotalsScan(batches, info);
  scan.advance(endOfSeq(batches, upTo));
  return withConsoleTails(scan.result(), batches, scan.at, info);
}

/** `totals` with each VM's console tail before event index `end` filled in. */
export function withConsoleTails(totals: ColumnTotals, batches: readonly Batch[], end: number, info: RunInfo): ColumnTotals {
  return { ...totals, console: consoleTails(batches, end, info.vms.map((v) => v.vm)) };
}

/** Each VM's last 400 console characters before event index `end`, read backwards (stops when every VM has enough, or after 2M events). */
function consoleTails(batches: readonly Batch[], end: number, vms: readonly number[], keep = 400, maxScan = 2_000_000): Map<number, string> {
  const K_CONSOLE = KIND_CODE.console;
  const parts = new Map<number, string[]>(vms.map((v) => [v, []]));
  const have = new Map<number, number>(vms.map((v) => [v, 0]));
  let missing = vms.length, scanned = 0;
  for (let b = batches.length - 1; b >= 0 && missing > 0 && scanned < maxScan; b--) {
    const { first, cols } = batches[b]!;
    for (let i = Math.min(cols.count, end - first) - 1; i >= 0 && missing > 0 && scanned < maxScan; i--, scanned++) {
      if (cols.kind[i] !== K_CONSOLE) continue;
      const vm = cols.vm[i]!, got = have.get(vm);
      if (got === undefined || got >= keep) continue;
      const ev = cols.decode(i);
      if (ev.kind !== 'console') continue;
      parts.get(vm)!.push(ev.text);
      have.set(vm, got + ev.text.length);
      if (got + ev.text.length >= keep) missing--;
    }
  }
  return new Map([...parts].map(([vm, list]) => [vm, list.reverse().join('').slice(-keep)]));
}

/** The cards with their counters taken from the columns (the object pass saw only the sparse kinds). */
export function withTotals(cards: VmCard[], totals: ColumnTotals | null): VmCard[] {
  if (!totals) return cards;
  return cards.map((c) => {
    const t = totals.perVm.get(c.vm);
    return { ...c, state: totals.states.get(c.vm) ?? c.state, exits: t?.exits ?? 0, hiddenFaults: t?.hiddenFaults ?? 0, trueFaults: t?.trueFaults ?? 0, console: totals.console.get(c.vm) ?? '' };
  });
}

/** Every event of the given kinds, decoded, in order. */
export function decodeKinds(batches: readonly Batch[], kinds: readonly EventKind[]): TraceEvent[] {
  const mask = maskOf(kinds);
  const out: TraceEvent[] = [];
  for (const { cols } of batches) {
    const { kind, count } = cols;
    for (let i = 0; i < count; i++) if ((mask >>> kind[i]!) & 1) out.push(cols.decode(i));
  }
  return out;
}

/** Events [from, to) by index in the whole trace, decoded. */
export function decodeRange(batches: readonly Batch[], from: number, to: number): TraceEvent[] {
  const out: TraceEvent[] = [];
  for (const { first, cols } of batches) {
    if (first + cols.count <= from) continue;
    if (first >= to) break;
    for (let i = Math.max(0, from - first); i < cols.count && first + i < to; i++) out.push(cols.decode(i));
  }
  return out;
}

/** One past the highest host frame named by any frame event. */
export function columnFrameExtent(batches: readonly Batch[]): number {
  const K_FRAME = KIND_CODE.frame;
  let max = 0;
  for (const { cols } of batches) {
    const frame = cols.wideCol(K_FRAME, 'frame'), kind = cols.kind;
    for (let i = 0; i < cols.count; i++) if (kind[i] === K_FRAME && frame[i]! >= max) max = frame[i]! + 1;
  }
  return max;
}

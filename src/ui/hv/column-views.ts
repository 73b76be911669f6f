// The views' figures for a big binary trace, read from its columns instead of one object per
// event: exit counts and cycles by VM and reason, and hidden/true fault counts, over the whole
// run up to the position (a tight loop over typed arrays: tens of ms for 10 million events).
// The views that need whole events get two decoded subsets instead: the sparse kinds (scheduling,
// frames, console, shutdown: a few per cent of a run) and a window of the most recent events
// before the position (the tables and the walk show what happened lately).
import { EXIT_REASONS, KIND_CODE, maskOf, type EventKind, type TraceEvent } from '../../trace/schema.ts';
import type { BatchColumns } from '../../trace/columns.ts';
import type { ReasonStat, VmCard } from './derive.ts';

export interface Batch { first: number; cols: BatchColumns }

export interface ColumnTotals {
  exits: Map<number, ReasonStat[]>;
  /** Per VM: exits, hidden faults (hidden + EPT violations), true faults. */
  perVm: Map<number, { exits: number; hiddenFaults: number; trueFaults: number }>;
}

/** Kinds decoded whole for the object views (rare in a run, needed from its start). */
export const SPARSE_KINDS: readonly EventKind[] = ['sched', 'frame', 'console', 'shutdown', 'mode', 'reset', 'migration', 'warning'];

export function columnTotals(batches: readonly Batch[], upTo: number): ColumnTotals {
  const K_EXIT = KIND_CODE.exit, K_PF = KIND_CODE.pagefault;
  // [vm + 1][reason] counts and cycles; VMs are few (the lane limit is 255).
  const counts: Float64Array[] = [], cycles: Float64Array[] = [];
  const faults = new Map<number, { exits: number; hiddenFaults: number; trueFaults: number }>();
  const slot = (vm: number) => {
    let f = faults.get(vm);
    if (!f) faults.set(vm, (f = { exits: 0, hiddenFaults: 0, trueFaults: 0 }));
    return f;
  };
  outer: for (const { cols } of batches) {
    const { kind, vm, seq, count } = cols;
    const reason = cols.small(K_EXIT, 'reason'), cyc = cols.wideCol(K_EXIT, 'cycles'), outcome = cols.small(K_PF, 'outcome');
    for (let i = 0; i < count; i++) {
      if (seq[i]! > upTo) break outer;
      const k = kind[i]!;
      if (k === K_EXIT) {
        const v = vm[i]! + 1;
        const c = (counts[v] ??= new Float64Array(EXIT_REASONS.length));
        const y = (cycles[v] ??= new Float64Array(EXIT_REASONS.length));
        c[reason[i]!]!++;
        y[reason[i]!]! += cyc[i]!;
      } else if (k === K_PF) {
        const o = outcome[i]!; // 'bare' | 'hidden' | 'injected' | 'ept-violation'
        const f = slot(vm[i]!);
        if (o === 1 || o === 3) f.hiddenFaults++; else f.trueFaults++;
      }
    }
  }
  const exits = new Map<number, ReasonStat[]>();
  counts.forEach((c, v) => {
    if (!c) return;
    const list: ReasonStat[] = [];
    c.forEach((n, r) => { if (n > 0) list.push({ reason: EXIT_REASONS[r]!, count: n, cycles: cycles[v]![r]! }); });
    list.sort((a, b) => b.count - a.count || a.reason.localeCompare(b.reason));
    exits.set(v - 1, list);
    slot(v - 1).exits = list.reduce((a, s) => a + s.count, 0);
  });
  return { exits: new Map([...exits].sort((a, b) => a[0] - b[0])), perVm: faults };
}

/** The cards with their counters taken from the columns (the object pass saw only the sparse kinds). */
export function withTotals(cards: VmCard[], totals: ColumnTotals | null): VmCard[] {
  if (!totals) return cards;
  return cards.map((c) => {
    const t = totals.perVm.get(c.vm);
    return { ...c, exits: t?.exits ?? 0, hiddenFaults: t?.hiddenFaults ?? 0, trueFaults: t?.trueFaults ?? 0 };
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

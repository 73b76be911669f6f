// The views' figures for a big binary trace, read from its columns instead of one object per
// event: exit counts and cycles by VM and reason, and hidden/true fault counts, over the whole
// run up to the position (a tight loop over typed arrays: tens of ms for 10 million events).
// The views that need whole events get two decoded subsets instead: the sparse kinds (scheduling,
// frames, console, shutdown: a few per cent of a run) and a window of the most recent events
// before the position (the tables and the walk show what happened lately).
import { EXIT_REASONS, KIND_CODE, maskOf, type EventKind, type TraceEvent } from '../../trace/schema.ts';
import type { BatchColumns } from '../../trace/columns.ts';
import { OWNER_FREE, OWNER_HV, ownerCode, sharesOf, type CreditPoint, type GanttSegment, type MemoryMap, type ReasonStat, type Schedule, type VmCard, type VmRunState } from './derive.ts';
import { PLANS } from '../../trace/layout.ts';
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

const SCHED_REASONS = (PLANS[KIND_CODE.sched]!.fields.find((f) => f.name === 'reason')!.spec as { values: readonly string[] }).values;

/** Kinds decoded whole for the object views (rare in a run, needed from its start); frames and console text are read from the columns. */
export const SPARSE_KINDS: readonly EventKind[] = ['shutdown', 'mode', 'reset', 'migration', 'warning'];

const FRAME_OWNERS = ['hypervisor', 'guest', 'shadow', 'nested'] as const;

export function columnTotals(batches: readonly Batch[], upTo: number, info: RunInfo): ColumnTotals {
  const K_EXIT = KIND_CODE.exit, K_PF = KIND_CODE.pagefault, K_FRAME = KIND_CODE.frame, K_SCHED = KIND_CODE.sched, K_SHUT = KIND_CODE.shutdown;
  // The scheduler, as derive.ts's schedule() and vmCards() read it, straight from the columns.
  const segments: GanttSegment[] = [], credits: CreditPoint[] = [];
  let current: GanttSegment | null = null;
  let start = Infinity, end = 0;
  const states = new Map<number, VmRunState>(info.vms.map((v) => [v.vm, 'runnable']));
  const wake = SCHED_REASONS.indexOf('wake'), halt = SCHED_REASONS.indexOf('halt'), exitR = SCHED_REASONS.indexOf('exit');
  const owners = new Uint16Array(info.hostFrames);
  owners.fill(OWNER_HV, 0, Math.min(owners.length, info.hvFrames ?? 0));
  let lastChanged = -1;
  let taken = 0; // events at or before the position
  // [vm + 1][reason] counts and cycles; VMs are few (the lane limit is 255).
  const counts: Float64Array[] = [], cycles: Float64Array[] = [];
  const faults = new Map<number, { exits: number; hiddenFaults: number; trueFaults: number }>();
  const slot = (vm: number) => {
    let f = faults.get(vm);
    if (!f) faults.set(vm, (f = { exits: 0, hiddenFaults: 0, trueFaults: 0 }));
    return f;
  };
  outer: for (const { first, cols } of batches) {
    const { kind, vm, seq, count } = cols;
    const reason = cols.small(K_EXIT, 'reason'), cyc = cols.wideCol(K_EXIT, 'cycles'), outcome = cols.small(K_PF, 'outcome');
    const fOp = cols.small(K_FRAME, 'op'), fOwner = cols.small(K_FRAME, 'owner'), fFrame = cols.wideCol(K_FRAME, 'frame'), fVm = cols.wideCol(K_FRAME, 'ownerVm');
    const sFrom = cols.wideCol(K_SCHED, 'from'), sTo = cols.wideCol(K_SCHED, 'to'), sReason = cols.small(K_SCHED, 'reason');
    const creditsBit = cols.presenceBit(K_SCHED, 'credits'), tickCol = cols.tick, flags = cols.flags;
    if (count > 0 && seq[0]! <= upTo) start = Math.min(start, tickCol[0]!);
    for (let i = 0; i < count; i++) {
      if (seq[i]! > upTo) break outer;
      taken = first + i + 1;
      const k = kind[i]!, t = tickCol[i]!;
      if (t > end) end = t;
      if (t < start) start = t;
      if (k === K_SCHED) {
        const r = sReason[i]!, to = sTo[i]! | 0, from = sFrom[i]! | 0;
        const toState = states.get(to), fromState = states.get(from);
        if (r === wake) { if (toState === 'blocked') states.set(to, 'runnable'); continue; }
        if (fromState !== undefined && fromState !== 'exited') states.set(from, r === halt ? 'blocked' : r === exitR ? 'exited' : 'runnable');
        if (toState !== undefined) states.set(to, 'running');
        if (current) { current.end = t; if (current.end > current.start) segments.push(current); }
        current = to >= 0 ? { vm: to, start: t, end: t, reason: SCHED_REASONS[r]! } : null;
        // The credits list is parsed when a view reads it (the Gantt reads a few per pixel column).
        if (flags[i]! & creditsBit) credits.push({ tick: t, get credits() { return cols.field(i, 'credits') as number[]; } });
        continue;
      }
      if (k === K_SHUT) { if (states.has(vm[i]!)) states.set(vm[i]!, 'exited'); continue; }
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
      } else if (k === K_FRAME) {
        const frame = fFrame[i]!;
        const code = fOp[i] === 0 ? ownerCode(FRAME_OWNERS[fOwner[i]!] ?? 'guest', fVm[i]! | 0) : OWNER_FREE;
        if (frame < owners.length && owners[frame] !== code) { owners[frame] = code; lastChanged = frame; }
      }
    }
  }
  const counts_ = new Map<number, number>();
  for (const o of owners) counts_.set(o, (counts_.get(o) ?? 0) + 1);
  const exits = new Map<number, ReasonStat[]>();
  counts.forEach((c, v) => {
    if (!c) return;
    const list: ReasonStat[] = [];
    c.forEach((n, r) => { if (n > 0) list.push({ reason: EXIT_REASONS[r]!, count: n, cycles: cycles[v]![r]! }); });
    list.sort((a, b) => b.count - a.count || a.reason.localeCompare(b.reason));
    exits.set(v - 1, list);
    slot(v - 1).exits = list.reduce((a, s) => a + s.count, 0);
  });
  return {
    exits: new Map([...exits].sort((a, b) => a[0] - b[0])),
    perVm: faults,
    memory: { owners, counts: counts_, lastChanged },
    console: consoleTails(batches, taken, info.vms.map((v) => v.vm)),
    sched: (() => {
      if (current) { current.end = end; if (current.end > current.start) segments.push(current); }
      return { segments, credits, shares: sharesOf(segments, info), start: start === Infinity ? 0 : start, end };
    })(),
    states,
  };
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

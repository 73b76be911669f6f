// The views' counters for a big binary trace (column-views.ts's ColumnTotals: exits by reason,
// faults per VM, the host memory map, the scheduler's Gantt and the VMs' states), computed by a
// scan over the columns that can stop at any event and go on later. TotalsReplay keeps that scan's
// state at checkpoints every CHECKPOINT_EVENTS events, so that a seek in a 10-million-event trace
// replays at most that many events instead of the whole run up to the position.
import * as d3 from 'd3';
import { EXIT_REASONS, KIND_CODE } from '../../trace/schema.ts';
import { enumValues } from '../../trace/layout.ts';
import { OWNER_FREE, OWNER_HV, ownerCode, sharesOf, type CreditPoint, type GanttSegment, type ReasonStat, type VmRunState } from './derive.ts';
import type { Batch, ColumnTotals } from './column-views.ts';
import { CHECKPOINT_EVENTS } from './table-replay.ts';
import type { RunInfo } from './types.ts';

const SCHED_REASONS = enumValues(KIND_CODE.sched, 'reason');
const FRAME_OWNERS = ['hypervisor', 'guest', 'shadow', 'nested'] as const;
const K_EXIT = KIND_CODE.exit, K_PF = KIND_CODE.pagefault, K_FRAME = KIND_CODE.frame, K_SCHED = KIND_CODE.sched, K_SHUT = KIND_CODE.shutdown;
const WAKE = SCHED_REASONS.indexOf('wake'), HALT = SCHED_REASONS.indexOf('halt'), EXIT_R = SCHED_REASONS.indexOf('exit');

type Faults = { exits: number; hiddenFaults: number; trueFaults: number };

/** VM `vm`'s fault counters in `faults`, made at zero on first use. */
function slotIn(faults: Map<number, Faults>, vm: number): Faults {
  let f = faults.get(vm);
  if (!f) faults.set(vm, (f = { exits: 0, hiddenFaults: 0, trueFaults: 0 }));
  return f;
}

/**
 * The counters after events [0, at). Segments and credit points only ever grow at the end, so a
 * copy shares the lists up to a length (`segmentsLen`, `creditsLen`) instead of copying them.
 */
export class TotalsScan {
  at = 0;
  private segments: GanttSegment[] = [];
  private segmentsLen = 0;
  private credits: CreditPoint[] = [];
  private creditsLen = 0;
  /** The switch whose segment is still open (its end is the next switch). */
  private current: GanttSegment | null = null;
  private start = Infinity;
  private end = 0;
  private states: Map<number, VmRunState>;
  private owners: Uint16Array;
  private lastChanged = -1;
  /** [vm + 1][reason] counts and cycles; VMs are few (the lane limit is 255). */
  private counts: Float64Array[] = [];
  private cycles: Float64Array[] = [];
  private faults = new Map<number, Faults>();
  /** False while the lists are a checkpoint's (shared): the first advance copies them. */
  private ownsLists = true;

  constructor(private readonly batches: readonly Batch[], private readonly info: RunInfo) {
    this.states = new Map(info.vms.map((v) => [v.vm, 'runnable']));
    this.owners = new Uint16Array(info.hostFrames);
    this.owners.fill(OWNER_HV, 0, Math.min(this.owners.length, info.hvFrames ?? 0));
  }

  /** A copy that goes on from here on its own (the lists of segments and credits are shared up to their lengths). */
  clone(): TotalsScan {
    const c = new TotalsScan(this.batches, this.info);
    c.at = this.at;
    c.ownsLists = false;
    c.segments = this.segments; c.segmentsLen = this.segmentsLen;
    c.credits = this.credits; c.creditsLen = this.creditsLen;
    c.current = this.current && { ...this.current };
    c.start = this.start; c.end = this.end;
    c.states = new Map(this.states);
    c.owners = this.owners.slice();
    c.lastChanged = this.lastChanged;
    c.counts = this.counts.map((a) => a.slice());
    c.cycles = this.cycles.map((a) => a.slice());
    c.faults = new Map([...this.faults].map(([vm, f]) => [vm, { ...f }]));
    return c;
  }

  /** Applies events [at, to). */
  advance(to: number): void {
    if (!this.ownsLists) {
      this.segments = this.segments.slice(0, this.segmentsLen);
      this.credits = this.credits.slice(0, this.creditsLen);
      this.ownsLists = true;
    }
    const segments = this.segments, credits = this.credits, states = this.states, owners = this.owners;
    let current = this.current, start = this.start, end = this.end, lastChanged = this.lastChanged;
    for (const { first, cols } of this.batches) {
      if (first + cols.count <= this.at) continue;
      if (first >= to) break;
      const { kind, vm, count } = cols;
      const reason = cols.small(K_EXIT, 'reason'), cyc = cols.wideCol(K_EXIT, 'cycles'), outcome = cols.small(K_PF, 'outcome');
      const fOp = cols.small(K_FRAME, 'op'), fOwner = cols.small(K_FRAME, 'owner'), fFrame = cols.wideCol(K_FRAME, 'frame'), fVm = cols.wideCol(K_FRAME, 'ownerVm');
      const sFrom = cols.wideCol(K_SCHED, 'from'), sTo = cols.wideCol(K_SCHED, 'to'), sReason = cols.small(K_SCHED, 'reason');
      const creditsBit = cols.presenceBit(K_SCHED, 'credits'), tickCol = cols.tick, flags = cols.flags;
      const stop = Math.min(count, to - first);
      for (let i = Math.max(0, this.at - first); i < stop; i++) {
        const k = kind[i]!, t = tickCol[i]!;
        if (t > end) end = t;
        if (t < start) start = t;
        if (k === K_SCHED) {
          const r = sReason[i]!, to_ = sTo[i]! | 0, from = sFrom[i]! | 0;
          const toState = states.get(to_), fromState = states.get(from);
          if (r === WAKE) { if (toState === 'blocked') states.set(to_, 'runnable'); continue; }
          if (fromState !== undefined && fromState !== 'exited') states.set(from, r === HALT ? 'blocked' : r === EXIT_R ? 'exited' : 'runnable');
          if (toState !== undefined) states.set(to_, 'running');
          if (current) { current.end = t; if (current.end > current.start) segments.push(current); }
          current = to_ >= 0 ? { vm: to_, start: t, end: t, reason: SCHED_REASONS[r]! } : null;
          // The credits list is parsed when a view first reads it (the Gantt reads a few per pixel column), then kept.
          if (flags[i]! & creditsBit) { let parsed: number[] | undefined; credits.push({ tick: t, get credits() { return (parsed ??= cols.field(i, 'credits') as number[]); } }); }
          continue;
        }
        if (k === K_SHUT) { if (states.has(vm[i]!)) states.set(vm[i]!, 'exited'); continue; }
        if (k === K_EXIT) {
          const v = vm[i]! + 1;
          const c = (this.counts[v] ??= new Float64Array(EXIT_REASONS.length));
          const y = (this.cycles[v] ??= new Float64Array(EXIT_REASONS.length));
          c[reason[i]!]!++;
          y[reason[i]!]! += cyc[i]!;
        } else if (k === K_PF) {
          const o = outcome[i]!; // 'bare' | 'hidden' | 'injected' | 'ept-violation'
          const f = slotIn(this.faults, vm[i]!);
          if (o === 1 || o === 3) f.hiddenFaults++; else f.trueFaults++;
        } else if (k === K_FRAME) {
          const frame = fFrame[i]!;
          const code = fOp[i] === 0 ? ownerCode(FRAME_OWNERS[fOwner[i]!] ?? 'guest', fVm[i]! | 0) : OWNER_FREE;
          if (frame < owners.length && owners[frame] !== code) { owners[frame] = code; lastChanged = frame; }
        }
      }
    }
    this.at = Math.max(this.at, Math.min(to, this.batches.length === 0 ? 0 : this.batches.at(-1)!.first + this.batches.at(-1)!.cols.count));
    this.current = current; this.start = start; this.end = end; this.lastChanged = lastChanged;
    this.segmentsLen = segments.length; this.creditsLen = credits.length;
  }

  /** The counters as ColumnTotals (fresh objects: this scan can go on), without the console tails (`console` is left empty). */
  result(): ColumnTotals {
    const counts = new Map<number, number>();
    for (const o of this.owners) counts.set(o, (counts.get(o) ?? 0) + 1);
    const faults = new Map([...this.faults].map(([vm, f]) => [vm, { ...f }]));
    const exits = new Map<number, ReasonStat[]>();
    this.counts.forEach((c, v) => {
      if (!c) return;
      const list: ReasonStat[] = [];
      c.forEach((n, r) => { if (n > 0) list.push({ reason: EXIT_REASONS[r]!, count: n, cycles: this.cycles[v]![r]! }); });
      list.sort((a, b) => b.count - a.count || a.reason.localeCompare(b.reason));
      exits.set(v - 1, list);
      slotIn(faults, v - 1).exits = list.reduce((a, s) => a + s.count, 0);
    });
    const segments = this.segments.slice(0, this.segmentsLen);
    if (this.current) { const last = { ...this.current, end: this.end }; if (last.end > last.start) segments.push(last); }
    return {
      exits: new Map([...exits].sort((a, b) => a[0] - b[0])),
      perVm: faults,
      memory: { owners: this.owners.slice(), counts, lastChanged: this.lastChanged },
      console: new Map(),
      sched: { segments, credits: this.credits.slice(0, this.creditsLen), shares: sharesOf(segments, this.info), start: this.start === Infinity ? 0 : this.start, end: this.end },
      states: new Map(this.states),
    };
  }
}

/** Number of events with seq <= upTo (seqs grow along the trace). */
export function endOfSeq(batches: readonly Batch[], upTo: number): number {
  let end = 0;
  for (const { first, cols } of batches) {
    const { seq, count } = cols;
    if (count === 0) continue;
    if (seq[count - 1]! <= upTo) { end = first + count; continue; }
    return first + d3.bisectRight(seq, upTo, 0, count);
  }
  return end;
}

/** TotalsScan with checkpoints: the counters after events [0, end) for any end, each in at most CHECKPOINT_EVENTS events of work once the front has passed it. */
export class TotalsReplay {
  private readonly front: TotalsScan;
  private readonly checkpoints: TotalsScan[];

  constructor(batches: readonly Batch[], info: RunInfo) {
    this.front = new TotalsScan(batches, info);
    this.checkpoints = [this.front.clone()];
  }

  /** The counters after events [0, end), without the console tails. */
  at(end: number): ColumnTotals {
    if (end >= this.front.at) {
      while (this.front.at < end) {
        const mark = (Math.floor(this.front.at / CHECKPOINT_EVENTS) + 1) * CHECKPOINT_EVENTS;
        const before = this.front.at;
        this.front.advance(Math.min(end, mark));
        if (this.front.at === before) break; // past the last event
        if (this.front.at === mark) this.checkpoints[mark / CHECKPOINT_EVENTS] = this.front.clone();
      }
      return this.front.result();
    }
    const scan = this.checkpoints[Math.floor(end / CHECKPOINT_EVENTS)]!.clone();
    scan.advance(end);
    return scan.result();
  }
}

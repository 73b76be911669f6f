// The guest and shadow tables and the translation walk of a big binary trace, exactly as a replay
// of every event from the start would show them, without decoding millions of events: only the
// kinds the tables depend on (guest walks, page faults, shadow operations) are applied, read
// straight from the columns, and each VM's table state is kept at checkpoints every
// CHECKPOINT_EVENTS events as its replay goes forward. A position behind the furthest replayed
// one starts from the checkpoint before it, so a seek replays at most CHECKPOINT_EVENTS events.
import * as d3 from 'd3';
import { KIND_CODE, type ShadowOp } from '../../trace/schema.ts';
import { enumValues } from '../../trace/layout.ts';
import { TableState, type GuestTableSnapshot, type TablesView } from './tables.ts';
import { lastWalk, type LastWalk } from './walk.ts';
import type { VizEvent } from './types.ts';
import type { Batch } from './column-views.ts';

/** Events between checkpoints: a seek behind the replay's front applies at most this many. */
export const CHECKPOINT_EVENTS = 1 << 17;

const K_WALK = KIND_CODE.walk, K_PF = KIND_CODE.pagefault, K_SHADOW = KIND_CODE.shadow, K_EXIT = KIND_CODE.exit;
const SHADOW_OP_VALUES = enumValues(K_SHADOW, 'op') as readonly ShadowOp[];
const GUEST_DIM = enumValues(K_WALK, 'dimension').indexOf('guest');
const HIDDEN = enumValues(K_PF, 'outcome').indexOf('hidden'), EPT = enumValues(K_PF, 'outcome').indexOf('ept-violation');

/** The table state of each VM a replay step updates. */
type States = Map<number, TableState>;

/** Applies events [from, to) (indexes in the whole trace) to `states`, straight from the columns; `onlyVm` limits it to one VM. */
function replay(batches: readonly Batch[], from: number, to: number, states: States, onlyVm?: number): void {
  const shadow = { op: 'fill' as ShadowOp, linear: 0, guestPte: 0, shadowPte: 0, guestTable: undefined as number | undefined };
  let st: TableState | undefined, stVm = NaN; // the state of the last event's VM (events of one VM come in runs)
  for (let b = batchOf(batches, from); b < batches.length; b++) {
    const { first, cols } = batches[b]!;
    if (first >= to) break;
    const { kind, vm, seq, flags } = cols;
    const col = (code: number, field: string) => cols.column(code, field);
    const wDim = col(K_WALK, 'dimension'), wLevel = col(K_WALK, 'level');
    const wAddr = col(K_WALK, 'address'), wLin = col(K_WALK, 'linear'), wVal = col(K_WALK, 'value');
    const pOutcome = col(K_PF, 'outcome'), pLin = col(K_PF, 'linear');
    const sOp = col(K_SHADOW, 'op'), sLin = col(K_SHADOW, 'linear');
    const sGuest = col(K_SHADOW, 'guestPte'), sShadow = col(K_SHADOW, 'shadowPte');
    const sTable = col(K_SHADOW, 'guestTable'), tableBit = cols.presenceBit(K_SHADOW, 'guestTable');
    const end = Math.min(cols.count, to - first);
    for (let i = Math.max(0, from - first); i < end; i++) {
      const k = kind[i]!;
      if (k !== K_WALK && k !== K_PF && k !== K_SHADOW) continue;
      const v = vm[i]!;
      if (onlyVm !== undefined && v !== onlyVm) continue;
      if (k === K_WALK && wDim[i] !== GUEST_DIM) continue;
      if (k === K_PF && pOutcome[i] === EPT) continue;
      if (v !== stVm) {
        stVm = v;
        st = states.get(v);
        if (!st) states.set(v, (st = new TableState()));
      }
      if (k === K_WALK) st!.guestWalk(wLevel[i]!, wAddr[i]!, wLin[i]!, wVal[i]!);
      else if (k === K_PF) st!.fault(pLin[i]!, pOutcome[i] === HIDDEN, seq[i]!);
      else {
        shadow.op = SHADOW_OP_VALUES[sOp[i]!]!;
        shadow.linear = sLin[i]!; shadow.guestPte = sGuest[i]!; shadow.shadowPte = sShadow[i]!;
        shadow.guestTable = flags[i]! & tableBit ? sTable[i]! : undefined;
        st!.shadow(shadow, seq[i]!);
      }
    }
  }
}

const byFirst = d3.bisector((b: Batch) => b.first);

/** Index of the batch holding event index `i` (the last one when i is past the end). */
function batchOf(batches: readonly Batch[], i: number): number {
  return Math.max(0, byFirst.right(batches, i) - 1);
}

/** One VM's replay: its front (its tables after events [0, frontAt)) and checkpoints[c] (after [0, c * CHECKPOINT_EVENTS)). */
interface VmReplay { front: TableState; frontAt: number; checkpoints: TableState[] }

/**
 * Each VM's tables at any position of a binary trace. A VM's replay starts when its tables are
 * first asked for (the focused VM's at open; another's when the VM cards focus it) and only
 * applies that VM's events.
 */
export class ColumnTables {
  private readonly vms = new Map<number, VmReplay>();
  readonly total: number;

  constructor(private readonly batches: readonly Batch[]) {
    const lastBatch = batches.at(-1);
    this.total = lastBatch ? lastBatch.first + lastBatch.cols.count : 0;
  }

  /** VM `vm`'s tables after the events [0, end) (end = one past the position's index). */
  tablesAt(end: number, vm: number, snapshot?: GuestTableSnapshot): TablesView {
    end = Math.max(0, Math.min(end, this.total));
    let r = this.vms.get(vm);
    if (!r) this.vms.set(vm, (r = { front: new TableState(), frontAt: 0, checkpoints: [new TableState()] }));
    if (end >= r.frontAt) {
      this.advance(r, vm, end);
      return r.front.view(vm, snapshot);
    }
    const c = Math.floor(end / CHECKPOINT_EVENTS);
    const state = r.checkpoints[c]!.clone();
    replay(this.batches, c * CHECKPOINT_EVENTS, end, new Map([[vm, state]]), vm);
    return state.finish(vm, snapshot);
  }

  /** Moves VM `vm`'s front forward to `end`, keeping a checkpoint at every multiple of CHECKPOINT_EVENTS passed. */
  private advance(r: VmReplay, vm: number, end: number): void {
    const states = new Map([[vm, r.front]]);
    while (r.frontAt < end) {
      const nextMark = (Math.floor(r.frontAt / CHECKPOINT_EVENTS) + 1) * CHECKPOINT_EVENTS;
      const stop = Math.min(end, nextMark);
      replay(this.batches, r.frontAt, stop, states, vm);
      r.frontAt = stop;
      if (stop === nextMark) r.checkpoints[stop / CHECKPOINT_EVENTS] = r.front.clone();
    }
  }
}

/**
 * The walk of VM `vm`'s last page fault before event index `end`, as lastWalk() finds it in the
 * whole event list: the fault and the events around it that lastWalk reads (the VM's walks, exits
 * and faults from the exit before the one that handled it to the next exit) are found in the
 * columns, and only those are decoded.
 */
export function columnLastWalk(batches: readonly Batch[], end: number, vm: number): LastWalk | null {
  // The batch of the last index asked for is kept: the scans below move one event at a time.
  let b: Batch | undefined, bEnd = -1;
  const locate = (i: number): Batch => {
    if (!b || i < b.first || i >= bEnd) { b = batches[batchOf(batches, i)]!; bEnd = b.first + b.cols.count; }
    return b;
  };
  const kindAt = (i: number): number => { const { first, cols } = locate(i); return cols.vm[i - first] === vm ? cols.kind[i - first]! : -1; };
  let f = end - 1;
  for (; f >= 0; f--) if (kindAt(f) === K_PF) break;
  if (f < 0) return null;
  let lo = f - 1, exits = 0;
  for (; lo > 0; lo--) {
    const k = kindAt(lo);
    if (k === K_PF || (k === K_EXIT && ++exits === 2)) break;
  }
  let hi = f + 1;
  for (; hi < end; hi++) { const k = kindAt(hi); if (k === K_EXIT || k === K_PF) break; }
  const mine: VizEvent[] = [];
  for (let i = Math.max(0, lo); i < hi; i++) {
    const k = kindAt(i);
    if (k === K_WALK || k === K_PF || k === K_EXIT) { const { first, cols } = locate(i); mine.push(cols.decode(i - first)); }
  }
  return lastWalk(mine, Infinity, vm);
}

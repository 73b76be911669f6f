// The translation walk of the last page fault, replayed from the walk events the CPU (or the
// hypervisor's software walk) emitted, and its layout as a picture: one row of references for a
// 1-D walk (bare metal, shadow), a grid for the 2-D walk of nested paging — one column per
// guest-physical address that has to be translated (guest CR3, the page table, the data page),
// nested references stacked in the column, the guest reference closing it; every reference
// numbered in the order it happened.
import type { EventOf } from '../../trace/schema.ts';
import type { VizEvent } from './types.ts';

export type WalkRef = EventOf<'walk'>;

export interface LastWalk {
  fault: EventOf<'pagefault'>;
  refs: WalkRef[];
  twoD: boolean;
}

/** The last page fault at or before `upTo` (of `vm`, when given) and the walk references that belong to it. */
export function lastWalk(events: readonly VizEvent[], upTo = Infinity, vm?: number): LastWalk | null {
  let hi = events.length;
  while (hi > 0 && events[hi - 1]!.seq > upTo) hi--;
  let f = hi - 1;
  for (; f >= 0; f--) {
    const ev = events[f]!;
    if (ev.kind === 'pagefault' && (vm === undefined || ev.vm === vm)) break;
  }
  if (f < 0) return null;
  const fault = events[f] as EventOf<'pagefault'>;
  const page = fault.linear >>> 12;
  const refs: WalkRef[] = [];
  // The walk sits between the entries that surround the fault (before it on real hardware, after
  // it when the hypervisor walks in software).
  const isBoundary = (ev: VizEvent): boolean => ev.vm === fault.vm && ev.kind === 'entry';
  for (let i = f - 1; i >= 0 && !isBoundary(events[i]!); i--) {
    const ev = events[i]!;
    if (ev.kind === 'walk' && ev.vm === fault.vm && ev.linear >>> 12 === page) refs.push(ev);
  }
  for (let i = f + 1; i < hi && !isBoundary(events[i]!); i++) {
    const ev = events[i]!;
    if (ev.kind === 'walk' && ev.vm === fault.vm && ev.linear >>> 12 === page) refs.push(ev);
  }
  refs.sort((a, b) => a.step - b.step || a.seq - b.seq);
  return { fault, refs, twoD: refs.some((r) => r.dimension === 'nested') };
}

export interface WalkCell {
  ref: WalkRef;
  col: number;
  row: number;
  /** The entry read was not present: the walk stopped here (the fault's cause). */
  missed: boolean;
}

export interface WalkLayout { cells: WalkCell[]; cols: number; rows: number }

export function layoutWalk(refs: readonly WalkRef[]): WalkLayout {
  const twoD = refs.some((r) => r.dimension === 'nested');
  const nestedLevels = twoD ? Math.max(...refs.filter((r) => r.dimension === 'nested').map((r) => r.level)) : 0;
  const cells: WalkCell[] = [];
  let col = 0;
  for (const ref of refs) {
    const missed = (ref.value & 1) === 0;
    if (!twoD) cells.push({ ref, col: col++, row: 0, missed });
    else if (ref.dimension === 'nested') cells.push({ ref, col, row: nestedLevels - ref.level, missed });
    else { cells.push({ ref, col, row: nestedLevels, missed }); col++; }
  }
  const cols = Math.max(1, ...cells.map((c) => c.col + 1));
  return { cells, cols, rows: twoD ? nestedLevels + 1 : 1 };
}

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
  // The walks that belong to this fault sit around its exit: the CPU's walk (of the shadow or the
  // guest/nested tables) before the exit, the hypervisor's software walk before or after it, and
  // the pagefault event itself may come before or after the exit or the entry that follows. So:
  // back to the exit before the one that handled this fault, forward to the next exit.
  const mine = (ev: VizEvent): boolean => ev.vm === fault.vm;
  let exits = 0;
  for (let i = f - 1; i >= 0; i--) {
    const ev = events[i]!;
    if (!mine(ev)) continue;
    if (ev.kind === 'pagefault') break;
    if (ev.kind === 'exit' && ++exits === 2) break;
    if (ev.kind === 'walk' && ev.linear >>> 12 === page) refs.push(ev);
  }
  for (let i = f + 1; i < hi; i++) {
    const ev = events[i]!;
    if (!mine(ev)) continue;
    if (ev.kind === 'exit' || ev.kind === 'pagefault') break;
    if (ev.kind === 'walk' && ev.linear >>> 12 === page) refs.push(ev);
  }
  refs.sort((a, b) => a.seq - b.seq); // the order they happened in: that is the numbering shown
  const twoD = refs.some((r) => r.dimension === 'nested');
  // A 2-D walk is one translation numbered 1, 2, ... by the hardware: keep the one that faulted
  // (from its step 1 before the fault), not an earlier translation of the same page.
  if (twoD) {
    let start = -1;
    for (let i = 0; i < refs.length && refs[i]!.seq < fault.seq; i++) if (refs[i]!.step === 1) start = i;
    if (start > 0) refs.splice(0, start);
  }
  return { fault, refs, twoD };
}

export interface WalkCell {
  ref: WalkRef;
  /** 1-based position in the order the references happened. */
  order: number;
  col: number;
  row: number;
  /** The entry read was not present: the walk stops here (the fault's cause). */
  missed: boolean;
}

export interface WalkLayout { cells: WalkCell[]; cols: number; rows: number; rowNames: string[] }

/**
 * 2-D: one column per guest-physical address to translate, nested references stacked in it, the
 * guest reference closing it. 1-D: one row per table walked (the CPU's walk of the shadow table,
 * then the hypervisor's walk of the guest's table), references left to right.
 */
export function layoutWalk(refs: readonly WalkRef[]): WalkLayout {
  const twoD = refs.some((r) => r.dimension === 'nested');
  const cells: WalkCell[] = [];
  if (twoD) {
    const nestedLevels = Math.max(...refs.filter((r) => r.dimension === 'nested').map((r) => r.level));
    let col = 0;
    refs.forEach((ref, i) => {
      const missed = (ref.value & 1) === 0;
      if (ref.dimension === 'nested') cells.push({ ref, order: i + 1, col, row: nestedLevels - ref.level, missed });
      else { cells.push({ ref, order: i + 1, col, row: nestedLevels, missed }); col++; }
    });
    const cols = Math.max(1, ...cells.map((c) => c.col + 1));
    return { cells, cols, rows: nestedLevels + 1, rowNames: [] };
  }
  const dims = [...new Set(refs.map((r) => r.dimension))].sort((a, b) => (a === 'host' ? -1 : b === 'host' ? 1 : 0));
  const used = new Map<string, number>();
  refs.forEach((ref, i) => {
    const row = dims.indexOf(ref.dimension);
    const col = used.get(ref.dimension) ?? 0;
    used.set(ref.dimension, col + 1);
    cells.push({ ref, order: i + 1, col, row, missed: (ref.value & 1) === 0 });
  });
  const names: Record<string, string> = { host: 'the CPU walks the shadow table', guest: 'the hypervisor walks the guest\'s own table' };
  return { cells, cols: Math.max(1, ...cells.map((c) => c.col + 1)), rows: Math.max(1, dims.length), rowNames: dims.map((d) => names[d] ?? d) };
}

// Guest page tables beside the shadow tables, rebuilt from the event stream: walk references give
// the guest's PDEs and PTEs, shadow events give what the hypervisor wrote (fill, resync,
// invalidate, flush) and which guest table pages it write-protected. A snapshot of the guest's
// tables (from the worker, when paused) can seed entries the events never touched.
import type { ShadowOp } from '../../trace/schema.ts';
import type { VizEvent } from './types.ts';

export interface TableEntry {
  linear: number;
  index: number;
  /** The guest's PTE, or null when no event has shown it. */
  guestPte: number | null;
  /** The shadow PTE (0 = none). */
  shadowPte: number;
  lastOp: ShadowOp | null;
  /** seq of the last event that touched this entry (for the animation). */
  lastSeq: number;
  hiddenFaults: number;
  trueFaults: number;
}

export interface DirRow {
  dir: number;
  guestPde: number | null;
  /** Guest-physical address of the guest page table this PDE points to. */
  guestTable: number | null;
  writeProtected: boolean;
  entries: TableEntry[];
}

export interface TablesView {
  vm: number;
  dirs: DirRow[];
  protectedPages: number[];
  /** The entry touched last and how. */
  last: { linear: number; op: ShadowOp | 'fault'; seq: number } | null;
  flushes: number;
}

export interface GuestTableSnapshot {
  vm: number;
  pdes: { dir: number; value: number }[];
  ptes: { linear: number; value: number }[];
}

export function rebuildTables(events: readonly VizEvent[], vm: number, upTo = Infinity, snapshot?: GuestTableSnapshot): TablesView {
  const pdes = new Map<number, number>();
  const entries = new Map<number, TableEntry>();
  const protectedPages = new Set<number>();
  let last: TablesView['last'] = null;
  let flushes = 0;
  const entry = (linear: number): TableEntry => {
    const page = (linear & ~0xfff) >>> 0;
    let e = entries.get(page);
    if (!e) entries.set(page, (e = { linear: page, index: (page >>> 12) & 0x3ff, guestPte: null, shadowPte: 0, lastOp: null, lastSeq: -1, hiddenFaults: 0, trueFaults: 0 }));
    return e;
  };
  if (snapshot && snapshot.vm === vm) {
    for (const p of snapshot.pdes) pdes.set(p.dir, p.value);
    for (const p of snapshot.ptes) entry(p.linear).guestPte = p.value;
  }
  for (const ev of events) {
    if (ev.seq > upTo) break;
    if (ev.vm !== vm) continue;
    if (ev.kind === 'walk' && ev.dimension === 'guest') {
      if (ev.level === 2) pdes.set(ev.linear >>> 22, ev.value);
      else if (ev.level === 1) entry(ev.linear).guestPte = ev.value;
    } else if (ev.kind === 'pagefault' && ev.outcome !== 'ept-violation') {
      const e = entry(ev.linear);
      if (ev.outcome === 'hidden') e.hiddenFaults++; else e.trueFaults++;
      last = { linear: e.linear, op: 'fault', seq: ev.seq };
    } else if (ev.kind === 'shadow') {
      if (ev.op === 'write-protect' || ev.op === 'unprotect') {
        const page = (ev.guestTable ?? ev.linear) & ~0xfff;
        if (ev.op === 'write-protect') protectedPages.add(page); else protectedPages.delete(page);
        last = { linear: ev.linear & ~0xfff, op: ev.op, seq: ev.seq };
        continue;
      }
      if (ev.op === 'flush') {
        flushes++;
        for (const e of entries.values()) { e.shadowPte = 0; e.lastOp = 'flush'; e.lastSeq = ev.seq; }
        last = { linear: 0, op: 'flush', seq: ev.seq };
        continue;
      }
      const e = entry(ev.linear);
      e.guestPte = ev.guestPte;
      e.shadowPte = ev.op === 'invalidate' ? 0 : ev.shadowPte;
      e.lastOp = ev.op;
      e.lastSeq = ev.seq;
      last = { linear: e.linear, op: ev.op, seq: ev.seq };
    }
  }
  const byDir = new Map<number, TableEntry[]>();
  for (const e of entries.values()) {
    const d = e.linear >>> 22;
    let list = byDir.get(d);
    if (!list) byDir.set(d, (list = []));
    list.push(e);
  }
  for (const d of pdes.keys()) if (!byDir.has(d)) byDir.set(d, []);
  const dirs: DirRow[] = [...byDir].sort((a, b) => a[0] - b[0]).map(([dir, list]) => {
    const pde = pdes.get(dir) ?? null;
    const table = pde !== null && (pde & 1) ? (pde & ~0xfff) >>> 0 : null;
    return { dir, guestPde: pde, guestTable: table, writeProtected: table !== null && protectedPages.has(table), entries: list.sort((a, b) => a.index - b.index) };
  });
  return { vm, dirs, protectedPages: [...protectedPages].sort((a, b) => a - b), last, flushes };
}

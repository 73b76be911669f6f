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

/** One address space's shadow the hypervisor keeps (its root cache): keyed by the guest's CR3. */
export interface RootInfo {
  /** Guest CR3 (page-directory address) it shadows; null while no event has said which. */
  cr3: number | null;
  current: boolean;
  /** Shadow entries present in it. */
  entries: number;
}

export interface TablesView {
  vm: number;
  /** The current address space's tables. */
  dirs: DirRow[];
  /** The guest CR3 whose tables `dirs` shows (null: not known yet). */
  cr3: number | null;
  /** Every shadow root the hypervisor keeps for the VM, most recently used first. */
  roots: RootInfo[];
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

/** Address spaces the hypervisor's shadow cache keeps per VM (src/hypervisor/shadow.ts, SHADOW_ROOTS). */
export const SHADOW_ROOTS = 4;

/** One address space as the events show it: the guest's PDEs and PTEs, the shadow entries built from them. */
interface Root {
  cr3: number | null;
  pdes: Map<number, number>;
  entries: Map<number, TableEntry>;
  lastUsed: number;
}

/**
 * The guest's tables beside the shadow ones, per address space (guest CR3), as the events up to
 * `upTo` show them for VM `vm`. The hypervisor keeps the shadows of its last SHADOW_ROOTS address
 * spaces: a MOV CR3 that hits that cache is a 'resync' naming the CR3 (linear 0), one that misses a
 * 'flush' naming it (a fresh, empty root; the least recently used goes when the cache is full); a
 * flush naming no CR3 (the paging mode changed) drops them all. Fills and INVLPG's invalidates are
 * the current root's; a trapped write to a guest page table zaps what every root derived from it.
 * A root whose CR3 no event named yet (after a mode change) learns it from the guest walk's
 * directory reference or from a cache hit naming a CR3 no other root has.
 */
export function rebuildTables(events: readonly VizEvent[], vm: number, upTo = Infinity, snapshot?: GuestTableSnapshot): TablesView {
  const roots: Root[] = [];
  let clock = 0;
  let cur: Root | null = null;
  const protectedPages = new Set<number>();
  let last: TablesView['last'] = null;
  let flushes = 0;
  const newRoot = (cr3: number | null): Root => {
    if (roots.length >= SHADOW_ROOTS) roots.splice(roots.indexOf(roots.reduce((a, b) => (b.lastUsed < a.lastUsed ? b : a))), 1);
    const r: Root = { cr3, pdes: new Map(), entries: new Map(), lastUsed: ++clock };
    roots.push(r);
    return r;
  };
  const current = (): Root => (cur ??= newRoot(null));
  const switchTo = (cr3: number, create: boolean): void => {
    let r = roots.find((x) => x.cr3 === cr3);
    if (!r && !create) {
      // A cache hit on a CR3 no root is known by: the one whose CR3 we never learned.
      r = roots.find((x) => x.cr3 === null);
      if (r) r.cr3 = cr3;
    }
    cur = r ?? newRoot(cr3);
    cur.lastUsed = ++clock;
  };
  const entryIn = (root: Root, linear: number): TableEntry => {
    const page = (linear & ~0xfff) >>> 0;
    let e = root.entries.get(page);
    if (!e) root.entries.set(page, (e = { linear: page, index: (page >>> 12) & 0x3ff, guestPte: null, shadowPte: 0, lastOp: null, lastSeq: -1, hiddenFaults: 0, trueFaults: 0 }));
    return e;
  };
  const entry = (linear: number): TableEntry => entryIn(current(), linear);
  const clear = (e: TableEntry, op: ShadowOp, seq: number): void => { e.shadowPte = 0; e.lastOp = op; e.lastSeq = seq; };
  for (const ev of events) {
    if (ev.seq > upTo) break;
    if (ev.vm !== vm) continue;
    if (ev.kind === 'walk' && ev.dimension === 'guest') {
      if (ev.level === 2) {
        // The directory entry's address is CR3 + index * 4: the walk names the address space.
        const cr3 = (ev.address & ~0xfff) >>> 0;
        const now = current();
        if (now.cr3 === null && !roots.some((r) => r.cr3 === cr3)) now.cr3 = cr3;
        else if (now.cr3 !== cr3) switchTo(cr3, true);
        current().pdes.set(ev.linear >>> 22, ev.value);
      } else if (ev.level === 1) entry(ev.linear).guestPte = ev.value;
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
        if (ev.guestTable !== undefined) {
          // A MOV CR3 that missed the cache: a fresh root, nothing shadowed in it yet.
          // (Back to an address space seen before: its guest entries are still known, unshadowed.)
          const cr3 = (ev.guestTable & ~0xfff) >>> 0;
          const old = roots.find((r) => r.cr3 === cr3);
          if (old) {
            for (const e of old.entries.values()) clear(e, 'flush', ev.seq);
            old.lastUsed = ++clock;
            cur = old;
          } else cur = newRoot(cr3);
        } else {
          // The paging mode changed: every root goes; the next one's CR3 is not named. The current
          // one's rows stay, cleared (the flush shows on them), except those of a paging-off
          // shadow (guest PTE 0): with paging on they mean nothing.
          for (const r of roots) for (const e of r.entries.values()) clear(e, 'flush', ev.seq);
          const keep = cur as Root | null; // (set by the helpers above: not narrowed to null)
          if (keep) for (const [page, e] of keep.entries) if (e.guestPte === 0) keep.entries.delete(page);
          roots.length = 0;
          cur = null;
          if (keep) { keep.lastUsed = ++clock; keep.cr3 = null; roots.push(keep); cur = keep; }
        }
        last = { linear: 0, op: 'flush', seq: ev.seq };
        continue;
      }
      if (ev.op === 'resync' && ev.linear === 0 && ev.shadowPte === 0 && ev.guestTable !== undefined) {
        // A MOV CR3 that hit the cache: that root is current again, as it was.
        switchTo((ev.guestTable & ~0xfff) >>> 0, false);
        last = { linear: 0, op: 'resync', seq: ev.seq };
        continue;
      }
      if (ev.op === 'invalidate' && ev.guestTable !== undefined) {
        // A trapped write to a guest page-table page: every root drops what it derived from the
        // entry written (its index is the write's offset in the page).
        const table = (ev.guestTable & ~0xfff) >>> 0, index = (ev.linear & 0xfff) >>> 2;
        for (const r of roots) {
          for (const [dir, pde] of r.pdes) {
            if ((pde & 1) === 0 || ((pde & ~0xfff) >>> 0) !== table) continue;
            clear(entryIn(r, ((dir << 22) | (index << 12)) >>> 0), 'invalidate', ev.seq);
          }
          if (r.cr3 === table) for (const e of r.entries.values()) if (e.linear >>> 22 === index) clear(e, 'invalidate', ev.seq);
        }
        last = { linear: ev.linear & ~0xfff, op: 'invalidate', seq: ev.seq };
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
  const root = current();
  if (snapshot && snapshot.vm === vm) {
    for (const p of snapshot.pdes) if (!root.pdes.has(p.dir)) root.pdes.set(p.dir, p.value);
    for (const p of snapshot.ptes) { const e = entryIn(root, p.linear); if (e.guestPte === null) e.guestPte = p.value; }
  }
  const byDir = new Map<number, TableEntry[]>();
  for (const e of root.entries.values()) {
    const d = e.linear >>> 22;
    let list = byDir.get(d);
    if (!list) byDir.set(d, (list = []));
    list.push(e);
  }
  for (const d of root.pdes.keys()) if (!byDir.has(d)) byDir.set(d, []);
  const dirs: DirRow[] = [...byDir].sort((a, b) => a[0] - b[0]).map(([dir, list]) => {
    const pde = root.pdes.get(dir) ?? null;
    const table = pde !== null && (pde & 1) ? (pde & ~0xfff) >>> 0 : null;
    return { dir, guestPde: pde, guestTable: table, writeProtected: table !== null && protectedPages.has(table), entries: list.sort((a, b) => a.index - b.index) };
  });
  const rootList: RootInfo[] = [...roots].sort((a, b) => b.lastUsed - a.lastUsed).map((r) => ({
    cr3: r.cr3, current: r === root, entries: [...r.entries.values()].filter((e) => (e.shadowPte & 1) !== 0).length,
  }));
  return { vm, dirs, cr3: root.cr3, roots: rootList, protectedPages: [...protectedPages].sort((a, b) => a - b), last, flushes };
}

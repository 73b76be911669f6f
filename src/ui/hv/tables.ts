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

/** A shadow operation as the replay needs it (the fields of a 'shadow' event, unpacked). */
export interface ShadowFields { op: ShadowOp; linear: number; guestPte: number; shadowPte: number; guestTable?: number | undefined }

/**
 * The guest's tables beside the shadow ones, per address space (guest CR3), for one VM, as the
 * events applied so far show them. The hypervisor keeps the shadows of its last SHADOW_ROOTS address
 * spaces: a MOV CR3 that hits that cache is a 'resync' naming the CR3 (linear 0), one that misses a
 * 'flush' naming it (a fresh, empty root; the least recently used goes when the cache is full); a
 * flush naming no CR3 (the paging mode changed) drops them all. Fills and INVLPG's invalidates are
 * the current root's; a trapped write to a guest page table zaps what every root derived from it.
 * A root whose CR3 no event named yet (after a mode change) learns it from the guest walk's
 * directory reference or from a cache hit naming a CR3 no other root has.
 * Incremental (events are applied one by one, from objects or straight from a binary trace's
 * columns) and clonable, so that a big trace keeps checkpoints of it (table-replay.ts).
 */
export class TableState {
  private roots: Root[] = [];
  private clock = 0;
  private cur: Root | null = null;
  private protectedPages = new Set<number>();
  /** The entry touched last and how (kept as numbers: a big trace's replay sets it millions of times). */
  private lastOp: ShadowOp | 'fault' | null = null;
  private lastLinear = 0;
  private lastSeq = 0;
  private flushes = 0;

  /** A deep copy: applying events to either one leaves the other as it was. */
  clone(): TableState {
    const c = new TableState();
    c.roots = this.roots.map((r) => {
      const entries = new Map<number, TableEntry>();
      for (const [page, e] of r.entries) entries.set(page, { ...e });
      const copy: Root = { cr3: r.cr3, pdes: new Map(r.pdes), entries, lastUsed: r.lastUsed };
      if (r === this.cur) c.cur = copy;
      return copy;
    });
    c.clock = this.clock;
    c.protectedPages = new Set(this.protectedPages);
    c.lastOp = this.lastOp; c.lastLinear = this.lastLinear; c.lastSeq = this.lastSeq;
    c.flushes = this.flushes;
    return c;
  }

  /** Applies one event of the VM (events of other kinds, and walks of other tables, change nothing). */
  apply(ev: VizEvent): void {
    if (ev.kind === 'walk') { if (ev.dimension === 'guest') this.guestWalk(ev.level, ev.address, ev.linear, ev.value); }
    else if (ev.kind === 'pagefault') { if (ev.outcome !== 'ept-violation') this.fault(ev.linear, ev.outcome === 'hidden', ev.seq); }
    else if (ev.kind === 'shadow') this.shadow(ev, ev.seq);
  }

  /** A reference of the hypervisor's software walk of the guest's own tables. */
  guestWalk(level: number, address: number, linear: number, value: number): void {
    if (level === 2) {
      // The directory entry's address is CR3 + index * 4: the walk names the address space.
      const cr3 = (address & ~0xfff) >>> 0;
      const now = this.current();
      if (now.cr3 === null && !this.roots.some((r) => r.cr3 === cr3)) now.cr3 = cr3;
      else if (now.cr3 !== cr3) this.switchTo(cr3, true);
      this.current().pdes.set(linear >>> 22, value);
    } else if (level === 1) this.entry(linear).guestPte = value;
  }

  /** A page fault other than an EPT violation: hidden (the hypervisor fixed it) or true. */
  fault(linear: number, hidden: boolean, seq: number): void {
    const e = this.entry(linear);
    if (hidden) e.hiddenFaults++; else e.trueFaults++;
    this.touched(e.linear, 'fault', seq);
  }

  shadow(ev: ShadowFields, seq: number): void {
    if (ev.op === 'write-protect' || ev.op === 'unprotect') {
      const page = (ev.guestTable ?? ev.linear) & ~0xfff;
      if (ev.op === 'write-protect') this.protectedPages.add(page); else this.protectedPages.delete(page);
      this.touched(ev.linear & ~0xfff, ev.op, seq);
      return;
    }
    if (ev.op === 'flush') { this.flush(ev.guestTable, seq); return; }
    if (ev.op === 'resync' && ev.linear === 0 && ev.shadowPte === 0 && ev.guestTable !== undefined) {
      // A MOV CR3 that hit the cache: that root is current again, as it was.
      this.switchTo((ev.guestTable & ~0xfff) >>> 0, false);
      this.touched(0, 'resync', seq);
      return;
    }
    if (ev.op === 'invalidate' && ev.guestTable !== undefined) { this.tableWrite(ev.guestTable, ev.linear, seq); return; }
    const e = this.entry(ev.linear);
    e.guestPte = ev.guestPte;
    e.shadowPte = ev.op === 'invalidate' ? 0 : ev.shadowPte;
    e.lastOp = ev.op;
    e.lastSeq = seq;
    this.touched(e.linear, ev.op, seq);
  }

  /** The tables as they stand (seeded from `snapshot` where no event showed an entry), for VM `vm`; this state is left as it is. */
  view(vm: number, snapshot?: GuestTableSnapshot): TablesView {
    return this.clone().finish(vm, snapshot);
  }

  /** view() without the copy: this state is spent afterwards. */
  finish(vm: number, snapshot?: GuestTableSnapshot): TablesView {
    const root = this.current();
    if (snapshot && snapshot.vm === vm) {
      for (const p of snapshot.pdes) if (!root.pdes.has(p.dir)) root.pdes.set(p.dir, p.value);
      for (const p of snapshot.ptes) { const e = this.entryIn(root, p.linear); if (e.guestPte === null) e.guestPte = p.value; }
    }
    const byDir = new Map<number, TableEntry[]>();
    for (const e of root.entries.values()) {
      const d = e.linear >>> 22;
      let list = byDir.get(d);
      if (!list) byDir.set(d, (list = []));
      list.push(e);
    }
    for (const d of root.pdes.keys()) if (!byDir.has(d)) byDir.set(d, []);
    const protectedPages = this.protectedPages;
    const dirs: DirRow[] = [...byDir].sort((a, b) => a[0] - b[0]).map(([dir, list]) => {
      const pde = root.pdes.get(dir) ?? null;
      const table = pde !== null && (pde & 1) ? (pde & ~0xfff) >>> 0 : null;
      return { dir, guestPde: pde, guestTable: table, writeProtected: table !== null && protectedPages.has(table), entries: list.sort((a, b) => a.index - b.index) };
    });
    const rootList: RootInfo[] = [...this.roots].sort((a, b) => b.lastUsed - a.lastUsed).map((r) => ({
      cr3: r.cr3, current: r === root, entries: [...r.entries.values()].filter((e) => (e.shadowPte & 1) !== 0).length,
    }));
    return { vm, dirs, cr3: root.cr3, roots: rootList, protectedPages: [...protectedPages].sort((a, b) => a - b), last: this.lastOp === null ? null : { linear: this.lastLinear, op: this.lastOp, seq: this.lastSeq }, flushes: this.flushes };
  }

  private touched(linear: number, op: ShadowOp | 'fault', seq: number): void {
    this.lastLinear = linear; this.lastOp = op; this.lastSeq = seq;
  }

  private newRoot(cr3: number | null): Root {
    const roots = this.roots;
    if (roots.length >= SHADOW_ROOTS) roots.splice(roots.indexOf(roots.reduce((a, b) => (b.lastUsed < a.lastUsed ? b : a))), 1);
    const r: Root = { cr3, pdes: new Map(), entries: new Map(), lastUsed: ++this.clock };
    roots.push(r);
    return r;
  }

  private current(): Root {
    return (this.cur ??= this.newRoot(null));
  }

  private switchTo(cr3: number, create: boolean): void {
    let r = this.roots.find((x) => x.cr3 === cr3);
    if (!r && !create) {
      // A cache hit on a CR3 no root is known by: the one whose CR3 we never learned.
      r = this.roots.find((x) => x.cr3 === null);
      if (r) r.cr3 = cr3;
    }
    const now = r ?? this.newRoot(cr3);
    now.lastUsed = ++this.clock;
    this.cur = now;
  }

  private entryIn(root: Root, linear: number): TableEntry {
    const page = (linear & ~0xfff) >>> 0;
    let e = root.entries.get(page);
    if (!e) root.entries.set(page, (e = { linear: page, index: (page >>> 12) & 0x3ff, guestPte: null, shadowPte: 0, lastOp: null, lastSeq: -1, hiddenFaults: 0, trueFaults: 0 }));
    return e;
  }

  private entry(linear: number): TableEntry {
    return this.entryIn(this.current(), linear);
  }

  private flush(guestTable: number | undefined, seq: number): void {
    this.flushes++;
    if (guestTable !== undefined) {
      // A MOV CR3 that missed the cache: a fresh root, nothing shadowed in it yet.
      // (Back to an address space seen before: its guest entries are still known, unshadowed.)
      const cr3 = (guestTable & ~0xfff) >>> 0;
      const old = this.roots.find((r) => r.cr3 === cr3);
      if (old) {
        for (const e of old.entries.values()) clear(e, 'flush', seq);
        old.lastUsed = ++this.clock;
        this.cur = old;
      } else this.cur = this.newRoot(cr3);
    } else {
      // The paging mode changed: every root goes; the next one's CR3 is not named. The current
      // one's rows stay, cleared (the flush shows on them), except those of a paging-off
      // shadow (guest PTE 0): with paging on they mean nothing.
      for (const r of this.roots) for (const e of r.entries.values()) clear(e, 'flush', seq);
      const keep = this.cur;
      if (keep) for (const [page, e] of keep.entries) if (e.guestPte === 0) keep.entries.delete(page);
      this.roots.length = 0;
      this.cur = null;
      if (keep) { keep.lastUsed = ++this.clock; keep.cr3 = null; this.roots.push(keep); this.cur = keep; }
    }
    this.touched(0, 'flush', seq);
  }

  /** A trapped write to a guest page-table page: every root drops what it derived from the entry written (its index is the write's offset in the page). */
  private tableWrite(guestTable: number, linear: number, seq: number): void {
    const table = (guestTable & ~0xfff) >>> 0, index = (linear & 0xfff) >>> 2;
    for (const r of this.roots) {
      for (const [dir, pde] of r.pdes) {
        if ((pde & 1) === 0 || ((pde & ~0xfff) >>> 0) !== table) continue;
        clear(this.entryIn(r, ((dir << 22) | (index << 12)) >>> 0), 'invalidate', seq);
      }
      if (r.cr3 === table) for (const e of r.entries.values()) if (e.linear >>> 22 === index) clear(e, 'invalidate', seq);
    }
    this.touched(linear & ~0xfff, 'invalidate', seq);
  }
}

function clear(e: TableEntry, op: ShadowOp, seq: number): void { e.shadowPte = 0; e.lastOp = op; e.lastSeq = seq; }

/** The tables of VM `vm` as the events up to seq `upTo` show them (see TableState). */
export function rebuildTables(events: readonly VizEvent[], vm: number, upTo = Infinity, snapshot?: GuestTableSnapshot): TablesView {
  const state = new TableState();
  for (const ev of events) {
    if (ev.seq > upTo) break;
    if (ev.vm === vm) state.apply(ev);
  }
  return state.finish(vm, snapshot);
}

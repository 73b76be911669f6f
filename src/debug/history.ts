// The snapshot history behind reverse execution: machine snapshots taken every `interval`
// instructions, with RAM pages shared between snapshots (a page equal to the previous snapshot's
// copy is stored once: copy-on-write in effect), and old snapshots thinned to keep a byte budget.
//
// The machine's snapshot holds RAM as Map<page number, 4096-byte Uint8Array> (Memory's
// MemorySnapshot); the history finds those maps by walking the snapshot, so it needs no knowledge
// of the rest of the machine's state.
//
// Memory tracks dirty pages (memory.ts): a snapshot copies only the pages written since the last
// one and hands back the previous snapshot's arrays for the others, so taking one costs the dirty
// pages, not a scan of RAM. Equal arrays are recognised by identity before any byte compare, and
// when this history swaps a written-but-unchanged page for its older equal copy, the swap lands in
// the map Memory builds the next snapshot from, so that page is shared by identity from then on.
// Restoring rewrites only pages whose arrays differ from what RAM holds.

import type { InputMark } from './input.ts';

export interface HistoryEntry {
  /** Instructions retired when the snapshot was taken: its position in time. */
  instructions: number;
  snapshot: unknown;
  /** Emitter.nextSeq at that point (the event stream position). */
  seq: number;
  /** Debugger-side state at that point (console log lengths, how much guest input was delivered, virtual time: ns on a machine, host ticks under the hypervisor). */
  extra: { consoleLength: number; exceptions: number; input?: InputMark; time?: number };
  /** Bytes this entry holds besides shared pages (estimated: typed arrays + a fixed overhead). */
  ownBytes: number;
}

const PAGE = 4096;
const ENTRY_OVERHEAD = 2048;

export interface HistoryOptions {
  /** Instructions between snapshots. */
  interval: number;
  /** Byte budget for all snapshots (pages counted once however many snapshots share them). */
  budgetBytes: number;
}

type PageMap = Map<number, Uint8Array>;

function isPageMap(v: unknown): v is PageMap {
  if (!(v instanceof Map)) return false;
  for (const x of v.values()) return x instanceof Uint8Array && x.length === PAGE;
  return true;
}

/** Large byte arrays elsewhere in a snapshot (a disk image): shared between snapshots like pages. */
const SHARED_MIN = 1024;
type Slot = { holder: Record<string, unknown>; key: string; value: Uint8Array };

/** Page maps and large byte arrays in a snapshot by path, plus the bytes of every other typed array. */
function walk(snap: unknown): { maps: Map<string, PageMap>; arrays: Map<string, Slot>; otherBytes: number } {
  const maps = new Map<string, PageMap>();
  const arrays = new Map<string, Slot>();
  let otherBytes = 0;
  const visit = (v: unknown, path: string, depth: number, holder?: Record<string, unknown>, key?: string): void => {
    if (v === null || typeof v !== 'object' || depth > 6) return;
    if (v instanceof Uint8Array && v.byteLength >= SHARED_MIN && holder && key !== undefined) {
      arrays.set(path, { holder, key, value: v });
      return;
    }
    if (ArrayBuffer.isView(v)) {
      otherBytes += v.byteLength;
      return;
    }
    if (isPageMap(v)) {
      maps.set(path, v);
      return;
    }
    if (v instanceof Map) {
      for (const [k, x] of v) visit(x, `${path}/${String(k)}`, depth + 1);
      return;
    }
    const o = v as Record<string, unknown>;
    for (const k of Object.keys(o)) visit(o[k], `${path}.${k}`, depth + 1, o, k);
  };
  visit(snap, '', 0);
  return { maps, arrays, otherBytes };
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a === b) return true;
  if (a.byteLength !== b.byteLength) return false;
  if (a.byteLength % 4 === 0 && a.byteOffset % 4 === 0 && b.byteOffset % 4 === 0) {
    const a32 = new Int32Array(a.buffer, a.byteOffset, a.byteLength / 4);
    const b32 = new Int32Array(b.buffer, b.byteOffset, b.byteLength / 4);
    for (let i = 0; i < a32.length; i++) if (a32[i] !== b32[i]) return false;
    return true;
  }
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export class History {
  readonly entries: HistoryEntry[] = [];
  private readonly refs = new Map<Uint8Array, number>();
  private pageBytes = 0;
  private lastMaps = new Map<string, PageMap>();
  private lastArrays = new Map<string, Slot>();

  constructor(readonly options: HistoryOptions) {}

  /** Bytes held: unique pages plus each entry's own state. */
  get bytes(): number {
    let own = 0;
    for (const e of this.entries) own += e.ownBytes;
    return this.pageBytes + own;
  }

  /** Distinct shared buffers held (RAM pages, disk images). */
  get uniquePages(): number {
    return this.refs.size;
  }

  get newest(): HistoryEntry | undefined {
    return this.entries[this.entries.length - 1];
  }

  /** Adds a snapshot (positions must increase); pages equal to the previous snapshot's are shared. */
  add(instructions: number, snapshot: unknown, seq: number, extra: HistoryEntry['extra']): HistoryEntry {
    const newest = this.newest;
    if (newest && instructions <= newest.instructions) {
      throw new Error(`history positions must increase (${instructions} after ${newest.instructions})`);
    }
    const { maps, arrays, otherBytes } = walk(snapshot);
    for (const [path, pages] of maps) {
      const prev = this.lastMaps.get(path);
      for (const [n, bytes] of pages) {
        const old = prev?.get(n);
        const keep = old !== undefined && sameBytes(old, bytes) ? old : bytes;
        if (keep !== bytes) pages.set(n, keep);
        this.ref(keep);
      }
    }
    for (const [path, slot] of arrays) {
      const old = this.lastArrays.get(path)?.value;
      if (old !== undefined && sameBytes(old, slot.value)) slot.holder[slot.key] = slot.value = old;
      this.ref(slot.value);
    }
    this.lastMaps = maps;
    this.lastArrays = arrays;
    const entry: HistoryEntry = { instructions, snapshot, seq, extra, ownBytes: otherBytes + ENTRY_OVERHEAD };
    this.entries.push(entry);
    this.enforceBudget();
    return entry;
  }

  /** The newest entry at or before `instructions` (undefined if the history starts later). */
  atOrBefore(instructions: number): HistoryEntry | undefined {
    let lo = 0;
    let hi = this.entries.length - 1;
    let found: HistoryEntry | undefined;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const e = this.entries[mid]!;
      if (e.instructions <= instructions) {
        found = e;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return found;
  }

  indexOf(e: HistoryEntry): number {
    return this.entries.indexOf(e);
  }

  /** Drops everything (after the user edits registers or memory the old past no longer leads here). */
  clear(): void {
    this.entries.length = 0;
    this.refs.clear();
    this.pageBytes = 0;
    this.lastMaps = new Map();
    this.lastArrays = new Map();
  }

  /**
   * Drops the snapshots after a point (a new future starts there: guest input typed in the past).
   * `time` (virtual ns) tells entries at the same count apart (a CPU halted at `instructions`).
   */
  dropAfter(instructions: number, time: number): void {
    for (;;) {
      const e = this.newest;
      if (!e) return;
      const later = e.instructions > instructions || (e.instructions === instructions && e.extra.time !== undefined && e.extra.time > time);
      if (!later) return;
      this.removeAt(this.entries.length - 1);
    }
  }

  private ref(bytes: Uint8Array): void {
    const n = this.refs.get(bytes);
    if (n === undefined) {
      this.refs.set(bytes, 1);
      this.pageBytes += bytes.byteLength;
    } else this.refs.set(bytes, n + 1);
  }

  private unref(bytes: Uint8Array): void {
    const n = this.refs.get(bytes)!;
    if (n <= 1) {
      this.refs.delete(bytes);
      this.pageBytes -= bytes.byteLength;
    } else this.refs.set(bytes, n - 1);
  }

  private removeAt(i: number): void {
    const [e] = this.entries.splice(i, 1);
    const { maps, arrays } = walk(e!.snapshot);
    for (const pages of maps.values()) for (const p of pages.values()) this.unref(p);
    for (const slot of arrays.values()) this.unref(slot.value);
  }

  /**
   * Over budget: thin the history so snapshots stay dense near the present and sparse in the past
   * (stepping back a little is the common case and stays fast). Each inner entry scores the gap its
   * removal would leave divided by its age; the lowest score goes, which tends to a geometric
   * spacing. The oldest and newest entries stay while there are three or more; with two left, the
   * oldest goes (history then starts later).
   */
  private enforceBudget(): void {
    while (this.bytes > this.options.budgetBytes && this.entries.length > 1) {
      if (this.entries.length === 2) {
        this.removeAt(0);
        continue;
      }
      const newest = this.entries[this.entries.length - 1]!.instructions;
      const unit = Math.max(1, this.options.interval);
      let best = 1;
      let bestScore = Infinity;
      for (let i = 1; i < this.entries.length - 1; i++) {
        const gap = this.entries[i + 1]!.instructions - this.entries[i - 1]!.instructions;
        const age = newest - this.entries[i]!.instructions + unit;
        const score = gap / age;
        if (score < bestScore) {
          bestScore = score;
          best = i;
        }
      }
      this.removeAt(best);
    }
  }
}

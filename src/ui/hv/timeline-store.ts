// The exit timeline's data: events as columns (tick, seq, lane, category, sub-code) plus the
// slices of time between them (guest time from entry to exit, handler time from exit to the next
// entry; one physical CPU, so all slices are disjoint and sorted), and a level-of-detail pyramid
// of per-bucket counts so that a frame costs O(pixels), not O(events), however long the run.
// Fed from event arrays (NDJSON, the ring buffer) or straight from binary batches (VZTB columns,
// no per-event objects). Pure: no DOM.
import { EXIT_REASONS, KIND_CODE } from '../../trace/schema.ts';
import type { VizEvent } from './types.ts';
import { BatchColumns } from './batch-columns.ts';

/** Categories of marks on a lane. */
export const CAT = { exit: 0, inject: 1, hidden: 2, injected: 3, ept: 4, shadow: 5, sched: 6, other: 7 } as const;
export const NCAT = 8;
export const CAT_NAMES = ['exits', 'injections', 'hidden faults', 'true faults', 'EPT violations', 'shadow ops', 'switches', 'other'];

/** Level 0 of the pyramid has at most this many buckets. */
const LEVEL0_BUCKETS = 1 << 15;
const FANOUT = 4;

interface Level {
  width: number;
  buckets: number;
  counts: Uint32Array; // [bucket][lane][cat]
  cover: Float32Array; // [bucket][lane]: ticks covered by slices
}

/** Per-pixel bins of one lane: what the canvas draws. */
export interface LaneBins {
  cover: Float32Array; // fraction 0..1 of each pixel's time spent in a slice
  counts: Uint32Array; // [pixel][cat]
  /** VM whose colour fills each pixel's slice (the last one seen), -2 = none. */
  vm: Int16Array;
}

export class TimelineStore {
  n = 0;
  tick = new Float64Array(1024);
  seq = new Float64Array(1024);
  lane = new Uint8Array(1024);
  cat = new Uint8Array(1024);
  sub = new Uint8Array(1024);
  sliceCount = 0;
  sliceStart = new Float64Array(256);
  sliceEnd = new Float64Array(256);
  sliceLane = new Uint8Array(256);
  sliceVm = new Int16Array(256);
  /** Lanes: 0 = hypervisor, 1 + vm for each VM. */
  lanes = 1;
  /** Bumped on every change: views redraw when it moves. */
  version = 0;

  private events: VizEvent[] = [];
  private batches: { first: number; cols: BatchColumns }[] = [];
  private lastEntry: number[] = [];
  private pendingHandler: { start: number; vm: number } | null = null;
  private levels: Level[] | null = null;

  get firstTick(): number { return this.n > 0 ? this.tick[0]! : 0; }
  get lastTick(): number {
    const t = this.n > 0 ? this.tick[this.n - 1]! : 0;
    return this.sliceCount > 0 ? Math.max(t, this.sliceEnd[this.sliceCount - 1]!) : t;
  }

  /** The binary batches held (empty when fed event arrays), with the index of each one's first event. */
  get columns(): readonly { first: number; cols: BatchColumns }[] {
    return this.batches;
  }

  /** The full event at index i (decoded on demand for binary batches). */
  eventAt(i: number): VizEvent {
    if (i < this.events.length && this.batches.length === 0) return this.events[i]!;
    let lo = 0, hi = this.batches.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.batches[mid]!.first <= i) lo = mid; else hi = mid - 1;
    }
    const b = this.batches[lo]!;
    return b.cols.decode(i - b.first);
  }

  addEvents(list: readonly VizEvent[]): void {
    if (this.batches.length > 0) throw new Error('timeline: mixing event arrays and binary batches');
    this.reserve(this.n + list.length);
    for (const ev of list) {
      this.events.push(ev);
      let cat: number = CAT.other, sub = 0;
      switch (ev.kind) {
        case 'exit': cat = CAT.exit; sub = EXIT_INDEX.get(ev.reason) ?? 0; break;
        case 'entry': cat = ev.injectedVector === undefined ? CAT.other : CAT.inject; sub = ev.injectedVector ?? 0; break;
        case 'pagefault': cat = ev.outcome === 'hidden' ? CAT.hidden : ev.outcome === 'ept-violation' ? CAT.ept : CAT.injected; break;
        case 'shadow': cat = CAT.shadow; sub = SHADOW_INDEX.get(ev.op) ?? 0; break;
        case 'sched': cat = CAT.sched; break;
      }
      const schedTo = ev.kind === 'sched' && ev.reason !== 'wake' ? ev.to : -1;
      this.push(ev.kind === 'frame' ? -1 : KIND_CODE[ev.kind], ev.tick, ev.seq, ev.vm, cat, sub, schedTo);
    }
    this.changed();
  }

  /** Ingests one binary batch (the worker's transfer format, or a saved binary trace) without decoding it. */
  addBatch(buffer: ArrayBuffer): void {
    this.addBatches([buffer]);
  }

  /** Ingests many batches at once (opening a big trace): one allocation, one pyramid rebuild. */
  addBatches(buffers: readonly ArrayBuffer[]): void {
    this.addColumns(buffers.map((b) => new BatchColumns(b)));
  }

  /** Ingests column views (the batches of a binary trace file, viewed in place). */
  addColumns(all: readonly BatchColumns[]): void {
    if (this.events.length > 0) throw new Error('timeline: mixing event arrays and binary batches');
    this.reserve(this.n + all.reduce((a, c) => a + c.count, 0));
    for (const cols of all) this.ingestColumns(cols);
    this.changed();
  }

  private ingestColumns(cols: BatchColumns): void {
    this.batches.push({ first: this.n, cols });
    const { kind, tick, seq, vm } = cols;
    const reason = cols.small(KIND_CODE.exit, 'reason');
    const outcome = cols.small(KIND_CODE.pagefault, 'outcome');
    const op = cols.small(KIND_CODE.shadow, 'op');
    const injBit = cols.presenceBit(KIND_CODE.entry, 'injectedVector');
    const vector = cols.small(KIND_CODE.entry, 'injectedVector');
    const hiddenIdx = 1, eptIdx = 3; // 'bare' | 'hidden' | 'injected' | 'ept-violation'
    const schedTo = cols.wideCol(KIND_CODE.sched, 'to');
    const schedReason = cols.small(KIND_CODE.sched, 'reason');
    const wakeIdx = 2; // 'quantum' | 'halt' | 'wake' | ...
    // Straight column copies and a tight loop: only entries, exits and switches (which open and
    // close time slices) go through push(); 10 million events take well under a second.
    const base = this.n, n = cols.count;
    this.tick.set(tick, base);
    this.seq.set(seq, base);
    const laneCol = this.lane, catCol = this.cat, subCol = this.sub, flags = cols.flags;
    let lanes = this.lanes;
    for (let i = 0; i < n; i++) {
      const k = kind[i]!, v = vm[i]!;
      const lane = v < 0 ? 0 : v < 254 ? v + 1 : 255;
      if (lane >= lanes) lanes = lane + 1;
      if (k === K_EXIT || k === K_ENTRY || k === K_SCHED) {
        this.lanes = lanes;
        let cat: number = CAT.other, sub = 0, to = -1;
        if (k === K_EXIT) { cat = CAT.exit; sub = reason[i]!; }
        else if (k === K_ENTRY) { if (flags[i]! & injBit) { cat = CAT.inject; sub = vector[i]!; } }
        else { cat = CAT.sched; if (schedReason[i] !== wakeIdx) to = schedTo[i]! | 0; }
        this.n = base + i;
        this.push(k, tick[i]!, seq[i]!, v, cat, sub, to);
        continue;
      }
      const at = base + i;
      laneCol[at] = lane;
      if (k === K_PF) { const o = outcome[i]!; catCol[at] = o === hiddenIdx ? CAT.hidden : o === eptIdx ? CAT.ept : CAT.injected; subCol[at] = 0; }
      else if (k === K_SHADOW) { catCol[at] = CAT.shadow; subCol[at] = op[i]!; }
      else { catCol[at] = CAT.other; subCol[at] = 0; }
    }
    this.lanes = lanes;
    this.n = base + n;
  }

  /** Forgets everything from `seq` on (the debugger stepped back and will replay). */
  truncateFromSeq(seq: number): void {
    let lo = 0, hi = this.n;
    while (lo < hi) { const m = (lo + hi) >> 1; if (this.seq[m]! < seq) lo = m + 1; else hi = m; }
    if (lo === this.n) return;
    const events = this.events.slice(0, lo);
    const batches = this.batches;
    this.reset();
    if (batches.length > 0) throw new Error('timeline: truncating binary batches is not supported');
    this.addEvents(events);
  }

  reset(): void {
    this.n = this.sliceCount = 0;
    this.lanes = 1;
    this.events = [];
    this.batches = [];
    this.lastEntry = [];
    this.pendingHandler = null;
    this.changed();
  }

  /** Index of the first event with tick >= t. */
  lowerBound(t: number): number {
    let lo = 0, hi = this.n;
    while (lo < hi) { const m = (lo + hi) >> 1; if (this.tick[m]! < t) lo = m + 1; else hi = m; }
    return lo;
  }

  /** Index of the first slice ending after t. */
  firstSliceAfter(t: number): number {
    let lo = 0, hi = this.sliceCount;
    while (lo < hi) { const m = (lo + hi) >> 1; if (this.sliceEnd[m]! <= t) lo = m + 1; else hi = m; }
    return lo;
  }

  /** The pyramid level whose buckets are as wide as possible but no wider than `ticksPerPixel`; -1 = use raw events. */
  levelFor(ticksPerPixel: number): number {
    const levels = this.pyramid();
    let best = -1;
    for (let l = 0; l < levels.length; l++) if (levels[l]!.width <= ticksPerPixel) best = l;
    return best;
  }

  /** Bins lane `lane` into `width` pixels over [t0, t1): from the pyramid when zoomed out, from raw events when zoomed in. */
  bin(lane: number, t0: number, t1: number, width: number, out?: LaneBins): LaneBins {
    const cache: LaneBins[] = [];
    if (out) cache[lane] = out;
    return this.binAll(t0, t1, width, cache)[lane] ?? newBins(width);
  }

  /**
   * Bins every lane at once (one pass over the events or pyramid buckets in view, whatever the
   * number of lanes). `cache` holds bins from the previous frame, reused when the width matches.
   */
  binAll(t0: number, t1: number, width: number, cache: LaneBins[] = []): LaneBins[] {
    const all: LaneBins[] = [];
    for (let lane = 0; lane < this.lanes; lane++) {
      const c = cache[lane];
      const bins = c && c.cover.length === width ? c : newBins(width);
      bins.cover.fill(0); bins.counts.fill(0); bins.vm.fill(-2);
      all.push((cache[lane] = bins));
    }
    const ppt = width / (t1 - t0); // pixels per tick
    const level = this.levelFor(1 / ppt);
    if (level >= 0) this.binFromLevel(this.pyramid()[level]!, t0, t1, ppt, width, all);
    else this.binRaw(t0, t1, ppt, width, all);
    // Guest slices take their VM's colour; handler slices (lane 0) the colour of the VM they serve
    // when zoomed in far enough to see them one by one, the hypervisor's own colour otherwise.
    for (let lane = 0; lane < all.length; lane++) {
      const bins = all[lane]!;
      if (lane > 0) for (let x = 0; x < width; x++) { if (bins.cover[x]! > 0) bins.vm[x] = lane - 1; }
      else for (let x = 0; x < width; x++) { if (bins.cover[x]! > 0 && bins.vm[x] === -2) bins.vm[x] = -1; }
    }
    return all;
  }

  private binRaw(t0: number, t1: number, ppt: number, width: number, all: LaneBins[]): void {
    const { tick, lane, cat } = this;
    for (let i = this.lowerBound(t0), n = this.n; i < n && tick[i]! < t1; i++) {
      const x = Math.min(width - 1, Math.floor((tick[i]! - t0) * ppt));
      all[lane[i]!]!.counts[x * NCAT + cat[i]!]!++;
    }
    for (let s = this.firstSliceAfter(t0); s < this.sliceCount && this.sliceStart[s]! < t1; s++) {
      const bins = all[this.sliceLane[s]!]!;
      const a = Math.max(t0, this.sliceStart[s]!), b = Math.min(t1, this.sliceEnd[s]!);
      const xa = (a - t0) * ppt, xb = (b - t0) * ppt;
      for (let x = Math.floor(xa); x < Math.min(width, Math.ceil(xb)); x++) {
        bins.cover[x]! += Math.min(xb, x + 1) - Math.max(xa, x);
        bins.vm[x] = this.sliceVm[s]!;
      }
    }
  }

  private binFromLevel(L: Level, t0: number, t1: number, ppt: number, width: number, all: LaneBins[]): void {
    const origin = this.firstTick;
    const first = Math.max(0, Math.floor((t0 - origin) / L.width));
    const last = Math.min(L.buckets - 1, Math.floor((t1 - origin) / L.width));
    const lanes = this.lanes;
    for (let b = first; b <= last; b++) {
      const bt = origin + b * L.width;
      const x = Math.floor((Math.max(t0, bt) - t0) * ppt);
      if (x >= width) break;
      for (let lane = 0; lane < lanes; lane++) {
        const bins = all[lane]!;
        const base = (b * lanes + lane) * NCAT;
        for (let c = 0; c < NCAT; c++) bins.counts[x * NCAT + c]! += L.counts[base + c]!;
        const cov = L.cover[b * lanes + lane]!;
        if (cov > 0) bins.cover[x]! += cov * ppt;
      }
    }
    for (const bins of all) for (let x = 0; x < width; x++) if (bins.cover[x]! > 1) bins.cover[x] = 1;
  }

  private pyramid(): Level[] {
    if (this.levels) return this.levels;
    const origin = this.firstTick;
    const span = Math.max(1, this.lastTick - origin + 1);
    let width = 1;
    while (span / width > LEVEL0_BUCKETS) width *= 2;
    const lanes = this.lanes;
    const levels: Level[] = [];
    let buckets = Math.ceil(span / width) + 1;
    const l0: Level = { width, buckets, counts: new Uint32Array(buckets * lanes * NCAT), cover: new Float32Array(buckets * lanes) };
    for (let i = 0; i < this.n; i++) {
      const b = Math.floor((this.tick[i]! - origin) / width);
      l0.counts[(b * lanes + this.lane[i]!) * NCAT + this.cat[i]!]!++;
    }
    for (let s = 0; s < this.sliceCount; s++) {
      const lane = this.sliceLane[s]!;
      let a = this.sliceStart[s]! - origin;
      const e = this.sliceEnd[s]! - origin;
      while (a < e) {
        const b = Math.floor(a / width);
        const end = Math.min(e, (b + 1) * width);
        l0.cover[b * lanes + lane]! += end - a;
        a = end;
      }
    }
    levels.push(l0);
    while (buckets > 64) {
      const prev = levels[levels.length - 1]!;
      width *= FANOUT;
      buckets = Math.ceil(prev.buckets / FANOUT);
      const L: Level = { width, buckets, counts: new Uint32Array(buckets * lanes * NCAT), cover: new Float32Array(buckets * lanes) };
      for (let b = 0; b < prev.buckets; b++) {
        const to = Math.floor(b / FANOUT);
        for (let k = 0; k < lanes * NCAT; k++) L.counts[to * lanes * NCAT + k]! += prev.counts[b * lanes * NCAT + k]!;
        for (let k = 0; k < lanes; k++) L.cover[to * lanes + k]! += prev.cover[b * lanes + k]!;
      }
      levels.push(L);
    }
    this.levels = levels;
    return levels;
  }

  /** `schedTo`: for a switch (a sched event other than 'wake'), the VM that gets the CPU; else -1. */
  private push(kindCode: number, tick: number, seq: number, vm: number, cat: number, sub: number, schedTo = -1): void {
    const i = this.n++;
    const lane = vm < 0 ? 0 : Math.min(255, vm + 1);
    if (lane >= this.lanes) this.lanes = lane + 1;
    this.tick[i] = tick; this.seq[i] = seq; this.lane[i] = lane; this.cat[i] = cat; this.sub[i] = sub;
    if (kindCode === K_ENTRY) {
      if (this.pendingHandler) this.slice(this.pendingHandler.start, tick, 0, this.pendingHandler.vm);
      this.pendingHandler = null;
      this.lastEntry[lane] = tick;
    } else if (schedTo >= 0) {
      // A switch: the hypervisor's work ends and the chosen VM is in guest mode from here on (it
      // is resumed without an entry event).
      const to = schedTo;
      {
        if (this.pendingHandler) this.slice(this.pendingHandler.start, tick, 0, this.pendingHandler.vm);
        this.pendingHandler = null;
        this.lastEntry[to + 1] = tick;
      }
    } else if (kindCode === K_EXIT) {
      const start = this.lastEntry[lane];
      if (start !== undefined && start >= 0) this.slice(start, tick, lane, vm);
      this.lastEntry[lane] = -1;
      this.pendingHandler = { start: tick, vm };
    }
  }

  private slice(start: number, end: number, lane: number, vm: number): void {
    if (end <= start) return;
    if (this.sliceCount === this.sliceStart.length) {
      const n = this.sliceCount * 2;
      this.sliceStart = grow(this.sliceStart, n); this.sliceEnd = grow(this.sliceEnd, n);
      this.sliceLane = grow(this.sliceLane, n); this.sliceVm = grow(this.sliceVm, n);
    }
    const s = this.sliceCount++;
    this.sliceStart[s] = start; this.sliceEnd[s] = end; this.sliceLane[s] = lane; this.sliceVm[s] = vm;
  }

  private reserve(n: number): void {
    if (n <= this.tick.length) return;
    const cap = Math.max(n, this.tick.length * 2); // exact for one big reservation, doubling for appends
    this.tick = grow(this.tick, cap); this.seq = grow(this.seq, cap);
    this.lane = grow(this.lane, cap); this.cat = grow(this.cat, cap); this.sub = grow(this.sub, cap);
  }

  private changed(): void {
    this.levels = null;
    this.version++;
  }
}

const K_EXIT = KIND_CODE.exit, K_ENTRY = KIND_CODE.entry, K_PF = KIND_CODE.pagefault;
const K_SHADOW = KIND_CODE.shadow, K_SCHED = KIND_CODE.sched;
const EXIT_INDEX = new Map(EXIT_REASONS.map((r, i) => [r, i]));
export const SHADOW_OPS = ['fill', 'invalidate', 'write-protect', 'unprotect', 'flush', 'resync'] as const;
const SHADOW_INDEX = new Map<string, number>(SHADOW_OPS.map((o, i) => [o, i]));

function newBins(width: number): LaneBins {
  return { cover: new Float32Array(width), counts: new Uint32Array(width * NCAT), vm: new Int16Array(width) };
}

function grow<T extends Float64Array | Uint8Array | Int16Array>(a: T, n: number): T {
  const b = new (a.constructor as new (n: number) => T)(n);
  b.set(a);
  return b;
}

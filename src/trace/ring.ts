// A bounded ring buffer of events for live use (the UI holds the last N million events).
// Struct-of-arrays in typed arrays, BYTES_PER_EVENT bytes per event plus an interned string table.
//
// seq and tick are stored as 32-bit deltas from a per-block base (blocks of `blockSize` slots,
// bases as float64): that halves their cost while keeping full 2^53 range. When full, the ring
// drops its oldest block at once, so between capacity - blockSize + 1 and capacity events are
// live. An event whose deltas do not fit its block (a jump of >= 2^32 ticks) starts a new block;
// the unused slots are padding. Events must arrive in increasing seq order; an event whose seq is
// not above the newest one (the debugger replaying after a step back) first discards every stored
// event with seq >= its seq, so the ring always holds one consistent history.
// Strings (console text, warnings, sched credits) live in an interned table that is compacted to
// the live events' strings when it outgrows its share of the budget (1/16); if every live event
// carries a different string, the oldest blocks are dropped too, so the budget holds.
import { ALL_KINDS_MASK, KIND_CODE, type TraceEvent } from './schema.ts';
import type { Listener } from './emitter.ts';
import {
  BYTES_PER_EVENT,
  PLANS,
  SMALL_COLUMNS,
  StringTable,
  WIDE_COLUMNS,
  newPayload,
  unpackEvent,
} from './layout.ts';

const PAD = 0xff;
const MAX_DELTA = 0xffffffff;
/** Per block: base seq and tick (f64) and an event count (u32). */
const BLOCK_BYTES = 8 + 8 + 4;
const DEFAULT_BUDGET = 64 * 1024 * 1024;

export interface RingOptions {
  /** Total memory budget in bytes (columns plus string table); the capacity follows from it. */
  budgetBytes?: number;
  /** Explicit capacity in events (rounded up to whole blocks); overrides budgetBytes. */
  capacity?: number;
  /** Slots per block: the drop granularity. Default: a power of two up to 1024. */
  blockSize?: number;
}

function powerOfTwoAtMost(n: number): number {
  let p = 1;
  while (p * 2 <= n) p *= 2;
  return p;
}

export class RingBuffer {
  readonly capacity: number;
  readonly blockSize: number;
  /** Events overwritten because the ring was full. */
  dropped = 0;
  /** Bytes the string table may use before it is compacted to the strings still referenced. */
  readonly stringBudget: number;

  private head = 0; // absolute slot index of the next write
  private tail = 0; // absolute slot index of the oldest live slot (a block start)
  private live = 0; // live events (padding excluded)
  private lastSeq = -1;
  private strings = new StringTable();
  private nextCompactAt: number;
  private readonly payload = newPayload();

  private readonly seqDelta: Uint32Array;
  private readonly tickDelta: Uint32Array;
  private readonly vmCol: Int16Array;
  private readonly vcpuCol: Uint16Array;
  private readonly kindCol: Uint8Array;
  private readonly flagsCol: Uint8Array;
  private readonly small: Uint8Array[];
  private readonly wide: Uint32Array[];
  private readonly blockSeq: Float64Array;
  private readonly blockTick: Float64Array;
  private readonly blockEvents: Uint32Array;

  constructor(opts: RingOptions = {}) {
    const budget = opts.budgetBytes ?? DEFAULT_BUDGET;
    this.stringBudget = Math.max(64 * 1024, Math.floor(budget / 16));
    const columnBudget = budget - this.stringBudget;
    const wanted = opts.capacity ?? Math.max(1, Math.floor(columnBudget / BYTES_PER_EVENT));
    const block = opts.blockSize ?? powerOfTwoAtMost(Math.max(1, Math.min(1024, Math.floor(wanted / 64))));
    const blocks =
      opts.capacity !== undefined
        ? Math.ceil(wanted / block)
        : Math.max(1, Math.floor(columnBudget / (block * BYTES_PER_EVENT + BLOCK_BYTES)));
    this.blockSize = block;
    this.capacity = blocks * block;
    this.nextCompactAt = this.stringBudget;
    const n = this.capacity;
    this.seqDelta = new Uint32Array(n);
    this.tickDelta = new Uint32Array(n);
    this.vmCol = new Int16Array(n);
    this.vcpuCol = new Uint16Array(n);
    this.kindCol = new Uint8Array(n);
    this.flagsCol = new Uint8Array(n);
    this.small = Array.from({ length: SMALL_COLUMNS }, () => new Uint8Array(n));
    this.wide = Array.from({ length: WIDE_COLUMNS }, () => new Uint32Array(n));
    this.blockSeq = new Float64Array(blocks);
    this.blockTick = new Float64Array(blocks);
    this.blockEvents = new Uint32Array(blocks);
  }

  /** Live events. */
  get size(): number {
    return this.live;
  }

  /** Memory held: the typed arrays plus the string table's estimate. */
  get byteLength(): number {
    return this.capacity * BYTES_PER_EVENT + this.blockSeq.length * BLOCK_BYTES + this.strings.bytes;
  }

  /** A listener for Emitter.listen that stores everything it is sent (kinds and VM as asked). */
  listener(mask: number = ALL_KINDS_MASK, vm?: number): Listener {
    const l: Listener = {
      mask,
      onEvent: (ev) => this.push(ev),
      onRaw: (code, fields, seq, tick, vm, vcpu) => this.pushParts(code, fields, seq, tick, vm, vcpu),
    };
    if (vm !== undefined) l.vm = vm;
    return l;
  }

  push(ev: TraceEvent): void {
    this.pushParts(KIND_CODE[ev.kind], ev, ev.seq, ev.tick, ev.vm, ev.vcpu);
  }

  /** push() without a merged event object: the emitter's fast path. */
  pushParts(code: number, fields: object, seq: number, tick: number, vm: number, vcpu: number): void {
    if (seq <= this.lastSeq) this.rewindTo(seq);
    let phys = this.head % this.capacity;
    if (this.head % this.blockSize === 0) {
      this.startBlock(seq, tick);
    } else {
      const b = Math.floor(phys / this.blockSize);
      const ds = seq - this.blockSeq[b]!;
      const dt = tick - this.blockTick[b]!;
      if (!(dt >= 0 && dt <= MAX_DELTA && ds <= MAX_DELTA)) {
        this.padToBlockEnd();
        this.startBlock(seq, tick);
      }
    }
    phys = this.head % this.capacity;
    const b = Math.floor(phys / this.blockSize);
    this.seqDelta[phys] = seq - this.blockSeq[b]!;
    this.tickDelta[phys] = tick - this.blockTick[b]!;
    this.vmCol[phys] = vm;
    this.vcpuCol[phys] = vcpu;
    this.kindCol[phys] = code;
    // Straight into the columns; columns this kind does not use keep stale values, which
    // decoding never reads (it follows the kind's plan and the presence bits).
    const slots = PLANS[code]!.fields;
    const rec = fields as Record<string, unknown>;
    let flags = 0;
    for (let i = 0; i < slots.length; i++) {
      const slot = slots[i]!;
      const v = rec[slot.name];
      if (v === undefined) continue;
      flags |= slot.presenceBit;
      const raw = slot.encode(v, this.strings);
      if (slot.column < SMALL_COLUMNS) this.small[slot.column]![phys] = raw;
      else this.wide[slot.column - SMALL_COLUMNS]![phys] = raw;
    }
    this.flagsCol[phys] = flags;
    this.blockEvents[b]!++;
    this.live++;
    this.head++;
    this.lastSeq = seq;
    if (this.strings.bytes > this.nextCompactAt) this.compactStrings();
  }

  /** Discards every event with seq >= `seq` (stepping back: the replay will emit them again). */
  rewindTo(seq: number): void {
    const cut = this.lowerBoundSeq(seq);
    for (let abs = cut; abs < this.head; abs++) {
      const phys = abs % this.capacity;
      if (this.kindCol[phys] !== PAD) {
        this.blockEvents[Math.floor(phys / this.blockSize)]!--;
        this.live--;
      }
    }
    this.head = cut;
    this.lastSeq = cut > this.tail ? this.seqAt(cut - 1) : -1;
  }

  clear(): void {
    this.head = this.tail = this.live = 0;
    this.lastSeq = -1;
    this.blockEvents.fill(0);
    this.strings = new StringTable();
    this.nextCompactAt = this.stringBudget;
  }

  *[Symbol.iterator](): IterableIterator<TraceEvent> {
    for (let abs = this.tail; abs < this.head; abs++) {
      if (this.kindCol[abs % this.capacity] !== PAD) yield this.decode(abs);
    }
  }

  toArray(): TraceEvent[] {
    return [...this];
  }

  /** The newest `n` events, oldest first. */
  last(n: number): TraceEvent[] {
    const out: TraceEvent[] = [];
    for (let abs = this.head - 1; abs >= this.tail && out.length < n; abs--) {
      if (this.kindCol[abs % this.capacity] !== PAD) out.push(this.decode(abs));
    }
    return out.reverse();
  }

  /** Events with lo <= seq < hi, oldest first (binary search, then a scan of the range). */
  querySeq(lo: number, hi: number): TraceEvent[] {
    const out: TraceEvent[] = [];
    for (let abs = this.lowerBoundSeq(lo); abs < this.head; abs++) {
      if (this.seqAt(abs) >= hi) break;
      if (this.kindCol[abs % this.capacity] !== PAD) out.push(this.decode(abs));
    }
    return out;
  }

  /** Events with lo <= tick < hi (virtual time never goes backwards within one history). */
  queryTicks(lo: number, hi: number): TraceEvent[] {
    const out: TraceEvent[] = [];
    for (let abs = this.lowerBoundTick(lo); abs < this.head; abs++) {
      if (this.tickAt(abs) >= hi) break;
      if (this.kindCol[abs % this.capacity] !== PAD) out.push(this.decode(abs));
    }
    return out;
  }

  /**
   * Visits events with lo <= tick < hi without decoding them (for drawing millions of marks on a
   * timeline): kind code (index in EVENT_KINDS), tick, vm, vcpu, seq.
   */
  scanTicks(
    lo: number,
    hi: number,
    visit: (kindCode: number, tick: number, vm: number, vcpu: number, seq: number) => void,
  ): void {
    for (let abs = this.lowerBoundTick(lo); abs < this.head; abs++) {
      const tick = this.tickAt(abs);
      if (tick >= hi) break;
      const phys = abs % this.capacity;
      const code = this.kindCol[phys]!;
      if (code !== PAD) visit(code, tick, this.vmCol[phys]!, this.vcpuCol[phys]!, this.seqAt(abs));
    }
  }

  private lowerBoundTick(tick: number): number {
    let a = this.tail;
    let b = this.head;
    while (a < b) {
      const mid = Math.floor((a + b) / 2);
      if (this.tickAt(mid) < tick) a = mid + 1;
      else b = mid;
    }
    return a;
  }

  private seqAt(abs: number): number {
    const phys = abs % this.capacity;
    return this.blockSeq[Math.floor(phys / this.blockSize)]! + this.seqDelta[phys]!;
  }

  private tickAt(abs: number): number {
    const phys = abs % this.capacity;
    return this.blockTick[Math.floor(phys / this.blockSize)]! + this.tickDelta[phys]!;
  }

  private lowerBoundSeq(seq: number): number {
    let a = this.tail;
    let b = this.head;
    while (a < b) {
      const mid = Math.floor((a + b) / 2);
      if (this.seqAt(mid) < seq) a = mid + 1;
      else b = mid;
    }
    return a;
  }

  private decode(abs: number): TraceEvent {
    const phys = abs % this.capacity;
    const p = this.payload;
    p.flags = this.flagsCol[phys]!;
    for (let c = 0; c < SMALL_COLUMNS; c++) p.small[c] = this.small[c]![phys]!;
    for (let c = 0; c < WIDE_COLUMNS; c++) p.wide[c] = this.wide[c]![phys]!;
    const plan = PLANS[this.kindCol[phys]!]!;
    return unpackEvent(
      this.seqAt(abs),
      this.tickAt(abs),
      this.vmCol[phys]!,
      this.vcpuCol[phys]!,
      plan,
      p,
      this.strings,
    );
  }

  /** Makes the block at `head` the newest: drops the oldest block when the ring is full. */
  private startBlock(seq: number, tick: number): void {
    if (this.head - this.tail >= this.capacity) this.dropOldestUntil(this.tail + this.blockSize);
    const b = Math.floor((this.head % this.capacity) / this.blockSize);
    this.blockSeq[b] = seq;
    this.blockTick[b] = tick;
    this.blockEvents[b] = 0;
  }

  /** Fills the rest of the current block with padding (same seq/tick as the slot before). */
  private padToBlockEnd(): void {
    const last = (this.head - 1) % this.capacity;
    while (this.head % this.blockSize !== 0) {
      const phys = this.head % this.capacity;
      this.kindCol[phys] = PAD;
      this.seqDelta[phys] = this.seqDelta[last]!;
      this.tickDelta[phys] = this.tickDelta[last]!;
      this.head++;
    }
  }

  /**
   * Rebuilds the string table with only the strings live events still reference, newest first.
   * When even those exceed half the string budget (every console line unique, say), the oldest
   * blocks are dropped too, so the ring keeps to its memory budget.
   */
  private compactStrings(): void {
    const fresh = new StringTable();
    const newestBlockStart = this.head - 1 - ((this.head - 1) % this.blockSize);
    let abs = this.head - 1;
    for (; abs >= this.tail; abs--) {
      if (abs < newestBlockStart && fresh.bytes > this.stringBudget / 2) break;
      const phys = abs % this.capacity;
      const code = this.kindCol[phys]!;
      if (code === PAD) continue;
      for (const { wide, presenceBit } of PLANS[code]!.stringColumns) {
        if (presenceBit !== 0 && (this.flagsCol[phys]! & presenceBit) === 0) continue;
        const col = this.wide[wide]!;
        col[phys] = fresh.intern(this.strings.get(col[phys]!));
      }
    }
    if (abs >= this.tail) this.dropOldestUntil(abs - (abs % this.blockSize) + this.blockSize);
    this.strings = fresh;
    this.nextCompactAt = Math.max(this.stringBudget, 2 * fresh.bytes);
  }

  /** Drops whole blocks from the tail until `newTail` (a block start). */
  private dropOldestUntil(newTail: number): void {
    while (this.tail < newTail) {
      const b = Math.floor((this.tail % this.capacity) / this.blockSize);
      this.dropped += this.blockEvents[b]!;
      this.live -= this.blockEvents[b]!;
      this.blockEvents[b] = 0;
      this.tail += this.blockSize;
    }
  }
}

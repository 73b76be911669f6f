// Where in the run each event happened, so that a click on an event (the event log, the timeline)
// can go to exactly that moment. An event's tick is virtual time, which runs on while the CPU
// idles in HLT, so it is no instruction count; and its sequence number is not stable across
// replays (a restored CPU starts with an empty TLB, so a replay may add TLB fills). What is stable
// is the instruction count retired when it was emitted (cpu.retired()) and, among the events of
// one kind emitted at that count, its rank; TLB fills are told apart by their linear address.
import { KIND_CODE, type TraceEvent } from '../trace/schema.ts';

const TLB = KIND_CODE.tlb;

export interface EventPlace {
  /** Instructions retired when it was emitted. */
  retired: number;
  /** The tag it was recorded with (the worker's: the VM whose vCPU was being debugged). */
  tag: number;
  /** Recognises the same event in a replay (stateful: use one per replay). */
  isIt: (ev: TraceEvent) => boolean;
}

export class EventLocator {
  private seqs: number[] = [];
  private retiredAt: number[] = [];
  private kinds: number[] = [];
  /** Rank among the events of its kind at its count (TLB events: the linear address). */
  private keys: number[] = [];
  private tags: number[] = [];
  private rankCount = -1;
  private ranks = new Map<number, number>();

  /** At most this many events are remembered (the oldest go first; the UI keeps fewer than this). */
  constructor(private readonly retired: () => number, private readonly limit = 200_000) {}

  get length(): number {
    return this.seqs.length;
  }

  /** Notes an event as it is emitted (events arrive in increasing seq). */
  record(ev: TraceEvent, tag = 0): void {
    const n = this.retired();
    const kind = KIND_CODE[ev.kind];
    this.seqs.push(ev.seq);
    this.retiredAt.push(n);
    this.kinds.push(kind);
    this.tags.push(tag);
    this.keys.push(kind === TLB ? (ev as Extract<TraceEvent, { kind: 'tlb' }>).linear >>> 0 : this.rank(n, kind));
    if (this.seqs.length > 2 * this.limit) this.dropOldest(this.seqs.length - this.limit);
  }

  private dropOldest(count: number): void {
    for (const a of [this.seqs, this.retiredAt, this.kinds, this.keys, this.tags]) a.splice(0, count);
  }

  /** Where event `seq` happened, with a recogniser for it; null when it is not recorded. */
  place(seq: number): EventPlace | null {
    const i = this.indexAfterSeq(seq) - 1;
    if (i < 0 || this.seqs[i] !== seq) return null;
    const retired = this.retiredAt[i]!;
    const kind = this.kinds[i]!;
    const key = this.keys[i]!;
    let seen = 0;
    const isIt = (ev: TraceEvent): boolean => {
      if (KIND_CODE[ev.kind] !== kind || this.retired() !== retired) return false;
      if (kind === TLB) return ((ev as Extract<TraceEvent, { kind: 'tlb' }>).linear >>> 0) === key;
      return seen++ === key;
    };
    return { retired, tag: this.tags[i]!, isIt };
  }

  /** The instruction count at which event `seq` was emitted (null: not recorded). */
  retiredOf(seq: number): number | null {
    const i = this.indexAfterSeq(seq) - 1;
    return i >= 0 && this.seqs[i] === seq ? this.retiredAt[i]! : null;
  }

  /** Forgets the events from index `keep` on (after going back in time). */
  truncate(keep: number): void {
    this.seqs.length = keep;
    this.retiredAt.length = keep;
    this.kinds.length = keep;
    this.keys.length = keep;
    this.tags.length = keep;
    // Ranks at the last kept count go on from the kept events (recording resumes there).
    this.rankCount = keep > 0 ? this.retiredAt[keep - 1]! : -1;
    this.ranks.clear();
    for (let i = keep - 1; i >= 0 && this.retiredAt[i] === this.rankCount; i--) {
      const k = this.kinds[i]!;
      if (k !== TLB) this.ranks.set(k, (this.ranks.get(k) ?? 0) + 1);
    }
  }

  /** Drops events with seq > `seq`; returns how many are kept. */
  truncateAfterSeq(seq: number): number {
    const keep = this.indexAfterSeq(seq);
    this.truncate(keep);
    return keep;
  }

  /**
   * Keeps the events emitted before instruction count `n` was reached (with `atToo`, those at `n`
   * as well: the position is past a repeated boundary there); returns the last kept seq (or -1).
   */
  keepBefore(n: number, atToo: boolean): number {
    let keep = this.seqs.length;
    while (keep > 0 && (this.retiredAt[keep - 1]! > n || (!atToo && this.retiredAt[keep - 1] === n))) keep--;
    this.truncate(keep);
    return this.lastSeq;
  }

  /** The retired count of the last recorded event (or -1). */
  get lastRetired(): number {
    return this.retiredAt.length > 0 ? this.retiredAt[this.retiredAt.length - 1]! : -1;
  }

  /** The seq of the last recorded event (or -1). */
  get lastSeq(): number {
    return this.seqs.length > 0 ? this.seqs[this.seqs.length - 1]! : -1;
  }

  /** Number of recorded events with seq <= `seq`. */
  indexAfterSeq(seq: number): number {
    let lo = 0, hi = this.seqs.length;
    while (lo < hi) {
      const m = (lo + hi) >> 1;
      if (this.seqs[m]! <= seq) lo = m + 1;
      else hi = m;
    }
    return lo;
  }

  private rank(n: number, kind: number): number {
    if (n !== this.rankCount) {
      this.rankCount = n;
      this.ranks.clear();
    }
    const r = this.ranks.get(kind) ?? 0;
    this.ranks.set(kind, r + 1);
    return r;
  }
}

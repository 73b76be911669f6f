// Reverse execution: restore the newest snapshot at or before the target, then replay forward
// deterministically to the exact position. Reverse continue searches the history backwards one
// snapshot interval at a time, replaying each interval in "record" mode (hits are noted, not
// stopped at) and landing on the last hit before now.
//
// Positions are (instructions retired, sub): an instruction that faults is not retired, so the
// boundary before it and the handler's first instruction share a count (sub 0 and 1). Replay runs
// hook-free to one instruction before the target, then takes the last steps on the hooked path,
// where boundaries are counted, so the final state is exactly the one a forward stop produced.
import { before, newControl, type Position, type StopCore } from './control.ts';
import type { Engine } from './engine.ts';
import type { History, HistoryEntry } from './history.ts';
import type { StopInfo } from './types.ts';
import type { TraceEvent } from '../trace/schema.ts';

/** Instructions a replay may run past the expected point looking for an event (found at once, normally). */
const EVENT_SLACK = 1_000_000;

type Hit = { info: StopCore; at: Position };

export class Reverse {
  constructor(
    private readonly d: Engine,
    private readonly h: History,
  ) {}

  private here(): Position {
    return { n: this.d.machine.cpu.instructions, sub: this.d.hereSub };
  }

  restore(e: HistoryEntry): void {
    const m = this.d.machine;
    m.restore(e.snapshot);
    m.emitter.nextSeq = e.seq;
    this.d.console = this.d.console.slice(0, e.extra.consoleLength);
    this.d.exceptions = e.extra.exceptions;
    this.d.input.restore(e.extra.input);
    this.d.hereSub = 0;
    this.d.clearPending();
  }

  /** Replays from the current state (at or before `p`) to `p`, stopping for nothing. */
  replayTo(p: Position, observe?: (at: Position) => void): void {
    const cpu = this.d.machine.cpu;
    this.d.setReplaying(true);
    try {
      if (!observe) {
        while (cpu.instructions < p.n - 1) {
          const r = this.d.runFree(p.n - 1 - cpu.instructions);
          this.d.hereSub = 0;
          if (r.reason !== 'instruction-limit' && r.reason !== 'stopped') break;
        }
      }
      const here = this.here();
      if (before(here, p)) {
        const c = newControl('count');
        c.end = p;
        c.observe = observe;
        this.d.execute(c, p.n - here.n + 1);
      }
    } finally {
      this.d.setReplaying(false);
    }
  }

  /** Moves to position `p`: backwards through a snapshot, or forwards by replay. */
  goTo(p: Position): StopInfo {
    const cur = this.here();
    if (p.n === cur.n && p.sub === cur.sub) return this.d.stopInfo({ reason: 'step' });
    const entry = this.h.atOrBefore(p.n);
    if (before(p, cur)) {
      if (!entry) return this.atHistoryStart();
      this.restore(entry);
    } else if (entry && entry.instructions > cur.n) this.restore(entry);
    this.replayTo(p);
    this.d.onRewind(this.d.machine.emitter.nextSeq);
    return this.d.stopInfo({ reason: 'step' });
  }

  /**
   * Moves to just after an event: the first instruction boundary after it was emitted (or, for an
   * event that halted the CPU, the halted state itself). Events carry virtual time, which runs on
   * while the CPU sleeps in HLT, so a tick is no instruction count. `retired` is the instruction
   * count the CPU had retired when the event was emitted (cpu.retired()); the replay runs
   * hook-free to just before it, then watches the stream for the event (`isIt`, which sees every
   * event of the kinds already listened to, from that point on). Sequence numbers are not used
   * to find it: a restored CPU starts with an empty TLB, so a replay may add TLB fills.
   */
  goToEvent(retired: number, isIt: (ev: TraceEvent) => boolean): StopInfo {
    const m = this.d.machine;
    const from = Math.max(0, retired - 1);
    const entry = this.h.atOrBefore(from);
    if (!entry) return this.atHistoryStart();
    this.restore(entry);
    if (from > m.cpu.instructions) this.replayTo({ n: from, sub: 0 });
    const c = newControl('count');
    c.end = { n: Number.MAX_SAFE_INTEGER, sub: 0 };
    c.afterEvent = { seen: false };
    const seen = c.afterEvent;
    const off = m.emitter.listen({
      // Only kinds already emitted: a new kind would change the stream (and its numbering).
      mask: m.emitter.mask,
      onEvent: (ev) => {
        if (seen.seen || !isIt(ev)) return;
        seen.seen = true;
        // Emitted by an instruction that halted the CPU: no boundary until an interrupt wakes it.
        if (m.cpu.getState().halted) {
          c.stop = { reason: 'step' };
          m.stop();
        }
      },
    });
    this.d.setReplaying(true);
    try {
      this.d.execute(c, retired - m.cpu.instructions + EVENT_SLACK);
    } finally {
      this.d.setReplaying(false);
      off();
    }
    this.d.onRewind(m.emitter.nextSeq);
    return this.d.stopInfo({ reason: seen.seen ? 'step' : 'history-start' });
  }

  stepBack(): StopInfo {
    const cur = this.here();
    const first = this.h.entries[0];
    if (cur.sub > 0) return this.goTo({ n: cur.n, sub: cur.sub - 1 });
    if (!first || cur.n <= first.instructions) return this.atHistoryStart();
    const exceptionsNow = this.d.exceptions;
    const prev = { n: cur.n - 1, sub: 0 };
    this.goTo(prev);
    // No exception in between: the instruction retired at its first boundary (the usual case).
    if (this.d.exceptions === exceptionsNow) return this.d.stopInfo({ reason: 'step' });
    // It faulted: the boundary just before `cur` is the last one at count n-1. Find it, go there.
    let last = prev;
    this.replayTo(cur, (at) => {
      if (at.n === prev.n) last = at;
    });
    return this.goTo(last);
  }

  reverseContinue(): StopInfo {
    const cur = this.here();
    const start = this.h.atOrBefore(cur.sub > 0 ? cur.n : cur.n - 1);
    if (!start) return this.atHistoryStart();
    for (let i = this.h.indexOf(start); i >= 0; i--) {
      const e = this.h.entries[i]!;
      const next = this.h.entries[i + 1];
      const end = next && before({ n: next.instructions, sub: 0 }, cur) ? { n: next.instructions, sub: 0 } : cur;
      const last = this.lastHitIn(e, end, cur);
      if (last) {
        this.restore(e);
        this.replayTo(last.at);
        this.d.onRewind(this.d.machine.emitter.nextSeq);
        return this.d.stopInfo(last.info);
      }
    }
    return this.atHistoryStart();
  }

  /** Replays from `e` to `end` (inclusive of hits seen at `end`) noting hits before `now`; returns the last. */
  private lastHitIn(e: HistoryEntry, end: Position, now: Position): Hit | undefined {
    this.restore(e);
    let last: Hit | undefined;
    const c = newControl('count');
    c.end = end;
    c.record = (info, at) => {
      if (before(at, now)) last = { info, at };
    };
    this.d.setReplaying(true);
    try {
      this.d.execute(c, end.n - e.instructions + 1);
    } finally {
      this.d.setReplaying(false);
    }
    return last;
  }

  /** No history before this point: go to the oldest state kept and say so. */
  private atHistoryStart(): StopInfo {
    const first = this.h.entries[0];
    if (first && (this.d.machine.cpu.instructions !== first.instructions || this.d.hereSub !== 0)) {
      this.restore(first);
      this.d.onRewind(this.d.machine.emitter.nextSeq);
    }
    return this.d.stopInfo({ reason: 'history-start' });
  }
}

// Reverse execution: restore the newest snapshot at or before the target, then replay forward
// deterministically to the exact instruction count. Reverse continue searches the history
// backwards one snapshot interval at a time, replaying each interval in "record" mode (hits are
// noted, not stopped at) and landing on the last hit before now.
//
// Replay runs hook-free up to one instruction before the target, then takes the last step on the
// hooked path, so the final state is the same kind of boundary a forward stop produces (an
// interrupt due at that point has been delivered, as it is before `beforeInstruction`).
import type { Debugger } from './debugger.ts';
import type { History, HistoryEntry } from './history.ts';
import type { StopInfo } from './types.ts';

type Hit = { info: Omit<StopInfo, 'eip' | 'instructions'>; at: number };

export class Reverse {
  constructor(
    private readonly d: Debugger,
    private readonly h: History,
  ) {}

  private get cpu() {
    return this.d.machine.cpu;
  }

  restore(e: HistoryEntry): void {
    const m = this.d.machine;
    m.restore(e.snapshot);
    m.emitter.nextSeq = e.seq;
    this.d.console = this.d.console.slice(0, e.extra.consoleLength);
    this.d.clearPending();
  }

  /** Replays from the current state to instruction count `n` (>= current), stopping for nothing. */
  replayTo(n: number): void {
    const m = this.d.machine;
    this.d.setReplaying(true);
    try {
      while (this.cpu.instructions < n - 1) {
        const r = m.run(n - 1 - this.cpu.instructions);
        if (r.reason !== 'instruction-limit' && r.reason !== 'stopped') break;
      }
      if (this.cpu.instructions < n) {
        const c = this.d.newControl('count');
        c.endCount = n;
        this.d.execute(c, n - this.cpu.instructions + 1);
      }
    } finally {
      this.d.setReplaying(false);
    }
  }

  /** Moves to count `n`: backwards through a snapshot, or forwards by replay when `n` is ahead. */
  goTo(n: number): StopInfo {
    const cur = this.cpu.instructions;
    if (n === cur) return this.d.stopInfo({ reason: 'step' });
    const entry = this.h.atOrBefore(n);
    if (n < cur) {
      if (!entry) return this.atHistoryStart();
      this.restore(entry);
    } else if (entry && entry.instructions > cur) this.restore(entry);
    this.replayTo(n);
    this.d.onRewind(this.d.machine.emitter.nextSeq);
    return this.d.stopInfo({ reason: 'step' });
  }

  stepBack(): StopInfo {
    const cur = this.cpu.instructions;
    const first = this.h.entries[0];
    if (!first || cur <= first.instructions) return this.atHistoryStart();
    return this.goTo(cur - 1);
  }

  reverseContinue(): StopInfo {
    const cur = this.cpu.instructions;
    const start = this.h.atOrBefore(cur - 1);
    if (!start) return this.atHistoryStart();
    for (let i = this.h.indexOf(start); i >= 0; i--) {
      const e = this.h.entries[i]!;
      const next = this.h.entries[i + 1];
      const end = next && next.instructions < cur ? next.instructions : cur;
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

  /** Replays [e, end] noting every hit before `now`; returns the last. */
  private lastHitIn(e: HistoryEntry, end: number, now: number): Hit | undefined {
    this.restore(e);
    let last: Hit | undefined;
    const c = this.d.newControl('count');
    c.endCount = end;
    c.record = (info, at) => {
      if (at < now) last = { info, at };
    };
    this.d.setReplaying(true);
    try {
      this.d.execute(c, end - e.instructions + 1);
    } finally {
      this.d.setReplaying(false);
    }
    return last;
  }

  /** No history before this point: go to the oldest state kept and say so. */
  private atHistoryStart(): StopInfo {
    const first = this.h.entries[0];
    if (first && this.cpu.instructions !== first.instructions) {
      this.restore(first);
      this.d.onRewind(this.d.machine.emitter.nextSeq);
    }
    return this.d.stopInfo({ reason: 'history-start' });
  }
}

// When the debugger takes history snapshots: every `interval` instructions at the least and, unless
// the overhead limit is off, only once the machine has run long enough since the last one that the
// snapshot's own cost (mostly copying the RAM pages written since the previous one: Memory tracks
// dirty pages; the first snapshot scans all of RAM) stays under `overhead` of run time; one is due
// anyway after `maxInterval` instructions. Replaying to any point then costs about
// snapshotCost / overhead of wall time, whatever the kernel's speed. The wall clock only decides
// where snapshots fall, never what the machine does.
import type { History } from './history.ts';

export class SnapshotPolicy {
  /** Wall time of the last few snapshots (the minimum is used: the first includes warm-up). */
  private readonly costs: number[] = [];
  private runMs = 0;

  constructor(
    private readonly history: History,
    private readonly overhead: number,
    private readonly maxInterval: number,
    readonly clock: () => number,
  ) {}

  get interval(): number {
    return this.history.options.interval;
  }

  /** Where the current run chunk should end so the next check falls on time. */
  chunkEnd(n: number): number {
    if (this.interval <= 0) return Infinity;
    const newest = this.history.newest;
    if (!newest) return n;
    const due = newest.instructions + this.interval;
    return due > n ? due : n + this.interval;
  }

  /** Is a snapshot due at instruction count `n`? */
  due(n: number): boolean {
    if (this.interval <= 0) return false;
    const newest = this.history.newest;
    if (!newest) return true;
    if (n < newest.instructions + this.interval) return false;
    if (n >= newest.instructions + this.maxInterval || this.overhead <= 0) return true;
    return this.runMs * this.overhead >= Math.min(...this.costs);
  }

  /** Run time past the newest snapshot (replays of known history do not count). */
  ran(ms: number): void {
    this.runMs += ms;
  }

  took(ms: number): void {
    this.costs.push(ms);
    if (this.costs.length > 3) this.costs.shift();
    this.runMs = 0;
  }
}

// Round-robin: every runnable VM in turn, one fixed quantum each.
import type { SchedEntity, Scheduler } from './scheduler.ts';

export class RoundRobin implements Scheduler {
  readonly name = 'rr';
  constructor(private readonly quantumTicks = 100_000) {}

  pick(runnable: readonly SchedEntity[], current: SchedEntity | null): SchedEntity | null {
    if (runnable.length === 0) return null;
    if (current === null) return runnable[0]!;
    // The first runnable VM after the current one, in id order, wrapping around.
    const after = runnable.find((v) => v.id > current.id);
    return after ?? runnable[0]!;
  }

  quantum(): number {
    return this.quantumTicks;
  }

  charge(): void {}
}

// The scheduling policy interface: the hypervisor asks whom to run next and for how long, and
// tells the policy what each run consumed. Policies see VMs only through SchedEntity.

export interface SchedEntity {
  readonly id: number;
  readonly weight: number;
  /** Cap in % of the one CPU (0 = uncapped). */
  readonly cap: number;
}

export interface Scheduler {
  readonly name: 'rr' | 'credit';
  /**
   * Picks among the runnable VMs (never empty); `current` is who ran last (or null). `yielded`:
   * `current` gave the CPU away (a PAUSE-loop exit), so anyone else runnable goes first.
   */
  pick(runnable: readonly SchedEntity[], current: SchedEntity | null, now: number, yielded?: boolean): SchedEntity | null;
  /** Host ticks the chosen VM may run before the preemption timer fires. */
  quantum(vm: SchedEntity): number;
  /** The VM consumed `ticks` host ticks. */
  charge(vm: SchedEntity, ticks: number, now: number): void;
  /** Host tick of the policy's next own event (a new accounting period), if it has one. */
  nextEvent?(now: number): number;
  /** Credits per VM id (credit scheduler), for 'sched' events. */
  credits?(all: readonly SchedEntity[]): number[];
}

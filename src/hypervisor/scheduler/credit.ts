// Xen's credit scheduler (Cherkasova, Gupta, Vahdat, "Comparison of the Three CPU Schedulers in
// Xen", 2007; Xen's sched_credit.c): every accounting period each active VM earns credits in
// proportion to its weight; running burns credits; VMs with credits left (UNDER) run before those
// in debt (OVER), round-robin within a class. A cap limits a VM to a share of the CPU even when
// the CPU would otherwise idle. A halted VM is not runnable, so its time goes to the others.
import type { SchedEntity, Scheduler } from './scheduler.ts';

export class CreditScheduler implements Scheduler {
  readonly name = 'credit';
  private readonly credit = new Map<number, number>();
  /** Host ticks each VM consumed in the current accounting period (for caps). */
  private readonly used = new Map<number, number>();
  private periodStart = 0;

  /**
   * Xen: 10 ms ticks, 30 ms accounting period (3 ticks). Here a quantum is `quantumTicks` host
   * ticks and an accounting period is `periodQuanta` quanta.
   */
  constructor(private readonly quantumTicks = 100_000, private readonly periodQuanta = 3) {}

  private get period(): number {
    return this.quantumTicks * this.periodQuanta;
  }

  private account(all: readonly SchedEntity[], now: number): void {
    if (now - this.periodStart < this.period && this.periodStart !== 0) return;
    this.periodStart = now === 0 ? 1 : now;
    const total = all.reduce((s, v) => s + v.weight, 0);
    for (const v of all) {
      const earned = total > 0 ? (this.period * v.weight) / total : 0;
      // Credits do not pile up without bound (Xen clamps an idle VM's credit).
      const c = Math.min(this.period, Math.max(-this.period, (this.credit.get(v.id) ?? 0) + earned));
      this.credit.set(v.id, c);
      this.used.set(v.id, 0);
    }
  }

  private capped(v: SchedEntity): boolean {
    return v.cap > 0 && (this.used.get(v.id) ?? 0) >= (this.period * v.cap) / 100;
  }

  pick(runnable: readonly SchedEntity[], current: SchedEntity | null, now: number, yielded = false): SchedEntity | null {
    this.account(runnable, now);
    const eligible = runnable.filter((v) => !this.capped(v));
    if (eligible.length === 0) return null; // every runnable VM is capped: the CPU idles
    const under = eligible.filter((v) => (this.credit.get(v.id) ?? 0) > 0);
    let pool = under.length > 0 ? under : eligible;
    // A yield (Xen's csched_vcpu_yield) puts the yielder behind everyone else runnable, even VMs
    // in debt: whoever holds what it spins on must get to run. It keeps the credits it did not use.
    if (yielded && current !== null && pool.length === 1 && pool[0] === current && eligible.length > 1) pool = eligible;
    if (current === null) return pool[0]!;
    return pool.find((v) => v.id > current.id) ?? pool[0]!;
  }

  quantum(v: SchedEntity): number {
    if (v.cap <= 0) return this.quantumTicks;
    const left = (this.period * v.cap) / 100 - (this.used.get(v.id) ?? 0);
    return Math.max(1, Math.min(this.quantumTicks, Math.ceil(left)));
  }

  charge(v: SchedEntity, ticks: number): void {
    this.credit.set(v.id, (this.credit.get(v.id) ?? 0) - ticks);
    this.used.set(v.id, (this.used.get(v.id) ?? 0) + ticks);
  }

  /** Forces a new accounting period (the hypervisor calls it when time passes with the CPU idle). */
  tick(all: readonly SchedEntity[], now: number): void {
    this.account(all, now);
  }

  nextEvent(): number {
    return this.periodStart + this.period;
  }

  credits(all: readonly SchedEntity[]): number[] {
    return all.map((v) => Math.round(this.credit.get(v.id) ?? 0));
  }
}

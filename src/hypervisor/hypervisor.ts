// The hypervisor: owns the host memory and hands its frames to VMs, runs one vCPU at a time on
// the one physical CPU, and asks the scheduling policy who is next. The host timeline (event
// ticks) counts guest instructions plus the modelled cycles of the VMM's work; each VM's own
// clock counts only its instructions and its halted time.
import { Memory } from '../machine/memory.ts';
import type { Cpu } from '../machine/cpu/cpu.ts';
import { Emitter } from '../trace/emitter.ts';
import { KIND_BIT, type SchedReason } from '../trace/schema.ts';
import { HostFrames, NONE_FRAME } from './p2m.ts';
import { TABLE_FRAME_BUDGET } from './shadow.ts';
import { FrameEvents } from './frame-events.ts';
import { costTable, type CostTable } from './costs.ts';
import { Vm, type HostServices, type VmConfig } from './vm.ts';
import { runVm, wakeVm, type RunHost, type SliceEnd } from './run-vm.ts';
import type { Scheduler } from './scheduler/scheduler.ts';
import { RoundRobin } from './scheduler/round-robin.ts';
import { CreditScheduler } from './scheduler/credit.ts';

const NO_VMS: ReadonlySet<Vm> = new Set();

/** Host physical addresses of the VMs' ROM windows (above any host RAM, below NONE_FRAME). */
const ROM_WINDOWS = 0xc0000000;

/** A shadow or nested table: one directory and at most 1024 tables (all cached shadow roots together). */
const TABLE_FRAMES_PER_VM = TABLE_FRAME_BUDGET;

export interface HypervisorOptions {
  /** Host RAM shared by every VM's memory and the VMM's tables (default 512 MiB, at most 1 GiB). */
  hostMemoryBytes?: number;
  emitter?: Emitter;
  sched?: 'rr' | 'credit';
  /** Host ticks per quantum (the preemption timer). */
  quantum?: number;
  costs?: Partial<CostTable>;
}

export interface HypervisorResult {
  /** Host ticks when the last VM ended (or the run was cut short). */
  ticks: number;
  /** 'done' when every VM ended; 'tick-limit' when the host budget ran out first. */
  reason: 'done' | 'tick-limit';
}

export class Hypervisor implements HostServices, RunHost {
  readonly memory: Memory;
  readonly frames: HostFrames;
  readonly emitter: Emitter;
  readonly costs: CostTable;
  readonly scheduler: Scheduler;
  readonly vms: Vm[] = [];
  /** Host time: guest instructions plus modelled VMM cycles. */
  private tick = 0;
  private current: Vm | null = null;
  private sliceStart = 0;
  private readonly cpus: Cpu[] = [];
  /** Host ticks with no VM runnable (everyone halted). */
  idleTicks = 0;
  switches = 0;
  private reserved = 0;
  /** The scheduling loop's state between runUntil calls (see there). */
  private readonly loop: { last: Vm | null; lastEnd: SchedReason; turn: { vm: Vm; left: number } | null } = { last: null, lastEnd: 'start', turn: null };
  /** ROM windows handed out so far (see mapRom). */
  private roms = 0;

  constructor(opts: HypervisorOptions = {}) {
    this.memory = new Memory(opts.hostMemoryBytes ?? 512 * 1024 * 1024);
    this.frames = new HostFrames(this.memory);
    this.emitter = opts.emitter ?? new Emitter();
    this.frames.events = new FrameEvents(this.emitter, this.frames.total);
    this.costs = costTable(opts.costs);
    const q = opts.quantum ?? 100_000;
    this.scheduler = opts.sched === 'credit' ? new CreditScheduler(q) : new RoundRobin(q);
    this.emitter.now = () => this.hostTick();
    this.memory.onCodeWrite = (page) => {
      for (const c of this.cpus) c.invalidatePage(page);
    };
  }

  /** Creates a VM (throws BootError for a bad image). */
  addVm(config: VmConfig): Vm {
    // Admission control: every VM's RAM and its page tables are guaranteed up front, so no guest,
    // however hostile, can take frames another VM was promised.
    const pages = Math.ceil((config.memoryBytes ?? 64 << 20) / 4096) + TABLE_FRAMES_PER_VM;
    if (this.reserved + pages > this.frames.total - 256) {
      throw new Error(`not enough host memory for another VM of ${(config.memoryBytes ?? 64 << 20) >> 20} MiB: ` +
        `${this.reserved} of ${this.frames.total - 256} host frames are promised already`);
    }
    this.reserved += pages;
    const vm = new Vm(this.vms.length, this, config);
    this.vms.push(vm);
    return vm;
  }

  /**
   * A read-only host window holding a VM's BIOS ROM (what a VMM backs a guest's firmware region
   * with): host MMIO pages beyond any RAM whose reads give the image and whose writes vanish, as
   * the ROM at the top of 4 GiB does on the bare machine. Returns its first host page.
   */
  mapRom(image: Uint8Array): number {
    const base = (ROM_WINDOWS + this.roms++ * 0x20000) >>> 0;
    if (base + image.length > NONE_FRAME * 4096) throw new Error('no host address space left for another ROM');
    const rom = image.slice();
    this.memory.mapMmio(base, rom.length, {
      read: (addr, size) => {
        let v = 0;
        for (let i = 0; i < size; i++) {
          const off = addr - base + i;
          v |= (off < rom.length ? rom[off]! : 0xff) << (8 * i);
        }
        return v >>> 0;
      },
      write: () => {},
    });
    return base >>> 12;
  }

  registerCpu(cpu: Cpu): void {
    this.cpus.push(cpu);
    // Every vCPU shares the host memory: code written by anyone invalidates everyone's decoded copy.
    this.memory.onCodeWrite = (page) => {
      for (const c of this.cpus) c.invalidatePage(page);
    };
    this.memory.mmioChanged = () => {
      for (const c of this.cpus) c.flushTlb();
    };
  }

  hostTick(): number {
    const cur = this.current;
    return cur === null ? this.tick : this.tick + (cur.cpu.retired() - this.sliceStart);
  }

  charge(vm: Vm, cycles: number): void {
    this.tick += cycles;
    vm.stats.ticks += cycles;
    vm.stats.overheadCycles += cycles;
  }

  retire(vm: Vm, instructions: number): void {
    this.tick += instructions;
    this.sliceStart = vm.cpu.instructions;
    vm.stats.instructions += instructions;
    vm.stats.ticks += instructions;
  }

  /** Runs until every VM has ended (or `maxTicks` of host time passed); a later call resumes. */
  run(maxTicks = Infinity): HypervisorResult {
    const end = this.runUntil(maxTicks);
    return { ticks: this.tick, reason: end === 'done' ? 'done' : 'tick-limit' };
  }

  /**
   * Runs every VM but the `parked` ones under the scheduler until the host clock reaches `limit`
   * ('reached') or none of them is left ('done'). Resumable: the loop's state (who ran last, why
   * it stopped, a turn cut by the limit) lives here, and a cut turn goes on at the next call with
   * the rest of its quantum and no new scheduling decision, so cutting a run into pieces (a
   * migration's rounds, a paused CLI run) changes nothing for the schedule.
   */
  runUntil(limit: number, parked: ReadonlySet<Vm> = NO_VMS): 'reached' | 'done' {
    const s = this.loop;
    for (;;) {
      const live = this.vms.filter((v) => v.state !== 'exited' && !parked.has(v));
      if (live.length === 0) return 'done';
      if (this.tick >= limit) return 'reached';
      this.wakeDue();
      const runnable = live.filter((v) => v.state === 'runnable');
      const cut = s.turn !== null && runnable.includes(s.turn.vm) ? s.turn : null;
      s.turn = null;
      let next: Vm, full: number;
      if (cut !== null) {
        next = cut.vm;
        full = cut.left;
      } else {
        const picked = runnable.length > 0 ? (this.scheduler.pick(runnable, s.last, this.tick, s.lastEnd === 'yield') as Vm | null) : null;
        if (picked === null) {
          if (!this.idle(live, runnable.length > 0, limit)) return 'done'; // nothing can ever run again
          continue;
        }
        next = picked;
        if (next !== s.last || s.lastEnd === 'start') this.switchTo(s.last, next, s.lastEnd);
        full = this.budgetFor(next, runnable.length);
      }
      const budget = Math.min(full, limit - this.tick);
      const before = next.stats.ticks;
      const end = this.runGuarded(next, budget);
      const used = next.stats.ticks - before;
      this.scheduler.charge(next, used, this.tick);
      s.last = next;
      if (end === 'quantum' && budget < full && used < full) {
        s.turn = { vm: next, left: full - used }; // cut by the limit: the turn goes on next time
        s.lastEnd = 'quantum';
        continue;
      }
      if (end === 'quantum' && this.vms.some((v) => v !== next && v.state === 'runnable' && !parked.has(v))) {
        next.vcpu.exit(next.cpu, 'PREEMPTION_TIMER', 0, this.costs.handler.PREEMPTION_TIMER ?? 0);
      }
      s.lastEnd = end;
    }
  }

  /**
   * The quantum; alone on the CPU (no other VM runnable) a VM runs on until the next blocked VM
   * is due to wake, since a preemption would only hand the CPU straight back.
   */
  private budgetFor(vm: Vm, runnable: number): number {
    const q = this.scheduler.quantum(vm);
    if (runnable > 1 || vm.cap > 0) return q;
    let until = Infinity;
    for (const v of this.vms) if (v.state === 'blocked') until = Math.min(until, v.wakeAtTick);
    return Math.max(q, Math.min(until - this.tick, 50 * q));
  }

  /**
   * One VM's turn. Whatever a guest does must not take the hypervisor down: an unexpected error
   * inside the emulation stops that VM (with the error as its reason) and the others go on.
   */
  private runGuarded(vm: Vm, budget: number): SliceEnd {
    this.current = vm;
    this.sliceStart = vm.cpu.instructions;
    try {
      return runVm(vm, budget, this);
    } catch (err) {
      vm.finish({ reason: 'killed', message: `internal error while running it: ${(err as Error).message ?? String(err)}` });
      return 'exit';
    } finally {
      this.current = null;
    }
  }

  private wakeDue(): void {
    for (const v of this.vms) {
      if (v.state === 'blocked' && v.wakeAtTick <= this.tick) {
        wakeVm(v);
        this.emitSched(-1, v.id, 'wake');
      }
    }
  }

  /**
   * Nothing can run: time passes to the next wake-up (or the scheduler's next accounting period),
   * but not past `limit`. False when no VM can ever run again.
   */
  private idle(live: readonly Vm[], cappedOnly: boolean, limit: number): boolean {
    let next = Infinity;
    for (const v of live) if (v.state === 'blocked') next = Math.min(next, v.wakeAtTick);
    if (cappedOnly) next = Math.min(next, this.scheduler.nextEvent?.(this.tick) ?? this.tick + 1);
    if (!Number.isFinite(next) && !Number.isFinite(limit)) return false;
    const target = Math.max(this.tick + 1, Math.min(next, limit));
    this.idleTicks += target - this.tick;
    this.tick = target;
    return true;
  }

  private switchTo(from: Vm | null, to: Vm, reason: SchedReason): void {
    this.switches++;
    if (from !== null && from !== to) this.tick += this.costs.worldSwitch;
    this.emitSched(from === null ? -1 : from.id, to.id, from === null ? 'start' : reason);
    this.emitter.vm = to.id;
    this.emitter.vcpu = 0;
  }

  private emitSched(from: number, to: number, reason: SchedReason): void {
    const em = this.emitter;
    if ((em.mask & KIND_BIT.sched) === 0) return;
    const saved = em.vm;
    em.vm = -1;
    const credits = this.scheduler.credits?.(this.vms);
    em.emit('sched', credits !== undefined ? { from, to, reason, credits } : { from, to, reason });
    em.vm = saved;
  }

  /** Frees every VM's memory and tables. */
  release(): void {
    for (const v of this.vms) v.release();
  }
}

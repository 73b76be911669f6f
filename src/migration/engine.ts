// Live migration of one VM from a source host to a destination host over a simulated Link.
// Pre-copy: round 0 sends every backed page while the VM keeps running; each later round sends
// the pages dirtied during the previous one; when the dirty set fits the downtime limit (or the
// round limit is hit) the VM stops, the last dirty pages and the CPU/device state go over, and
// it resumes on the destination. Post-copy: the CPU/device state goes first, the VM resumes on the
// destination at once, and every page it touches before the background push delivered it is
// fetched over the link (a remote fault).
//
// Dirty tracking (default 'write-protect'): dirty-log.ts write-protects every page through the
// vCPU's TLB fills and logs the first write to each page in a round, as a VMM does with its page
// tables. The alternative 'compare' finds the pages whose contents differ from the copy already
// sent; with `verify` the engine runs both and counts pages the log missed (tests expect none).
//
// Virtual time: the VM's own clock never sees the migration (it counts only its instructions and
// halted time, and is paused while it is nowhere), so its output is that of an unmigrated run.
// The migration clock (events, downtime) is the source HOST's clock during rounds (driver.ts
// Hypervisor.runUntil: every VM on the source runs under its scheduler while the link sends, so a
// neighbour that takes half the CPU halves what the migrating VM runs, and dirties, per round),
// plus downtime, plus the destination host's clock and remote-fault stalls after the switch-over.
// The destination host's own VMs run for the same virtual time as the rounds and the downtime;
// the incoming VM is parked there until its state has arrived.
import type { Hypervisor, Vm, VmConfig } from '../hypervisor/index.ts';
import { encodeValue } from './codec.ts';
import { hostNs } from './driver.ts';
import { NS_PER_INSTRUCTION } from '../machine/devices/clock.ts';
import { DirtyLog } from './dirty-log.ts';
import { Link, PAGE_WIRE_BYTES, type LinkConfig } from './link.ts';
import { emitToStream, type MigrationEvent, type MigrationPhase } from './events.ts';
import { captureCpuDevices, guestMemoryChecksum, isZeroPage, pageFrame, restoreCpuDevices, writePage } from './vm-state.ts';

export interface MigrationOptions {
  link: LinkConfig;
  mode: 'precopy' | 'postcopy';
  /** Pre-copy: most rounds before stop-and-copy is forced (default 30, about Xen's 29 iterations). */
  maxRounds?: number;
  /** Pre-copy: stop when the remaining dirty pages would go in this downtime (default 300 ms, QEMU's downtime-limit). */
  maxDowntimeNs?: number;
  /** How dirty pages are found (default 'write-protect'). */
  tracking?: 'write-protect' | 'compare';
  /** Also compare contents each round and count dirty pages the write-protect log missed. */
  verify?: boolean;
  onEvent?: (e: MigrationEvent) => void;
}

export interface RoundInfo {
  round: number; pagesSent: number; durationNs: number; dirtyAfter: number;
  /** With `verify`: pages whose contents changed but which the write-protect log did not report. */
  missedByLog?: number;
}

export interface MigrationResult {
  mode: 'precopy' | 'postcopy';
  /** Why the VM stopped: the dirty set was small enough, the round limit forced it, or post-copy. */
  switchover: 'converged' | 'round-limit' | 'postcopy' | 'source-ended';
  rounds: RoundInfo[];
  /** Pages the stop-and-copy phase sent. */
  finalPages: number;
  stateBytes: number;
  downtimeNs: number;
  /** Post-copy: pages fetched on demand, and the time the vCPU waited for them. */
  remoteFaults: number;
  stallNs: number;
  /** Pre-copy with write-protect tracking: writes that exited only because the log protected the page. */
  protectionExits: number;
  pagesSent: number;
  bytesSent: number;
  /** Migration clock when the last page arrived. */
  totalNs: number;
  /** Pre-copy: guest-memory checksums of source and destination at the switch-over (equal = no page lost). */
  sourceChecksum?: number;
  destChecksum?: number;
  events: MigrationEvent[];
}

export class Migration {
  readonly link: Link;
  readonly events: MigrationEvent[] = [];
  /** Host ticks of the source and destination hosts when the migration started (migration clock 0). */
  private srcTick0: number;
  private dstTick0: number;
  private pageNs: number;
  dst: Vm | null = null;
  /** The incoming VM, not run on the destination until its state has arrived. */
  private parked = new Set<Vm>();
  private protectionExits = 0;

  constructor(readonly srcHost: Hypervisor, readonly src: Vm, readonly dstHost: Hypervisor, readonly opts: MigrationOptions) {
    this.link = new Link(opts.link);
    this.srcTick0 = srcHost.hostTick();
    this.dstTick0 = dstHost.hostTick();
    this.pageNs = this.link.serializeNs(PAGE_WIRE_BYTES);
  }

  /** Migration clock (ns) read from the source host's clock. */
  private srcNow(): number {
    return hostNs(this.srcHost) - this.srcTick0 * NS_PER_INSTRUCTION;
  }

  /**
   * Lets both hosts run (every VM on the source, the destination's own VMs) up to migration clock
   * `ns`. The migrating VM competes with its neighbours, so how much it runs, and dirties, in that
   * time depends on its share of the source's CPU.
   */
  private runHostsUntil(ns: number): void {
    const ticks = Math.ceil(ns / NS_PER_INSTRUCTION);
    this.srcHost.runUntil(this.srcTick0 + ticks);
    this.dstHost.runUntil(this.dstTick0 + ticks, this.parked);
  }

  private emit(phase: MigrationPhase, timeNs: number, round: number, pages: number, bytes: number, extra: Partial<MigrationEvent> = {}): void {
    const e: MigrationEvent = { phase, timeNs: Math.round(timeNs), round, pages, bytes, ...extra };
    this.events.push(e);
    this.opts.onEvent?.(e);
    // Until the VM resumes on the destination, the source host tells the story; then the destination.
    const onDst = this.dst !== null && (phase === 'resume' || phase === 'remote-fault' || phase === 'done');
    emitToStream(onDst ? this.dstHost.emitter : this.srcHost.emitter, onDst ? this.dst!.id : this.src.id, e);
  }

  /** Pages of `vm` that are backed and not all zeros, ascending. */
  private livePages(vm: Vm): number[] {
    const out: number[] = [];
    const ram = vm.gmem.memory.ram;
    for (let g = 0; g < vm.gmem.pages; g++) {
      const b = pageFrame(vm, g);
      if (b >= 0 && !isZeroPage(ram, b)) out.push(g);
    }
    return out;
  }

  /** Pages whose source contents differ from the copy on the destination. */
  private dirtyPages(dst: Vm): number[] {
    const out: number[] = [];
    const sram = this.src.gmem.memory.ram, dram = dst.gmem.memory.ram;
    for (let g = 0; g < this.src.gmem.pages; g++) {
      const s = pageFrame(this.src, g);
      if (s < 0) continue;
      const d = pageFrame(dst, g);
      let differs = false;
      if (d < 0) differs = !isZeroPage(sram, s);
      else for (let k = 0; k < 4096; k++) if (sram[s + k] !== dram[d + k]) { differs = true; break; }
      if (differs) out.push(g);
    }
    return out;
  }

  private copyPages(dst: Vm, pages: number[]): void {
    const ram = this.src.gmem.memory.ram;
    for (const g of pages) {
      const s = pageFrame(this.src, g);
      writePage(dst, g, s < 0 ? new Uint8Array(4096) : ram.subarray(s, s + 4096));
    }
    this.link.send(pages.length * PAGE_WIRE_BYTES);
  }

  /** Builds the destination VM (same image and configuration; its state is then replaced). */
  private createDestination(config: VmConfig): Vm {
    const dst = this.dstHost.addVm(config);
    this.dst = dst;
    this.parked.add(dst);
    return dst;
  }

  /** Runs the whole migration; the destination VM is ready to run on when it returns. */
  run(dstConfig: VmConfig): MigrationResult {
    if (this.src.state === 'exited') throw new Error(`${this.src.name} has ended: there is nothing left to migrate`);
    const dst = this.createDestination(dstConfig);
    const live = this.livePages(this.src);
    this.emit('start', 0, -1, live.length, 0, { detail: this.opts.mode, gfns: live });
    return this.opts.mode === 'postcopy' ? this.postcopy(dst) : this.precopy(dst);
  }

  private precopy(dst: Vm): MigrationResult {
    const maxRounds = this.opts.maxRounds ?? 30;
    const lat = this.opts.link.latencyNs;
    const limitNs = this.opts.maxDowntimeNs ?? 300e6;
    const fitPages = Math.max(0, Math.floor((limitNs - lat) / this.pageNs));
    const rounds: RoundInfo[] = [];
    let toSend = this.livePages(this.src);
    const log = (this.opts.tracking ?? 'write-protect') === 'write-protect' ? new DirtyLog(this.src) : null;
    let switchover: MigrationResult['switchover'] = 'round-limit';
    for (let round = 0; ; round++) {
      const start = this.srcNow();
      this.emit('round-start', start, round, toSend.length, 0, { gfns: toSend });
      this.copyPages(dst, toSend); // contents as of the round's start: later writes show up as dirty
      const durationNs = this.link.transferNs(toSend.length * PAGE_WIRE_BYTES);
      this.runHostsUntil(start + durationNs);
      const ended = this.src.state === 'exited';
      const bytes = toSend.length * PAGE_WIRE_BYTES;
      this.emit('pages-sent', start + durationNs, round, toSend.length, bytes);
      const changed = log === null || this.opts.verify === true ? this.dirtyPages(dst) : [];
      const dirty = log === null ? changed : [...log.startRound()].filter((g) => pageFrame(this.src, g) >= 0).sort((x, y) => x - y);
      this.emit('dirty', Math.max(this.srcNow(), start + durationNs), round, dirty.length, 0, { gfns: dirty });
      const info: RoundInfo = { round, pagesSent: toSend.length, durationNs, dirtyAfter: dirty.length };
      if (log !== null && this.opts.verify === true) {
        const logged = new Set(dirty);
        info.missedByLog = changed.filter((g) => !logged.has(g)).length;
      }
      rounds.push(info);
      toSend = dirty;
      if (ended) { switchover = 'source-ended'; break; }
      if (dirty.length <= fitPages) { switchover = 'converged'; break; }
      if (round + 1 >= maxRounds) { switchover = 'round-limit'; break; }
    }
    log?.detach();
    this.protectionExits = log?.protectionExits ?? 0;
    return this.stopAndCopy(dst, toSend, rounds, switchover);
  }

  private stopAndCopy(dst: Vm, last: number[], rounds: RoundInfo[], switchover: MigrationResult['switchover']): MigrationResult {
    const stopAt = this.srcNow();
    this.emit('downtime-start', stopAt, -1, last.length, 0, { detail: switchover, gfns: last });
    const state = captureCpuDevices(this.src);
    const stateBytes = encodeValue(state).length;
    this.copyPages(dst, last);
    this.link.send(stateBytes);
    const downtimeNs = this.link.transferNs(last.length * PAGE_WIRE_BYTES + stateBytes);
    restoreCpuDevices(dst, state);
    const sourceChecksum = guestMemoryChecksum(this.src), destChecksum = guestMemoryChecksum(dst);
    // A guest that ended during pre-copy has ended on the destination too (nothing left to resume).
    if (this.src.end !== null) dst.finish(this.src.end);
    else this.retireSource();
    const resumeAt = stopAt + downtimeNs;
    this.runHostsUntil(resumeAt); // the neighbours on both hosts go on while the VM is nowhere
    this.parked.delete(dst);
    this.emit('downtime-end', resumeAt, -1, last.length, last.length * PAGE_WIRE_BYTES + stateBytes, { downtimeNs: Math.round(downtimeNs) });
    this.emit('resume', resumeAt, -1, 0, 0, { detail: 'destination' });
    this.emit('done', resumeAt, -1, 0, this.link.bytesSent);
    const sent = rounds.reduce((n, r) => n + r.pagesSent, 0) + last.length;
    return {
      mode: 'precopy', switchover, rounds, finalPages: last.length, stateBytes, downtimeNs, remoteFaults: 0, stallNs: 0, protectionExits: this.protectionExits,
      pagesSent: sent, bytesSent: this.link.bytesSent, totalNs: resumeAt, events: this.events, sourceChecksum, destChecksum,
    };
  }

  /** The source is paused for good; its pages stay readable until the destination has them all. */
  private retireSource(): void {
    this.src.state = 'exited';
    this.src.end = { reason: 'killed', message: 'migrated to the destination host' };
  }

  private postcopy(dst: Vm): MigrationResult {
    const remote = new Set(this.livePages(this.src));
    const state = captureCpuDevices(this.src);
    const stateBytes = encodeValue(state).length;
    this.emit('downtime-start', 0, -1, remote.size, 0, { detail: 'postcopy' });
    this.link.send(stateBytes);
    const downtimeNs = this.link.transferNs(stateBytes);
    this.retireSource();
    dst.gmem.releaseAll(); // nothing has arrived yet: every first touch must come over the link
    restoreCpuDevices(dst, state);
    this.runHostsUntil(downtimeNs);
    this.parked.delete(dst);
    this.emit('downtime-end', downtimeNs, -1, 0, stateBytes, { downtimeNs: Math.round(downtimeNs) });
    this.emit('resume', downtimeNs, -1, 0, 0, { detail: 'destination' });
    const resumedAt = hostNs(this.dstHost);
    let stallNs = 0, faults = 0;
    const clock = () => downtimeNs + (hostNs(this.dstHost) - resumedAt) + stallNs;
    const gmem = dst.gmem;
    const original = gmem.backing.bind(gmem);
    const fetch = (gfn: number): void => {
      remote.delete(gfn);
      this.copyPages(dst, [gfn]);
    };
    // The first touch of a page that is still on the source: a remote fault.
    gmem.backing = (gfn: number): number => {
      if (gfn >= 0 && gfn < gmem.pages && gmem.p2m[gfn] === 0 && remote.has(gfn)) {
        faults++;
        stallNs += this.link.roundTripPageNs();
        this.emit('remote-fault', clock(), -1, 1, PAGE_WIRE_BYTES, { gfn });
        gmem.backing = original;
        try { fetch(gfn); } finally { gmem.backing = hook; }
      }
      return original(gfn);
    };
    const hook = gmem.backing;
    // Background push: while the destination host runs (the VM and its new neighbours), the link
    // streams the remaining pages in order.
    const chunkTicks = Math.ceil(Math.max(this.pageNs * 16, 1000) / NS_PER_INSTRUCTION);
    let owed = 0;
    while (remote.size > 0) {
      const before = hostNs(this.dstHost);
      const r = this.dstHost.runUntil(this.dstHost.hostTick() + chunkTicks);
      owed += (r === 'done' ? Infinity : hostNs(this.dstHost) - before) / this.pageNs;
      gmem.backing = original;
      for (const g of [...remote]) {
        if (owed < 1) break;
        fetch(g);
        owed -= 1;
      }
      gmem.backing = hook;
    }
    gmem.backing = original;
    const totalNs = clock();
    this.emit('done', totalNs, -1, 0, this.link.bytesSent);
    const pages = this.link.bytesSent > stateBytes ? (this.link.bytesSent - stateBytes) / PAGE_WIRE_BYTES : 0;
    return {
      mode: 'postcopy', switchover: 'postcopy', rounds: [], finalPages: 0, stateBytes, downtimeNs, remoteFaults: faults, stallNs, protectionExits: 0,
      pagesSent: pages, bytesSent: this.link.bytesSent, totalNs, events: this.events,
    };
  }
}

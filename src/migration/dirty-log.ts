// Dirty-page logging for pre-copy, done the way a hypervisor write-protects guest memory: every
// TLB entry the VMM hands the vCPU (shadow or nested paging alike) goes through this log first.
// A read fill loses its "writes allowed without asking" bit (T_DIRTY) unless the page is already
// logged, so the first write to each page after a round starts comes back as a write miss and is
// logged, then runs at full speed. Starting a round flushes the TLB: every page is protected again.
//
// The VMM also writes guest memory itself: the A and D bits of the guest's page-directory and
// page-table entries during its walks. Those writes never pass through a TLB entry, so the log
// marks the page-directory and page-table pages of every translation it sees (conservatively, as
// a real VMM marks the guest tables it updated).
//
// A write that comes back only because the log took the write permission away is an exit, as on
// hardware (a shadow write-protect #PF, or an EPT violation under nested paging with EPT dirty
// logging): it is charged from the cost table and appears in the event stream.
//
// It sits between the CPU and the vCPU as the CPU's GuestMode (cpu.guest), delegating everything.
import type { Vm } from '../hypervisor/index.ts';
import type { Cpu } from '../machine/cpu/cpu.ts';
import type { GuestMode, GuestSite } from '../machine/cpu/guest-mode.ts';
import type { CpuMmu } from '../machine/mmu.ts';
import { T_DIRTY } from '../machine/mmu.ts';

const CR0_PG = 0x80000000 | 0, CR4_PSE = 0x10;

export class DirtyLog implements GuestMode {
  /** Guest pages written since the round started. */
  dirty = new Set<number>();
  private readonly inner: GuestMode;
  private frameToGfn = new Map<number, number>();
  /** Write misses logged in all, and those of them that only the log's write protection caused. */
  writeFaults = 0;
  protectionExits = 0;


  constructor(readonly vm: Vm) {
    if (vm.cpu.guest === null) throw new Error('the VM has no vCPU attached');
    this.inner = vm.cpu.guest;
    vm.cpu.guest = this;
    vm.cpu.flushTlb();
  }

  /** Ends a round: returns the pages dirtied during it and write-protects everything again. */
  startRound(): Set<number> {
    const d = this.dirty;
    this.dirty = new Set();
    this.vm.cpu.flushTlb();
    return d;
  }

  detach(): void {
    if (this.vm.cpu.guest === this) this.vm.cpu.guest = this.inner;
    this.vm.cpu.flushTlb();
  }

  private gfnOf(frame: number): number {
    let g = this.frameToGfn.get(frame);
    if (g === undefined) {
      const p2m = this.vm.gmem.p2m;
      this.frameToGfn.clear();
      for (let i = 0; i < p2m.length; i++) if (p2m[i] !== 0) this.frameToGfn.set(p2m[i]!, i);
      g = this.frameToGfn.get(frame);
    }
    return g ?? -1;
  }

  /** The guest's own page-table pages for `lin` (where the VMM may have set A/D bits). */
  private markTables(cpu: CpuMmu, lin: number): void {
    if ((cpu.cr0 & CR0_PG) === 0) return;
    const gmem = this.vm.gmem;
    const pdGfn = (cpu.cr3 >>> 12) & 0xfffff;
    if (pdGfn < gmem.pages) this.dirty.add(pdGfn);
    const pde = gmem.peekBacking(pdGfn) > 0 ? gmem.read32(((cpu.cr3 & ~0xfff) + ((lin >>> 22) << 2)) >>> 0) : 0;
    if ((pde & 1) === 0 || ((pde & 0x80) !== 0 && (cpu.cr4 & CR4_PSE) !== 0)) return;
    const ptGfn = pde >>> 12;
    if (ptGfn < gmem.pages) this.dirty.add(ptGfn);
  }

  translate(cpu: CpuMmu, lin: number, write: boolean, user: boolean): number {
    const exitsBefore = this.vm.stats.exits;
    const e = this.inner.translate(cpu, lin, write, user);
    this.markTables(cpu, lin);
    const gfn = this.gfnOf(e >>> 12);
    if (gfn < 0) return e; // not guest RAM (beyond memory, MMIO)
    if (write) {
      this.writeFaults++;
      // The first write of the round to a page the VMM had mapped: on hardware the write-protected
      // entry faults. (A page that was not mapped at all already exited for its fill.)
      if (!this.dirty.has(gfn) && this.vm.stats.exits === exitsBefore) this.protectionExit(cpu, lin, gfn);
      this.dirty.add(gfn);
      return e;
    }
    return this.dirty.has(gfn) ? e : e & ~T_DIRTY;
  }

  private protectionExit(cpu: CpuMmu, lin: number, gfn: number): void {
    this.protectionExits++;
    const vcpu = this.vm.vcpu, costs = this.vm.host.costs;
    const extra = { guestLinear: lin >>> 0, guestPhysical: (gfn << 12) >>> 0 };
    if (this.vm.paging.kind === 'nested') vcpu.exit(cpu, 'EPT_VIOLATION', 2, costs.eptFill, extra);
    else vcpu.exit(cpu, 'EXCEPTION_NMI', lin >>> 0, costs.shadowWriteProtect, extra);
  }

  instruction(cpu: Cpu, site: GuestSite): void {
    this.inner.instruction(cpu, site);
  }

  exception(cpu: Cpu, vector: number, hasCode: boolean, code: number): boolean {
    return this.inner.exception(cpu, vector, hasCode, code);
  }

  interrupt(cpu: Cpu): void {
    this.inner.interrupt(cpu);
  }
}

// Nested paging (EPT/NPT-like). The VM's nested table (a two-level table in host frames) maps
// guest-physical pages to host frames; the "hardware" walk is two-dimensional: every guest-physical
// reference of the guest's own walk (PDE, PTE, final page) is itself translated through the nested
// table, (n+1)(m+1)-1 = 8 references for two levels each (Bhargava et al. 2008). Each reference is
// reported as a 'walk' event with dimension 'guest' or 'nested'. A missing nested entry is an
// EPT violation exit: the VMM backs the page with a host frame (p2m) and maps it. The guest's
// CR3, CR0 and its page faults never leave guest mode.
import type { CpuMmu } from '../machine/mmu.ts';
import { KIND_BIT } from '../trace/schema.ts';
import { walkGuest, physicalMode, type WalkResult } from './guest-walk.ts';
import { PG, tlbEntry, type Paging, type PagingContext } from './paging.ts';

export class NestedPaging implements Paging {
  readonly kind = 'nested';
  private root = -1;
  private readonly npts = new Int32Array(1024);
  private tables = 0;
  private step = 0;
  private lin = 0;

  constructor(private readonly ctx: PagingContext) {}

  get tableFrames(): number {
    return this.tables;
  }

  private get mem() {
    return this.ctx.gmem.memory;
  }

  private allocTable(cpu: CpuMmu): number {
    const f = this.ctx.frames.alloc('nested', this.ctx.gmem.vm);
    if (f < 0) this.ctx.kill(cpu, 'host memory exhausted (nested page tables)');
    this.tables++;
    return f;
  }

  translate(cpu: CpuMmu, lin: number, write: boolean, user: boolean): number {
    if (this.root < 0) this.root = this.allocTable(cpu);
    this.step = 0;
    this.lin = lin;
    const mem = this.mem;
    const em = this.ctx.emitter;
    const onRef = (em.mask & KIND_BIT.walk) !== 0
      ? (l: number, _s: number, level: number, address: number, value: number) =>
        em.emit('walk', { linear: l >>> 0, step: ++this.step, level, dimension: 'guest', address: address >>> 0, value: value >>> 0 })
      : (_l: number) => { this.step++; };
    const toHost = (gpa: number) => this.gpaToHost(cpu, gpa);
    const g: WalkResult = (cpu.cr0 & PG) === 0
      ? physicalMode(lin, this.ctx.a20Mask)
      : walkGuest(cpu, lin, write, user, toHost, (a) => mem.read32(a), (a, v) => mem.write32(a, v), onRef);
    if (!g.ok) {
      // The guest's own fault: delivered to the guest by the CPU, no exit.
      this.account();
      cpu.cr2 = lin | 0;
      return cpu.raise(14, g.errorCode);
    }
    const user_ = g.user, writable = g.writable, dirty = g.dirty;
    const host = this.gpaToHost(cpu, (g.gpa & this.ctx.a20Mask) >>> 0);
    this.account();
    return tlbEntry(cpu, host >>> 12, user_, writable, dirty);
  }

  private account(): void {
    this.ctx.stats.walkReferences += this.step;
    this.ctx.charge(this.step * this.ctx.costs.walkReference);
  }

  /** The nested dimension: guest-physical → host-physical, filling on an EPT violation. */
  private gpaToHost(cpu: CpuMmu, gpa: number): number {
    const mem = this.mem;
    const em = this.ctx.emitter;
    const events = (em.mask & KIND_BIT.walk) !== 0;
    const npdeAddr = ((this.root << 12) | ((gpa >>> 22) << 2)) >>> 0;
    const npde = mem.read32(npdeAddr);
    this.step++;
    if (events) em.emit('walk', { linear: this.lin >>> 0, step: this.step, level: 2, dimension: 'nested', address: npdeAddr, value: npde >>> 0 });
    if ((npde & 1) !== 0) {
      const npteAddr = ((npde & ~0xfff) | (((gpa >>> 12) & 0x3ff) << 2)) >>> 0;
      const npte = mem.read32(npteAddr);
      this.step++;
      if (events) em.emit('walk', { linear: this.lin >>> 0, step: this.step, level: 1, dimension: 'nested', address: npteAddr, value: npte >>> 0 });
      if ((npte & 1) !== 0) return ((npte & ~0xfff) | (gpa & 0xfff)) >>> 0;
    }
    return this.eptViolation(cpu, gpa);
  }

  private eptViolation(cpu: CpuMmu, gpa: number): number {
    const ctx = this.ctx;
    const hf = ctx.gmem.backing(gpa >>> 12);
    if (hf < 0) ctx.kill(cpu, 'host memory exhausted (guest page)');
    const pdi = gpa >>> 22;
    let npt = this.npts[pdi]!;
    if (npt === 0) {
      npt = this.allocTable(cpu);
      this.npts[pdi] = npt;
      this.mem.write32(((this.root << 12) | (pdi << 2)) >>> 0, (npt << 12) | 7);
    }
    this.mem.write32(((npt << 12) | (((gpa >>> 12) & 0x3ff) << 2)) >>> 0, (hf << 12) | 7);
    ctx.stats.eptViolations++;
    ctx.exit(cpu, 'EPT_VIOLATION', 0, ctx.costs.eptFill, { guestLinear: this.lin >>> 0, guestPhysical: gpa >>> 0 });
    const em = ctx.emitter;
    if ((em.mask & KIND_BIT.pagefault) !== 0) {
      em.emit('pagefault', { outcome: 'ept-violation', linear: this.lin >>> 0, physical: gpa >>> 0, errorCode: 0, eip: cpu.instructionEip() >>> 0 });
    }
    return ((hf << 12) | (gpa & 0xfff)) >>> 0;
  }

  cr3Written(): void {}

  pagingModeChanged(): void {}

  invlpg(cpu: CpuMmu, lin: number): void {
    cpu.invlpg(lin);
  }

  release(): void {
    for (let i = 0; i < 1024; i++) if (this.npts[i] !== 0) this.ctx.frames.release(this.npts[i]!);
    this.npts.fill(0);
    if (this.root >= 0) this.ctx.frames.release(this.root);
    this.root = -1;
    this.tables = 0;
  }
}

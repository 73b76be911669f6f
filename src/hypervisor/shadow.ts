// Shadow paging. The CPU walks the VMM's shadow tables (host frames, guest-linear → host-physical);
// the guest's own tables are only read by the VMM. A shadow miss is a #PF exit: the VMM walks the
// guest's tables; if they allow the access it fills the shadow entry (a hidden fault: the guest
// never sees it) and sets A/D in the guest's entries; if not, the fault is true and is injected
// with the guest's CR2 and error code. Guest page-table pages are write-protected in the shadow:
// a guest write to one traps, goes through, and drops the shadow entries derived from it. 4 MiB
// guest pages are shadowed with 4 KiB entries (host frames are not contiguous). A guest with
// paging off runs on a "physical mode" shadow (identity, guest-physical → host frame).
//
// Shadow PTE bits: P=1, W=2 (the CPU may write without trapping), U=4, 0x200 = the guest allows
// writes (a shadow W=0 with 0x200 set is write-protected or waiting for the guest's D bit).
import type { CpuMmu } from '../machine/mmu.ts';
import { KIND_BIT } from '../trace/schema.ts';
import { NONE_FRAME } from './p2m.ts';
import { walkGuest, physicalMode, type WalkResult } from './guest-walk.ts';
import { PG, tlbEntry, type Paging, type PagingContext } from './paging.ts';

const GUEST_WRITABLE = 0x200;

interface TableUse {
  asDirectory: boolean;
  /** PD indices for which this page is the page table. */
  pdis: Set<number>;
}

export class ShadowPaging implements Paging {
  readonly kind = 'shadow';
  private root = -1;
  private readonly spts = new Int32Array(1024);
  /** gfn → host addresses of shadow PTEs mapping it (checked before use: may be stale). */
  private readonly rmap = new Map<number, number[]>();
  /** Guest pages used as page tables (write-protected while shadows derived from them exist). */
  private readonly tableUses = new Map<number, TableUse>();
  private tables = 0;

  constructor(private readonly ctx: PagingContext) {}

  get tableFrames(): number {
    return this.tables;
  }

  private get mem() {
    return this.ctx.gmem.memory;
  }

  private allocTable(cpu: CpuMmu): number {
    const f = this.ctx.frames.alloc();
    if (f < 0) this.ctx.kill(cpu, 'host memory exhausted (shadow page tables)');
    this.tables++;
    return f;
  }

  translate(cpu: CpuMmu, lin: number, write: boolean, user: boolean): number {
    if (this.root < 0) this.root = this.allocTable(cpu);
    const mem = this.mem;
    const events = (this.ctx.emitter.mask & KIND_BIT.walk) !== 0;
    const pdi = lin >>> 22;
    const spdeAddr = ((this.root << 12) | (pdi << 2)) >>> 0;
    const spde = mem.read32(spdeAddr);
    this.ctx.stats.walkReferences++;
    if (events) this.emitWalk(lin, 1, 2, spdeAddr, spde);
    if ((spde & 1) !== 0) {
      const spteAddr = ((spde & ~0xfff) | (((lin >>> 12) & 0x3ff) << 2)) >>> 0;
      const spte = mem.read32(spteAddr);
      this.ctx.stats.walkReferences++;
      if (events) this.emitWalk(lin, 2, 1, spteAddr, spte);
      this.ctx.charge(2 * this.ctx.costs.walkReference);
      if ((spte & 1) !== 0 && (!user || (spte & 4) !== 0) && (!write || (spte & 2) !== 0)) {
        return tlbEntry(cpu, spte >>> 12, (spte & 4) !== 0, (spte & GUEST_WRITABLE) !== 0, (spte & 2) !== 0);
      }
    }
    return this.pageFaultExit(cpu, lin, write, user);
  }

  private emitWalk(lin: number, step: number, level: number, address: number, value: number): void {
    this.ctx.emitter.emit('walk', { linear: lin >>> 0, step, level, dimension: 'host', address: address >>> 0, value: value >>> 0 });
  }

  /** The #PF exit of a shadow miss: hidden fault (fill), page-table write, or a true fault. */
  private pageFaultExit(cpu: CpuMmu, lin: number, write: boolean, user: boolean): number {
    const ctx = this.ctx, gmem = ctx.gmem, mem = this.mem;
    const onRef = (ctx.emitter.mask & KIND_BIT.walk) !== 0
      ? (l: number, step: number, level: number, address: number, value: number) =>
        ctx.emitter.emit('walk', { linear: l >>> 0, step, level, dimension: 'guest', address: address >>> 0, value: value >>> 0 })
      : null;
    const g: WalkResult = (cpu.cr0 & PG) === 0
      ? physicalMode(lin, ctx.a20Mask)
      : walkGuest(cpu, lin, write, user, (gpa) => gmem.hostAddress(gpa), (a) => mem.read32(a), (a, v) => mem.write32(a, v), onRef);
    const eip = cpu.instructionEip() >>> 0; // the faulting instruction, not its block's start
    if (!g.ok) {
      ctx.stats.injectedFaults++;
      ctx.exit(cpu, 'EXCEPTION_NMI', lin >>> 0, ctx.costs.handler.EXCEPTION_NMI ?? 0, { guestLinear: lin >>> 0, injectedVector: 14 });
      if ((ctx.emitter.mask & KIND_BIT.pagefault) !== 0) {
        ctx.emitter.emit('pagefault', { outcome: 'injected', linear: lin >>> 0, errorCode: g.errorCode, eip });
      }
      cpu.cr2 = lin | 0;
      cpu.pageFaultReported = true; // one event per fault: the CPU does not report it again as 'bare'
      return cpu.raise(14, g.errorCode);
    }
    const gpa = (g.gpa & ctx.a20Mask) >>> 0, user_ = g.user, writable = g.writable, dirty = g.dirty, leaf = g.leaf;
    const pdGfn = g.pdGfn, ptGfn = g.ptGfn;
    const gfn = gpa >>> 12;
    const hf = gmem.backing(gfn);
    if (hf < 0) ctx.kill(cpu, 'host memory exhausted (guest page)');
    if (pdGfn >= 0) this.protect(cpu, pdGfn, -1);
    if (ptGfn >= 0) this.protect(cpu, ptGfn, lin >>> 22);
    const isTable = this.tableUses.has(gfn);
    const hwWritable = writable && dirty && !isTable && hf !== NONE_FRAME;
    const spte = ((hf << 12) | 1 | (hwWritable ? 2 : 0) | (user_ ? 4 : 0) | (writable ? GUEST_WRITABLE : 0)) >>> 0;
    const spteAddr = this.shadowSlot(cpu, lin);
    const old = mem.read32(spteAddr);
    if (old !== spte) {
      mem.write32(spteAddr, spte);
      const list = this.rmap.get(gfn);
      if (list === undefined) this.rmap.set(gfn, [spteAddr]);
      else if (list.length < 1024) list.push(spteAddr);
    }
    if (write && isTable) {
      this.tableWrite(cpu, lin, gpa);
    } else if (old === spte) {
      // Nothing to fill: a supervisor write to a read-only page with the guest's CR0.WP clear.
      ctx.stats.emulatedWrites++;
      ctx.exit(cpu, 'EXCEPTION_NMI', lin >>> 0, ctx.costs.emulate, { guestLinear: lin >>> 0 });
    } else {
      ctx.stats.hiddenFaults++;
      ctx.stats.shadowFills++;
      ctx.exit(cpu, 'EXCEPTION_NMI', lin >>> 0, ctx.costs.shadowFill, { guestLinear: lin >>> 0, guestPhysical: gpa });
      const em = ctx.emitter;
      if ((em.mask & KIND_BIT.pagefault) !== 0) {
        em.emit('pagefault', { outcome: 'hidden', linear: lin >>> 0, physical: gpa >>> 0, errorCode: (old & 1) | (write ? 2 : 0) | (user ? 4 : 0), eip });
      }
      if ((em.mask & KIND_BIT.shadow) !== 0) em.emit('shadow', { op: 'fill', linear: (lin & ~0xfff) >>> 0, guestPte: leaf >>> 0, shadowPte: spte });
    }
    return tlbEntry(cpu, hf, user_, writable, hwWritable);
  }

  /** Host address of the shadow PTE for `lin` (allocating the shadow page table). */
  private shadowSlot(cpu: CpuMmu, lin: number): number {
    const pdi = lin >>> 22;
    let spt = this.spts[pdi]!;
    if (spt === 0) {
      spt = this.allocTable(cpu);
      this.spts[pdi] = spt;
      this.mem.write32(((this.root << 12) | (pdi << 2)) >>> 0, (spt << 12) | 7);
    }
    return ((spt << 12) | (((lin >>> 12) & 0x3ff) << 2)) >>> 0;
  }

  /** Marks a guest page as a page table: existing writable shadow mappings of it lose W. */
  private protect(cpu: CpuMmu, gfn: number, pdi: number): void {
    let use = this.tableUses.get(gfn);
    const fresh = use === undefined;
    if (use === undefined) {
      use = { asDirectory: false, pdis: new Set() };
      this.tableUses.set(gfn, use);
    }
    if (pdi < 0) use.asDirectory = true;
    else use.pdis.add(pdi);
    if (!fresh) return;
    const frame = this.ctx.gmem.peekBacking(gfn);
    const list = this.rmap.get(gfn);
    let changed = false;
    if (list !== undefined && frame > 0) {
      for (const a of list) {
        const v = this.mem.read32(a);
        if ((v & 1) !== 0 && v >>> 12 === frame && (v & 2) !== 0) {
          this.mem.write32(a, v & ~2);
          changed = true;
        }
      }
    }
    if (changed) cpu.flushTlb();
    const em = this.ctx.emitter;
    if ((em.mask & KIND_BIT.shadow) !== 0) em.emit('shadow', { op: 'write-protect', linear: 0, guestPte: 0, shadowPte: 0, guestTable: (gfn << 12) >>> 0 });
  }

  /** A guest write to one of its page tables: let it through and drop what was derived from it. */
  private tableWrite(cpu: CpuMmu, lin: number, gpa: number): void {
    const ctx = this.ctx;
    ctx.stats.pageTableWrites++;
    ctx.exit(cpu, 'EXCEPTION_NMI', lin >>> 0, ctx.costs.shadowWriteProtect, { guestLinear: lin >>> 0, guestPhysical: gpa });
    const use = this.tableUses.get(gpa >>> 12)!;
    const first = (gpa & 0xfff) >>> 2, last = Math.min(1023, ((gpa & 0xfff) + 3) >>> 2);
    for (let idx = first; idx <= last; idx++) {
      if (use.asDirectory && this.spts[idx] !== 0) {
        const spt = this.spts[idx]!;
        this.mem.ram.fill(0, spt << 12, (spt + 1) << 12);
        cpu.flushTlb();
      }
      for (const pdi of use.pdis) {
        const spt = this.spts[pdi]!;
        if (spt === 0) continue;
        this.mem.write32(((spt << 12) | (idx << 2)) >>> 0, 0);
        cpu.invlpg(((pdi << 22) | (idx << 12)) | 0);
      }
    }
    const em = ctx.emitter;
    if ((em.mask & KIND_BIT.pagefault) !== 0) {
      em.emit('pagefault', { outcome: 'hidden', linear: lin >>> 0, physical: gpa >>> 0, errorCode: 3, eip: cpu.instructionEip() >>> 0 });
    }
    if ((em.mask & KIND_BIT.shadow) !== 0) {
      em.emit('shadow', { op: 'invalidate', linear: lin >>> 0, guestPte: 0, shadowPte: 0, guestTable: (gpa & ~0xfff) >>> 0 });
    }
  }

  cr3Written(cpu: CpuMmu, _value: number): void {
    this.flush(cpu);
  }

  pagingModeChanged(cpu: CpuMmu): void {
    this.flush(cpu);
  }

  invlpg(cpu: CpuMmu, lin: number): void {
    const spt = this.spts[lin >>> 22]!;
    if (spt !== 0) this.mem.write32(((spt << 12) | (((lin >>> 12) & 0x3ff) << 2)) >>> 0, 0);
    cpu.invlpg(lin);
    const em = this.ctx.emitter;
    if ((em.mask & KIND_BIT.shadow) !== 0) em.emit('shadow', { op: 'invalidate', linear: (lin & ~0xfff) >>> 0, guestPte: 0, shadowPte: 0 });
  }

  /** Drops every shadow table (CR3 switch, paging mode change). */
  flush(cpu: CpuMmu): void {
    const ctx = this.ctx;
    for (let i = 0; i < 1024; i++) {
      const f = this.spts[i]!;
      if (f !== 0) {
        ctx.frames.release(f);
        this.tables--;
      }
    }
    this.spts.fill(0);
    if (this.root >= 0) this.mem.ram.fill(0, this.root << 12, (this.root + 1) << 12);
    this.rmap.clear();
    this.tableUses.clear();
    ctx.stats.shadowFlushes++;
    cpu.flushTlb();
    const em = ctx.emitter;
    if ((em.mask & KIND_BIT.shadow) !== 0) em.emit('shadow', { op: 'flush', linear: 0, guestPte: 0, shadowPte: 0 });
  }

  release(): void {
    for (let i = 0; i < 1024; i++) if (this.spts[i] !== 0) this.ctx.frames.release(this.spts[i]!);
    this.spts.fill(0);
    if (this.root >= 0) this.ctx.frames.release(this.root);
    this.root = -1;
    this.tables = 0;
  }
}

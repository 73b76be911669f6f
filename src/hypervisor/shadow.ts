// Shadow paging. The CPU walks the VMM's shadow tables (host frames, guest-linear → host-physical);
// the guest's own tables are only read by the VMM. A shadow miss is a #PF exit: the VMM walks the
// guest's tables; if they allow the access it fills the shadow entry (a hidden fault: the guest
// never sees it) and sets A/D in the guest's entries; if not, the fault is true and is injected
// with the guest's CR2 and error code. Guest page-table pages are write-protected in the shadow:
// a guest write to one traps, goes through, and drops the shadow entries derived from it. 4 MiB
// guest pages are shadowed with 4 KiB entries (host frames are not contiguous). A guest with
// paging off runs on a "physical mode" shadow (identity, guest-physical → host frame).
//
// A small cache keeps the shadow tables of the last few address spaces (guest CR3 values), LRU,
// as KVM's and VMware's multi-root caches do: a MOV CR3 back to a recent address space picks its
// shadow up again instead of rebuilding it fault by fault. The cached tables stay correct because
// a guest page-table page is write-protected while any cached root was derived from it, and a
// trapped write zaps the derived entries in every root. All roots together stay within the
// frames the hypervisor reserved for the VM's tables (TABLE_FRAME_BUDGET): the LRU root goes first.
//
// Shadow PTE bits: P=1, W=2 (the CPU may write without trapping), U=4, 0x200 = the guest allows
// writes (a shadow W=0 with 0x200 set is write-protected or waiting for the guest's D bit).
import type { CpuMmu } from '../machine/mmu.ts';
import { KIND_BIT } from '../trace/schema.ts';
import { NONE_FRAME } from './p2m.ts';
import { walkGuest, physicalMode, type WalkResult } from './guest-walk.ts';
import { PG, tlbEntry, type Paging, type PagingContext } from './paging.ts';

const GUEST_WRITABLE = 0x200;

/** Address spaces whose shadow tables are kept (KVM keeps the current root plus 3 previous ones). */
export const SHADOW_ROOTS = 4;
/** Host frames all roots may use together: one directory and 1024 tables, as reserved per VM. */
export const TABLE_FRAME_BUDGET = 1025;
/** Cache key of the paging-off ("physical mode") shadow. */
const PHYSICAL = -1;

interface TableUse {
  asDirectory: boolean;
  /** PD indices for which this page is the page table. */
  pdis: Set<number>;
}

/** One address space's shadow: a directory, its tables, and what they were derived from. */
interface ShadowRoot {
  /** Guest CR3 (page-directory address) it shadows, or PHYSICAL. */
  readonly key: number;
  /** Host frame of the shadow directory. */
  readonly dir: number;
  readonly spts: Int32Array;
  /** gfn → host addresses of shadow PTEs mapping it (checked before use: may be stale). */
  readonly rmap: Map<number, number[]>;
  /** Guest pages this root's entries were derived from (its directory and tables). */
  readonly uses: Map<number, TableUse>;
  lastUsed: number;
}

export class ShadowPaging implements Paging {
  readonly kind = 'shadow';
  /** Cached roots, the current one among them. */
  private readonly roots: ShadowRoot[] = [];
  /**
   * Key of the current root; null = none chosen since the last change. A key, not a reference:
   * the debugger's host snapshots copy these fields as plain data (src/debug/vcpu-snapshot.ts).
   */
  private curKey: number | null = null;
  private clock = 0;
  private tables = 0;

  /** `maxRoots`: address spaces kept (1 = rebuild on every CR3 switch, as without a cache). */
  constructor(private readonly ctx: PagingContext, private readonly maxRoots = SHADOW_ROOTS) {}

  get tableFrames(): number {
    return this.tables;
  }

  /** Address spaces currently cached (for tests and the views). */
  get cachedRoots(): number {
    return this.roots.length;
  }

  private get cur(): ShadowRoot | null {
    const k = this.curKey;
    if (k === null) return null;
    for (const r of this.roots) if (r.key === k) return r;
    return null;
  }

  private get mem() {
    return this.ctx.gmem.memory;
  }

  private allocTable(cpu: CpuMmu): number {
    // Room first: older address spaces give their frames back before the VM may take more.
    while (this.tables >= TABLE_FRAME_BUDGET && this.evictLru(this.cur)) { /* evicted one */ }
    const f = this.tables < TABLE_FRAME_BUDGET ? this.ctx.frames.alloc('shadow', this.ctx.gmem.vm) : -1;
    if (f < 0) this.ctx.kill(cpu, 'host memory exhausted (shadow page tables)');
    this.tables++;
    return f;
  }

  private keyOf(cpu: CpuMmu): number {
    return (cpu.cr0 & PG) === 0 ? PHYSICAL : (cpu.cr3 & ~0xfff) >>> 0;
  }

  /** The current root, picked (or built) for the CPU's paging state when none is chosen. */
  private current(cpu: CpuMmu): ShadowRoot {
    const c = this.cur;
    if (c !== null) return c;
    const key = this.keyOf(cpu);
    const r = this.roots.find((x) => x.key === key) ?? this.newRoot(cpu, key);
    r.lastUsed = ++this.clock;
    this.curKey = r.key;
    return r;
  }

  private newRoot(cpu: CpuMmu, key: number): ShadowRoot {
    if (this.roots.length >= Math.max(1, this.maxRoots)) this.evictLru(null);
    const r: ShadowRoot = { key, dir: this.allocTable(cpu), spts: new Int32Array(1024), rmap: new Map(), uses: new Map(), lastUsed: ++this.clock };
    this.roots.push(r);
    return r;
  }

  /** Drops the least recently used root other than `keep`; false when there is none. */
  private evictLru(keep: ShadowRoot | null): boolean {
    let victim: ShadowRoot | null = null;
    for (const r of this.roots) if (r !== keep && (victim === null || r.lastUsed < victim.lastUsed)) victim = r;
    if (victim === null) return false;
    this.dropRoot(victim);
    return true;
  }

  private dropRoot(r: ShadowRoot): void {
    for (let i = 0; i < 1024; i++) {
      const f = r.spts[i]!;
      if (f !== 0) {
        this.ctx.frames.release(f);
        this.tables--;
      }
    }
    this.ctx.frames.release(r.dir);
    this.tables--;
    if (this.curKey === r.key) this.curKey = null;
    this.roots.splice(this.roots.indexOf(r), 1);
  }

  /** Is guest page `gfn` a page table of any cached root (so it must stay write-protected)? */
  private isTable(gfn: number): boolean {
    for (const r of this.roots) if (r.uses.has(gfn)) return true;
    return false;
  }

  translate(cpu: CpuMmu, lin: number, write: boolean, user: boolean): number {
    const r = this.current(cpu);
    const mem = this.mem;
    const events = (this.ctx.emitter.mask & KIND_BIT.walk) !== 0;
    const pdi = lin >>> 22;
    const spdeAddr = ((r.dir << 12) | (pdi << 2)) >>> 0;
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
    return this.pageFaultExit(cpu, r, lin, write, user);
  }

  private emitWalk(lin: number, step: number, level: number, address: number, value: number): void {
    this.ctx.emitter.emit('walk', { linear: lin >>> 0, step, level, dimension: 'host', address: address >>> 0, value: value >>> 0 });
  }

  /** The #PF exit of a shadow miss: hidden fault (fill), page-table write, or a true fault. */
  private pageFaultExit(cpu: CpuMmu, r: ShadowRoot, lin: number, write: boolean, user: boolean): number {
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
    if (pdGfn >= 0) this.protect(cpu, r, pdGfn, -1);
    if (ptGfn >= 0) this.protect(cpu, r, ptGfn, lin >>> 22);
    const isTable = this.isTable(gfn);
    const hwWritable = writable && dirty && !isTable && hf !== NONE_FRAME;
    const spte = ((hf << 12) | 1 | (hwWritable ? 2 : 0) | (user_ ? 4 : 0) | (writable ? GUEST_WRITABLE : 0)) >>> 0;
    const spteAddr = this.shadowSlot(cpu, r, lin);
    const old = mem.read32(spteAddr);
    if (old !== spte) {
      mem.write32(spteAddr, spte);
      const list = r.rmap.get(gfn);
      if (list === undefined) r.rmap.set(gfn, [spteAddr]);
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

  /** Host address of the shadow PTE for `lin` in root `r` (allocating the shadow page table). */
  private shadowSlot(cpu: CpuMmu, r: ShadowRoot, lin: number): number {
    const pdi = lin >>> 22;
    let spt = r.spts[pdi]!;
    if (spt === 0) {
      spt = this.allocTable(cpu);
      r.spts[pdi] = spt;
      this.mem.write32(((r.dir << 12) | (pdi << 2)) >>> 0, (spt << 12) | 7);
    }
    return ((spt << 12) | (((lin >>> 12) & 0x3ff) << 2)) >>> 0;
  }

  /**
   * Root `r` was derived from guest page `gfn` (its directory, or its table for `pdi`). The first
   * time any cached root uses the page, every writable shadow mapping of it, in every root, loses W.
   */
  private protect(cpu: CpuMmu, r: ShadowRoot, gfn: number, pdi: number): void {
    let use = r.uses.get(gfn);
    const fresh = use === undefined && !this.isTable(gfn);
    if (use === undefined) {
      use = { asDirectory: false, pdis: new Set() };
      r.uses.set(gfn, use);
    }
    if (pdi < 0) use.asDirectory = true;
    else use.pdis.add(pdi);
    if (!fresh) return;
    const frame = this.ctx.gmem.peekBacking(gfn);
    let changed = false;
    for (const root of this.roots) {
      const list = root.rmap.get(gfn);
      if (list === undefined || frame <= 0) continue;
      for (const a of list) {
        const v = this.mem.read32(a);
        if ((v & 1) !== 0 && v >>> 12 === frame && (v & 2) !== 0) {
          this.mem.write32(a, v & ~2);
          changed ||= root === this.cur;
        }
      }
    }
    if (changed) cpu.flushTlb();
    const em = this.ctx.emitter;
    if ((em.mask & KIND_BIT.shadow) !== 0) em.emit('shadow', { op: 'write-protect', linear: 0, guestPte: 0, shadowPte: 0, guestTable: (gfn << 12) >>> 0 });
  }

  /**
   * A guest write to one of its page tables: let it through and drop what was derived from it, in
   * every cached root (the written table may belong to an address space that is not running).
   */
  private tableWrite(cpu: CpuMmu, lin: number, gpa: number): void {
    const ctx = this.ctx;
    ctx.stats.pageTableWrites++;
    ctx.exit(cpu, 'EXCEPTION_NMI', lin >>> 0, ctx.costs.shadowWriteProtect, { guestLinear: lin >>> 0, guestPhysical: gpa });
    const first = (gpa & 0xfff) >>> 2, last = Math.min(1023, ((gpa & 0xfff) + 3) >>> 2);
    for (const r of this.roots) {
      const use = r.uses.get(gpa >>> 12);
      if (use !== undefined) this.zap(cpu, r, use, first, last);
    }
    const em = ctx.emitter;
    if ((em.mask & KIND_BIT.pagefault) !== 0) {
      em.emit('pagefault', { outcome: 'hidden', linear: lin >>> 0, physical: gpa >>> 0, errorCode: 3, eip: cpu.instructionEip() >>> 0 });
    }
    if ((em.mask & KIND_BIT.shadow) !== 0) {
      em.emit('shadow', { op: 'invalidate', linear: lin >>> 0, guestPte: 0, shadowPte: 0, guestTable: (gpa & ~0xfff) >>> 0 });
    }
  }

  /** Clears root `r`'s entries derived from entries `first..last` of a guest table page. */
  private zap(cpu: CpuMmu, r: ShadowRoot, use: TableUse, first: number, last: number): void {
    const live = r === this.cur; // the TLB holds only the current root's translations
    for (let idx = first; idx <= last; idx++) {
      if (use.asDirectory && r.spts[idx] !== 0) {
        const spt = r.spts[idx]!;
        this.mem.ram.fill(0, spt << 12, (spt + 1) << 12);
        this.mem.markDirtyPage(spt); // a direct ram write: incremental snapshots must see it
        if (live) cpu.flushTlb();
      }
      for (const pdi of use.pdis) {
        const spt = r.spts[pdi]!;
        if (spt === 0) continue;
        this.mem.write32(((spt << 12) | (idx << 2)) >>> 0, 0);
        if (live) cpu.invlpg(((pdi << 22) | (idx << 12)) | 0);
      }
    }
  }

  /**
   * The guest loaded CR3. A cached root for the new address space is picked up as it is (a
   * 'resync' event: its entries were kept true by write protection); otherwise a fresh, empty
   * root starts (a 'flush' event), evicting the least recently used one when the cache is full.
   */
  cr3Written(cpu: CpuMmu, value: number): void {
    const ctx = this.ctx;
    cpu.flushTlb();
    if ((cpu.cr0 & PG) === 0) return; // paging off: the physical-mode shadow does not use CR3
    const key = (value & ~0xfff) >>> 0;
    const hit = this.roots.find((r) => r.key === key);
    const em = ctx.emitter;
    if (hit !== undefined) {
      hit.lastUsed = ++this.clock;
      this.curKey = hit.key;
      ctx.stats.shadowCacheHits++;
      ctx.charge(ctx.costs.shadowRootSwitch);
      if ((em.mask & KIND_BIT.shadow) !== 0) em.emit('shadow', { op: 'resync', linear: 0, guestPte: 0, shadowPte: 0, guestTable: key });
      return;
    }
    this.curKey = this.newRoot(cpu, key).key;
    ctx.stats.shadowFlushes++;
    ctx.charge(ctx.costs.shadowFlush);
    if ((em.mask & KIND_BIT.shadow) !== 0) em.emit('shadow', { op: 'flush', linear: 0, guestPte: 0, shadowPte: 0, guestTable: key });
  }

  pagingModeChanged(cpu: CpuMmu): void {
    this.flush(cpu);
  }

  invlpg(cpu: CpuMmu, lin: number): void {
    const r = this.current(cpu);
    const spt = r.spts[lin >>> 22]!;
    if (spt !== 0) this.mem.write32(((spt << 12) | (((lin >>> 12) & 0x3ff) << 2)) >>> 0, 0);
    cpu.invlpg(lin);
    const em = this.ctx.emitter;
    if ((em.mask & KIND_BIT.shadow) !== 0) em.emit('shadow', { op: 'invalidate', linear: (lin & ~0xfff) >>> 0, guestPte: 0, shadowPte: 0 });
  }

  /** Drops every cached root (the paging mode changed: CR0.PG/WP/PE, CR4.PSE, the A20 gate). */
  flush(cpu: CpuMmu): void {
    const ctx = this.ctx;
    while (this.roots.length > 0) this.dropRoot(this.roots[0]!);
    this.curKey = null;
    ctx.stats.shadowFlushes++;
    ctx.charge(ctx.costs.shadowFlush);
    cpu.flushTlb();
    const em = ctx.emitter;
    if ((em.mask & KIND_BIT.shadow) !== 0) em.emit('shadow', { op: 'flush', linear: 0, guestPte: 0, shadowPte: 0 });
  }

  release(): void {
    while (this.roots.length > 0) this.dropRoot(this.roots[0]!);
    this.curKey = null;
    this.tables = 0;
  }
}

// The CPU's TLB: one Int32Array indexed by linear page (entry format: tlb-entry.ts), the per-CPL
// masks the fast paths in mmu.ts compare against, filling (from translate in mmu.ts), flushing,
// INVLPG, and the T_CODE / T_CLEAN bookkeeping.
// It is a class layer (CpuRegs → CpuTlb → CpuMmu → Cpu) rather than a helper object so that the
// fast paths read `this.tlb` and `this.rmask` as own fields, with no extra indirection.
//
// Dirty pages (Memory's incremental snapshots): a TLB entry of a page not written since the last
// snapshot carries T_CLEAN, which wmask includes, so the first write leaves the fast path, marks
// the page dirty and clears the bit. Cpu.run re-marks entries when the memory's dirty bits were
// cleared in between (rearmClean). No walk and no event is added: behaviour is unchanged.
import { KIND_BIT } from '../trace/schema.ts';
import { CpuRegs, CR0_PG } from './cpu/state.ts';
import { PAGE_RAM } from './memory.ts';
import { T_CLEAN, T_CODE, T_DIRTY, T_MMIO, T_NOUSER, T_ROSUP, T_ROUSER, T_VALID } from './tlb-entry.ts';
import type { GuestMode, RingCompression } from './cpu/guest-mode.ts';

/** Filled entries remembered for a cheap flush; past this many a flush clears the whole array. */
const TLB_LIST_MAX = 8192;

/** Receives the data accesses of a reporting run (the CPU's hooks object). */
export interface AccessReporter {
  memoryAccess?(linear: number, physical: number, size: number, write: boolean): void;
}

export class CpuTlb extends CpuRegs {
  readonly tlb = new Int32Array(1 << 20);
  /** Linear pages instructions were fetched from (INVLPG of one of them invalidates block links). */
  readonly codeLinPages = new Uint8Array(1 << 20);
  // tlb/tlbList/tlbCount/tlbOverflow/epoch: read by name by ./cpu/snapshot.ts (keep the names).
  private readonly tlbList = new Int32Array(TLB_LIST_MAX);
  private tlbCount = 0;
  private tlbOverflow = false;
  /** Masks for the current CPL: an entry passes when (e & mask) equals the expected value. */
  rmask = T_VALID | T_MMIO;
  wmask = T_VALID | T_MMIO | T_DIRTY | T_CODE | T_CLEAN | T_ROSUP;
  /** The current CPL's masks proper: rmask/wmask equal these except while accesses are reported (0). */
  rmaskCpl = T_VALID | T_MMIO;
  wmaskCpl = T_VALID | T_MMIO | T_DIRTY | T_CODE | T_CLEAN | T_ROSUP;
  /** Memory.cleanEpoch when this TLB's T_CLEAN bits were last brought up to date. */
  cleanEpoch = -1;
  /** Non-null while data accesses are reported (see mmu.ts); set by Cpu.run. */
  accessHooks: AccessReporter | null = null;
  paging = false;
  /** Guest mode (hypervisor vCPU): the VM's exit controls; null on a bare machine. */
  guest: GuestMode | null = null;
  /** Guest mode with ring compression (a deprivileged guest kernel at CPL 1); null otherwise. */
  rings: RingCompression | null = null;
  /** Guest mode: the hypervisor already reported the #PF it is raising (an injected fault). */
  pageFaultReported = false;
  /** Bumped whenever a translation or CS changes: chained block links of an older epoch are stale. */
  epoch = 0;
  readonly ram: Uint8Array;
  readonly ram32: Int32Array;
  readonly codePages: Uint8Array;

  constructor(...args: ConstructorParameters<typeof CpuRegs>) {
    super(...args);
    this.ram = this.memory.ram;
    this.ram32 = this.memory.ram32;
    this.codePages = this.memory.codePages;
    this.memory.mmioChanged = () => this.flushTlb();
  }

  /** EIP of the instruction running now (Cpu knows it exactly inside a decoded block). */
  instructionEip(): number {
    return this.eip;
  }

  /** Recomputes the TLB masks after a CPL change. */
  updateMasks(): void {
    const user = this.cpl === 3;
    this.rmaskCpl = T_VALID | T_MMIO | (user ? T_NOUSER : 0);
    this.wmaskCpl = T_VALID | T_MMIO | T_DIRTY | T_CODE | T_CLEAN | (user ? T_NOUSER | T_ROUSER : T_ROSUP);
    // Reporting accesses: no entry passes a 0 mask, so every access takes the reporting slow path.
    const report = this.accessHooks !== null;
    this.rmask = report ? 0 : this.rmaskCpl;
    this.wmask = report ? 0 : this.wmaskCpl;
  }

  flushTlb(): void {
    this.epoch++;
    if (this.tlbOverflow) this.tlb.fill(0);
    else for (let i = 0; i < this.tlbCount; i++) this.tlb[this.tlbList[i]!] = 0;
    this.tlbCount = 0;
    this.tlbOverflow = false;
    this.paging = (this.cr0 & CR0_PG) !== 0;
    if ((this.emitter.mask & KIND_BIT.tlb) !== 0) this.emitter.emit('tlb', { op: 'flush', linear: 0 });
  }

  invlpg(lin: number): void {
    // Chained block links only go stale when a page code was fetched through is remapped.
    if (this.codeLinPages[lin >>> 12] !== 0) this.epoch++;
    this.tlb[lin >>> 12] = 0;
    if ((this.emitter.mask & KIND_BIT.tlb) !== 0)
      this.emitter.emit('tlb', { op: 'invlpg', linear: lin >>> 0 });
  }

  /** Drops the T_CODE-less entries that map physical page `page` (called when code is first decoded there). */
  markCodePage(page: number): void {
    this.codePages[page] = 1;
    if (this.tlbOverflow) {
      this.flushTlb();
      return;
    }
    for (let i = 0; i < this.tlbCount; i++) {
      const lp = this.tlbList[i]!;
      const e = this.tlb[lp]!;
      if (e !== 0 && e >>> 12 === page) this.tlb[lp] = e | T_CODE;
    }
  }

  /** Stores `entry` for `linPage` (translate, in mmu.ts, computes it). */
  protected tlbFill(linPage: number, entry: number): void {
    if ((entry & T_MMIO) === 0 && this.memory.dirtyPages[entry >>> 12] === 0) entry |= T_CLEAN;
    if (this.tlb[linPage] === 0) {
      if (this.tlbCount < TLB_LIST_MAX) this.tlbList[this.tlbCount++] = linPage;
      else this.tlbOverflow = true;
    }
    this.tlb[linPage] = entry;
    if ((this.emitter.mask & KIND_BIT.tlb) !== 0) {
      this.emitter.emit('tlb', {
        op: 'fill',
        linear: (linPage << 12) >>> 0,
        physical: (entry & ~0xfff) >>> 0,
      });
    }
  }

  /** The T_MMIO / T_CODE bits of a physical page (for a fresh TLB entry). */
  kindBits(physPage: number): number {
    const k = this.memory.pageKind(physPage);
    if (k !== PAGE_RAM) return T_MMIO;
    return this.codePages[physPage] !== 0 ? T_CODE : 0;
  }

  /** The first write through a T_CLEAN entry: the page is dirty now, the entry takes the fast path. */
  protected cleanWrite(lin: number, p: number): void {
    this.memory.markDirtyPage(p >>> 12);
    this.tlb[lin >>> 12] = this.tlb[lin >>> 12]! & ~T_CLEAN;
  }

  /** The memory cleared its dirty bits (a snapshot or restore): mark this TLB's clean pages again. */
  rearmClean(): void {
    this.cleanEpoch = this.memory.cleanEpoch;
    const dirty = this.memory.dirtyPages;
    const tlb = this.tlb;
    const mark = (lp: number): void => {
      const e = tlb[lp]!;
      if (e !== 0 && (e & T_MMIO) === 0 && dirty[e >>> 12] === 0) tlb[lp] = e | T_CLEAN;
    };
    if (this.tlbOverflow) for (let lp = 0; lp < tlb.length; lp++) mark(lp);
    else for (let i = 0; i < this.tlbCount; i++) mark(this.tlbList[i]!);
  }
}

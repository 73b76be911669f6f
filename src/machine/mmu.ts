// Linear and segmented memory access for the CPU: segment limit checks, the two-level paging walk
// (4 KiB and 4 MiB pages, A/D bits, CR0.WP, error codes, CR2) and a TLB held in one Int32Array
// indexed by linear page. A TLB entry is (physical page << 12) | T_* bits; one AND and one compare
// against a per-CPL mask decide whether an access may take the RAM fast path.
//
// Access reports (the debugger's read/access watchpoints): while `accessHooks` is set (Cpu.run sets
// it for a run whose hooks take memoryAccess), rmask/wmask are 0, so every data access misses the
// fast paths; the slow paths then do exactly what the fast path would have done (same TLB entry,
// no extra walk or event) and report (linear, physical, size, write). Reported: every load and
// store of an instruction, pushes/pops, string ops, interrupt/exception frames, TSS and descriptor
// writes (sysWrite*). Not reported: descriptor-table, IDT and TSS reads (sysRead*), page-table
// walks (and their A/D updates), instruction fetches.
//
// Dirty pages (Memory's incremental snapshots): a TLB entry of a page not written since the last
// snapshot carries T_CLEAN, which wmask includes, so the first write leaves the fast path, marks
// the page dirty and clears the bit. Cpu.run re-marks entries when the memory's dirty bits were
// cleared in between (rearmClean). No walk and no event is added: behaviour is unchanged.
import { KIND_BIT } from '../trace/schema.ts';
import { CpuRegs, CR0_PG, CR0_WP, CR4_PSE, SS } from './cpu/state.ts';
import { PAGE_RAM } from './memory.ts';
import type { GuestMode, RingCompression } from './cpu/guest-mode.ts';

export const T_VALID = 1;
/** The page is not accessible from CPL 3. */
export const T_NOUSER = 2;
/** Read-only for CPL 3 writes. */
export const T_ROUSER = 4;
/** Read-only for supervisor writes (read-only page with CR0.WP set). */
export const T_ROSUP = 8;
/** Not plain RAM (MMIO or nothing): take the Memory dispatch path. */
export const T_MMIO = 16;
/** The PTE's D bit is already set: writes need not walk. */
export const T_DIRTY = 32;
/** The physical page holds decoded code: writes must invalidate it. */
export const T_CODE = 64;
/**
 * The physical page is clean (not written since the memory's last snapshot): writes leave the fast
 * path once, mark the page dirty and drop the bit (Memory's incremental snapshots rest on this).
 */
export const T_CLEAN = 128;

const TLB_LIST_MAX = 8192;

/** Receives the data accesses of a reporting run (the CPU's hooks object). */
export interface AccessReporter {
  memoryAccess?(linear: number, physical: number, size: number, write: boolean): void;
}

export class CpuMmu extends CpuRegs {
  readonly tlb = new Int32Array(1 << 20);
  /** Linear pages instructions were fetched from (INVLPG of one of them invalidates block links). */
  readonly codeLinPages = new Uint8Array(1 << 20);
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
  /** Non-null while data accesses are reported (see the header); set by Cpu.run. */
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

  /** Hands one data access to the reporting hook. */
  private report(lin: number, phys: number, size: number, write: boolean): void {
    this.accessHooks!.memoryAccess!(lin >>> 0, phys >>> 0, size, write);
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

  private tlbFill(linPage: number, entry: number): void {
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

  private kindBits(physPage: number): number {
    const k = this.memory.pageKind(physPage);
    if (k !== PAGE_RAM) return T_MMIO;
    return this.codePages[physPage] !== 0 ? T_CODE : 0;
  }

  private pageFault(lin: number, present: boolean, write: boolean, user: boolean): never {
    this.cr2 = lin | 0;
    return this.raise(14, (present ? 1 : 0) | (write ? 2 : 0) | (user ? 4 : 0));
  }

  private emitWalk(lin: number, step: number, level: number, address: number, value: number): void {
    this.emitter.emit('walk', {
      linear: lin >>> 0,
      step,
      level,
      dimension: 'host',
      address: address >>> 0,
      value: value >>> 0,
    });
  }

  /** Translates `lin` for an access, walking and setting A/D bits as needed; fills the TLB. */
  translate(lin: number, write: boolean, user: boolean): number {
    if (this.guest !== null) {
      // Guest mode: shadow or nested paging decides, and hands back the TLB entry.
      const e = this.guest.translate(this, lin, write, user);
      this.tlbFill(lin >>> 12, e);
      return ((e & ~0xfff) | (lin & 0xfff)) >>> 0;
    }
    if (!this.paging) {
      const page = (lin & this.memory.a20Mask) >>> 12;
      this.tlbFill(lin >>> 12, (page << 12) | T_VALID | T_DIRTY | this.kindBits(page));
      return ((page << 12) | (lin & 0xfff)) >>> 0;
    }
    const mem = this.memory;
    const walkEvents = (this.emitter.mask & KIND_BIT.walk) !== 0;
    const pdeAddr = ((this.cr3 & ~0xfff) + ((lin >>> 22) << 2)) >>> 0;
    let pde = mem.read32(pdeAddr);
    if (walkEvents) this.emitWalk(lin, 1, 2, pdeAddr, pde);
    if ((pde & 1) === 0) this.pageFault(lin, false, write, user);
    let perm: number, frame: number, dirty: boolean;
    if ((pde & 0x80) !== 0 && (this.cr4 & CR4_PSE) !== 0) {
      perm = pde;
      this.checkAccess(lin, perm, write, user);
      const upd = pde | 0x20 | (write ? 0x40 : 0);
      if (upd !== pde) mem.write32(pdeAddr, upd);
      dirty = (upd & 0x40) !== 0;
      frame = ((pde & 0xffc00000) + (lin & 0x3ff000)) >>> 0;
    } else {
      if ((pde & 0x20) === 0) {
        pde |= 0x20;
        mem.write32(pdeAddr, pde);
      }
      const pteAddr = ((pde & ~0xfff) + (((lin >>> 12) & 0x3ff) << 2)) >>> 0;
      const pte = mem.read32(pteAddr);
      if (walkEvents) this.emitWalk(lin, 2, 1, pteAddr, pte);
      if ((pte & 1) === 0) this.pageFault(lin, false, write, user);
      perm = pde & pte;
      this.checkAccess(lin, perm, write, user);
      const upd = pte | 0x20 | (write ? 0x40 : 0);
      if (upd !== pte) mem.write32(pteAddr, upd);
      dirty = (upd & 0x40) !== 0;
      frame = (pte & ~0xfff) >>> 0;
    }
    frame = (frame & this.memory.a20Mask) >>> 0;
    const page = frame >>> 12;
    let entry = (page << 12) | T_VALID | this.kindBits(page);
    if ((perm & 4) === 0) entry |= T_NOUSER;
    if ((perm & 2) === 0) entry |= T_ROUSER | ((this.cr0 & CR0_WP) !== 0 ? T_ROSUP : 0);
    if (dirty) entry |= T_DIRTY;
    this.tlbFill(lin >>> 12, entry);
    return (frame | (lin & 0xfff)) >>> 0;
  }

  private checkAccess(lin: number, perm: number, write: boolean, user: boolean): void {
    if (user) {
      if ((perm & 4) === 0 || (write && (perm & 2) === 0)) this.pageFault(lin, true, write, user);
    } else if (write && (perm & 2) === 0 && (this.cr0 & CR0_WP) !== 0) {
      this.pageFault(lin, true, write, user);
    }
  }

  /** Physical address of `lin` without faults or A/D updates; -1 when unmapped. For debuggers. */
  peekTranslate(lin: number): number {
    if (!this.paging) return lin >>> 0;
    const pde = this.memory.read32(((this.cr3 & ~0xfff) + ((lin >>> 22) << 2)) >>> 0);
    if ((pde & 1) === 0) return -1;
    if ((pde & 0x80) !== 0 && (this.cr4 & CR4_PSE) !== 0)
      return ((pde & 0xffc00000) + (lin & 0x3fffff)) >>> 0;
    const pte = this.memory.read32(((pde & ~0xfff) + (((lin >>> 12) & 0x3ff) << 2)) >>> 0);
    if ((pte & 1) === 0) return -1;
    return ((pte & ~0xfff) | (lin & 0xfff)) >>> 0;
  }

  /** Reads `len` bytes of linear memory with no side effects; null if any page is unmapped. */
  peekLinear(addr: number, len: number): Uint8Array | null {
    const out = new Uint8Array(len);
    for (let i = 0; i < len; i++) {
      const p = this.peekTranslate((addr + i) | 0);
      if (p < 0) return null;
      out[i] = this.memory.read8(p);
    }
    return out;
  }

  // ---- linear access: fast path through the TLB, slow path through translate --------------------

  readLin8(lin: number): number {
    const e = this.tlb[lin >>> 12]!;
    if ((e & this.rmask) === T_VALID) return this.ram[(e & ~0xfff) | (lin & 0xfff)]!;
    return this.readSlow(lin, 1, this.cpl === 3);
  }

  readLin16(lin: number): number {
    const e = this.tlb[lin >>> 12]!;
    if ((e & this.rmask) === T_VALID && (lin & 0xfff) !== 0xfff) {
      const p = (e & ~0xfff) | (lin & 0xfff);
      return this.ram[p]! | (this.ram[p + 1]! << 8);
    }
    return this.readSlow(lin, 2, this.cpl === 3);
  }

  readLin32(lin: number): number {
    const e = this.tlb[lin >>> 12]!;
    if ((e & this.rmask) === T_VALID && (lin & 0xfff) <= 0xffc) {
      const p = (e & ~0xfff) | (lin & 0xfff);
      if ((p & 3) === 0) return this.ram32[p >> 2]!;
      const r = this.ram;
      return r[p]! | (r[p + 1]! << 8) | (r[p + 2]! << 16) | (r[p + 3]! << 24);
    }
    return this.readSlow(lin, 4, this.cpl === 3);
  }

  writeLin8(lin: number, v: number): void {
    const e = this.tlb[lin >>> 12]!;
    if ((e & this.wmask) === (T_VALID | T_DIRTY)) {
      this.ram[(e & ~0xfff) | (lin & 0xfff)] = v;
      return;
    }
    this.writeSlow(lin, 1, v, this.cpl === 3);
  }

  writeLin16(lin: number, v: number): void {
    const e = this.tlb[lin >>> 12]!;
    if ((e & this.wmask) === (T_VALID | T_DIRTY) && (lin & 0xfff) !== 0xfff) {
      const p = (e & ~0xfff) | (lin & 0xfff);
      this.ram[p] = v;
      this.ram[p + 1] = v >> 8;
      return;
    }
    this.writeSlow(lin, 2, v, this.cpl === 3);
  }

  writeLin32(lin: number, v: number): void {
    const e = this.tlb[lin >>> 12]!;
    if ((e & this.wmask) === (T_VALID | T_DIRTY) && (lin & 0xfff) <= 0xffc) {
      const p = (e & ~0xfff) | (lin & 0xfff);
      if ((p & 3) === 0) {
        this.ram32[p >> 2] = v;
        return;
      }
      const r = this.ram;
      r[p] = v;
      r[p + 1] = v >> 8;
      r[p + 2] = v >> 16;
      r[p + 3] = v >> 24;
      return;
    }
    this.writeSlow(lin, 4, v, this.cpl === 3);
  }

  /**
   * Any read that missed the fast path; `user` false for implicit supervisor accesses (GDT, TSS).
   * `implicit` (descriptor-table reads): never reported.
   */
  readSlow(lin: number, size: number, user: boolean, implicit = false): number {
    const report = this.accessHooks !== null && !implicit;
    if (report) {
      // What the fast path would have done, reported.
      const e = this.tlb[lin >>> 12]!;
      if ((e & this.rmaskCpl) === T_VALID && (lin & 0xfff) + size <= 0x1000 && user === (this.cpl === 3)) {
        const p = (e & ~0xfff) | (lin & 0xfff);
        this.report(lin, p, size, false);
        const r = this.ram;
        if (size === 1) return r[p]!;
        if (size === 2) return r[p]! | (r[p + 1]! << 8);
        return r[p]! | (r[p + 1]! << 8) | (r[p + 2]! << 16) | (r[p + 3]! << 24);
      }
    }
    if ((lin & 0xfff) + size <= 0x1000) {
      const p = this.translate(lin, false, user);
      if (report) this.report(lin, p, size, false);
      return size === 1
        ? this.memory.read8(p)
        : size === 2
          ? this.memory.read16(p)
          : this.memory.read32(p) | 0;
    }
    let v = 0;
    for (let i = 0; i < size; i++) {
      const p = this.translate((lin + i) | 0, false, user);
      if (report) this.report((lin + i) | 0, p, 1, false);
      v |= this.memory.read8(p) << (8 * i);
    }
    return v;
  }

  writeSlow(lin: number, size: number, v: number, user: boolean): void {
    const e = this.tlb[lin >>> 12]!;
    const report = this.accessHooks !== null;
    if (
      (e & (this.wmaskCpl & ~(T_CODE | T_CLEAN))) === (T_VALID | T_DIRTY) &&
      (lin & 0xfff) + size <= 0x1000 &&
      user === (this.cpl === 3)
    ) {
      // A RAM page that holds decoded code (or any, when reporting): no walk, only the code check.
      const p = (e & ~0xfff) | (lin & 0xfff);
      if (report) this.report(lin, p, size, true);
      if ((e & T_CODE) !== 0) this.codeWrite(p, size);
      if ((e & T_CLEAN) !== 0) this.cleanWrite(lin, p);
      this.writeRam(p, size, v);
      return;
    }
    if ((lin & 0xfff) + size <= 0x1000) {
      const p = this.translate(lin, true, user);
      if (report) this.report(lin, p, size, true);
      this.writePhys(p, size, v);
      return;
    }
    // Check both pages before writing either, so a fault leaves memory untouched.
    const p0 = this.translate(lin, true, user);
    const split = 0x1000 - (lin & 0xfff);
    const p1 = this.translate((lin + split) | 0, true, user);
    if (report) {
      this.report(lin, p0, split, true);
      this.report((lin + split) | 0, p1, size - split, true);
    }
    for (let i = 0; i < size; i++) this.writePhys(i < split ? p0 + i : p1 + i - split, 1, v >>> (8 * i));
  }

  /** A write to physical [p, p+size) on a page with decoded code (the CPU drops what it overlaps). */
  codeWrite(p: number, size: number): void {
    this.memory.onCodeWrite(p >>> 12);
  }

  protected writeRam(p: number, size: number, v: number): void {
    const r = this.ram;
    r[p] = v;
    if (size > 1) r[p + 1] = v >> 8;
    if (size > 2) {
      r[p + 2] = v >> 16;
      r[p + 3] = v >> 24;
    }
  }

  private writePhys(p: number, size: number, v: number): void {
    const page = p >>> 12;
    if (
      page < this.codePages.length &&
      this.memory.pageKind(page) === PAGE_RAM &&
      (p & 0xfff) + size <= 0x1000
    ) {
      if (this.codePages[page] !== 0) this.codeWrite(p, size);
      this.memory.markDirtyPage(page);
      this.writeRam(p, size, v);
      return;
    }
    if (size === 1) this.memory.write8(p, v);
    else if (size === 2) this.memory.write16(p, v);
    else this.memory.write32(p, v);
  }

  /** Supervisor-mode (implicit) accesses: descriptor tables, TSS, IDT; TLB first, then the walk. */
  sysRead32(lin: number): number {
    const e = this.tlb[lin >>> 12]!;
    if ((e & (T_VALID | T_MMIO)) === T_VALID && (lin & 0xfff) <= 0xffc) {
      const p = (e & ~0xfff) | (lin & 0xfff);
      const r = this.ram;
      return r[p]! | (r[p + 1]! << 8) | (r[p + 2]! << 16) | (r[p + 3]! << 24);
    }
    return this.readSlow(lin, 4, false, true);
  }
  sysRead16(lin: number): number {
    const e = this.tlb[lin >>> 12]!;
    if ((e & (T_VALID | T_MMIO)) === T_VALID && (lin & 0xfff) <= 0xffe) {
      const p = (e & ~0xfff) | (lin & 0xfff);
      return this.ram[p]! | (this.ram[p + 1]! << 8);
    }
    return this.readSlow(lin, 2, false, true);
  }
  sysRead8(lin: number): number {
    return this.readSlow(lin, 1, false, true);
  }
  private sysWritable(lin: number, size: number): number {
    const e = this.tlb[lin >>> 12]!;
    const ok =
      (e & (T_VALID | T_MMIO | T_DIRTY | T_CODE | T_ROSUP)) === (T_VALID | T_DIRTY) &&
      (lin & 0xfff) + size <= 0x1000;
    if (!ok) return -1;
    const p = (e & ~0xfff) | (lin & 0xfff);
    if ((e & T_CLEAN) !== 0) this.cleanWrite(lin, p);
    return p;
  }

  /** The first write through a T_CLEAN entry: the page is dirty now, the entry takes the fast path. */
  private cleanWrite(lin: number, p: number): void {
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
  sysWrite8(lin: number, v: number): void {
    this.writeSlow(lin, 1, v, false);
  }
  sysWrite16(lin: number, v: number): void {
    const p = this.sysWritable(lin, 2);
    if (p < 0) return this.writeSlow(lin, 2, v, false);
    if (this.accessHooks !== null) this.report(lin, p, 2, true);
    this.writeRam(p, 2, v);
  }
  sysWrite32(lin: number, v: number): void {
    const p = this.sysWritable(lin, 4);
    if (p < 0) return this.writeSlow(lin, 4, v, false);
    if (this.accessHooks !== null) this.report(lin, p, 4, true);
    this.writeRam(p, 4, v);
  }

  // ---- segmented access: limit check, then linear ----------------------------------------------

  segFault(s: number): never {
    return this.raise(s === SS ? 12 : 13, 0);
  }

  rd8(s: number, off: number): number {
    const o = off >>> 0;
    if (o < this.segRLo[s]! || o > this.segRHi[s]!) this.segFault(s);
    return this.readLin8((this.segBase[s]! + off) | 0);
  }
  rd16(s: number, off: number): number {
    const o = off >>> 0;
    if (o < this.segRLo[s]! || o + 1 > this.segRHi[s]!) this.segFault(s);
    return this.readLin16((this.segBase[s]! + off) | 0);
  }
  rd32(s: number, off: number): number {
    const o = off >>> 0;
    if (o < this.segRLo[s]! || o + 3 > this.segRHi[s]!) this.segFault(s);
    return this.readLin32((this.segBase[s]! + off) | 0);
  }
  wr8(s: number, off: number, v: number): void {
    const o = off >>> 0;
    if (o < this.segWLo[s]! || o > this.segWHi[s]!) this.segFault(s);
    this.writeLin8((this.segBase[s]! + off) | 0, v);
  }
  wr16(s: number, off: number, v: number): void {
    const o = off >>> 0;
    if (o < this.segWLo[s]! || o + 1 > this.segWHi[s]!) this.segFault(s);
    this.writeLin16((this.segBase[s]! + off) | 0, v);
  }
  wr32(s: number, off: number, v: number): void {
    const o = off >>> 0;
    if (o < this.segWLo[s]! || o + 3 > this.segWHi[s]!) this.segFault(s);
    this.writeLin32((this.segBase[s]! + off) | 0, v);
  }
  /** Write-access check of [off, off+size) without writing (read-modify-write instructions). */
  checkWrite(s: number, off: number, size: number): void {
    const o = off >>> 0;
    if (o < this.segWLo[s]! || o + size - 1 > this.segWHi[s]!) this.segFault(s);
  }

  // ---- stack -----------------------------------------------------------------------------------

  push32(v: number): void {
    const r = this.regs;
    if (this.stack32) {
      const sp = (r[4]! - 4) | 0;
      this.wr32(SS, sp, v);
      r[4] = sp;
    } else {
      const sp = (r[4]! - 4) & 0xffff;
      this.wr32(SS, sp, v);
      r[4] = (r[4]! & ~0xffff) | sp;
    }
  }
  push16(v: number): void {
    const r = this.regs;
    if (this.stack32) {
      const sp = (r[4]! - 2) | 0;
      this.wr16(SS, sp, v);
      r[4] = sp;
    } else {
      const sp = (r[4]! - 2) & 0xffff;
      this.wr16(SS, sp, v);
      r[4] = (r[4]! & ~0xffff) | sp;
    }
  }
  pop32(): number {
    const r = this.regs;
    if (this.stack32) {
      const v = this.rd32(SS, r[4]!);
      r[4] = (r[4]! + 4) | 0;
      return v;
    }
    const v = this.rd32(SS, r[4]! & 0xffff);
    r[4] = (r[4]! & ~0xffff) | ((r[4]! + 4) & 0xffff);
    return v;
  }
  pop16(): number {
    const r = this.regs;
    if (this.stack32) {
      const v = this.rd16(SS, r[4]!);
      r[4] = (r[4]! + 2) | 0;
      return v;
    }
    const v = this.rd16(SS, r[4]! & 0xffff);
    r[4] = (r[4]! & ~0xffff) | ((r[4]! + 2) & 0xffff);
    return v;
  }
  /** Stack slot `n` bytes above the stack pointer (for POP that must not commit ESP before a fault). */
  stackAddr(delta: number): number {
    return this.stack32 ? (this.regs[4]! + delta) | 0 : (this.regs[4]! + delta) & 0xffff;
  }
  addSP(delta: number): void {
    const r = this.regs;
    if (this.stack32) r[4] = (r[4]! + delta) | 0;
    else r[4] = (r[4]! & ~0xffff) | ((r[4]! + delta) & 0xffff);
  }
}

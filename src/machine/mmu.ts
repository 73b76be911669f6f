// Linear and segmented memory access for the CPU: the fast paths through the TLB (tlb.ts), the
// slow paths that translate (page-walk.ts on a bare machine, the GuestMode hook under the
// hypervisor), implicit supervisor accesses (descriptor tables, TSS, IDT), segment limit checks
// and the stack. The fast paths stay here, in the class the CPU extends directly, so that
// readLin32 & co. are one field load, one AND and one compare away from the RAM array.
//
// Access reports (the debugger's read/access watchpoints): while `accessHooks` is set (Cpu.run sets
// it for a run whose hooks take memoryAccess), rmask/wmask are 0, so every data access misses the
// fast paths; the slow paths then do exactly what the fast path would have done (same TLB entry,
// no extra walk or event) and report (linear, physical, size, write). Reported: every load and
// store of an instruction, pushes/pops, string ops, interrupt/exception frames, TSS and descriptor
// writes (sysWrite*). Not reported: descriptor-table, IDT and TSS reads (sysRead*), page-table
// walks (and their A/D updates), instruction fetches.
import { SS } from './cpu/state.ts';
import { PAGE_RAM } from './memory.ts';
import { peekPageTables, walkPageTables } from './page-walk.ts';
import { CpuTlb } from './tlb.ts';
import { T_CLEAN, T_CODE, T_DIRTY, T_MMIO, T_ROSUP, T_VALID } from './tlb-entry.ts';

// Re-exported so that importers of the TLB format and of AccessReporter keep one import path.
export { T_CLEAN, T_CODE, T_DIRTY, T_MMIO, T_NOUSER, T_ROSUP, T_ROUSER, T_VALID } from './tlb-entry.ts';
export type { AccessReporter } from './tlb.ts';

export class CpuMmu extends CpuTlb {
  /** Hands one data access to the reporting hook. */
  private report(lin: number, phys: number, size: number, write: boolean): void {
    this.accessHooks!.memoryAccess!(lin >>> 0, phys >>> 0, size, write);
  }

  /** Translates `lin` for an access, walking and setting A/D bits as needed; fills the TLB. */
  translate(lin: number, write: boolean, user: boolean): number {
    let entry: number;
    if (this.guest !== null) {
      // Guest mode: shadow or nested paging decides, and hands back the TLB entry.
      entry = this.guest.translate(this, lin, write, user);
    } else if (!this.paging) {
      const page = (lin & this.memory.a20Mask) >>> 12;
      entry = (page << 12) | T_VALID | T_DIRTY | this.kindBits(page);
    } else {
      entry = walkPageTables(this, lin, write, user);
    }
    this.tlbFill(lin >>> 12, entry);
    return ((entry & ~0xfff) | (lin & 0xfff)) >>> 0;
  }

  /** Physical address of `lin` without faults or A/D updates; -1 when unmapped. For debuggers. */
  peekTranslate(lin: number): number {
    return this.paging ? peekPageTables(this, lin) : lin >>> 0;
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

// Physical memory: one Uint8Array of RAM (the OS commits its pages lazily, so a 256 MiB machine
// that touches 2 MiB costs 2 MiB), MMIO ranges dispatched per 4 KiB page, and the "this page holds
// decoded code" bitmap every write path checks so the CPU's decoded-instruction cache stays true.
//
// Incremental snapshots: every write path marks its page in `dirtyPages` (Memory's own writes here;
// the CPU's TLB fast path through the T_CLEAN bit, see mmu.ts: only the first write to a clean
// page takes a slow path). After the first snapshot (a full scan), saveSnapshot copies only pages
// written since the previous snapshot or restore and shares every other page's Uint8Array with it;
// loadSnapshot rewrites only pages that differ (by array identity) or were written. Snapshot page
// arrays are therefore immutable. Code that writes `ram` directly must call markDirty().
import type { MmioHandler } from './bus.ts';

/** What a physical page is, as the TLB fill needs to know it. */
export const PAGE_RAM = 0;
export const PAGE_MMIO = 1;
export const PAGE_NONE = 2;

const PAGE_SHIFT = 12;

export interface MemorySnapshot {
  size: number;
  /** Page number → 4096 bytes, for every page that is not all zeros. */
  pages: Map<number, Uint8Array>;
}

export class Memory {
  readonly ram: Uint8Array;
  readonly size: number;
  /** Aligned views of `ram` for the CPU's fast paths. */
  readonly ram16: Uint16Array;
  readonly ram32: Int32Array;
  /** Per RAM page: non-zero when a CPU has decoded code there (written by the CPU). */
  readonly codePages: Uint8Array;
  /** Per RAM page: bit k set when decoded code covers bytes [k*128, k*128+127] (shared by all CPUs). */
  readonly codeChunks: Uint32Array;
  /** Per RAM page: non-zero when written since the last snapshot or restore (all set until the first). */
  readonly dirtyPages: Uint8Array;
  /** Bumped whenever dirty bits are cleared: CPUs then re-mark clean pages in their TLBs (T_CLEAN). */
  cleanEpoch = 0;
  /** Pages marked dirty since the last clear (while incremental snapshots are on). */
  private dirtyList: number[] = [];
  /** The page map of the last snapshot saved or restored: what every clean page holds (absent = zeros). */
  private basePages: Map<number, Uint8Array> | null = null;
  /** Called with the physical page number when a write hits a page marked in `codePages`. */
  onCodeWrite: (page: number) => void = () => {};
  /** Per 4 KiB page of the 4 GiB space: index+1 into `handlers`, 0 when not MMIO. */
  private readonly mmioIndex = new Uint16Array(1 << 20);
  private readonly handlers: MmioHandler[] = [];
  private readonly ramPages: number;

  constructor(sizeBytes: number) {
    if (!(sizeBytes > 0) || sizeBytes % 4096 !== 0 || sizeBytes > 0x40000000) {
      throw new RangeError(`memory size must be a positive multiple of 4096 up to 1 GiB, got ${sizeBytes}`);
    }
    this.size = sizeBytes;
    this.ram = new Uint8Array(sizeBytes);
    this.ram16 = new Uint16Array(this.ram.buffer);
    this.ram32 = new Int32Array(this.ram.buffer);
    this.ramPages = sizeBytes >>> PAGE_SHIFT;
    this.codePages = new Uint8Array(this.ramPages);
    this.codeChunks = new Uint32Array(this.ramPages);
    this.dirtyPages = new Uint8Array(this.ramPages).fill(1);
  }

  /** Marks RAM page `page` written (for the next incremental snapshot). */
  markDirtyPage(page: number): void {
    if (this.dirtyPages[page] !== 0 || page >= this.ramPages) return;
    this.dirtyPages[page] = 1;
    this.dirtyList.push(page);
  }

  /** For code that writes `ram` directly: marks the pages of physical [p, p+length) written. */
  markDirty(p: number, length: number): void {
    if (length <= 0) return;
    for (let page = p >>> PAGE_SHIFT; page <= (p + length - 1) >>> PAGE_SHIFT; page++) this.markDirtyPage(page);
  }

  /** Routes [base, base+length) (page granular) to `handler`; RAM under it becomes invisible. */
  mapMmio(base: number, length: number, handler: MmioHandler): void {
    this.handlers.push(handler);
    const idx = this.handlers.length;
    const first = base >>> PAGE_SHIFT;
    const last = ((base + length - 1) >>> 0) >>> PAGE_SHIFT;
    for (let p = first; p <= last; p++) this.mmioIndex[p] = idx;
    this.mmioChanged();
  }

  /** Physical address mask the CPU applies to translated addresses: bit 20 cleared while A20 is off. */
  a20Mask = -1;

  /** The A20 gate (keyboard controller / port 0x92): off makes 1 MiB wrap to 0 as on an 8086. */
  setA20(on: boolean): void {
    const mask = on ? -1 : ~0x100000;
    if (mask === this.a20Mask) return;
    this.a20Mask = mask;
    this.mmioChanged();
  }

  /** Set by the CPU: the TLB caches page kinds, so a new MMIO mapping must flush it. */
  mmioChanged: () => void = () => {};

  /** PAGE_RAM, PAGE_MMIO or PAGE_NONE for physical page `page` (0 .. 2^20-1). */
  pageKind(page: number): number {
    if (this.mmioIndex[page] !== 0) return PAGE_MMIO;
    return page < this.ramPages ? PAGE_RAM : PAGE_NONE;
  }

  read8(p: number): number {
    p >>>= 0;
    const m = this.mmioIndex[p >>> PAGE_SHIFT];
    if (m !== 0) return this.handlers[m - 1]!.read(p, 1) & 0xff;
    return p < this.size ? this.ram[p]! : 0xff;
  }

  read16(p: number): number {
    p >>>= 0;
    const m = this.mmioIndex[p >>> PAGE_SHIFT];
    if (m === 0 && p + 1 < this.size) return this.ram[p]! | (this.ram[p + 1]! << 8);
    if (m !== 0 && (p & 0xfff) <= 0xffe) return this.handlers[m - 1]!.read(p, 2) & 0xffff;
    return this.read8(p) | (this.read8(p + 1) << 8);
  }

  read32(p: number): number {
    p >>>= 0;
    const m = this.mmioIndex[p >>> PAGE_SHIFT];
    if (m === 0 && p + 3 < this.size) {
      if ((p & 3) === 0) return this.ram32[p >>> 2]! >>> 0;
      return (
        (this.ram[p]! | (this.ram[p + 1]! << 8) | (this.ram[p + 2]! << 16) | (this.ram[p + 3]! << 24)) >>> 0
      );
    }
    if (m !== 0 && (p & 0xfff) <= 0xffc) return this.handlers[m - 1]!.read(p, 4) >>> 0;
    return (this.read16(p) | (this.read16(p + 2) << 16)) >>> 0;
  }

  write8(p: number, v: number): void {
    p >>>= 0;
    const page = p >>> PAGE_SHIFT;
    const m = this.mmioIndex[page];
    if (m !== 0) return this.handlers[m - 1]!.write(p, 1, v & 0xff);
    if (p >= this.size) return;
    if (this.codePages[page] !== 0) this.onCodeWrite(page);
    if (this.dirtyPages[page] === 0) this.markDirtyPage(page);
    this.ram[p] = v;
  }

  write16(p: number, v: number): void {
    p >>>= 0;
    const m = this.mmioIndex[p >>> PAGE_SHIFT];
    if (m !== 0 && (p & 0xfff) <= 0xffe) return this.handlers[m - 1]!.write(p, 2, v & 0xffff);
    this.write8(p, v);
    this.write8(p + 1, v >>> 8);
  }

  write32(p: number, v: number): void {
    p >>>= 0;
    const m = this.mmioIndex[p >>> PAGE_SHIFT];
    if (m !== 0 && (p & 0xfff) <= 0xffc) return this.handlers[m - 1]!.write(p, 4, v >>> 0);
    this.write16(p, v);
    this.write16(p + 2, v >>> 16);
  }

  /** Bulk write (loaders, BIOS disk reads, DMA): MMIO dispatched, decoded code invalidated. */
  writeBytes(p: number, bytes: Uint8Array): void {
    p >>>= 0;
    let i = 0;
    while (i < bytes.length) {
      const addr = p + i;
      const page = addr >>> PAGE_SHIFT;
      const n = Math.min(bytes.length - i, 4096 - (addr & 0xfff));
      if (this.mmioIndex[page] !== 0 || addr + n > this.size) {
        for (let k = 0; k < n; k++) this.write8(addr + k, bytes[i + k]!);
      } else {
        if (this.codePages[page] !== 0) this.onCodeWrite(page);
        if (this.dirtyPages[page] === 0) this.markDirtyPage(page);
        this.ram.set(bytes.subarray(i, i + n), addr);
      }
      i += n;
    }
  }

  readBytes(p: number, length: number): Uint8Array {
    p >>>= 0;
    if (this.mmioIndex[p >>> PAGE_SHIFT] === 0 && p + length <= this.size && this.noMmioIn(p, length)) {
      return this.ram.slice(p, p + length);
    }
    const out = new Uint8Array(length);
    for (let i = 0; i < length; i++) out[i] = this.read8(p + i);
    return out;
  }

  private noMmioIn(p: number, length: number): boolean {
    for (let page = p >>> PAGE_SHIFT; page <= (p + length - 1) >>> PAGE_SHIFT; page++) {
      if (this.mmioIndex[page] !== 0) return false;
    }
    return true;
  }

  /**
   * RAM contents as the non-zero pages (MMIO device state is each device's own snapshot). The
   * first call scans all of RAM; later ones copy only the pages written since (see the header).
   */
  saveSnapshot(): MemorySnapshot {
    const base = this.basePages;
    let pages: Map<number, Uint8Array>;
    if (base === null) {
      pages = new Map();
      for (let page = 0; page < this.ramPages; page++) {
        const copy = this.pageCopy(page);
        if (copy !== undefined) pages.set(page, copy);
      }
    } else {
      pages = new Map(base);
      for (const page of this.dirtyList) {
        const copy = this.pageCopy(page);
        if (copy !== undefined) pages.set(page, copy);
        else pages.delete(page);
      }
    }
    this.cleanAll(pages, base === null);
    return { size: this.size, pages };
  }

  loadSnapshot(s: MemorySnapshot): void {
    if (s.size !== this.size)
      throw new RangeError(`snapshot of ${s.size} bytes does not fit memory of ${this.size}`);
    const base = this.basePages;
    const target = s.pages;
    if (base === null) {
      this.ram.fill(0);
      for (const [page, bytes] of target) this.ram.set(bytes, page << PAGE_SHIFT);
      // Everything decoded may be stale now.
      for (let page = 0; page < this.ramPages; page++) if (this.codePages[page] !== 0) this.onCodeWrite(page);
    } else {
      // Only pages that may differ: written since the base, or held as a different array.
      const dirty = this.dirtyPages;
      for (const page of this.dirtyList) this.restorePage(page, target.get(page));
      for (const [page, bytes] of base) if (dirty[page] === 0 && target.get(page) !== bytes) this.restorePage(page, target.get(page));
      for (const [page, bytes] of target) if (dirty[page] === 0 && !base.has(page)) this.restorePage(page, bytes);
    }
    this.cleanAll(target, base === null);
  }

  /** A copy of RAM page `page`, or undefined when it is all zeros. */
  private pageCopy(page: number): Uint8Array | undefined {
    const r32 = this.ram32;
    const w = page << 10;
    for (let k = 0; k < 1024; k++) {
      if (r32[w + k] !== 0) return this.ram.slice(page << PAGE_SHIFT, (page + 1) << PAGE_SHIFT);
    }
    return undefined;
  }

  private restorePage(page: number, bytes: Uint8Array | undefined): void {
    const at = page << PAGE_SHIFT;
    if (bytes !== undefined) this.ram.set(bytes, at);
    else this.ram.fill(0, at, at + 4096);
    if (this.codePages[page] !== 0) this.onCodeWrite(page);
  }

  /** RAM now equals `pages` (absent = zeros): every page is clean against that base. */
  private cleanAll(pages: Map<number, Uint8Array>, all: boolean): void {
    this.basePages = pages;
    if (all || this.dirtyList.length * 8 >= this.ramPages) this.dirtyPages.fill(0);
    else for (const page of this.dirtyList) this.dirtyPages[page] = 0;
    this.dirtyList = [];
    this.cleanEpoch++;
  }
}

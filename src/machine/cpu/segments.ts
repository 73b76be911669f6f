// Segment registers: descriptor reads from the GDT/LDT, the hidden descriptor caches and the
// protection checks of MOV/POP Sreg, LLDT and LTR (SDM vol. 3, 3.4-3.5, 5.5-5.8).
import type { CpuMmu } from '../mmu.ts';
import { CR0_PE, CS, LDTR, SS, TR } from './state.ts';

/** A decoded descriptor; the CPU keeps one scratch instance so loads do not allocate. */
export class Descriptor {
  lo = 0;
  hi = 0;
  get base(): number {
    return (this.lo >>> 16) | ((this.hi & 0xff) << 16) | (this.hi & 0xff000000) | 0;
  }
  get limit(): number {
    const raw = (this.lo & 0xffff) | (this.hi & 0xf0000);
    return (this.hi & 0x800000) !== 0 ? raw * 4096 + 0xfff : raw;
  }
  /** access byte | flags nibble << 8, as SegmentState.access. */
  get access(): number {
    return ((this.hi >>> 8) & 0xff) | (((this.hi >>> 20) & 0xf) << 8);
  }
  get type(): number {
    return (this.hi >>> 8) & 0xf;
  }
  get system(): boolean {
    return (this.hi & 0x1000) === 0;
  }
  get dpl(): number {
    return (this.hi >>> 13) & 3;
  }
  get present(): boolean {
    return (this.hi & 0x8000) !== 0;
  }
  get isCode(): boolean {
    return !this.system && (this.hi & 0x800) !== 0;
  }
  get conforming(): boolean {
    return (this.hi & 0x400) !== 0;
  }
  /** Code: readable; data: writable. */
  get rw(): boolean {
    return (this.hi & 0x200) !== 0;
  }
  // Gate fields (call, interrupt, trap, task gates).
  get gateSelector(): number {
    return this.lo >>> 16;
  }
  get gateOffset(): number {
    return (this.lo & 0xffff) | (this.hi & 0xffff0000) | 0;
  }
  get gateParams(): number {
    return this.hi & 0x1f;
  }
}

export function protectedMode(cpu: CpuMmu): boolean {
  return (cpu.cr0 & CR0_PE) !== 0;
}

/** Linear address of the descriptor for `sel`, or -1 when outside its table. */
export function descriptorAddress(cpu: CpuMmu, sel: number): number {
  const index = sel & ~7;
  if ((sel & 4) !== 0) {
    if ((cpu.segSel[LDTR]! & ~3) === 0 || index + 7 > cpu.segLimit[LDTR]!) return -1;
    return (cpu.segBase[LDTR]! + index) | 0;
  }
  const rc = cpu.rings; // ring compression: the guest's GDT, not the VMM's in GDTR
  if (index + 7 > (rc === null ? cpu.gdtLimit : rc.gdtLimit)) return -1;
  return ((rc === null ? cpu.gdtBase : rc.gdtBase) + index) | 0;
}

/** Reads the descriptor of `sel` into `d`; #GP(sel) (or `vector`) when outside the table. */
export function readDescriptor(cpu: CpuMmu, sel: number, d: Descriptor, vector = 13): void {
  const addr = descriptorAddress(cpu, sel);
  if (addr === -1) cpu.raise(vector, sel & 0xfffc);
  d.lo = cpu.sysRead32(addr);
  d.hi = cpu.sysRead32((addr + 4) | 0);
  if (cpu.rings !== null) cpu.rings.compress(cpu, d);
}

/** Sets the accessed bit of a code/data descriptor in memory (as the CPU does on load). */
export function setAccessed(cpu: CpuMmu, sel: number, d: Descriptor): void {
  if ((d.hi & 0x100) !== 0) return;
  d.hi |= 0x100;
  const addr = descriptorAddress(cpu, sel);
  // Under ring compression `d` is the compressed view: only the accessed bit goes to memory.
  cpu.sysWrite8((addr + 5) | 0, cpu.rings === null ? (d.hi >>> 8) & 0xff : cpu.sysRead8((addr + 5) | 0) | 1);
}

/** Fills a segment cache and recomputes what depends on it (limits, code/stack size, CPL masks). */
export function setSegment(
  cpu: CpuMmu,
  s: number,
  sel: number,
  base: number,
  limit: number,
  access: number,
): void {
  cpu.segSel[s] = sel & 0xffff;
  cpu.segBase[s] = base | 0;
  cpu.segLimit[s] = limit;
  cpu.segAccess[s] = access;
  if (s >= 6) return;
  updateAccessRanges(cpu, s);
  if (s === CS) {
    cpu.code32 = (access & 0x400) !== 0;
    cpu.epoch++;
  } else if (s === SS) cpu.stack32 = (access & 0x400) !== 0;
}

/** The offset ranges reads and writes may touch, from the cache (called after any mode change too). */
export function updateAccessRanges(cpu: CpuMmu, s: number): void {
  const access = cpu.segAccess[s]!;
  const limit = cpu.segLimit[s]!;
  const pm = protectedMode(cpu);
  let rlo = 0,
    rhi = limit,
    wlo = 0,
    whi = limit;
  if (pm) {
    // A null selector loaded in protected mode leaves access 0 (not present): unusable.
    const usable = s === CS || s === SS || (access & 0x80) !== 0;
    const isCode = (access & 0x8) !== 0;
    if (!usable) {
      rlo = wlo = 1;
      rhi = whi = 0;
    } else if (isCode) {
      if ((access & 2) === 0 && s !== CS) {
        rlo = 1;
        rhi = 0;
      }
      wlo = 1;
      whi = 0;
    } else {
      if ((access & 4) !== 0) {
        // Expand-down: valid offsets are above the limit.
        const top = (access & 0x400) !== 0 ? 0xffffffff : 0xffff;
        rlo = wlo = limit + 1;
        rhi = whi = top;
      }
      if ((access & 2) === 0) {
        wlo = 1;
        whi = 0;
      }
    }
  }
  cpu.segRLo[s] = rlo;
  cpu.segRHi[s] = rhi;
  cpu.segWLo[s] = wlo;
  cpu.segWHi[s] = whi;
}

/** Real-mode segment load: base = selector << 4, the rest of the cache kept (unreal mode works). */
export function loadSegmentReal(cpu: CpuMmu, s: number, sel: number): void {
  sel &= 0xffff;
  cpu.segSel[s] = sel;
  cpu.segBase[s] = sel << 4;
  if (s === CS) {
    cpu.code32 = (cpu.segAccess[CS]! & 0x400) !== 0;
    cpu.epoch++;
  }
  updateAccessRanges(cpu, s);
}

const scratch = new Descriptor();

/** MOV/POP Sreg, LDS...: loads ES, SS, DS, FS or GS with the protected-mode checks. */
export function loadDataSegment(cpu: CpuMmu, s: number, sel: number): void {
  sel &= 0xffff;
  if (!protectedMode(cpu)) {
    loadSegmentReal(cpu, s, sel);
    return;
  }
  const d = scratch;
  if ((sel & ~3) === 0) {
    if (s === SS) cpu.raise(13, 0);
    setSegment(cpu, s, sel, 0, 0, 0);
    return;
  }
  readDescriptor(cpu, sel, d);
  const rpl = sel & 3;
  if (s === SS) {
    if (rpl !== cpu.cpl || d.dpl !== cpu.cpl || d.system || d.isCode || !d.rw) cpu.raise(13, sel & 0xfffc);
    if (!d.present) cpu.raise(12, sel & 0xfffc);
  } else {
    if (d.system || (d.isCode && !d.rw)) cpu.raise(13, sel & 0xfffc);
    if ((!d.isCode || !d.conforming) && (rpl > d.dpl || cpu.cpl > d.dpl)) cpu.raise(13, sel & 0xfffc);
    if (!d.present) cpu.raise(11, sel & 0xfffc);
  }
  setAccessed(cpu, sel, d);
  setSegment(cpu, s, sel, d.base, d.limit, d.access);
}

/** LLDT: a null selector disables the LDT. */
export function loadLdt(cpu: CpuMmu, sel: number): void {
  sel &= 0xffff;
  if ((sel & ~3) === 0) {
    setSegment(cpu, LDTR, sel, 0, 0, 0);
    return;
  }
  if ((sel & 4) !== 0) cpu.raise(13, sel & 0xfffc);
  const d = scratch;
  readDescriptor(cpu, sel, d);
  if (!d.system || d.type !== 2) cpu.raise(13, sel & 0xfffc);
  if (!d.present) cpu.raise(11, sel & 0xfffc);
  setSegment(cpu, LDTR, sel, d.base, d.limit, d.access);
}

/** LTR: loads an available TSS and marks it busy. */
export function loadTr(cpu: CpuMmu, sel: number): void {
  sel &= 0xffff;
  if ((sel & ~3) === 0 || (sel & 4) !== 0) cpu.raise(13, sel & 0xfffc);
  const d = scratch;
  readDescriptor(cpu, sel, d);
  if (!d.system || (d.type !== 1 && d.type !== 9)) cpu.raise(13, sel & 0xfffc);
  if (!d.present) cpu.raise(11, sel & 0xfffc);
  d.hi |= 0x200; // busy
  const addr = descriptorAddress(cpu, sel);
  cpu.sysWrite8((addr + 5) | 0, (d.hi >>> 8) & 0xff);
  setSegment(cpu, TR, sel, d.base, d.limit, d.access);
}

/** After CR0.PE changes: the caches stay, but what counts as usable changes. */
export function refreshAllRanges(cpu: CpuMmu): void {
  for (let s = 0; s < 6; s++) updateAccessRanges(cpu, s);
}

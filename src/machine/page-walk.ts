// The bare machine's two-level paging walk (SDM vol. 3, 4.3): 4 KiB pages through a page table,
// 4 MiB pages straight from the directory when CR4.PSE is set; sets the A and D bits, checks the
// U/S and R/W bits (CR0.WP for supervisor writes), raises #PF with CR2 and the error code, and
// emits a 'walk' event per reference. Only CpuTlb.translate calls it, on a TLB miss: it is never
// on the fast path. Guest mode (shadow or nested paging) walks in src/hypervisor instead.
import { KIND_BIT } from '../trace/schema.ts';
import { CR0_WP, CR4_PSE } from './cpu/state.ts';
import { T_DIRTY, T_NOUSER, T_ROSUP, T_ROUSER, T_VALID } from './tlb-entry.ts';
import type { CpuTlb } from './tlb.ts';

/** Walks the tables for `lin` and returns its TLB entry (the caller fills the TLB). */
export function walkPageTables(cpu: CpuTlb, lin: number, write: boolean, user: boolean): number {
  const mem = cpu.memory;
  const walkEvents = (cpu.emitter.mask & KIND_BIT.walk) !== 0;
  const pdeAddr = ((cpu.cr3 & ~0xfff) + ((lin >>> 22) << 2)) >>> 0;
  let pde = mem.read32(pdeAddr);
  if (walkEvents) emitWalk(cpu, lin, 1, 2, pdeAddr, pde);
  if ((pde & 1) === 0) pageFault(cpu, lin, false, write, user);
  let perm: number, frame: number, dirty: boolean;
  if ((pde & 0x80) !== 0 && (cpu.cr4 & CR4_PSE) !== 0) {
    perm = pde;
    checkAccess(cpu, lin, perm, write, user);
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
    if (walkEvents) emitWalk(cpu, lin, 2, 1, pteAddr, pte);
    if ((pte & 1) === 0) pageFault(cpu, lin, false, write, user);
    perm = pde & pte;
    checkAccess(cpu, lin, perm, write, user);
    const upd = pte | 0x20 | (write ? 0x40 : 0);
    if (upd !== pte) mem.write32(pteAddr, upd);
    dirty = (upd & 0x40) !== 0;
    frame = (pte & ~0xfff) >>> 0;
  }
  frame = (frame & mem.a20Mask) >>> 0;
  const page = frame >>> 12;
  let entry = (page << 12) | T_VALID | cpu.kindBits(page);
  if ((perm & 4) === 0) entry |= T_NOUSER;
  if ((perm & 2) === 0) entry |= T_ROUSER | ((cpu.cr0 & CR0_WP) !== 0 ? T_ROSUP : 0);
  if (dirty) entry |= T_DIRTY;
  return entry;
}

/** Physical address of `lin` without faults, A/D updates or events; -1 when unmapped (debuggers). */
export function peekPageTables(cpu: CpuTlb, lin: number): number {
  const mem = cpu.memory;
  const pde = mem.read32(((cpu.cr3 & ~0xfff) + ((lin >>> 22) << 2)) >>> 0);
  if ((pde & 1) === 0) return -1;
  if ((pde & 0x80) !== 0 && (cpu.cr4 & CR4_PSE) !== 0) return ((pde & 0xffc00000) + (lin & 0x3fffff)) >>> 0;
  const pte = mem.read32(((pde & ~0xfff) + (((lin >>> 12) & 0x3ff) << 2)) >>> 0);
  if ((pte & 1) === 0) return -1;
  return ((pte & ~0xfff) | (lin & 0xfff)) >>> 0;
}

/** The U/S and R/W checks of a present page; supervisor writes obey read-only only with CR0.WP. */
function checkAccess(cpu: CpuTlb, lin: number, perm: number, write: boolean, user: boolean): void {
  if (user) {
    if ((perm & 4) === 0 || (write && (perm & 2) === 0)) pageFault(cpu, lin, true, write, user);
  } else if (write && (perm & 2) === 0 && (cpu.cr0 & CR0_WP) !== 0) {
    pageFault(cpu, lin, true, write, user);
  }
}

function pageFault(cpu: CpuTlb, lin: number, present: boolean, write: boolean, user: boolean): never {
  cpu.cr2 = lin | 0;
  return cpu.raise(14, (present ? 1 : 0) | (write ? 2 : 0) | (user ? 4 : 0));
}

function emitWalk(
  cpu: CpuTlb,
  lin: number,
  step: number,
  level: number,
  address: number,
  value: number,
): void {
  cpu.emitter.emit('walk', {
    linear: lin >>> 0,
    step,
    level,
    dimension: 'host',
    address: address >>> 0,
    value: value >>> 0,
  });
}

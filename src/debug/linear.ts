// Side-effect-free views of the machine for the debugger: register values by name, and linear
// memory reads/writes that walk the page tables themselves (no TLB fill, no accessed/dirty bits,
// no MMIO handler calls), so looking at memory never changes what the program will do.
import type { DebugCpuState, DebugMemory } from './types.ts';

const CR0_PG = 0x80000000;
const CR4_PSE = 0x10;

/** Physical address of linear `lin`, or -1 when the page is not present. Reads RAM directly. */
export function translate(mem: DebugMemory, s: DebugCpuState, lin: number): number {
  lin >>>= 0;
  if ((s.cr0 & CR0_PG) === 0) return lin;
  const pde = rawRead32(mem, ((s.cr3 & 0xfffff000) + ((lin >>> 22) << 2)) >>> 0);
  if (pde < 0 || (pde & 1) === 0) return -1;
  if ((pde & 0x80) !== 0 && (s.cr4 & CR4_PSE) !== 0) return ((pde & 0xffc00000) | (lin & 0x3fffff)) >>> 0;
  const pte = rawRead32(mem, ((pde & 0xfffff000) + (((lin >>> 12) & 0x3ff) << 2)) >>> 0);
  if (pte < 0 || (pte & 1) === 0) return -1;
  return ((pte & 0xfffff000) | (lin & 0xfff)) >>> 0;
}

/** A dword of RAM, or -1 outside RAM (page-table entries never live in MMIO in our kernels). */
function rawRead32(mem: DebugMemory, p: number): number {
  if (p + 4 > mem.size) return -1;
  const r = mem.ram;
  return (r[p]! | (r[p + 1]! << 8) | (r[p + 2]! << 16) | (r[p + 3]! << 24)) >>> 0;
}

/** One byte of physical memory without side effects: RAM, else 0xFF (MMIO is not touched). */
export function peekPhysical(mem: DebugMemory, p: number): number {
  return p >= 0 && p < mem.size ? mem.ram[p]! : 0xff;
}

/** Bytes at linear `lin`; `ok` is false when a page on the way is not present (those bytes read 0). */
export function readLinear(mem: DebugMemory, s: DebugCpuState, lin: number, length: number): { bytes: Uint8Array; ok: boolean } {
  const bytes = new Uint8Array(length);
  let ok = true;
  let i = 0;
  while (i < length) {
    const addr = (lin + i) >>> 0;
    const n = Math.min(length - i, 4096 - (addr & 0xfff));
    const p = translate(mem, s, addr);
    if (p < 0) ok = false;
    else for (let k = 0; k < n; k++) bytes[i + k] = peekPhysical(mem, p + k);
    i += n;
  }
  return { bytes, ok };
}

/** Little-endian value of `size` bytes at linear `lin` (0xFF.. where unmapped). */
export function readLinearValue(mem: DebugMemory, s: DebugCpuState, lin: number, size: 1 | 2 | 4): number {
  let v = 0;
  for (let k = size - 1; k >= 0; k--) {
    const p = translate(mem, s, (lin + k) >>> 0);
    v = (v << 8) | (p < 0 ? 0xff : peekPhysical(mem, p));
  }
  return v >>> 0;
}

/** Writes through the page tables (GDB's M/X); false when a page is not present or not RAM. */
export function writeLinear(mem: DebugMemory, s: DebugCpuState, lin: number, bytes: Uint8Array): boolean {
  for (let i = 0; i < bytes.length; i++) {
    const p = translate(mem, s, (lin + i) >>> 0);
    if (p < 0 || p >= mem.size) return false;
  }
  let i = 0;
  while (i < bytes.length) {
    const addr = (lin + i) >>> 0;
    const n = Math.min(bytes.length - i, 4096 - (addr & 0xfff));
    // writeBytes keeps the CPU's decoded-code cache true (a GDB software breakpoint patches code).
    mem.writeBytes(translate(mem, s, addr), bytes.subarray(i, i + n));
    i += n;
  }
  return true;
}

const REG16: Record<string, string> = { ax: 'eax', cx: 'ecx', dx: 'edx', bx: 'ebx', sp: 'esp', bp: 'ebp', si: 'esi', di: 'edi', ip: 'eip', flags: 'eflags' };
const REG8: Record<string, [string, number]> = {
  al: ['eax', 0], cl: ['ecx', 0], dl: ['edx', 0], bl: ['ebx', 0],
  ah: ['eax', 8], ch: ['ecx', 8], dh: ['edx', 8], bh: ['ebx', 8],
};

/** A register by lower-case name (32/16/8-bit GPRs, eip, eflags, segment selectors, CRs). */
export function registerValue(s: DebugCpuState, name: string): number {
  switch (name) {
    case 'eax': return s.eax >>> 0;
    case 'ecx': return s.ecx >>> 0;
    case 'edx': return s.edx >>> 0;
    case 'ebx': return s.ebx >>> 0;
    case 'esp': return s.esp >>> 0;
    case 'ebp': return s.ebp >>> 0;
    case 'esi': return s.esi >>> 0;
    case 'edi': return s.edi >>> 0;
    case 'eip': return s.eip >>> 0;
    case 'eflags': return s.eflags >>> 0;
    case 'cs': case 'ds': case 'es': case 'fs': case 'gs': case 'ss': return s[name].selector & 0xffff;
    case 'cr0': return s.cr0 >>> 0;
    case 'cr2': return s.cr2 >>> 0;
    case 'cr3': return s.cr3 >>> 0;
    case 'cr4': return s.cr4 >>> 0;
  }
  const wide = REG16[name];
  if (wide !== undefined) return registerValue(s, wide) & 0xffff;
  const byte = REG8[name];
  if (byte !== undefined) return (registerValue(s, byte[0]) >>> byte[1]) & 0xff;
  throw new Error(`unknown register '${name}'`);
}

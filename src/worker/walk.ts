// The i386 two-level page walk (4 KiB pages and 4 MiB PSE pages), over a physical reader.
// The page-tables view and linear memory reads use it; the machine's own MMU stays the authority
// for execution (this is a read-only look that never sets accessed/dirty bits or fills the TLB).
import type { Translation, WalkStep } from './protocol.ts';

export type PhysRead32 = (address: number) => number;

export const PTE = { P: 1, RW: 2, US: 4, PWT: 8, PCD: 16, A: 32, D: 64, PS: 128, G: 256 } as const;

export function translate(linear: number, cr3: number, cr4: number, read32: PhysRead32): Translation {
  linear >>>= 0;
  const steps: WalkStep[] = [];
  const pdeAddr = ((cr3 & 0xfffff000) + ((linear >>> 22) << 2)) >>> 0;
  const pde = read32(pdeAddr) >>> 0;
  steps.push({ level: 2, address: pdeAddr, value: pde });
  if ((pde & PTE.P) === 0) return { linear, steps, physical: null, note: 'page directory entry not present' };
  if ((pde & PTE.PS) !== 0 && (cr4 & 0x10) !== 0) {
    const physical = ((pde & 0xffc00000) | (linear & 0x3fffff)) >>> 0;
    return { linear, steps, physical, note: '4 MiB page' };
  }
  const pteAddr = ((pde & 0xfffff000) + (((linear >>> 12) & 0x3ff) << 2)) >>> 0;
  const pte = read32(pteAddr) >>> 0;
  steps.push({ level: 1, address: pteAddr, value: pte });
  if ((pte & PTE.P) === 0) return { linear, steps, physical: null, note: 'page table entry not present' };
  return { linear, steps, physical: ((pte & 0xfffff000) | (linear & 0xfff)) >>> 0, note: '4 KiB page' };
}

/** Linear → physical under the given control registers; identity when paging is off. */
export function linearToPhysical(linear: number, cr0: number, cr3: number, cr4: number, read32: PhysRead32): number | null {
  if ((cr0 & 0x80000000) === 0) return linear >>> 0;
  return translate(linear, cr3, cr4, read32).physical;
}

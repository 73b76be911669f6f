// The TLB view's data: the debugged CPU's cached translations, read from its TLB array.
import type { Engine } from './engine.ts';
import type { TlbEntry } from './protocol.ts';
import { T_DIRTY, T_MMIO, T_NOUSER, T_ROSUP, T_ROUSER, T_VALID } from '../machine/mmu.ts';

const TLB_SHOWN = 512;

/** The CPU's TLB (one Int32Array slot per linear page: physical page << 12 | T_* bits), first entries by address. */
export function readTlb(e: Engine): { entries: TlbEntry[]; total: number } {
  const tlb = e.cpu.tlb;
  const entries: TlbEntry[] = [];
  let total = 0;
  for (let page = 0; page < tlb.length; page++) {
    const v = tlb[page];
    if ((v & T_VALID) === 0) continue;
    total++;
    if (entries.length >= TLB_SHOWN) continue;
    entries.push({
      linear: (page << 12) >>> 0,
      physical: (v & ~0xfff) >>> 0,
      user: (v & T_NOUSER) === 0,
      userWritable: (v & (T_NOUSER | T_ROUSER)) === 0,
      supervisorWritable: (v & T_ROSUP) === 0,
      dirty: (v & T_DIRTY) !== 0,
      mmio: (v & T_MMIO) !== 0,
    });
  }
  return { entries, total };
}


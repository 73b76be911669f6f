// The stack a privilege change switches to: an inner ring's SSn:ESPn from the current TSS (for
// interrupt delivery and call gates), validated into `stackDesc`; far RET and IRET to an outer ring
// validate the popped SS into the same scratch descriptor. Under ring compression the TSS stack
// is read through the VMM's view (cpu.rings: stackRing, stackSelector).
import type { CpuMmu } from '../mmu.ts';
import { Descriptor, readDescriptor } from './segments.ts';
import { TR } from './state.ts';

/** The descriptor of the stack being switched to (left here by validateInnerStack for its caller). */
export const stackDesc = new Descriptor();

/** SSn:ESPn of the current TSS for ring `n`. */
export function tssStack(cpu: CpuMmu, cpl: number, ext: number): { ss: number; esp: number } {
  const rc = cpu.rings;
  if (rc !== null) {
    // Ring compression: the guest's kernel stack (its TSS's SS0:ESP0) serves the compressed ring.
    const s = tssStackOf(cpu, rc.stackRing(cpl), ext);
    return { ss: rc.stackSelector(s.ss, cpl), esp: s.esp };
  }
  return tssStackOf(cpu, cpl, ext);
}

function tssStackOf(cpu: CpuMmu, n: number, ext: number): { ss: number; esp: number } {
  const base = cpu.segBase[TR]!;
  const tss32 = (cpu.segAccess[TR]! & 0x8) !== 0;
  const trErr = (cpu.segSel[TR]! & 0xfffc) + ext;
  if (tss32) {
    const off = 4 + n * 8;
    if (off + 5 > cpu.segLimit[TR]!) cpu.raise(10, trErr);
    return { esp: cpu.sysRead32((base + off) | 0), ss: cpu.sysRead16((base + off + 4) | 0) };
  }
  const off = 2 + n * 4;
  if (off + 3 > cpu.segLimit[TR]!) cpu.raise(10, trErr);
  return { esp: cpu.sysRead16((base + off) | 0), ss: cpu.sysRead16((base + off + 2) | 0) };
}

export function validateInnerStack(cpu: CpuMmu, ss: number, cpl: number, ext: number): void {
  if ((ss & ~3) === 0) cpu.raise(10, ext);
  readDescriptor(cpu, ss, stackDesc, 10);
  if ((ss & 3) !== cpl || stackDesc.dpl !== cpl || stackDesc.system || stackDesc.isCode || !stackDesc.rw) {
    cpu.raise(10, (ss & 0xfffc) + ext);
  }
  if (!stackDesc.present) cpu.raise(12, (ss & 0xfffc) + ext);
}

// Hardware task switches through 32-bit TSSs (SDM vol. 3, 7.3): JMP/CALL to a TSS or a task gate,
// an interrupt or exception through a task gate, and IRET with NT set. The old state is saved in
// the current TSS, busy bits and the back link are kept, CR3/LDTR/segments come from the new TSS.
// 16-bit TSSs (type 1/3) are refused with #TS.
import type { CpuMmu } from '../mmu.ts';
import {
  Descriptor,
  descriptorAddress,
  loadDataSegment,
  loadLdt,
  readDescriptor,
  setSegment,
} from './segments.ts';
import { CR0_TS, CS, F_NT, LDTR, SS, TR } from './state.ts';

export const TASK_JMP = 0,
  TASK_CALL = 1,
  TASK_INT = 2,
  TASK_IRET = 3;

const tss = new Descriptor();
const code = new Descriptor();

function setBusy(cpu: CpuMmu, sel: number, busy: boolean): void {
  const addr = descriptorAddress(cpu, sel);
  if (addr === -1) return;
  const b = cpu.sysRead8((addr + 5) | 0);
  cpu.sysWrite8((addr + 5) | 0, busy ? b | 2 : b & ~2);
}

/**
 * Switches to the task whose TSS selector is `sel`. cpu.eip must be the address the old task
 * resumes at. `errCode` >= 0 is pushed on the new task's stack (exceptions through task gates).
 */
export function taskSwitch(cpu: CpuMmu, sel: number, kind: number, errCode = -1): void {
  sel &= 0xffff;
  if ((sel & 4) !== 0) cpu.raise(10, sel & 0xfffc);
  readDescriptor(cpu, sel, tss, 13);
  const type = tss.type;
  if (!tss.system || (type !== 9 && type !== 0xb)) cpu.raise(kind === TASK_IRET ? 10 : 13, sel & 0xfffc);
  if ((type === 0xb) !== (kind === TASK_IRET)) cpu.raise(kind === TASK_IRET ? 10 : 13, sel & 0xfffc);
  if (!tss.present) cpu.raise(11, sel & 0xfffc);
  if (tss.limit < 0x67) cpu.raise(10, sel & 0xfffc);
  const oldSel = cpu.segSel[TR]!;
  const oldBase = cpu.segBase[TR]!;
  if ((cpu.segAccess[TR]! & 0x8) === 0 || cpu.segLimit[TR]! < 0x67) cpu.raise(10, oldSel & 0xfffc);
  const newBase = tss.base;

  // Save the outgoing task.
  let flags = cpu.getEflags();
  if (kind === TASK_JMP || kind === TASK_IRET) flags &= ~F_NT;
  const w32 = (off: number, v: number) => cpu.sysWrite32((oldBase + off) | 0, v);
  w32(0x20, cpu.eip);
  w32(0x24, flags);
  for (let i = 0; i < 8; i++) w32(0x28 + i * 4, cpu.regs[i]!);
  for (let s = 0; s < 6; s++) cpu.sysWrite16((oldBase + 0x48 + s * 4) | 0, cpu.segSel[s]!);
  if (kind === TASK_JMP || kind === TASK_IRET) setBusy(cpu, oldSel, false);

  // Read the incoming task.
  const r32 = (off: number) => cpu.sysRead32((newBase + off) | 0);
  const r16 = (off: number) => cpu.sysRead16((newBase + off) | 0);
  const cr3 = r32(0x1c),
    eip = r32(0x20);
  let nflags = r32(0x24);
  const regs = [0, 1, 2, 3, 4, 5, 6, 7].map((i) => r32(0x28 + i * 4));
  const sels = [0, 1, 2, 3, 4, 5].map((s) => r16(0x48 + s * 4));
  const ldt = r16(0x60);
  if (kind === TASK_CALL || kind === TASK_INT) {
    cpu.sysWrite16(newBase, oldSel);
    nflags |= F_NT;
  }
  if (kind !== TASK_IRET) setBusy(cpu, sel, true);
  setSegment(cpu, TR, sel, newBase, tss.limit, tss.access | 0x2);
  cpu.cr0 |= CR0_TS;
  if ((cpu.cr0 & 0x80000000) !== 0) {
    cpu.cr3 = cr3;
    cpu.flushTlb();
  }
  cpu.flags = (nflags | 2) & ~0x20000;
  cpu.lazyMask = 0;
  for (let i = 0; i < 8; i++) cpu.regs[i] = regs[i]!;
  cpu.eip = eip;

  // Segments of the new task: faults from here on belong to the new task (SDM 7.3, step 12).
  loadLdt(cpu, ldt);
  const cs = sels[1]!;
  if ((cs & ~3) === 0) cpu.raise(10, 0);
  readDescriptor(cpu, cs, code, 10);
  if (!code.isCode) cpu.raise(10, cs & 0xfffc);
  if (!code.present) cpu.raise(11, cs & 0xfffc);
  const cpl = cs & 3;
  setSegment(cpu, CS, cs, code.base, code.limit, code.access);
  if (cpu.cpl !== cpl) {
    cpu.cpl = cpl;
    cpu.updateMasks();
  }
  loadDataSegment(cpu, SS, sels[SS]!);
  for (const s of [0, 3, 4, 5]) loadDataSegment(cpu, s, sels[s]!);
  void LDTR;
  if (errCode >= 0) {
    if (cpu.stack32) cpu.push32(errCode);
    else cpu.push16(errCode);
  }
  cpu.stopBlock = 1;
}

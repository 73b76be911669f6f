// Far RET and IRET (SDM vol. 2, RET and IRET pseudo-code): to the same ring, or to an outer ring
// popping SS:ESP too and nulling data segments the outer ring may not use; IRET with NT set
// returns to the previous task (task.ts). Under ring compression a return to guest user mode
// faults here (its code segment reads as not present) and the VMM emulates it.
import type { CpuMmu } from '../mmu.ts';
import { TASK_IRET, taskSwitch } from './task.ts';
import { protectedMode, readDescriptor, setAccessed, setSegment } from './segments.ts';
import { ES, DS, FS, GS, SS, TR, F_IF, F_NT, F_VM, F_IOPL, F_AC, STATUS } from './state.ts';
import { code, gate, loadCodeSegment, readStack, realModeCS, setEflags } from './transfer-common.ts';
import { stackDesc } from './stack-switch.ts';

/** Far RET (RETF imm16): same privilege, or to an outer ring popping SS:ESP too. */
export function farReturn(cpu: CpuMmu, size: number, imm: number): void {
  const ip = readStack(cpu, 0, size);
  const sel = readStack(cpu, size, size) & 0xffff;
  if (!protectedMode(cpu)) {
    cpu.addSP(2 * size + imm);
    realModeCS(cpu, sel);
    cpu.eip = size === 2 ? ip & 0xffff : ip;
    return;
  }
  returnTo(cpu, sel, size === 2 ? ip & 0xffff : ip, size, imm, 2 * size);
}

/** The protected-mode part of RETF and IRET: `used` = bytes of the frame already consumed. */
function returnTo(cpu: CpuMmu, sel: number, ip: number, size: number, imm: number, used: number): void {
  if ((sel & ~3) === 0) cpu.raise(13, 0);
  readDescriptor(cpu, sel, code);
  const rpl = sel & 3;
  if (!code.isCode || rpl < cpu.cpl) cpu.raise(13, sel & 0xfffc);
  if (code.conforming ? code.dpl > rpl : code.dpl !== rpl) cpu.raise(13, sel & 0xfffc);
  if (!code.present) cpu.raise(11, sel & 0xfffc);
  if (ip >>> 0 > code.limit) cpu.raise(13, 0);
  if (rpl === cpu.cpl) {
    cpu.addSP(used + imm);
    loadCodeSegment(cpu, sel, code, rpl);
    cpu.eip = ip;
    return;
  }
  // Outer ring: SS:ESP follow on the stack.
  const newSP = readStack(cpu, used + imm, size);
  const newSS = readStack(cpu, used + imm + size, size) & 0xffff;
  if ((newSS & ~3) === 0) cpu.raise(13, 0);
  readDescriptor(cpu, newSS, stackDesc);
  if ((newSS & 3) !== rpl || stackDesc.dpl !== rpl || stackDesc.system || stackDesc.isCode || !stackDesc.rw) {
    cpu.raise(13, newSS & 0xfffc);
  }
  if (!stackDesc.present) cpu.raise(12, newSS & 0xfffc);
  loadCodeSegment(cpu, sel, code, rpl);
  setAccessed(cpu, newSS, stackDesc);
  setSegment(cpu, SS, newSS, stackDesc.base, stackDesc.limit, stackDesc.access);
  cpu.regs[4] = size === 2 ? (cpu.regs[4]! & ~0xffff) | ((newSP + imm) & 0xffff) : (newSP + imm) | 0;
  if (!cpu.stack32) cpu.regs[4] = (cpu.regs[4]! & ~0xffff) | ((newSP + imm) & 0xffff);
  cpu.eip = ip;
  // Data segments the outer ring may not use become null.
  for (const s of [ES, DS, FS, GS]) {
    const a = cpu.segAccess[s]!;
    const isConformingCode = (a & 0x0c) === 0x0c;
    const dpl = (a >>> 5) & 3;
    if ((a & 0x80) !== 0 && !isConformingCode && dpl < rpl) setSegment(cpu, s, 0, 0, 0, 0);
  }
}

/** IRET / IRETD. */
export function iret(cpu: CpuMmu, size: number): void {
  if (!protectedMode(cpu)) {
    const ip = readStack(cpu, 0, size);
    const cs = readStack(cpu, size, size);
    const fl = readStack(cpu, 2 * size, size);
    cpu.addSP(3 * size);
    realModeCS(cpu, cs);
    cpu.eip = size === 2 ? ip & 0xffff : ip;
    setEflags(cpu, fl, size === 2 ? 0x7fd5 | 0x7000 : 0x257fd5);
    return;
  }
  if ((cpu.getEflags() & F_NT) !== 0) {
    nestedTaskReturn(cpu);
    return;
  }
  const ip = readStack(cpu, 0, size);
  const sel = readStack(cpu, size, size) & 0xffff;
  const fl = readStack(cpu, 2 * size, size);
  if (size === 4 && (fl & F_VM) !== 0 && cpu.cpl === 0) cpu.raise(13, 0); // virtual-8086 mode: not modelled
  const oldCpl = cpu.cpl;
  returnTo(cpu, sel, size === 2 ? ip & 0xffff : ip, size, 0, 3 * size);
  // Flags: the privilege that decides is the one *before* the return.
  const cur = cpu.getEflags();
  let writable = size === 2 ? 0xffff & (0x7fd5 | 0x7000) : 0x257fd5 | F_AC;
  writable |= STATUS;
  if (oldCpl > 0) writable &= ~F_IOPL;
  if (oldCpl > (cur & F_IOPL) >>> 12) writable &= ~F_IF;
  cpu.flags = ((cur & ~writable) | (fl & writable) | 2) & ~F_VM;
  cpu.lazyMask = 0;
  if ((cpu.flags & F_IF) !== 0 && cpu.pic !== null) cpu.intrPending = true;
}

/**
 * IRET with NT set returns to the task in the TSS back link, which must name a busy TSS in the
 * GDT (else #TS(link)), as on a 486 and in QEMU.
 */
function nestedTaskReturn(cpu: CpuMmu): void {
  const link = cpu.sysRead16(cpu.segBase[TR]!);
  if ((link & 4) !== 0) cpu.raise(10, link & 0xfffc);
  readDescriptor(cpu, link, gate, 10);
  const type = (gate.hi >>> 8) & 0x1f;
  if (type !== 0x0b && type !== 0x03) cpu.raise(10, link & 0xfffc);
  taskSwitch(cpu, link, TASK_IRET);
}

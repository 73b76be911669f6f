// The pieces every CS-changing transfer shares (interrupt-delivery.ts, far-call.ts,
// far-return.ts): loading CS and CPL, real-mode CS, writing and reading stack slots before ESP is
// committed, and the EFLAGS rules of PUSHF/POPF/IRET. The stack a privilege change switches to:
// stack-switch.ts.
import type { CpuMmu } from '../mmu.ts';
import { Descriptor, protectedMode, setSegment } from './segments.ts';
import { CS, SS, F_IF, F_RF, F_VM, F_IOPL } from './state.ts';

// Scratch descriptors, shared by the transfer files as they were when these lived in one module
// (the new stack's: stack-switch.ts). A transfer that faults throws before the next one starts,
// so no two transfers use them at once.
export const gate = new Descriptor();
export const code = new Descriptor();

/**
 * Loads CS with a validated descriptor and makes `cpl` current. Like QEMU (our oracle), CS loads
 * do not set the descriptor's accessed bit (data and stack segment loads do).
 */
export function loadCodeSegment(cpu: CpuMmu, sel: number, d: Descriptor, cpl: number): void {
  setSegment(cpu, CS, (sel & ~3) | cpl, d.base, d.limit, d.access);
  if (cpu.cpl !== cpl) {
    cpu.cpl = cpl;
    cpu.updateMasks();
  }
  cpu.stopBlock = 1;
}

export function realModeCS(cpu: CpuMmu, sel: number): void {
  sel &= 0xffff;
  cpu.segSel[CS] = sel;
  cpu.segBase[CS] = sel << 4;
  cpu.stopBlock = 1;
  cpu.epoch++;
}

/** Writes a value onto a stack given by base/offset without touching ESP (used before committing). */
export function stackWrite(
  cpu: CpuMmu,
  ssBase: number,
  sp: number,
  size: number,
  v: number,
  user: boolean,
): void {
  const lin = (ssBase + sp) | 0;
  if (size === 4) user ? cpu.writeLin32(lin, v) : cpu.sysWrite32(lin, v);
  else user ? cpu.writeLin16(lin, v) : cpu.sysWrite16(lin, v);
}

/** The stack slot `delta` bytes above ESP (a frame being popped before ESP is committed). */
export function readStack(cpu: CpuMmu, delta: number, size: number): number {
  const off = cpu.stackAddr(delta);
  return size === 4 ? cpu.rd32(SS, off) : cpu.rd16(SS, off);
}

export function eflagsForPush(cpu: CpuMmu): number {
  return cpu.getEflags() & ~F_RF;
}

/** Writes EFLAGS (POPF/IRET) honouring which bits the current privilege may change. */
export function setEflags(cpu: CpuMmu, v: number, mask: number): void {
  const cur = cpu.getEflags();
  let writable = mask;
  if (protectedMode(cpu)) {
    if (cpu.cpl > 0) writable &= ~(F_IOPL | F_VM);
    if (cpu.cpl > (cur & F_IOPL) >>> 12) writable &= ~F_IF;
  }
  const f = ((cur & ~writable) | (v & writable) | 2) & ~F_VM;
  cpu.flags = f;
  cpu.lazyMask = 0;
  if ((f & F_IF) !== 0) cpu.intrPending = cpu.intrPending || cpu.pic !== null;
  cpu.stopBlock = 1;
}

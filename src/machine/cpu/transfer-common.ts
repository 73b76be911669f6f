// The pieces every CS-changing transfer shares (interrupt-delivery.ts, far-call.ts,
// far-return.ts): loading CS and CPL, real-mode CS, writing and reading stack slots before ESP is
// committed, the inner-ring stack from the TSS (with ring compression's view of it), and the
// EFLAGS rules of PUSHF/POPF/IRET.
import type { CpuMmu } from '../mmu.ts';
import { Descriptor, protectedMode, readDescriptor, setSegment } from './segments.ts';
import { CS, SS, TR, F_IF, F_RF, F_VM, F_IOPL } from './state.ts';

// Scratch descriptors, shared by the transfer files as they were when these lived in one module:
// validateInnerStack leaves the new stack's descriptor in `stackDesc` for its caller. A transfer
// that faults throws before the next one starts, so no two transfers use them at once.
export const gate = new Descriptor();
export const code = new Descriptor();
export const stackDesc = new Descriptor();

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

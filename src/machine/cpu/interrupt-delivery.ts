// Interrupt and exception delivery (SDM vol. 3, 6.12): through the IVT in real mode, through the
// IDT in protected mode (interrupt and trap gates, with a stack switch through the TSS's SSn:ESPn
// for an inner ring; task gates switch tasks, task.ts). Under ring compression the guest's IDT is
// read through the VMM's view (cpu.rings: its IDTR, compress(), frameSelector()).
import type { CpuMmu } from '../mmu.ts';
import { TASK_INT, taskSwitch } from './task.ts';
import { protectedMode, readDescriptor, setAccessed, setSegment } from './segments.ts';
import { CS, SS, F_IF, F_NT, F_RF, F_TF, F_VM, F_AC } from './state.ts';
import { code, eflagsForPush, gate, loadCodeSegment, realModeCS, stackWrite } from './transfer-common.ts';
import { stackDesc, tssStack, validateInnerStack } from './stack-switch.ts';

/** Values of an interrupt frame, in push order. */
const frame = new Int32Array(8);

/** Writes frame[0..count) below `sp` on the stack at `ssBase` without touching ESP; returns the new SP. */
function pushFrame(
  cpu: CpuMmu,
  ssBase: number,
  sp: number,
  spMask: number,
  size: number,
  count: number,
  user: boolean,
): number {
  for (let k = 0; k < count; k++) {
    sp = (sp - size) & spMask;
    stackWrite(cpu, ssBase, sp, size, frame[k]!, user);
  }
  return sp;
}

/**
 * Delivers interrupt `vector`. `source`: 0 exception, 1 software INT n, 2 hardware (PIC).
 * cpu.eip must already be the return address (faulting instruction or next one).
 */
export function deliver(
  cpu: CpuMmu,
  vector: number,
  source: number,
  hasCode: boolean,
  errCode: number,
): void {
  if (!protectedMode(cpu)) {
    deliverReal(cpu, vector);
    return;
  }
  const ext = source === 1 ? 0 : 1;
  const idtErr = vector * 8 + 2 + ext;
  const rc = cpu.rings; // ring compression: the guest's IDT, seen through the VMM's view
  if (vector * 8 + 7 > (rc === null ? cpu.idtLimit : rc.idtLimit)) cpu.raise(13, idtErr);
  const addr = ((rc === null ? cpu.idtBase : rc.idtBase) + vector * 8) | 0;
  gate.lo = cpu.sysRead32(addr);
  gate.hi = cpu.sysRead32((addr + 4) | 0);
  if (rc !== null) rc.compress(cpu, gate);
  const type = (gate.hi >>> 8) & 0x1f;
  const is32 = type === 0x0e || type === 0x0f;
  if (type !== 0x0e && type !== 0x0f && type !== 0x06 && type !== 0x07 && type !== 0x05)
    cpu.raise(13, idtErr);
  if (source === 1 && gate.dpl < cpu.cpl) cpu.raise(13, vector * 8 + 2);
  if (!gate.present) cpu.raise(11, idtErr);
  if (type === 0x05) {
    taskSwitch(cpu, gate.gateSelector, TASK_INT, hasCode ? errCode : -1);
    return;
  }
  const trapGate = (type & 1) !== 0;
  const sel = gate.gateSelector;
  const offset = is32 ? gate.gateOffset : gate.gateOffset & 0xffff;
  if ((sel & ~3) === 0) cpu.raise(13, ext);
  readDescriptor(cpu, sel, code, 13);
  if (!code.isCode || code.dpl > cpu.cpl) cpu.raise(13, (sel & 0xfffc) + ext);
  if (!code.present) cpu.raise(11, (sel & 0xfffc) + ext);
  if (offset >>> 0 > code.limit) cpu.raise(13, ext);

  const oldFlags = eflagsForPush(cpu);
  const oldCS = rc === null ? cpu.segSel[CS]! : rc.frameSelector(cpu.segSel[CS]!);
  const oldEIP = cpu.eip;
  const size = is32 ? 4 : 2;
  const newCpl = code.conforming ? cpu.cpl : code.dpl;
  if (newCpl < cpu.cpl) {
    // Inner privilege: switch to SSn:ESPn from the TSS.
    const { ss, esp } = tssStack(cpu, newCpl, ext);
    validateInnerStack(cpu, ss, newCpl, ext);
    const ss32 = (stackDesc.access & 0x400) !== 0;
    const ssBase = stackDesc.base;
    const spMask = ss32 ? -1 : 0xffff;
    let k = 0;
    frame[k++] = cpu.segSel[SS]!;
    frame[k++] = cpu.regs[4]!;
    frame[k++] = oldFlags;
    frame[k++] = oldCS;
    frame[k++] = oldEIP;
    if (hasCode) frame[k++] = errCode;
    const sp = pushFrame(cpu, ssBase, esp, spMask, size, k, false);
    setAccessed(cpu, ss, stackDesc);
    setSegment(cpu, SS, ss, ssBase, stackDesc.limit, stackDesc.access);
    cpu.regs[4] = ss32 ? sp : (esp & ~0xffff) | sp;
    loadCodeSegment(cpu, sel, code, newCpl);
  } else {
    let k = 0;
    frame[k++] = oldFlags;
    frame[k++] = oldCS;
    frame[k++] = oldEIP;
    if (hasCode) frame[k++] = errCode;
    const sp = pushFrame(
      cpu,
      cpu.segBase[SS]!,
      cpu.regs[4]!,
      cpu.stack32 ? -1 : 0xffff,
      size,
      k,
      cpu.cpl === 3,
    );
    cpu.regs[4] = cpu.stack32 ? sp : (cpu.regs[4]! & ~0xffff) | (sp & 0xffff);
    loadCodeSegment(cpu, sel, code, cpu.cpl);
  }
  cpu.eip = offset;
  let f = cpu.getEflags() & ~(F_TF | F_NT | F_RF | F_VM);
  if (!trapGate) f &= ~F_IF;
  cpu.flags = f;
  cpu.lazyMask = 0;
}

function deliverReal(cpu: CpuMmu, vector: number): void {
  if (vector * 4 + 3 > cpu.idtLimit) cpu.raise(13, 0);
  const ip = cpu.sysRead16((cpu.idtBase + vector * 4) | 0);
  const cs = cpu.sysRead16((cpu.idtBase + vector * 4 + 2) | 0);
  const flags = eflagsForPush(cpu);
  const sp0 = cpu.regs[4]!;
  try {
    cpu.push16(flags);
    cpu.push16(cpu.segSel[CS]!);
    cpu.push16(cpu.eip);
  } catch (e) {
    cpu.regs[4] = sp0;
    throw e;
  }
  realModeCS(cpu, cs);
  cpu.eip = ip;
  cpu.flags = cpu.getEflags() & ~(F_IF | F_TF | F_AC);
  cpu.lazyMask = 0;
}

// Far JMP and far CALL (SDM vol. 2, JMP and CALL pseudo-code): to a code segment at the same
// privilege, through a call gate (CALL may go to an inner ring, switching stacks and copying the
// gate's parameters), or to a TSS / task gate (a task switch, task.ts).
import type { CpuMmu } from '../mmu.ts';
import { TASK_CALL, TASK_JMP, taskSwitch } from './task.ts';
import { protectedMode, readDescriptor, setAccessed, setSegment } from './segments.ts';
import { CS, SS } from './state.ts';
import { code, gate, loadCodeSegment, realModeCS, stackWrite } from './transfer-common.ts';
import { stackDesc, tssStack, validateInnerStack } from './stack-switch.ts';

/** Far JMP to sel:offset (operand size `size` bytes for gates). */
export function farJump(cpu: CpuMmu, sel: number, offset: number, size: number): void {
  sel &= 0xffff;
  if (!protectedMode(cpu)) {
    realModeCS(cpu, sel);
    cpu.eip = size === 2 ? offset & 0xffff : offset;
    return;
  }
  if ((sel & ~3) === 0) cpu.raise(13, 0);
  readDescriptor(cpu, sel, code);
  if (code.system) {
    const type = code.type;
    if (type === 9 || type === 5) return taskTarget(cpu, sel, TASK_JMP);
    checkCallGate(cpu, sel, type);
    const target = gate.gateSelector;
    offset = type === 0xc ? gate.gateOffset : gate.gateOffset & 0xffff;
    if ((target & ~3) === 0) cpu.raise(13, 0);
    readDescriptor(cpu, target, code);
    if (!code.isCode || (code.conforming ? code.dpl > cpu.cpl : code.dpl !== cpu.cpl))
      cpu.raise(13, target & 0xfffc);
    if (!code.present) cpu.raise(11, target & 0xfffc);
    if (offset >>> 0 > code.limit) cpu.raise(13, 0);
    loadCodeSegment(cpu, target, code, cpu.cpl);
    cpu.eip = offset;
    return;
  }
  checkCodeTarget(cpu, sel);
  if (offset >>> 0 > code.limit) cpu.raise(13, 0);
  loadCodeSegment(cpu, sel, code, cpu.cpl);
  cpu.eip = offset;
}

/** The call gate `sel` (descriptor in `code`) of a far JMP/CALL: type, DPL and presence; copied to `gate`. */
function checkCallGate(cpu: CpuMmu, sel: number, type: number): void {
  if (type !== 4 && type !== 0xc) cpu.raise(13, sel & 0xfffc);
  gate.lo = code.lo;
  gate.hi = code.hi;
  if (gate.dpl < cpu.cpl || gate.dpl < (sel & 3)) cpu.raise(13, sel & 0xfffc);
  if (!gate.present) cpu.raise(11, sel & 0xfffc);
}

/** Same-privilege code segment target of a far JMP/CALL: conforming DPL <= CPL, else RPL <= CPL and DPL = CPL. */
function checkCodeTarget(cpu: CpuMmu, sel: number): void {
  if (!code.isCode) cpu.raise(13, sel & 0xfffc);
  if (code.conforming) {
    if (code.dpl > cpu.cpl) cpu.raise(13, sel & 0xfffc);
  } else if ((sel & 3) > cpu.cpl || code.dpl !== cpu.cpl) cpu.raise(13, sel & 0xfffc);
  if (!code.present) cpu.raise(11, sel & 0xfffc);
}

/** Far CALL to sel:offset; `size` is the operand size in bytes (2 or 4). */
export function farCall(cpu: CpuMmu, sel: number, offset: number, size: number): void {
  sel &= 0xffff;
  const retCS = cpu.segSel[CS]!;
  const retIP = cpu.eip;
  if (!protectedMode(cpu)) {
    const sp0 = cpu.regs[4]!;
    try {
      if (size === 4) {
        cpu.push32(retCS);
        cpu.push32(retIP);
      } else {
        cpu.push16(retCS);
        cpu.push16(retIP);
      }
    } catch (e) {
      cpu.regs[4] = sp0;
      throw e;
    }
    realModeCS(cpu, sel);
    cpu.eip = size === 2 ? offset & 0xffff : offset;
    return;
  }
  if ((sel & ~3) === 0) cpu.raise(13, 0);
  readDescriptor(cpu, sel, code);
  if (!code.system) {
    checkCodeTarget(cpu, sel);
    if (offset >>> 0 > code.limit) cpu.raise(13, 0);
    pushReturn(cpu, size, retCS, retIP);
    loadCodeSegment(cpu, sel, code, cpu.cpl);
    cpu.eip = offset;
    return;
  }
  const type = code.type;
  if (type === 9 || type === 5) return taskTarget(cpu, sel, TASK_CALL);
  checkCallGate(cpu, sel, type);
  const gsize = type === 0xc ? 4 : 2;
  const target = gate.gateSelector;
  const params = gate.gateParams;
  offset = gsize === 4 ? gate.gateOffset : gate.gateOffset & 0xffff;
  if ((target & ~3) === 0) cpu.raise(13, 0);
  readDescriptor(cpu, target, code);
  if (!code.isCode || code.dpl > cpu.cpl) cpu.raise(13, target & 0xfffc);
  if (!code.present) cpu.raise(11, target & 0xfffc);
  if (offset >>> 0 > code.limit) cpu.raise(13, 0);
  if (!code.conforming && code.dpl < cpu.cpl) {
    const newCpl = code.dpl;
    const { ss, esp } = tssStack(cpu, newCpl, 0);
    validateInnerStack(cpu, ss, newCpl, 0);
    const ss32 = (stackDesc.access & 0x400) !== 0;
    const spMask = ss32 ? -1 : 0xffff;
    // Copy the parameters from the old stack before switching.
    const oldSS = cpu.segSel[SS]!,
      oldESP = cpu.regs[4]!;
    const args: number[] = [];
    for (let i = params - 1; i >= 0; i--) {
      const off = cpu.stackAddr(i * gsize);
      args.push(gsize === 4 ? cpu.rd32(SS, off) : cpu.rd16(SS, off));
    }
    let sp = esp;
    const push = (v: number) => {
      sp = (sp - gsize) & spMask;
      stackWrite(cpu, stackDesc.base, sp, gsize, v, false);
    };
    push(oldSS);
    push(oldESP);
    for (const a of args) push(a);
    push(retCS);
    push(retIP);
    setAccessed(cpu, ss, stackDesc);
    setSegment(cpu, SS, ss, stackDesc.base, stackDesc.limit, stackDesc.access);
    cpu.regs[4] = ss32 ? sp : (esp & ~0xffff) | sp;
    loadCodeSegment(cpu, target, code, newCpl);
  } else {
    pushReturn(cpu, gsize, retCS, retIP);
    loadCodeSegment(cpu, target, code, cpu.cpl);
  }
  cpu.eip = offset;
}

function pushReturn(cpu: CpuMmu, size: number, cs: number, ip: number): void {
  let sp = cpu.regs[4]!;
  const spMask = cpu.stack32 ? -1 : 0xffff;
  const user = cpu.cpl === 3;
  sp = (sp - size) & spMask;
  stackWrite(cpu, cpu.segBase[SS]!, sp, size, cs, user);
  sp = (sp - size) & spMask;
  stackWrite(cpu, cpu.segBase[SS]!, sp, size, ip, user);
  cpu.regs[4] = cpu.stack32 ? sp : (cpu.regs[4]! & ~0xffff) | (sp & 0xffff);
}

/** Far JMP/CALL to a TSS descriptor (type 9) or a task gate (type 5) in `code`. */
function taskTarget(cpu: CpuMmu, sel: number, kind: number): void {
  if (code.dpl < cpu.cpl || code.dpl < (sel & 3)) cpu.raise(13, sel & 0xfffc);
  if (!code.present) cpu.raise(11, sel & 0xfffc);
  taskSwitch(cpu, code.type === 5 ? code.gateSelector : sel, kind);
}

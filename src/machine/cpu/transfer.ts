// Control transfers that can change CS: interrupt and exception delivery through the IVT or IDT
// (interrupt/trap gates, stack switch through the TSS's SSn:ESPn), far JMP/CALL (code segments
// and call gates), far RET and IRET to the same or an outer ring (SDM vol. 3, 6.12; vol. 2 JMP,
// CALL, RET, IRET pseudo-code). Task gates and TSS targets switch tasks (task.ts).
import type { CpuMmu } from '../mmu.ts';
import { TASK_CALL, TASK_INT, TASK_IRET, TASK_JMP, taskSwitch } from './task.ts';
import {
  Descriptor,
  loadDataSegment,
  protectedMode,
  readDescriptor,
  setAccessed,
  setSegment,
} from './segments.ts';
import { CS, DS, ES, FS, GS, SS, TR, F_IF, F_NT, F_RF, F_TF, F_VM, F_IOPL, F_AC, STATUS } from './state.ts';

const gate = new Descriptor();
const code = new Descriptor();
const stackDesc = new Descriptor();

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

function realModeCS(cpu: CpuMmu, sel: number): void {
  sel &= 0xffff;
  cpu.segSel[CS] = sel;
  cpu.segBase[CS] = sel << 4;
  cpu.stopBlock = 1;
  cpu.epoch++;
}

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

/** Writes a value onto a stack given by base/offset without touching ESP (used before committing). */
function stackWrite(cpu: CpuMmu, ssBase: number, sp: number, size: number, v: number, user: boolean): void {
  const lin = (ssBase + sp) | 0;
  if (size === 4) user ? cpu.writeLin32(lin, v) : cpu.sysWrite32(lin, v);
  else user ? cpu.writeLin16(lin, v) : cpu.sysWrite16(lin, v);
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

/** SSn:ESPn of the current TSS for ring `n`. */
function tssStack(cpu: CpuMmu, cpl: number, ext: number): { ss: number; esp: number } {
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

function validateInnerStack(cpu: CpuMmu, ss: number, cpl: number, ext: number): void {
  if ((ss & ~3) === 0) cpu.raise(10, ext);
  readDescriptor(cpu, ss, stackDesc, 10);
  if ((ss & 3) !== cpl || stackDesc.dpl !== cpl || stackDesc.system || stackDesc.isCode || !stackDesc.rw) {
    cpu.raise(10, (ss & 0xfffc) + ext);
  }
  if (!stackDesc.present) cpu.raise(12, (ss & 0xfffc) + ext);
}

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
    if (type !== 4 && type !== 0xc) cpu.raise(13, sel & 0xfffc);
    gate.lo = code.lo;
    gate.hi = code.hi;
    if (gate.dpl < cpu.cpl || gate.dpl < (sel & 3)) cpu.raise(13, sel & 0xfffc);
    if (!gate.present) cpu.raise(11, sel & 0xfffc);
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
  if (type !== 4 && type !== 0xc) cpu.raise(13, sel & 0xfffc);
  gate.lo = code.lo;
  gate.hi = code.hi;
  if (gate.dpl < cpu.cpl || gate.dpl < (sel & 3)) cpu.raise(13, sel & 0xfffc);
  if (!gate.present) cpu.raise(11, sel & 0xfffc);
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

function readStack(cpu: CpuMmu, delta: number, size: number): number {
  const off = cpu.stackAddr(delta);
  return size === 4 ? cpu.rd32(SS, off) : cpu.rd16(SS, off);
}

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

export { loadDataSegment, DS };

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

/** Far JMP/CALL to a TSS descriptor (type 9) or a task gate (type 5) in `code`. */
function taskTarget(cpu: CpuMmu, sel: number, kind: number): void {
  if (code.dpl < cpu.cpl || code.dpl < (sel & 3)) cpu.raise(13, sel & 0xfffc);
  if (!code.present) cpu.raise(11, sel & 0xfffc);
  taskSwitch(cpu, code.type === 5 ? code.gateSelector : sel, kind);
}

// Interrupt and exception dispatch, the CPU's side of it: the double- and triple-fault rules,
// servicing the PIC's INTR (or the hypervisor's injection), HLT wake-up, the single-step trap,
// INT n, the 'exception', 'pagefault', 'interrupt', 'mode', 'shutdown' and '#UD warning' events.
// Delivery itself (the IVT/IDT, gates, stack frames) is interrupt-delivery.ts. Free functions of
// the Cpu: the run loops in cpu.ts call them between blocks, never per instruction; the Cpu's
// public exception()/softwareInterrupt()/modeChanged()/undefinedOpcode() call them.
import { KIND_BIT } from '../../trace/schema.ts';
import type { Cpu } from './cpu.ts';
import { deliver } from './transfer.ts';
import { CS, F_IF, FAULT, CR0_PE, CR0_PG } from './state.ts';

/** The contributory exceptions (#DE, #TS, #NP, #SS, #GP) of the double-fault rule. */
function contributory(v: number): boolean {
  return v === 0 || (v >= 10 && v <= 13);
}

/** HLT: wakes when an interrupt can be taken. */
export function wakeFromHalt(cpu: Cpu): boolean {
  if ((cpu.flags & F_IF) === 0 || cpu.pic === null || !cpu.pic.hasInterrupt()) return false;
  cpu.halted = false;
  cpu.intrPending = true;
  return true;
}

export function serviceInterrupt(cpu: Cpu): void {
  if (cpu.guest !== null) {
    cpu.guest.interrupt(cpu); // guest mode: the hypervisor injects from the VM's virtual PIC
    return;
  }
  const pic = cpu.pic;
  if (pic === null || !pic.hasInterrupt()) {
    cpu.intrPending = false;
    return;
  }
  const vector = pic.acknowledge() & 0xff;
  cpu.halted = false;
  if ((cpu.emitter.mask & KIND_BIT.interrupt) !== 0) cpu.emitter.emit('interrupt', { vector, source: 'pic' });
  try {
    deliver(cpu, vector, 2, false, 0);
  } catch (e) {
    if (e !== FAULT) throw e;
    deliverException(cpu, cpu.excVector, cpu.excHasCode, cpu.excCode);
  }
  cpu.stopBlock = 0;
}

/** EFLAGS.TF was set before the instruction just retired: #DB trap (DR6.BS) after it. */
export function singleStepTrap(cpu: Cpu): void {
  cpu.stopBlock = 0;
  cpu.dr[6] = cpu.dr[6]! | 0x4000;
  deliverException(cpu, 1, false, 0);
}

/** INT n / INT3 / INTO: called by the instruction with EIP at the next instruction. */
export function deliverSoftwareInterrupt(cpu: Cpu, vector: number): void {
  if ((cpu.emitter.mask & KIND_BIT.interrupt) !== 0)
    cpu.emitter.emit('interrupt', { vector, source: 'software' });
  deliver(cpu, vector, 1, false, 0);
  cpu.stopBlock = 1;
}

/** Delivers an exception with the double- and triple-fault rules (SDM vol. 3, table 6-5). */
export function deliverException(cpu: Cpu, vector: number, hasCode: boolean, code: number): void {
  // Guest mode: the hypervisor's exception bitmap (and unwound exits, VMEXIT_VECTOR) first.
  if (cpu.guest !== null && cpu.guest.exception(cpu, vector, hasCode, code)) return;
  let first = -1;
  for (;;) {
    emitException(cpu, vector, hasCode, code);
    try {
      deliver(cpu, vector, 0, hasCode, code);
      cpu.stopBlock = 0;
      return;
    } catch (e) {
      if (e !== FAULT) throw e;
      const second = cpu.excVector;
      if (vector === 8) {
        tripleFault(cpu);
        return;
      }
      first = vector;
      if (
        (contributory(first) && contributory(second)) ||
        (first === 14 && (second === 14 || contributory(second)))
      ) {
        emitException(cpu, second, cpu.excHasCode, cpu.excCode);
        vector = 8;
        hasCode = true;
        code = 0;
      } else {
        vector = second;
        hasCode = cpu.excHasCode;
        code = cpu.excCode;
      }
    }
  }
}

function emitException(cpu: Cpu, vector: number, hasCode: boolean, code: number): void {
  const em = cpu.emitter;
  if ((em.mask & KIND_BIT.exception) !== 0) {
    em.emit(
      'exception',
      hasCode
        ? { vector, errorCode: code, eip: cpu.eip >>> 0, cs: cpu.segSel[CS]! }
        : { vector, eip: cpu.eip >>> 0, cs: cpu.segSel[CS]! },
    );
  }
  if (vector === 14 && cpu.pageFaultReported) {
    cpu.pageFaultReported = false; // guest mode: the hypervisor reported it (outcome 'injected')
  } else if (vector === 14 && (em.mask & KIND_BIT.pagefault) !== 0) {
    em.emit('pagefault', { outcome: 'bare', linear: cpu.cr2 >>> 0, errorCode: code, eip: cpu.eip >>> 0 });
  }
}

function tripleFault(cpu: Cpu): void {
  cpu.shutdown = true;
  cpu.stopBlock = 0;
  if ((cpu.emitter.mask & KIND_BIT.shutdown) !== 0) cpu.emitter.emit('shutdown', { reason: 'triple-fault' });
}

/** Emits a 'mode' event when CR0.PE or CR0.PG changed. */
export function reportModeChange(cpu: Cpu): void {
  const m = cpu.cr0 & (CR0_PE | CR0_PG);
  if (m === cpu.lastMode) return;
  cpu.lastMode = m;
  if ((cpu.emitter.mask & KIND_BIT.mode) !== 0) {
    cpu.emitter.emit('mode', {
      mode: (m & CR0_PE) !== 0 ? 'protected' : 'real',
      paging: (m & CR0_PG) !== 0,
      cr0: cpu.cr0 >>> 0,
    });
  }
}

/** #UD for bytes the CPU does not implement, with a warning event naming them. */
export function raiseUndefinedOpcode(cpu: Cpu, bytes: number[], eip: number): never {
  if ((cpu.emitter.mask & KIND_BIT.warning) !== 0) {
    const hex = bytes.map((x) => x.toString(16).padStart(2, '0')).join(' ');
    cpu.emitter.emit('warning', {
      message: `#UD: unsupported or invalid instruction bytes ${hex}`,
      eip: eip >>> 0,
      bytes,
    });
  }
  return cpu.raise(6);
}

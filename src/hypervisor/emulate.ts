// Instruction emulation in the VMM: what the handlers of unwound exits do before resuming the
// guest after the instruction. Each leaves the guest exactly where bare metal would (CPUID,
// RDMSR/WRMSR, INVLPG) or, for a deprivileged guest kernel, where ring 1 would (the
// Popek-Goldberg hole: POPF, PUSHF, SGDT/SIDT, SMSW, MOV from CS/SS behave as they do at CPL 1).
import type { Cpu } from '../machine/cpu/cpu.ts';
import type { GuestSite } from '../machine/cpu/guest-mode.ts';
import { Decoded, decode } from '../x86/decode.ts';
import { O_MEM, ea, operand, writeReg } from '../machine/cpu/operands.ts';
import { setEflags } from '../machine/cpu/transfer.ts';
import { CS, SS } from '../machine/cpu/state.ts';

/** Where the VMM keeps its own descriptor tables in every guest's linear space (deprivilege). */
export const VMM_GDT_BASE = 0xffc01000;
export const VMM_IDT_BASE = 0xffc02000;
const F_IF = 0x200, F_IOPL = 0x3000;

const dec = new Decoded();

/** Decodes the guest instruction at `site` (it just ran into an exit, so its bytes are mapped). */
export function decodeSite(cpu: Cpu, site: GuestSite): Decoded {
  const base = cpu.segBase[CS]!;
  decode(dec, (i) => (i < 15 ? cpu.readLin8((base + site.eip + i) | 0) : -1), cpu.code32 ? 32 : 16);
  return dec;
}

/** CPUID as this 486 answers it on bare metal (exec-system.ts), so guests see the same CPU. */
export function emulateCpuid(cpu: Cpu): void {
  const r = cpu.regs;
  if (r[0] === 0) {
    r[0] = 1; r[3] = 0x756e6547; r[2] = 0x49656e69; r[1] = 0x6c65746e;
  } else {
    r[0] = 0x480; r[3] = 0; r[1] = 0; r[2] = 0x38;
  }
}

/** RDMSR/WRMSR: only the TSC (MSR 0x10) exists, as on bare metal; anything else is #GP(0). */
export function emulateMsr(cpu: Cpu, write: boolean): void {
  const r = cpu.regs;
  if (r[1] !== 0x10) cpu.raise(13, 0);
  if (!write) {
    const t = cpu.instructions + cpu.tscOffset;
    r[0] = t % 4294967296 | 0;
    r[2] = Math.floor(t / 4294967296) | 0;
  } else {
    cpu.tscOffset = (r[2]! >>> 0) * 4294967296 + (r[0]! >>> 0) - cpu.instructions;
  }
}

/** The linear address an INVLPG names. */
export function invlpgTarget(cpu: Cpu, site: GuestSite): number {
  const d = decodeSite(cpu, site);
  const o = operand(d, d.row!.operands[0]!);
  return (cpu.segBase[o.seg]! + ea(cpu, o)) | 0;
}

// ---- the hole: sensitive instructions at ring 1 ---------------------------------------------

/** POPF at CPL 1 with IOPL 0: IF and IOPL silently keep their old values. Returns true if IF was dropped. */
export function popfRing1(cpu: Cpu, site: GuestSite): boolean {
  const old = cpu.getEflags();
  const v = site.opsize === 32 ? cpu.pop32() : cpu.pop16();
  const kept = (v & ~(F_IF | F_IOPL)) | (old & (F_IF | F_IOPL));
  setEflags(cpu, kept, site.opsize === 32 ? 0x247fd5 : 0x7fd5);
  return ((v ^ old) & (F_IF | F_IOPL)) !== 0;
}

/** PUSHF in a deprivileged kernel shows the real flags: IF set (the VMM keeps interrupts on), IOPL 0. */
export function pushfRing1(cpu: Cpu, site: GuestSite): boolean {
  const f = cpu.getEflags() & ~0x30000;
  const real = (f | F_IF) & ~F_IOPL;
  if (site.opsize === 32) cpu.push32(real); else cpu.push16(real);
  return real !== f;
}

/** SGDT/SIDT reveal the VMM's tables, not the guest's (they are not privileged). */
export function storeTableRing1(cpu: Cpu, site: GuestSite): boolean {
  const d = decodeSite(cpu, site);
  const o = operand(d, d.row!.operands[0]!);
  const a = ea(cpu, o);
  const gdt = site.op === 'sgdt';
  cpu.checkWrite(o.seg, a, 6);
  cpu.wr16(o.seg, a, gdt ? 0xfff : 0x7ff);
  cpu.wr32(o.seg, (a + 2) & o.am, gdt ? VMM_GDT_BASE | 0 : VMM_IDT_BASE | 0);
  return true;
}

/** SMSW shows the real CR0: the VMM runs with PE, PG and WP set. */
export function smswRing1(cpu: Cpu, site: GuestSite): boolean {
  const d = decodeSite(cpu, site);
  const o = operand(d, d.row!.operands[0]!);
  const real = cpu.cr0 | 0x80010001;
  if (o.kind === O_MEM) cpu.wr16(o.seg, ea(cpu, o), real & 0xffff);
  else writeReg(cpu, o, real);
  return real !== cpu.cr0;
}

/** MOV r/m, CS or SS shows RPL 1: the CPU's real privilege level. */
export function movFromSegRing1(cpu: Cpu, site: GuestSite): boolean {
  const d = decodeSite(cpu, site);
  const dst = operand(d, d.row!.operands[0]!);
  const s = d.reg;
  let v = cpu.segSel[s]! & 0xffff;
  const leaks = s === CS || s === SS;
  if (leaks) v = (v & ~3) | 1;
  if (dst.kind === O_MEM) cpu.wr16(dst.seg, ea(cpu, dst), v);
  else writeReg(cpu, dst, v);
  return leaks;
}

/** PUSH CS / PUSH SS push the selector with RPL 1. */
export function pushSegRing1(cpu: Cpu, site: GuestSite): boolean {
  const d = decodeSite(cpu, site);
  const s = operand(d, d.row!.operands[0]!).reg;
  let v = cpu.segSel[s]! & 0xffff;
  const leaks = s === CS || s === SS;
  if (leaks) v = (v & ~3) | 1;
  if (site.opsize === 32) cpu.push32(v); else cpu.push16(v);
  return leaks;
}

// Instruction emulation in the VMM: what the handlers of unwound exits do before resuming the
// guest after the instruction (CPUID, RDMSR/WRMSR, INVLPG), each leaving the guest exactly where
// bare metal would. A deprivileged guest kernel's traps are emulated in deprivilege-emulate.ts.
import type { Cpu } from '../machine/cpu/cpu.ts';
import type { GuestSite } from '../machine/cpu/guest-mode.ts';
import { Decoded, decode } from '../x86/decode.ts';
import { ea, operand } from '../machine/cpu/operands.ts';
import { CS } from '../machine/cpu/state.ts';

export { VMM_GDT_BASE, VMM_IDT_BASE } from './ring-compression.ts';

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

// Guest mode: the CPU's side of the hypervisor contract (like VMX non-root operation).
// A Cpu whose `guest` field is non-null runs a vCPU: the hypervisor's GuestMode object is asked
// at the few points where real hardware consults the VMCS execution controls. A bare machine
// pays one null check at each of those points, none of which is on the hot path:
//   - sensitive, privileged and I/O instructions and CPUID (compile.ts wraps only those rows),
//   - exception delivery (the exception bitmap),
//   - external-interrupt acceptance (interrupt injection),
//   - a TLB miss (translation: shadow tables or the two-dimensional nested walk).
// Everything else (the decoded-block cache, lazy flags, the TLB fast path) is shared unchanged.
import type { Decoded } from '../../x86/decode.ts';
import type { Cpu } from './cpu.ts';
import type { Descriptor } from './segments.ts';
import type { CpuMmu } from '../mmu.ts';
import type { Exec } from './compile.ts';
import { PAGE_RAM } from '../memory.ts';

/** Pseudo exception vector that unwinds an instruction into a VM exit (EIP at the instruction). */
export const VMEXIT_VECTOR = 0x100;

/** What the hypervisor learns about an instruction that consults the exit controls. */
export interface GuestSite {
  /** The opcode table row's op key ('mov_to_cr', 'in', 'cpuid', 'popf' ...). */
  readonly op: string;
  /** The row's RowFlag bits (PRIV, SENSITIVE, IO ...). */
  readonly flags: number;
  /** EIP of the instruction and its length in bytes. */
  readonly eip: number;
  readonly length: number;
  /** ModRM reg and rm fields (CR number and general register for MOV CR). */
  readonly reg: number;
  readonly rm: number;
  /** Operand size in bits (16 or 32). */
  readonly opsize: number;
  /** I/O instructions: the fixed port (IN/OUT imm8), or -1 when the port is DX. */
  readonly port: number;
  /** I/O instructions: the access size in bytes. */
  readonly ioSize: number;
}

export interface GuestMode {
  /**
   * A sensitive, privileged, I/O or CPUID instruction is about to run (after its CPL check).
   * Return to let it execute natively (after any bookkeeping), or record an exit and call
   * `cpu.raise(VMEXIT_VECTOR)`: the instruction is abandoned with EIP at its first byte and
   * `exception()` is called with VMEXIT_VECTOR.
   */
  instruction(cpu: Cpu, site: GuestSite): void;
  /**
   * An exception (or VMEXIT_VECTOR) is about to be delivered. Return true when the exception
   * bitmap intercepts it: the hypervisor has recorded an exit and called cpu.requestStop().
   */
  exception(cpu: Cpu, vector: number, hasCode: boolean, code: number): boolean;
  /**
   * A TLB miss for `lin`: return the TLB entry ((host physical page << 12) | T_* bits), or throw
   * through cpu.raise (a #PF for the guest, with cr2 set) when the guest's own tables forbid it.
   */
  translate(cpu: CpuMmu, lin: number, write: boolean, user: boolean): number;
  /** The CPU could take an external interrupt now (IF=1, no interrupt shadow): inject one. */
  interrupt(cpu: Cpu): void;
  /**
   * Snapshots: runs `fn` (saving or, with `load`, loading the CPU's state) on the guest's own
   * architectural view. A hypervisor that runs the guest differently from how the guest sees
   * itself (ring compression) undoes that around a save; after a load its next VM entry redoes it.
   */
  guestView?<T>(cpu: Cpu, fn: () => T, load: boolean): T;
}

/**
 * Ring compression (a deprivileged guest kernel running at CPL 1, as classic VMMs did it). While
 * `cpu.rings` is set, the CPU's GDTR and IDTR hold the VMM's own tables, and every descriptor
 * the CPU reads for the guest comes from the guest's tables through this view: a "shadow"
 * GDT/LDT/IDT in which DPL 0 reads as DPL 1. A bare machine pays one null check per descriptor
 * read (segments.ts, transfer.ts, exec-system.ts), none of them on the hot path.
 */
export interface RingCompression {
  /** The guest's own GDTR and IDTR (recorded by the VMM when it emulated LGDT/LIDT). */
  readonly gdtBase: number;
  readonly gdtLimit: number;
  readonly idtBase: number;
  readonly idtLimit: number;
  /** A descriptor or gate just read from the guest's tables: rewrite it as the CPU sees it. */
  compress(cpu: CpuMmu, d: Descriptor): void;
  /** The TSS ring whose SS:ESP an inner-privilege transfer to CPL `cpl` takes. */
  stackRing(cpl: number): number;
  /** That stack's SS selector as the CPU loads it (RPL = the compressed CPL). */
  stackSelector(ss: number, cpl: number): number;
  /** The CS selector an interrupt or exception frame shows the guest's handler. */
  frameSelector(cs: number): number;
}

/** Wraps an instruction's closure so that, in guest mode, the hypervisor sees it first. */
export function guestWrap(inner: Exec, d: Decoded, next: number): Exec {
  const length = Math.max(1, d.length);
  const row = d.row!;
  let port = -1, ioSize = d.opsize >> 3;
  if (row.op === 'in' || row.op === 'out') {
    const data = row.op === 'in' ? row.operands[0] : row.operands[1];
    const portKind = row.op === 'in' ? row.operands[1] : row.operands[0];
    if (data === 'AL') ioSize = 1;
    if (portKind !== 'DX') port = d.imm & 0xff;
  } else if (row.op === 'ins' || row.op === 'outs') {
    const data = String(row.op === 'ins' ? row.operands[0] : row.operands[1]);
    if (data.endsWith('b')) ioSize = 1;
  }
  const site: GuestSite = {
    op: row.op, flags: row.flags, eip: (next - length) | 0, length,
    reg: d.reg, rm: d.rm, opsize: d.opsize, port, ioSize,
  };
  return (c) => {
    if (c.guest !== null) c.guest.instruction(c, site);
    inner(c);
  };
}

/** T_* kind bits of a host page for a TLB entry (MMIO or nothing: slow path; decoded code: write check). */
export function hostPageKindBits(cpu: CpuMmu, hostPage: number): number {
  if (cpu.memory.pageKind(hostPage) !== PAGE_RAM) return 16; // T_MMIO
  return cpu.codePages[hostPage] !== 0 ? 64 : 0; // T_CODE
}

// Trap and emulate for a deprivileged guest kernel (ring-compression.ts). A privileged instruction
// the guest kernel runs at CPL 1 faults natively (#GP; #NP for a return to its hidden user code);
// the exception reaches the VMM, which decodes the instruction at EIP (src/x86/decode.ts) and
// emulates it on the guest's architectural state: it restores the guest's view (CPL 0, its own
// GDTR/IDTR), runs the instruction with ring-0 semantics through the CPU's own implementation
// of it (compile.ts: one implementation of each instruction, not a second one here), then
// compresses again. If the emulation itself faults, that fault is the one bare metal would have
// raised, and it is delivered to the guest exactly as bare metal would deliver it (a real
// protection error is reflected unchanged). A #GP from guest ring 3 is the guest's own (vcpu.ts
// lets the CPU deliver it through the guest's IDT) unless it is an I/O instruction: the guest's
// TSS may have an I/O permission bitmap, which only the VMM can consult (ring-compression.ts).
//
// The hole monitor watches the sensitive instructions the guest kernel runs natively at CPL 1
// (POPF, SGDT/SIDT, MOV from and PUSH of CS/SS, LAR) and counts the ones whose outcome differs
// from ring 0's. It only observes: the misbehaviour is the CPU's own.
import type { Cpu } from '../machine/cpu/cpu.ts';
import type { GuestSite } from '../machine/cpu/guest-mode.ts';
import { compile, setsEip, type Exec } from '../machine/cpu/compile.ts';
import { Decoded, decode } from '../x86/decode.ts';
import { descriptorAddress } from '../machine/cpu/segments.ts';
import { addrOf, operand, readAt } from '../machine/cpu/operands.ts';
import { CS, F_IF, F_IOPL, FAULT } from '../machine/cpu/state.ts';
import { KIND_BIT } from '../trace/schema.ts';
import type { RingCompressor } from './ring-compression.ts';
import type { Vcpu } from './vcpu.ts';

interface Compiled {
  exec: Exec;
  length: number;
  next: number;
  setsEip: boolean;
}

const MAX_CACHED = 4096;

export class DeprivilegeEmulator {
  private readonly dec = new Decoded();
  /** Compiled instructions by EIP, mode and bytes (guest kernels trap at few places, often). */
  private readonly cache = new Map<string, Compiled>();

  constructor(private readonly vcpu: Vcpu, private readonly rings: RingCompressor) {}

  /**
   * A #GP or #NP from the guest kernel at CPL 1 (or a ring-3 I/O #GP, see isIoAt): emulate the
   * instruction at EIP on the guest's own view.
   */
  trap(cpu: Cpu, vector: number): void {
    const vcpu = this.vcpu;
    const eip = cpu.eip;
    let exited = false;
    this.rings.leave();
    vcpu.emulating = true;
    try {
      const c = this.compileAt(cpu, eip);
      vcpu.exit(cpu, 'EXCEPTION_NMI', vector, (vcpu.costs.handler.EXCEPTION_NMI ?? 0) + vcpu.costs.emulate, { instructionLength: c.length, eip });
      exited = true;
      cpu.repLimit = 0x40000000; // a REP string instruction completes in one emulation
      c.exec(cpu);
      if (!c.setsEip) cpu.eip = c.next;
      cpu.instructions++;
    } catch (e) {
      if (e !== FAULT) throw e;
      if (!exited) vcpu.exit(cpu, 'EXCEPTION_NMI', vector, vcpu.costs.handler.EXCEPTION_NMI ?? 0, { eip });
      // What the instruction does at ring 0 on bare metal: this fault, delivered by the CPU.
      cpu.eip = eip;
      cpu.exception(cpu.excVector, cpu.excHasCode, cpu.excCode);
    } finally {
      cpu.repLimit = 1;
      vcpu.emulating = false;
      this.rings.enter();
    }
  }

  /**
   * A #GP in guest ring 3 at an I/O instruction: the CPU's (the VMM's) TSS has no I/O bitmap, so
   * the VMM checks the guest's own by emulating the instruction on the guest's view (trap()).
   */
  isIoAt(cpu: Cpu): boolean {
    const base = cpu.segBase[CS]!, eip = cpu.eip;
    decode(this.dec, (k) => (k < 15 && ((eip + k) >>> 0) <= cpu.segLimit[CS]! ? cpu.readLin8((base + eip + k) | 0) : -1), cpu.code32 ? 32 : 16);
    const op = this.dec.row?.op;
    return op === 'in' || op === 'out' || op === 'ins' || op === 'outs';
  }

  /** Decodes the instruction at CS:`eip` (faults like the fetch would) and compiles it. */
  private compileAt(cpu: Cpu, eip: number): Compiled {
    const bits = cpu.code32 ? 32 : 16;
    const bytes: number[] = [];
    if (eip >>> 0 > cpu.segLimit[CS]!) cpu.raise(13, 0);
    const base = cpu.segBase[CS]!;
    decode(this.dec, (k) => {
      // Fetched on demand, as the CPU would: only the instruction's own bytes (later ones may be unmapped).
      while (bytes.length <= k) {
        if (k >= 15 || ((eip + bytes.length) >>> 0) > cpu.segLimit[CS]!) return -1;
        bytes.push(cpu.readLin8((base + eip + bytes.length) | 0));
      }
      return bytes[k]!;
    }, bits);
    const d = this.dec;
    const length = Math.max(1, d.length);
    const key = `${eip}:${bits}:${bytes.slice(0, length).join(',')}`;
    let c = this.cache.get(key);
    if (c === undefined) {
      const next = (eip + length) & (cpu.code32 ? -1 : 0xffff);
      c = { exec: compile(cpu, d, bytes.slice(0, length), next), length, next, setsEip: setsEip(d) };
      if (this.cache.size >= MAX_CACHED) this.cache.clear();
      this.cache.set(key, c);
    }
    return c;
  }

  // ---- the hole monitor ----------------------------------------------------------------------

  /** A sensitive instruction about to run natively in the compressed guest kernel. */
  observe(cpu: Cpu, s: GuestSite): void {
    let leaks = false;
    switch (s.op) {
      case 'popf': {
        // At CPL 1 IOPL never changes, and IF only when IOPL >= 1: the rest of the value is kept.
        const v = s.opsize === 32 ? cpu.rd32(2, cpu.stackAddr(0)) : cpu.rd16(2, cpu.stackAddr(0));
        const cur = cpu.getEflags();
        const lost = F_IOPL | ((cur & F_IOPL) >>> 12 < 1 ? F_IF : 0);
        leaks = ((v ^ cur) & lost) !== 0;
        break;
      }
      case 'sgdt': case 'sidt':
        leaks = true; // the VMM's table, never the guest's
        break;
      case 'mov_from_seg': case 'push_seg':
        leaks = showsRpl(cpu, s); // CS and SS carry RPL 1
        break;
      case 'lar':
        leaks = this.larDiffers(cpu, s);
        break;
      default:
        return; // PUSHF (EFLAGS are the guest's), SMSW (CR0 is the guest's), SLDT, STR: no difference
    }
    if (!leaks) return;
    this.vcpu.stats.holeHits++;
    const em = this.vcpu.emitter;
    if ((em.mask & KIND_BIT.warning) !== 0) {
      em.emit('warning', { message: `Popek-Goldberg hole: ${s.op.toUpperCase()} ran at ring 1 and behaved differently`, eip: s.eip >>> 0 });
    }
  }

  /** LAR shows the descriptor's DPL and P bit: compressed (DPL 0 as 1, user code absent). */
  private larDiffers(cpu: Cpu, s: GuestSite): boolean {
    const d = this.dec;
    const base = cpu.segBase[CS]!;
    decode(d, (i) => (i < 15 ? cpu.readLin8((base + s.eip + i) | 0) : -1), cpu.code32 ? 32 : 16);
    const o = operand(d, d.row!.operands[1]!);
    const sel = readAt(cpu, o, addrOf(cpu, o)) & 0xffff;
    if ((sel & ~3) === 0) return false;
    const addr = descriptorAddress(cpu, sel);
    if (addr === -1) return false;
    const hi = cpu.sysRead32((addr + 4) | 0);
    const dpl = (hi >>> 13) & 3;
    return dpl === 0 || (dpl >= 2 && (hi & 0x1800) === 0x1800);
  }
}

/** MOV from / PUSH of CS or SS (the selector's RPL is the CPL). */
export function showsRpl(cpu: Cpu, s: GuestSite): boolean {
  if (s.op === 'mov_from_seg') return s.reg === 1 || s.reg === 2;
  let lin = (cpu.segBase[CS]! + s.eip) | 0;
  let b = cpu.readLin8(lin);
  while (b === 0x66 || b === 0x67) b = cpu.readLin8((lin = (lin + 1) | 0)); // operand/address size
  return b === 0x0e || b === 0x16;
}

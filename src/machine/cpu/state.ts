// The register file and the lazily computed arithmetic flags: the innermost layer of the CPU.
// Everything the hot loop touches is a plain field or a typed array on one class, so V8 keeps
// every access monomorphic. mmu.ts extends this with memory access, cpu.ts with execution.
import type { Memory } from '../memory.ts';
import type { IoBus, InterruptController } from '../bus.ts';
import type { Emitter } from '../../trace/emitter.ts';

// Segment register indices (as in Sreg encodings), plus the two system segment caches.
export const ES = 0,
  CS = 1,
  SS = 2,
  DS = 3,
  FS = 4,
  GS = 5,
  LDTR = 6,
  TR = 7;
// General registers: index 8 is a constant zero, so an addressing form without base or index
// still computes `regs[b] + (regs[i] << s) + disp` with one code shape.
export const EAX = 0,
  ECX = 1,
  EDX = 2,
  EBX = 3,
  ESP = 4,
  EBP = 5,
  ESI = 6,
  EDI = 7,
  ZERO_REG = 8;

export const F_CF = 0x1,
  F_PF = 0x4,
  F_AF = 0x10,
  F_ZF = 0x40,
  F_SF = 0x80,
  F_TF = 0x100,
  F_IF = 0x200;
export const F_DF = 0x400,
  F_OF = 0x800,
  F_IOPL = 0x3000,
  F_NT = 0x4000,
  F_RF = 0x10000,
  F_VM = 0x20000,
  F_AC = 0x40000;
export const STATUS = 0x8d5;
/** Bits a 486 lets software change through POPF/IRET (ID bit 21 toggles so CPUID is detectable). */
export const EFLAGS_WRITABLE = 0x2f7fd5 & ~F_VM;

export const CR0_PE = 0x1,
  CR0_MP = 0x2,
  CR0_EM = 0x4,
  CR0_TS = 0x8,
  CR0_ET = 0x10,
  CR0_NE = 0x20;
export const CR0_WP = 0x10000,
  CR0_AM = 0x40000,
  CR0_PG = 0x80000000 | 0;
export const CR4_PSE = 0x10;

// Lazy-flag operations: what produced `lr` from `la` and `lb`.
export const L_ADD = 1,
  L_ADC = 2,
  L_SUB = 3,
  L_SBB = 4,
  L_LOGIC = 5,
  L_INC = 6,
  L_DEC = 7;

/** Exceptions travel as this one preallocated object; the vector and error code are on the CPU. */
export const FAULT = { fault: true } as const;

const PARITY = new Uint8Array(256);
for (let i = 0; i < 256; i++) {
  let b = i,
    p = 1;
  while (b) {
    p ^= b & 1;
    b >>= 1;
  }
  PARITY[i] = p ? F_PF : 0;
}

export class CpuRegs {
  readonly regs = new Int32Array(9);
  eip = 0;
  /** Concrete EFLAGS; the bits in `lazyMask` are stale and come from the last ALU operation. */
  flags = 2;
  lazyMask = 0;
  lop = 0;
  la = 0;
  lb = 0;
  /** Result, already truncated to the operation size (so ZF is `lr === 0`). */
  lr = 0;
  /** Sign bit of the operation size: 0x80, 0x8000 or 0x80000000|0. */
  lsign = 0;

  readonly segSel = new Int32Array(8);
  readonly segBase = new Int32Array(8);
  readonly segLimit = new Float64Array(8);
  /** Descriptor bytes 5..6: access byte | flags nibble << 8 (G=0x800, D/B=0x400). */
  readonly segAccess = new Int32Array(8);
  /** Offsets allowed for reads / writes: [lo, hi]; an unusable segment has lo > hi. */
  readonly segRLo = new Float64Array(6);
  readonly segRHi = new Float64Array(6);
  readonly segWLo = new Float64Array(6);
  readonly segWHi = new Float64Array(6);

  cpl = 0;
  /** CS.D: 32-bit default operand and address size. */
  code32 = false;
  /** SS.B: ESP (true) or SP (false) as the stack pointer. */
  stack32 = false;
  cr0 = CR0_ET;
  cr2 = 0;
  cr3 = 0;
  cr4 = 0;
  readonly dr = [0, 0, 0, 0, 0xffff0ff0, 0x400, 0xffff0ff0, 0x400];
  gdtBase = 0;
  gdtLimit = 0xffff;
  idtBase = 0;
  idtLimit = 0xffff;
  tscOffset = 0;

  /** Retired instructions: the machine's virtual time. */
  instructions = 0;
  halted = false;
  /** Interrupt shadow after STI / MOV SS / POP SS: the next instruction runs before any interrupt. */
  inhibit = 0;
  /** Non-zero: leave the current decoded block after this instruction. */
  stopBlock = 0;
  stopRequested = false;
  /** INTR may be asserted: poll the PIC at the next boundary where IF=1. */
  intrPending = false;

  // The exception being raised (set by `raise`, read by the delivery code).
  excVector = 0;
  excCode = 0;
  excHasCode = false;

  readonly memory: Memory;
  readonly io: IoBus;
  readonly emitter: Emitter;
  pic: InterruptController | null = null;

  constructor(memory: Memory, io: IoBus, emitter: Emitter) {
    this.memory = memory;
    this.io = io;
    this.emitter = emitter;
  }

  /** Throws the exception `vector` (with an error code when `code` >= 0). */
  raise(vector: number, code = -1): never {
    this.excVector = vector;
    this.excHasCode = code >= 0;
    this.excCode = code >= 0 ? code : 0;
    throw FAULT;
  }

  // ---- lazy flags -------------------------------------------------------------------------------

  setLazy(op: number, a: number, b: number, r: number, sign: number): void {
    this.lop = op;
    this.la = a;
    this.lb = b;
    this.lr = r;
    this.lsign = sign;
    this.lazyMask = STATUS;
  }

  /** INC/DEC keep CF: materialise it before the other five go lazy. */
  setLazyKeepCF(op: number, a: number, r: number, sign: number): void {
    if ((this.lazyMask & F_CF) !== 0) this.flags = (this.flags & ~F_CF) | (this.lazyCF() ? F_CF : 0);
    this.lop = op;
    this.la = a;
    this.lb = 1;
    this.lr = r;
    this.lsign = sign;
    this.lazyMask = STATUS & ~F_CF;
  }

  private sizeMask(): number {
    return this.lsign === 0x80 ? 0xff : this.lsign === 0x8000 ? 0xffff : -1;
  }

  lazyCF(): boolean {
    const m = this.sizeMask();
    const a = (this.la & m) >>> 0,
      b = (this.lb & m) >>> 0,
      r = (this.lr & m) >>> 0;
    switch (this.lop) {
      case L_ADD:
        return r < a;
      case L_ADC:
        return r <= a;
      case L_SUB:
        return a < b;
      case L_SBB:
        return a <= b;
      default:
        return false;
    }
  }

  lazyOF(): boolean {
    const s = this.lsign,
      a = this.la,
      b = this.lb,
      r = this.lr;
    switch (this.lop) {
      case L_ADD:
      case L_ADC:
      case L_INC:
        return ((a ^ r) & (b ^ r) & s) !== 0;
      case L_SUB:
      case L_SBB:
      case L_DEC:
        return ((a ^ b) & (a ^ r) & s) !== 0;
      default:
        return false;
    }
  }

  getCF(): boolean {
    return (this.lazyMask & F_CF) !== 0 ? this.lazyCF() : (this.flags & F_CF) !== 0;
  }
  getZF(): boolean {
    return (this.lazyMask & F_ZF) !== 0 ? this.lr === 0 : (this.flags & F_ZF) !== 0;
  }
  getSF(): boolean {
    return (this.lazyMask & F_SF) !== 0 ? (this.lr & this.lsign) !== 0 : (this.flags & F_SF) !== 0;
  }
  getOF(): boolean {
    return (this.lazyMask & F_OF) !== 0 ? this.lazyOF() : (this.flags & F_OF) !== 0;
  }
  getPF(): boolean {
    return (this.lazyMask & F_PF) !== 0 ? PARITY[this.lr & 0xff] !== 0 : (this.flags & F_PF) !== 0;
  }
  getAF(): boolean {
    if ((this.lazyMask & F_AF) === 0) return (this.flags & F_AF) !== 0;
    return this.lop !== L_LOGIC && ((this.la ^ this.lb ^ this.lr) & 0x10) !== 0;
  }

  /** Condition code 0-15 (o no c nc z nz na a s ns pe po l nl ng g). */
  cond(cc: number): boolean {
    let r: boolean;
    switch (cc >> 1) {
      case 0:
        r = this.getOF();
        break;
      case 1:
        r = this.getCF();
        break;
      case 2:
        r = this.getZF();
        break;
      case 3:
        r = this.getCF() || this.getZF();
        break;
      case 4:
        r = this.getSF();
        break;
      case 5:
        r = this.getPF();
        break;
      case 6:
        r = this.getSF() !== this.getOF();
        break;
      default:
        r = this.getZF() || this.getSF() !== this.getOF();
        break;
    }
    return (cc & 1) !== 0 ? !r : r;
  }

  /** EFLAGS with every lazy bit computed. */
  getEflags(): number {
    let f = this.flags;
    if (this.lazyMask !== 0) {
      f &= ~this.lazyMask;
      const m = this.lazyMask;
      if (m & F_CF && this.lazyCF()) f |= F_CF;
      if (m & F_PF && PARITY[this.lr & 0xff] !== 0) f |= F_PF;
      if (m & F_AF && this.getAF()) f |= F_AF;
      if (m & F_ZF && this.lr === 0) f |= F_ZF;
      if (m & F_SF && (this.lr & this.lsign) !== 0) f |= F_SF;
      if (m & F_OF && this.lazyOF()) f |= F_OF;
    }
    return (f | 2) >>> 0;
  }

  /** Replaces the status flags with concrete values (shifts, MUL, BCD ... compute them eagerly). */
  setStatus(bits: number): void {
    this.flags = (this.flags & ~STATUS) | (bits & STATUS);
    this.lazyMask = 0;
  }

  /** Flags after a logic op / result-based op of the given size: PF ZF SF from r, CF OF AF cleared. */
  static parity(r: number): number {
    return PARITY[r & 0xff]!;
  }

  setCF(v: boolean): void {
    this.flags = (this.getEflags() & ~F_CF) | (v ? F_CF : 0);
    this.lazyMask = 0;
  }
}

export { PARITY };

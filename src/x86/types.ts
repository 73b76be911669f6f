// The instruction set as data: the vocabulary of the opcode table (src/x86/table.ts).
// One row per (mnemonic, operand form). The CPU's decoder, the disassembler and the assembler's
// encoder all read the same rows, so every field here is meant for at least one of them.

/**
 * Operand kinds, in Intel opcode-map notation (SDM vol. 2, appendix A), narrowed to what the
 * 486 needs. Size letters: b = 8 bits, w = 16, d = 32, v = the operand size (16 or 32).
 *
 *  Eb Ew Ed Ev   ModRM r/m: a general register (mod=3) or memory.
 *  Gb Gw Gd Gv   ModRM reg: a general register.
 *  Rw Rd Rv      ModRM r/m, register only (the row is register-form-only, e.g. `smsw Rv`);
 *                for MOV CRn/DRn (`mov Rd,Cd`) the row has mod 'any': the 486 ignores mod there.
 *  M             memory of no particular size (LEA, INVLPG); memory-form-only row.
 *  Mw Md         memory of 16 / 32 bits (SLDT/SMSW/... memory forms, MOV [mem],Sreg).
 *  Mp            far pointer in memory: m16:16 or m16:32 (LES/LDS/LSS/LFS/LGS, far JMP/CALL).
 *  Ms            6-byte pseudo-descriptor (LGDT/LIDT/SGDT/SIDT).
 *  Ma            a pair of v-sized bounds (BOUND).
 *  Ib Iw Iv      immediate of 8 / 16 / operand-size bits.
 *  Ibs           imm8 sign-extended to the operand size (83 /n, 6A, 6B).
 *  Jb Jv         relative branch displacement, 8 bits / operand size.
 *  Ap            far pointer immediate: offset (operand size) then 16-bit selector (9A, EA).
 *  Cd Dd         control / debug register in ModRM reg.
 *  Sw            segment register in ModRM reg.
 *  Ob Ov         moffs: an address-size displacement with no ModRM (A0-A3).
 *  Zb Zv Zd      a register in the low 3 bits of the opcode (B0+r, B8+r, 50+r, BSWAP 0F C8+r).
 *  AL AX eAX CL DX   fixed registers (eAX = AX or EAX by operand size).
 *  CX ECX        the count register written after a LOOP target (`loop label, ecx`: address size).
 *  ES CS SS DS FS GS fixed segment registers.
 *  1             the constant 1 (shift-by-one forms D0-D3).
 *  Xb Xv         DS:(E)SI string source;  Yb Yv  ES:(E)DI string destination (implicit only).
 */
export type OperandKind =
  | 'Eb' | 'Ew' | 'Ed' | 'Ev'
  | 'Gb' | 'Gw' | 'Gd' | 'Gv'
  | 'Rw' | 'Rd' | 'Rv'
  | 'M' | 'Mw' | 'Md' | 'Mp' | 'Ms' | 'Ma'
  | 'Ib' | 'Iw' | 'Iv' | 'Ibs'
  | 'Jb' | 'Jv' | 'Ap'
  | 'Cd' | 'Dd' | 'Sw'
  | 'Ob' | 'Ov'
  | 'Zb' | 'Zv' | 'Zd'
  | 'AL' | 'AX' | 'eAX' | 'CL' | 'DX' | 'CX' | 'ECX'
  | 'ES' | 'CS' | 'SS' | 'DS' | 'FS' | 'GS'
  | '1'
  | 'Xb' | 'Xv' | 'Yb' | 'Yv';

/** Where an operand's value comes from in the encoding. */
export type OperandLocation =
  | 'rm' //  ModRM r/m (register or memory, subject to the kind)
  | 'reg' // ModRM reg (general register)
  | 'creg' | 'dreg' | 'sreg' // ModRM reg as control / debug / segment register
  | 'imm' // first immediate (Ib Iw Iv Ibs; Ap offset)
  | 'imm2' // second immediate: ENTER's Ib, Ap's selector
  | 'rel' // branch displacement (stored in Decoded.imm as the signed displacement)
  | 'moffs' // address-size displacement without ModRM (stored in Decoded.disp)
  | 'opreg' // low 3 bits of the opcode
  | 'fixed' // a fixed register (fixedReg, or a segment register for ES..GS)
  | 'const' // the constant 1
  | 'string'; // implicit string operand

/** Operand size class: 8, 16, 32, 'v' (the operand size), or a memory shape. */
export type OperandSize = 8 | 16 | 32 | 'v' | 'none' | 'p' | 's' | 'a';

export interface OperandInfo {
  readonly loc: OperandLocation;
  readonly size: OperandSize;
  /** 'mem' = memory form only, 'reg' = register form only, 'any' = either (only for loc 'rm'). */
  readonly form: 'any' | 'mem' | 'reg';
  /** For loc 'fixed': the register number (0=AX/AL/ES, 1=CX/CL/CS, 2=DX/SS, 3=DS, 4=FS, 5=GS). */
  readonly fixedReg: number;
  /** For loc 'fixed': true when fixedReg names a segment register. */
  readonly segment: boolean;
}

function info(loc: OperandLocation, size: OperandSize, form: 'any' | 'mem' | 'reg' = 'any', fixedReg = -1, segment = false): OperandInfo {
  return { loc, size, form, fixedReg, segment };
}

export const OPERAND_INFO: Readonly<Record<OperandKind, OperandInfo>> = {
  Eb: info('rm', 8), Ew: info('rm', 16), Ed: info('rm', 32), Ev: info('rm', 'v'),
  Gb: info('reg', 8), Gw: info('reg', 16), Gd: info('reg', 32), Gv: info('reg', 'v'),
  Rw: info('rm', 16, 'reg'), Rd: info('rm', 32, 'reg'), Rv: info('rm', 'v', 'reg'),
  M: info('rm', 'none', 'mem'), Mw: info('rm', 16, 'mem'), Md: info('rm', 32, 'mem'),
  Mp: info('rm', 'p', 'mem'), Ms: info('rm', 's', 'mem'), Ma: info('rm', 'a', 'mem'),
  Ib: info('imm', 8), Iw: info('imm', 16), Iv: info('imm', 'v'), Ibs: info('imm', 8),
  Jb: info('rel', 8), Jv: info('rel', 'v'), Ap: info('imm', 'p'),
  Cd: info('creg', 32), Dd: info('dreg', 32), Sw: info('sreg', 16),
  Ob: info('moffs', 8), Ov: info('moffs', 'v'),
  Zb: info('opreg', 8), Zv: info('opreg', 'v'), Zd: info('opreg', 32),
  AL: info('fixed', 8, 'any', 0), AX: info('fixed', 16, 'any', 0), eAX: info('fixed', 'v', 'any', 0),
  CL: info('fixed', 8, 'any', 1), DX: info('fixed', 16, 'any', 2),
  CX: info('fixed', 16, 'any', 1), ECX: info('fixed', 32, 'any', 1),
  ES: info('fixed', 16, 'any', 0, true), CS: info('fixed', 16, 'any', 1, true), SS: info('fixed', 16, 'any', 2, true),
  DS: info('fixed', 16, 'any', 3, true), FS: info('fixed', 16, 'any', 4, true), GS: info('fixed', 16, 'any', 5, true),
  '1': info('const', 8),
  Xb: info('string', 8), Xv: info('string', 'v'), Yb: info('string', 8), Yv: info('string', 'v'),
};

/** Row flags (bit set). */
export const RowFlag = {
  /** LOCK prefix allowed (with a memory destination). */
  LOCK: 1 << 0,
  /** REP (F3) meaningful: MOVS STOS LODS INS OUTS. */
  REP: 1 << 1,
  /** REPE/REPNE (F3/F2) meaningful: CMPS SCAS. */
  REPE: 1 << 2,
  /** Privileged: #GP(0) unless CPL = 0. */
  PRIV: 1 << 3,
  /** IOPL-sensitive: CLI STI IN OUT INS OUTS (the I/O ones also consult the TSS bitmap). */
  IOPL: 1 << 4,
  /** Changes control flow (jumps, calls, returns, software interrupts, loops). */
  BRANCH: 1 << 5,
  /** Sensitive but unprivileged (Popek-Goldberg): silently misbehaves when deprivileged. */
  SENSITIVE: 1 << 6,
  /** Reads or writes a segment register (push/pop/mov Sreg, far loads). */
  SEGMENT: 1 << 7,
  /** #UD in real mode (LLDT SLDT LTR STR LAR LSL VERR VERW ARPL). */
  PROTECTED_ONLY: 1 << 8,
  /** x87 escape (D8-DF): #NM/#UD per CR0.EM/TS; not executed. */
  ESC: 1 << 9,
  /** Decoder and disassembler only: NASM never emits this encoding (82 /n, F6 /1, D0 /6 ...). */
  DECODE_ONLY: 1 << 10,
  /** Assembler only: a spelling or operand order the decoder never produces (e.g. `test Gv,Ev`). */
  ASM_ONLY: 1 << 11,
  /** Undocumented encoding that ndisasm prints as `db`; the CPU executes it. */
  UNDOCUMENTED: 1 << 12,
  /** Performs I/O (IN OUT INS OUTS): hypervisor IO_INSTRUCTION exits. */
  IO: 1 << 13,
  /** Unconditional transfer: execution never falls through (JMP, RET, IRET, ...); ends a decoded block. */
  STOP: 1 << 14,
  /** Conditional branch (Jcc, LOOPcc, JCXZ). */
  CONDITIONAL: 1 << 15,
  /** NASM has no 16-bit operand-size form of this row (movzx/movsx Gv,Ew: `movzx ax, word [bx]` is an error). */
  NO_O16_FORM: 1 << 16,
  /** NASM emits no 66 prefix for this row whatever the register size (`mov ds, eax` = `mov ds, ax`). */
  NO_OSIZE_PREFIX: 1 << 17,
} as const;

/** EFLAGS bits (the subset instructions compute). */
export const Eflag = {
  CF: 0x001, PF: 0x004, AF: 0x010, ZF: 0x040, SF: 0x080, TF: 0x100, IF: 0x200, DF: 0x400, OF: 0x800,
} as const;
/** The six arithmetic status flags. */
export const STATUS_FLAGS = 0x8d5;

/** CPU generation that introduced an instruction (CPUID/RDTSC/RDMSR/WRMSR are 586, kept by design). */
export type CpuLevel = 86 | 186 | 286 | 386 | 486 | 586;

export interface OpcodeRow {
  /** Index in ROWS. */
  readonly id: number;
  /** NASM spelling, lower case (`add`, `jz`, `movsd`, `pushad`, `retf`). */
  readonly mnemonic: string;
  /** 0 = one-byte map, 1 = 0F map. */
  readonly map: 0 | 1;
  /** The opcode byte (for opreg rows: the base, register 0). */
  readonly opcode: number;
  /** ModRM reg field required (/digit), or -1. */
  readonly ext: number;
  /** True when the instruction has a ModRM byte. */
  readonly modrm: boolean;
  /** ModRM mod restriction: 'mem' = mod 0-2 only, 'reg' = mod 3 only. */
  readonly mod: 'any' | 'mem' | 'reg';
  /** True when the low 3 opcode bits select a register (Zb/Zv/Zd): the row covers opcode..opcode+7. */
  readonly opreg: boolean;
  /** Operands as NASM writes them, destination first. */
  readonly operands: readonly OperandKind[];
  /** Operands the instruction uses but NASM does not write (string ops, IN/OUT's DX for INS/OUTS). */
  readonly implicit: readonly OperandKind[];
  /** Semantic key for the CPU's execute function (several rows share one). */
  readonly op: string;
  /** Index of `op` in OP_NAMES (table.ts): a small integer for array/switch dispatch. */
  readonly opId: number;
  /** Condition code 0-15 (Jcc, SETcc) or -1. Order: o no c nc z nz na a s ns pe po l nl ng g. */
  readonly cc: number;
  /** A prefix byte the encoding requires (0xF3: PAUSE is F3 90), or 0. */
  readonly prefix: number;
  /** Only valid at this operand size (cwd/cdq, pushaw/pushad, iret/iretd, movsw/movsd), or 0. */
  readonly osize: 0 | 16 | 32;
  /** Only valid at this address size (jcxz/jecxz), or 0. */
  readonly asize: 0 | 16 | 32;
  /** Fixed immediate NASM implies when the operand is omitted (aam/aad: 10), or -1. */
  readonly impliedImm: number;
  /** RowFlag bits. */
  readonly flags: number;
  readonly level: CpuLevel;
  /** EFLAGS bits with architecturally defined results (in at least some cases: OF of shifts by 1). */
  readonly flagsDefined: number;
  /** EFLAGS bits that may be left undefined (mask them when comparing with hardware or QEMU). */
  readonly flagsUndefined: number;
  /**
   * Assembler preference among rows of the same mnemonic: try ascending, first operand match wins
   * (ties: table order). Encodes NASM -Ox choices: imm8 sign-extended (83, 6B, 6A) before the short
   * accumulator forms (04, 05, 3C, A8...) before the general forms; shift-by-1 before imm8; Jb
   * before Jv; `mov r/m,r` (88/89) before `mov r,r/m`; moffs (A0-A3) before ModRM forms.
   */
  readonly pref: number;
}

/** Why a decode failed (Decoded.error). 0 = success. */
export const DecodeError = {
  NONE: 0,
  /** No row for this opcode (or /digit): #UD. */
  UNKNOWN_OPCODE: 1,
  /** Register form where the row needs memory (LEA reg,reg, LGDT reg, LES reg): #UD. */
  REGISTER_FORM: 2,
  /** Memory form where the row needs a register: #UD. */
  MEMORY_FORM: 3,
  /** LOCK prefix on an instruction that does not allow it (or with a register destination): #UD. */
  BAD_LOCK: 4,
  /** More than 15 bytes: #GP(0) on the 486. */
  TOO_LONG: 5,
  /** The byte source ended mid-instruction (decodeBytes only; the CPU's fetch faults instead). */
  TRUNCATED: 6,
} as const;
export type DecodeErrorCode = (typeof DecodeError)[keyof typeof DecodeError];

/** Segment register numbers, as in Sreg encodings. -1 = none. */
export const Seg = { ES: 0, CS: 1, SS: 2, DS: 3, FS: 4, GS: 5 } as const;
/** Repeat prefix kinds. */
export const Rep = { NONE: 0, REPE: 1, REPNE: 2 } as const;

/** Condition-code suffixes as ndisasm prints them, indexed by cc. */
export const CC_NAMES: readonly string[] = ['o', 'no', 'c', 'nc', 'z', 'nz', 'na', 'a', 's', 'ns', 'pe', 'po', 'l', 'nl', 'ng', 'g'];
/** Every suffix NASM accepts for each cc (for the assembler: jae = jnc = jnb). */
export const CC_ALIASES: readonly (readonly string[])[] = [
  ['o'], ['no'], ['c', 'b', 'nae'], ['nc', 'nb', 'ae'], ['z', 'e'], ['nz', 'ne'], ['na', 'be'], ['a', 'nbe'],
  ['s'], ['ns'], ['pe', 'p'], ['po', 'np'], ['l', 'nge'], ['nl', 'ge'], ['ng', 'le'], ['g', 'nle'],
];

export const REG8_NAMES: readonly string[] = ['al', 'cl', 'dl', 'bl', 'ah', 'ch', 'dh', 'bh'];
export const REG16_NAMES: readonly string[] = ['ax', 'cx', 'dx', 'bx', 'sp', 'bp', 'si', 'di'];
export const REG32_NAMES: readonly string[] = ['eax', 'ecx', 'edx', 'ebx', 'esp', 'ebp', 'esi', 'edi'];
export const SEG_NAMES: readonly string[] = ['es', 'cs', 'ss', 'ds', 'fs', 'gs'];

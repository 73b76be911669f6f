// The encoder's vocabulary: operands as the assembler resolved them in one pass, the request for
// one instruction and what comes back. Kept apart so the matching, byte-writing and message files
// of the encoder share it without importing one another.

export type EncRegClass = 'r8' | 'r16' | 'r32' | 'seg' | 'cr' | 'dr' | 'tr';
export interface EncReg {
  name: string;
  cls: EncRegClass;
  num: number;
}

/** A value as the assembler resolved it in this pass. */
export interface EncValue {
  value: number;
  /** False on a forward reference not yet resolved (pass 1): assume the long form. */
  known: boolean;
  /** True for a plain number; false for an address (NASM never shortens relocatable values). */
  simple: boolean;
  /** Section index the address lies in (-1 for numbers). */
  section: number;
}

export type EncOperand =
  | { t: 'reg'; reg: EncReg; size: number }
  | {
      t: 'mem';
      size: number;
      seg: number;
      base: EncReg | null;
      index: EncReg | null;
      scale: number;
      disp: EncValue | null;
      dispSize: 0 | 8 | 16 | 32;
      far: boolean;
    }
  | { t: 'imm'; v: EncValue; size: number; strict: boolean; jump: '' | 'short' | 'near' | 'far'; seg?: EncValue };

export type EncMemOperand = Extract<EncOperand, { t: 'mem' }>;
export type EncImmOperand = Extract<EncOperand, { t: 'imm' }>;

export interface EncodeRequest {
  mnemonic: string;
  prefixes: string[];
  operands: EncOperand[];
  bits: 16 | 32;
  /** Absolute address of the instruction's first byte. */
  address: number;
  /** Section the instruction is in (for short-jump eligibility). */
  section: number;
}

export interface EncodeResult {
  bytes: number[];
  error?: string;
  /** Operand (0-based) the error is about, -1 for the whole instruction. */
  operand?: number;
  warnings: string[];
  /** Where relocatable values sit in `bytes` (for the listing's [..] and (..) marks). */
  fields?: EncField[];
}

/** A value field in the encoded bytes: `rel` for branch displacements. */
export interface EncField {
  at: number;
  size: number;
  value: EncValue;
  rel: boolean;
}

/** General registers are 8, 16 or 32 bits wide; segment registers count as 16. */
export function regBits(r: EncReg): number {
  return r.cls === 'r8' ? 8 : r.cls === 'r16' || r.cls === 'seg' ? 16 : 32;
}

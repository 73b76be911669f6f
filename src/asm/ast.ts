// The parsed form of a source line, built once and reused by every pass.

import type { Expr } from './expr.ts';
import type { PLine } from './preproc.ts';
import type { Reg } from './registers.ts';

export type SizeKw = 0 | 8 | 16 | 32 | 64 | 80 | 128;

/** A memory operand: [seg: base + index*scale + disp]. */
export interface MemOperand {
  t: 'mem';
  size: SizeKw;
  seg: number; // -1: no override
  base: Reg | null;
  index: Reg | null;
  scale: number;
  disp: Expr | null;
  /** Displacement size forced by [byte ...]/[word ...]/[dword ...] (0 = let NASM's rules choose). */
  dispSize: 0 | 8 | 16 | 32;
  nosplit: boolean;
  far: boolean;
  strict: boolean;
  col: number;
}

export interface RegOperand {
  t: 'reg';
  reg: Reg;
  size: SizeKw;
  col: number;
}

export interface ImmOperand {
  t: 'imm';
  e: Expr;
  size: SizeKw;
  strict: boolean;
  jump: '' | 'short' | 'near' | 'far';
  col: number;
  /** `seg:offset` far pointer: `e` is the offset. */
  segPart?: Expr;
}

export type Operand = MemOperand | RegOperand | ImmOperand;

export interface Instruction {
  k: 'insn';
  mnemonic: string; // lower case, canonical ('' = prefixes only)
  written: string;
  prefixes: { name: string; col: number }[];
  operands: Operand[];
  col: number;
}

export type DataItem = { t: 'expr'; e: Expr; col: number } | { t: 'str'; s: string; col: number } | { t: 'float'; text: string; col: number };

export type Statement =
  | Instruction
  | { k: 'data'; width: 1 | 2 | 4 | 8 | 10; items: DataItem[]; col: number }
  | { k: 'res'; width: number; count: Expr; col: number }
  | { k: 'equ'; e: Expr; col: number }
  | { k: 'bits'; bits: number; col: number }
  | { k: 'org'; e: Expr; col: number }
  | { k: 'section'; name: string; attrs: Record<string, string>; col: number }
  | { k: 'align'; e: Expr; fill: DataItem | null; col: number; reserve: boolean }
  | { k: 'incbin'; file: string; offset: Expr | null; length: Expr | null; col: number }
  | { k: 'absolute'; e: Expr; col: number }
  | { k: 'struc'; name: string; col: number }
  | { k: 'endstruc'; col: number }
  | { k: 'istruc'; name: string; col: number }
  | { k: 'at'; field: Expr; inner: Statement; col: number }
  | { k: 'iend'; col: number }
  | { k: 'nothing' };

export interface Line {
  src: PLine;
  label: { name: string; col: number } | null;
  times: Expr | null;
  timesCol: number;
  stmt: Statement;
  /** Parse errors already reported; the line is skipped. */
  bad: boolean;
}

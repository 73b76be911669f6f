// Row matching for the encoder: does a row of the opcode table accept these operands, and at which
// operand size? Short forms (Jb, Ibs, shift-by-1) are accepted only when the value is known in this
// pass and fits, so multi-pass assembly converges the way NASM's does.

import { rowsForMnemonic } from './table.ts';
import { OPERAND_INFO, RowFlag, type OpcodeRow, type OperandKind } from './types.ts';
import { regBits, type EncodeRequest, type EncOperand } from './encode-types.ts';

export interface Match {
  row: OpcodeRow;
  osz: 16 | 32;
  /** Size an unsized memory operand was given by this row (0 = none was unsized). */
  wildSize: number;
  missingSize: boolean;
}

const SHORT_AND_NEAR = new Map<string, boolean>();
/** jmp and jcc: the mnemonic has both a Jb and a Jv row, so NASM picks short or near by distance. */
export function hasShortAndNearForms(mnemonic: string): boolean {
  let both = SHORT_AND_NEAR.get(mnemonic);
  if (both === undefined) {
    const rows = rowsForMnemonic(mnemonic);
    both = rows.some((r) => r.operands[0] === 'Jb') && rows.some((r) => r.operands[0] === 'Jv');
    SHORT_AND_NEAR.set(mnemonic, both);
  }
  return both;
}

const RELATIVE = new Map<string, boolean>();
/** The mnemonic has a row with a relative branch operand (its bytes depend on where it is). */
export function hasRelativeForms(mnemonic: string): boolean {
  let rel = RELATIVE.get(mnemonic);
  if (rel === undefined) {
    rel = rowsForMnemonic(mnemonic).some((row) => row.operands.some((k) => OPERAND_INFO[k].loc === 'rel'));
    RELATIVE.set(mnemonic, rel);
  }
  return rel;
}

/** Does v fit a sign-extended imm8 at operand size osz (0xFFFF counts as -1 in 16-bit code)? */
const SBYTE = (v: number, osz: number): boolean =>
  osz === 16 ? ((v + 128) & 0xffff) <= 255 : ((v + 128) >>> 0) <= 255 || (v >= -128 && v <= 127);

/** What matching one row has fixed so far: the operand size and the size given to unsized memory. */
interface FitState {
  osz: number;
  wild: number;
  req: EncodeRequest;
  row: OpcodeRow;
}

function setOsz(st: FitState, s: number): boolean {
  if (s !== 16 && s !== 32) return false;
  if (st.osz !== 0 && st.osz !== s) return false;
  st.osz = s;
  return true;
}

type OperandKindSize = (typeof OPERAND_INFO)[OperandKind]['size'];

function sizeOk(st: FitState, size: OperandKindSize, s: number): boolean {
  if (size === 'v') return setOsz(st, s);
  return s === size;
}

const isGeneral = (op: EncOperand): boolean => op.t === 'reg' && (op.reg.cls === 'r8' || op.reg.cls === 'r16' || op.reg.cls === 'r32');

/** ModRM r/m or reg: a general register, or (r/m only) memory of the kind's size. */
function fitsModrm(k: OperandKind, op: EncOperand, st: FitState): boolean {
  const info = OPERAND_INFO[k];
  if (op.t === 'reg') {
    if (info.loc === 'rm' && info.form === 'mem') return false;
    if (!isGeneral(op)) return false;
    if (op.size && op.size !== regBits(op.reg)) return false;
    return sizeOk(st, info.size, regBits(op.reg));
  }
  if (op.t !== 'mem' || info.loc === 'reg' || info.form === 'reg') return false;
  // `far [mem]` is how NASM names the far pointer of a far jmp/call; LES & co take Mp without it.
  const farRow = k === 'Mp' && (st.row.flags & RowFlag.BRANCH) !== 0;
  if (op.far !== farRow) return false;
  if (info.size === 'none' || info.size === 's' || info.size === 'a') return true;
  if (info.size === 'p') {
    if (op.size === 16 || op.size === 32) return setOsz(st, op.size);
    return op.size === 0 || op.size === 48;
  }
  if (op.size === 0) {
    if (info.size === 'v') return true; // sized later from another operand, or missing
    st.wild = info.size;
    return true;
  }
  return sizeOk(st, info.size, op.size);
}

/** Immediates: Ap needs seg:offset; Ibs only a known plain number that fits sign-extended. */
function fitsImmediate(k: OperandKind, op: EncOperand, st: FitState): boolean {
  const info = OPERAND_INFO[k];
  if (op.t !== 'imm' || op.jump === 'short' || op.jump === 'near') return false;
  if (k === 'Ap') {
    if (!op.seg) return false;
    return op.size === 0 || setOsz(st, op.size);
  }
  if (op.seg || op.jump === 'far') return false;
  if (k === 'Ibs') {
    if (op.size === 8) return true;
    if (op.strict && op.size !== 0) return false;
    if (op.size !== 0 && !setOsz(st, op.size)) return false;
    if (!op.v.known || !op.v.simple) return false;
    return SBYTE(op.v.value, st.osz || st.req.bits);
  }
  if (info.size === 'v') return op.size === 0 || setOsz(st, op.size);
  return op.size === 0 || op.size === info.size;
}

/** Branch targets: Jb takes any target here; whether it reaches is decided after encoding. */
function fitsRelative(k: OperandKind, op: EncOperand, st: FitState): boolean {
  if (op.t !== 'imm' || op.seg || op.jump === 'far') return false;
  if (k === 'Jb') {
    if (!hasShortAndNearForms(st.row.mnemonic)) return op.jump !== 'near';
    if (op.jump === 'short') return true;
    return op.jump !== 'near' && !op.strict;
  }
  if (op.jump === 'short') return false;
  return op.size === 0 || setOsz(st, op.size);
}

/** Does operand `op` fit kind `k`? Updates the operand-size state. Returns false when not. */
function fits(k: OperandKind, op: EncOperand, st: FitState): boolean {
  const info = OPERAND_INFO[k];
  switch (info.loc) {
    case 'rm':
    case 'reg':
      return fitsModrm(k, op, st);
    case 'sreg':
      return op.t === 'reg' && op.reg.cls === 'seg';
    case 'creg':
      return op.t === 'reg' && op.reg.cls === 'cr';
    case 'dreg':
      return op.t === 'reg' && op.reg.cls === 'dr';
    case 'opreg':
      return isGeneral(op) && op.t === 'reg' && sizeOk(st, info.size, regBits(op.reg));
    case 'fixed':
      if (op.t !== 'reg' || op.reg.num !== info.fixedReg) return false;
      if (info.segment) return op.reg.cls === 'seg';
      if (op.reg.cls === 'seg') return false;
      return sizeOk(st, info.size, regBits(op.reg));
    case 'const':
      return op.t === 'imm' && !op.seg && op.v.known && op.v.simple && op.v.value === 1 && (op.size === 0 || op.size === 8) && !op.strict && op.jump === '';
    case 'moffs':
      if (op.t !== 'mem' || op.base || op.index || op.far) return false;
      if (op.size !== 0 && info.size !== 'v' && op.size !== info.size) return false;
      return info.size !== 'v' || op.size === 0 || setOsz(st, op.size);
    case 'imm':
      return fitsImmediate(k, op, st);
    case 'imm2':
      return op.t === 'imm' && !op.seg && (op.size === 0 || op.size === info.size);
    case 'rel':
      return fitsRelative(k, op, st);
    case 'string':
      return false;
  }
  return false;
}

/** The row's match for the request's operands, or undefined when some operand does not fit. */
export function matchRow(row: OpcodeRow, req: EncodeRequest): Match | undefined {
  const ops = req.operands;
  if (row.operands.length !== ops.length) return undefined;
  const st: FitState = { osz: 0, wild: 0, req, row };
  for (let i = 0; i < ops.length; i++) if (!fits(row.operands[i]!, ops[i]!, st)) return undefined;
  let missingSize = false;
  if (st.osz === 0) {
    // Nothing sized the operation. An unsized v-sized memory operand is an error, except for an
    // indirect near jmp/call, whose target NASM takes at the mode's size.
    const unsizedMemV = ops.some((o, i) => o.t === 'mem' && o.size === 0 && OPERAND_INFO[row.operands[i]!].size === 'v');
    if (unsizedMemV && !(row.op === 'jmp_indirect' || row.op === 'call_indirect')) missingSize = true;
    st.osz = row.osize || req.bits;
  }
  return { row, osz: st.osz as 16 | 32, wildSize: st.wild, missingSize };
}

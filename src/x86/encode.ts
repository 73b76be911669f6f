// The instruction encoder: picks a row of the shared opcode table (table.ts) for a mnemonic and
// its resolved operands, the way NASM -Ox does, and produces the bytes.
// Row choice: rows come in NASM's preference order (rowsForMnemonic, by `pref`); the first row whose
// operand kinds accept the operands wins. Short forms (Jb, Ibs, shift-by-1) are accepted only
// when the value is known in this pass and fits, so multi-pass assembly converges like NASM's.

import { rowsForMnemonic, mnemonics } from './table.ts';
import { CC_ALIASES, CC_NAMES, OPERAND_INFO, RowFlag, type OpcodeRow, type OperandKind } from './types.ts';

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

let fields: EncField[] = [];

function field(out: number[], size: number, value: EncValue | null, rel = false): void {
  if (value && !value.simple) fields.push({ at: out.length, size, value, rel });
}

// ---- mnemonics --------------------------------------------------------------------------

const CANON = new Map<string, string>();
for (const m of mnemonics()) CANON.set(m, m);
CC_ALIASES.forEach((aliases, cc) => {
  for (const a of aliases) {
    CANON.set('j' + a, 'j' + CC_NAMES[cc]);
    CANON.set('set' + a, 'set' + CC_NAMES[cc]);
  }
});
// Adapter: NASM spellings the table does not list as rows of their own.
CANON.set('retn', 'ret');
CANON.set('int01', 'int1');
CANON.set('icebp', CANON.has('icebp') ? 'icebp' : 'int1');

// Adapter: the table has no x87 rows the assembler may emit (the 486 here has no FPU; its D8-DF
// rows are DECODE_ONLY), but kernels use a few operand-less x87 instructions to provoke #NM/#UD.
// These byte strings are NASM's encodings; they should become table rows (reported to the x86 owner).
const X87_NO_OPERANDS: Record<string, number[]> = {
  fninit: [0xdb, 0xe3], finit: [0x9b, 0xdb, 0xe3], fnclex: [0xdb, 0xe2], fclex: [0x9b, 0xdb, 0xe2],
  fnop: [0xd9, 0xd0], fld1: [0xd9, 0xe8], fldz: [0xd9, 0xee], fchs: [0xd9, 0xe0], fabs: [0xd9, 0xe1],
};
for (const m of Object.keys(X87_NO_OPERANDS)) CANON.set(m, m);

/** The table's spelling of a mnemonic NASM accepts, or undefined. */
export function canonicalMnemonic(word: string): string | undefined {
  return CANON.get(word);
}

// ---- matching -------------------------------------------------------------------------

interface Match {
  row: OpcodeRow;
  osz: 16 | 32;
  /** Size an unsized memory operand was given by this row (0 = none was unsized). */
  wildSize: number;
  missingSize: boolean;
}

const SBYTE = (v: number, osz: number): boolean =>
  osz === 16 ? ((v + 128) & 0xffff) <= 255 : ((v + 128) >>> 0) <= 255 || (v >= -128 && v <= 127);

function regBits(r: EncReg): number {
  return r.cls === 'r8' ? 8 : r.cls === 'r16' || r.cls === 'seg' ? 16 : 32;
}

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

function sizeOk(st: FitState, size: OperandKindSize, s: number): boolean {
  if (size === 'v') return setOsz(st, s);
  return s === size;
}
type OperandKindSize = (typeof OPERAND_INFO)[OperandKind]['size'];

/** Does operand `op` fit kind `k`? Updates the operand-size state. Returns false when not. */
function fits(k: OperandKind, op: EncOperand, st: FitState): boolean {
  const info = OPERAND_INFO[k];
  switch (info.loc) {
    case 'rm':
    case 'reg': {
      if (op.t === 'reg') {
        if (info.loc === 'rm' && info.form === 'mem') return false;
        const c = op.reg.cls;
        if (c !== 'r8' && c !== 'r16' && c !== 'r32') return false;
        if (op.size && op.size !== regBits(op.reg)) return false;
        return sizeOk(st, info.size, regBits(op.reg));
      }
      if (op.t !== 'mem' || info.loc === 'reg' || info.form === 'reg') return false;
      const farRow = k === 'Mp' && (st.row.mnemonic === 'jmp' || st.row.mnemonic === 'call');
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
    case 'sreg':
      return op.t === 'reg' && op.reg.cls === 'seg';
    case 'creg':
      return op.t === 'reg' && op.reg.cls === 'cr';
    case 'dreg':
      return op.t === 'reg' && op.reg.cls === 'dr';
    case 'opreg':
      if (op.t !== 'reg' || (op.reg.cls !== 'r8' && op.reg.cls !== 'r16' && op.reg.cls !== 'r32')) return false;
      return sizeOk(st, info.size, regBits(op.reg));
    case 'fixed':
      if (op.t !== 'reg' || op.reg.num !== info.fixedReg) return false;
      if (info.segment) return op.reg.cls === 'seg';
      if (op.reg.cls === 'seg') return false;
      return sizeOk(st, info.size, regBits(op.reg));
    case 'const':
      return op.t === 'imm' && !op.seg && op.v.known && op.v.simple && op.v.value === 1 && (op.size === 0 || op.size === 8) && !op.strict && op.jump === '';
    case 'moffs': {
      if (op.t !== 'mem' || op.base || op.index || op.far) return false;
      if (op.size !== 0 && info.size !== 'v' && op.size !== info.size) return false;
      if (info.size === 'v' && op.size !== 0 && !setOsz(st, op.size)) return false;
      return true;
    }
    case 'imm': {
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
        const osz = st.osz || st.req.bits;
        return SBYTE(op.v.value, osz);
      }
      if (info.size === 'v') return op.size === 0 || setOsz(st, op.size);
      return op.size === 0 || op.size === info.size;
    }
    case 'imm2':
      return op.t === 'imm' && !op.seg && (op.size === 0 || op.size === info.size);
    case 'rel': {
      if (op.t !== 'imm' || op.seg || op.jump === 'far') return false;
      const rows = rowsForMnemonic(st.row.mnemonic);
      const hasBoth = rows.some((r) => r.operands[0] === 'Jb') && rows.some((r) => r.operands[0] === 'Jv');
      if (k === 'Jb') {
        if (!hasBoth) return op.jump !== 'near';
        if (op.jump === 'short') return true;
        if (op.jump === 'near' || op.strict) return false;
        return true; // range decided after encoding (see encode)
      }
      if (op.jump === 'short') return false;
      return op.size === 0 || setOsz(st, op.size);
    }
    case 'string':
    case 'fixed' as never:
      return false;
  }
  return false;
}

function matchRow(row: OpcodeRow, req: EncodeRequest): Match | undefined {
  const ops = req.operands;
  if (row.operands.length !== ops.length) return undefined;
  const st = { osz: 0, wild: 0, req, row };
  for (let i = 0; i < ops.length; i++) if (!fits(row.operands[i]!, ops[i]!, st)) return undefined;
  const usesV = row.operands.some((k) => OPERAND_INFO[k].size === 'v' || k === 'Mp' || k === 'Ap' || k === 'Jv');
  let missingSize = false;
  if (st.osz === 0) {
    const unsizedMemV = ops.some((o, i) => o.t === 'mem' && o.size === 0 && OPERAND_INFO[row.operands[i]!].size === 'v');
    if (unsizedMemV && !(row.op === 'jmp_indirect' || row.op === 'call_indirect')) missingSize = true;
    st.osz = row.osize || req.bits;
  }
  void usesV;
  return { row, osz: st.osz as 16 | 32, wildSize: st.wild, missingSize };
}

// ---- bytes ----------------------------------------------------------------------------

const RM16: Record<string, number> = { 'bx+si': 0, 'bx+di': 1, 'bp+si': 2, 'bp+di': 3, si: 4, di: 5, bp: 6, bx: 7 };

function le(out: number[], v: number, n: number): void {
  for (let i = 0; i < n; i++) out.push(Math.floor(v / 2 ** (8 * i)) & 0xff);
}

function addrSize(op: Extract<EncOperand, { t: 'mem' }>, req: EncodeRequest): 16 | 32 {
  const r = op.base ?? op.index;
  if (r) return r.cls === 'r16' ? 16 : 32;
  if (op.dispSize === 16 || op.dispSize === 32) return op.dispSize;
  if (req.prefixes.includes('a16')) return 16;
  if (req.prefixes.includes('a32')) return 32;
  return req.bits;
}

/** NASM's mod: disp8 when forced or small and known, none when zero (not for [bp]/[ebp]). */
function pickMod(op: Extract<EncOperand, { t: 'mem' }>, canZero: boolean, warnings: string[]): number {
  const d = op.disp;
  const dv = d ? d.value : 0;
  const small = d === null || (d.known && d.simple);
  if (op.dispSize === 8) {
    if (!(dv >= -128 && dv <= 127) && d?.known) warnings.push('the displacement does not fit in a byte');
    return 1;
  }
  if (op.dispSize === 16 || op.dispSize === 32) return 2;
  if (canZero && (d === null || (small && dv === 0))) return 0;
  return small && dv >= -128 && dv <= 127 ? 1 : 2;
}

/** ModRM (+SIB +displacement) for register field `regField` and operand `op`. */
function modrm(out: number[], regField: number, op: EncOperand, req: EncodeRequest, warnings: string[]): void {
  if (op.t === 'reg') {
    out.push(0xc0 | (regField << 3) | op.reg.num);
    return;
  }
  if (op.t !== 'mem') return;
  const d = op.disp;
  const dv = d ? d.value : 0;
  const asz = addrSize(op, req);
  if (asz === 16) {
    const key = op.base && op.index ? op.base.name + '+' + op.index.name : (op.base ?? op.index)?.name ?? '';
    if (!key) {
      out.push((regField << 3) | 6);
      field(out, 2, d);
      le(out, dv & 0xffff, 2);
      return;
    }
    const rm = RM16[key]!;
    const mod = pickMod(op, rm !== 6, warnings);
    out.push((mod << 6) | (regField << 3) | rm);
    if (mod) field(out, mod === 1 ? 1 : 2, d);
    if (mod === 1) out.push(dv & 0xff);
    else if (mod === 2) le(out, dv & 0xffff, 2);
    return;
  }
  const base = op.base;
  const index = op.index;
  if (!base && !index) {
    out.push((regField << 3) | 5);
    field(out, 4, d);
    le(out, dv >>> 0, 4);
    return;
  }
  const ss = [0, 0, 1, 1, 2, 2, 2, 2, 3][op.scale] ?? 0;
  if (!base) {
    out.push((regField << 3) | 4, (ss << 6) | (index!.num << 3) | 5);
    field(out, 4, d);
    le(out, dv >>> 0, 4);
    return;
  }
  const mod = pickMod(op, base.num !== 5, warnings);
  if (!index && base.num !== 4) out.push((mod << 6) | (regField << 3) | base.num);
  else out.push((mod << 6) | (regField << 3) | 4, (ss << 6) | ((index ? index.num : 4) << 3) | base.num);
  if (mod) field(out, mod === 1 ? 1 : 4, d);
  if (mod === 1) out.push(dv & 0xff);
  else if (mod === 2) le(out, dv >>> 0, 4);
}

const SEG_PREFIX = [0x26, 0x2e, 0x36, 0x3e, 0x64, 0x65];
const PREFIX_SEG: Record<string, number> = { es: 0, cs: 1, ss: 2, ds: 3, fs: 4, gs: 5 };

function immBytes(out: number[], v: number, n: number): void {
  if (n === 1) out.push(v & 0xff);
  else if (n === 2) le(out, v & 0xffff, 2);
  else le(out, v >>> 0, 4);
}

function checkRange(v: EncValue, bytes: number, warnings: string[], signedOnly = false): void {
  if (!v.known || !v.simple) return;
  const x = v.value;
  const lim = 2 ** (8 * bytes);
  if (signedOnly ? x < -lim / 2 || x >= lim / 2 : x < -lim / 2 || x >= lim) {
    warnings.push(bytes === 1 ? `value ${x} does not fit in a byte (-128..255): it is truncated` : `value ${x} does not fit in ${8 * bytes} bits: it is truncated`);
  }
}

function emit(m: Match, req: EncodeRequest, warnings: string[]): { bytes: number[]; relAt: number; relSize: number } {
  fields = [];
  const { row, osz } = m;
  const ops = req.operands;
  const out: number[] = [];
  const pre: number[] = [];
  // prefixes in NASM's order: wait, lock/rep, segment, operand size, address size
  for (const p of req.prefixes) if (p === 'wait') pre.push(0x9b);
  for (const p of req.prefixes) {
    if (p === 'lock') pre.push(0xf0);
    else if (p === 'rep' || p === 'repe' || p === 'repz') pre.push(0xf3);
    else if (p === 'repne' || p === 'repnz') pre.push(0xf2);
  }
  let seg = -1;
  for (const p of req.prefixes) if (p in PREFIX_SEG) seg = PREFIX_SEG[p]!;
  let asz: number = req.bits;
  for (let i = 0; i < ops.length; i++) {
    const o = ops[i]!;
    if (o.t === 'mem') {
      if (o.seg >= 0) seg = o.seg;
      asz = addrSize(o, req);
    }
  }
  if (row.asize) asz = row.asize;
  if (req.prefixes.includes('a16')) asz = ops.some((o) => o.t === 'mem' && (o.base || o.index)) ? asz : 16;
  if (req.prefixes.includes('a32')) asz = ops.some((o) => o.t === 'mem' && (o.base || o.index)) ? asz : 32;
  if (seg >= 0) pre.push(SEG_PREFIX[seg]!);
  // Adapter: `mov Sreg, r32/r16` never takes an operand-size prefix in NASM (8E /r is size-less).
  const sizeless = (row.flags & RowFlag.NO_OSIZE_PREFIX) !== 0 || row.op === 'mov_to_seg' || (row.op === 'mov_from_seg' && ops[0]!.t === 'mem');
  const usesV = row.operands.some((k) => OPERAND_INFO[k].size === 'v' || k === 'Mp' || k === 'Ap' || k === 'Ibs');
  let wantOsz = 0;
  if (row.osize) wantOsz = row.osize;
  // Adapter: NASM treats BSWAP's register as an operand-size operand (66 0F C8+r in bits 16).
  else if (row.operands.includes('Zd')) wantOsz = 32;
  else if (usesV && !sizeless) wantOsz = osz;
  if (req.prefixes.includes('o16')) wantOsz = 16;
  if (req.prefixes.includes('o32')) wantOsz = 32;
  if (wantOsz && wantOsz !== req.bits) pre.push(0x66);
  if (asz !== req.bits) pre.push(0x67);
  out.push(...pre);
  if (row.prefix) out.push(row.prefix);
  if (row.map === 1) out.push(0x0f);
  let opcode = row.opcode;
  if (row.opreg) {
    const i = row.operands.findIndex((k) => OPERAND_INFO[k].loc === 'opreg');
    const o = ops[i]!;
    if (o.t === 'reg') opcode += o.reg.num;
  }
  out.push(opcode);
  if (row.modrm) {
    let regField = row.ext >= 0 ? row.ext : 0;
    let rmOp: EncOperand | undefined;
    row.operands.forEach((k, i) => {
      const loc = OPERAND_INFO[k].loc;
      const o = ops[i]!;
      if ((loc === 'reg' || loc === 'creg' || loc === 'dreg' || loc === 'sreg') && o.t === 'reg') regField = o.reg.num;
      if (loc === 'rm') rmOp = o;
    });
    if (rmOp) modrm(out, regField, rmOp, req, warnings);
  }
  let relAt = -1;
  let relSize = 0;
  row.operands.forEach((k, i) => {
    const o = ops[i]!;
    const info = OPERAND_INFO[k];
    if (info.loc === 'moffs' && o.t === 'mem') {
      const v = o.disp ? o.disp.value : 0;
      field(out, asz === 16 ? 2 : 4, o.disp);
      immBytes(out, v, asz === 16 ? 2 : 4);
    }
    if (o.t !== 'imm') return;
    if (k === 'Ap') {
      field(out, osz === 16 ? 2 : 4, o.v);
      immBytes(out, o.v.value, osz === 16 ? 2 : 4);
      immBytes(out, o.seg!.value, 2);
      return;
    }
    if (info.loc === 'rel') {
      relAt = out.length;
      relSize = k === 'Jb' ? 1 : osz === 16 ? 2 : 4;
      if (o.v.section !== req.section) fields.push({ at: out.length, size: relSize, value: o.v, rel: true });
      for (let j = 0; j < relSize; j++) out.push(0);
      return;
    }
    if (k === 'Ibs') {
      if (o.size === 8) checkRange(o.v, 1, warnings, true);
      field(out, 1, o.v);
      out.push(o.v.value & 0xff);
    } else if (info.loc === 'imm' || info.loc === 'imm2') {
      const n = info.size === 'v' ? osz / 8 : (info.size as number) / 8;
      checkRange(o.v, n, warnings);
      field(out, n, o.v);
      immBytes(out, o.v.value, n);
    }
  });
  if (row.impliedImm >= 0 && ops.length === 0) out.push(row.impliedImm);
  return { bytes: out, relAt, relSize };
}

/** Encodes one instruction. Never throws: problems come back in `error`. */
export function encode(req: EncodeRequest): EncodeResult {
  const warnings: string[] = [];
  const x87 = X87_NO_OPERANDS[req.mnemonic];
  if (x87) {
    if (req.operands.length > 0) return { bytes: [], error: `'${req.mnemonic}' takes no operands`, operand: 0, warnings };
    const pre = req.prefixes.map((p) => (p in PREFIX_SEG ? SEG_PREFIX[PREFIX_SEG[p]!]! : p === 'lock' ? 0xf0 : p.startsWith('repn') ? 0xf2 : p.startsWith('rep') ? 0xf3 : -1)).filter((b) => b >= 0);
    return { bytes: [...pre, ...x87], warnings };
  }
  // Adapter: NASM's `imul reg, imm` is `imul reg, reg, imm` (the table lists only the 3-operand row).
  if (req.mnemonic === 'imul' && req.operands.length === 2 && req.operands[0]!.t === 'reg' && req.operands[1]!.t === 'imm') {
    req = { ...req, operands: [req.operands[0]!, req.operands[0]!, req.operands[1]!] };
  }
  const rows = rowsForMnemonic(req.mnemonic);
  if (rows.length === 0) return { bytes: [], error: `unknown instruction '${req.mnemonic}'`, operand: -1, warnings };
  for (const o of req.operands) {
    if (o.t === 'reg' && o.reg.cls === 'tr') return { bytes: [], error: `test register '${o.reg.name}' is not supported`, operand: -1, warnings };
  }
  const matches: Match[] = [];
  for (const row of rows) {
    const m = matchRow(row, req);
    if (m) matches.push(m);
  }
  if (matches.length === 0) return { bytes: [], error: explainMismatch(req), operand: -1, warnings };
  let chosen = matches[0]!;
  if (chosen.missingSize || chosen.wildSize) {
    const sizes = new Set(matches.map((m) => (m.missingSize ? -1 : m.wildSize)));
    const pickFirst = req.mnemonic === 'movzx' || req.mnemonic === 'movsx';
    if (chosen.missingSize || (sizes.size > 1 && !pickFirst)) {
      return { bytes: [], error: 'operation size not specified: write byte, word or dword before the memory operand', operand: -1, warnings };
    }
  }
  // Jb: take the short form only if the target is known, in this section and in range
  for (let attempt = 0; attempt < matches.length; attempt++) {
    chosen = matches[attempt]!;
    const { bytes, relAt, relSize } = emit(chosen, req, warnings);
    if (relAt < 0) return { bytes, warnings, fields };
    const opIndex = chosen.row.operands.findIndex((k) => OPERAND_INFO[k].loc === 'rel');
    const target = req.operands[opIndex] as Extract<EncOperand, { t: 'imm' }>;
    const next = req.address + bytes.length;
    let disp = target.v.value - next;
    if (relSize === 2) disp = ((disp % 65536) + 65536) % 65536;
    const isJb = chosen.row.operands[opIndex] === 'Jb';
    const forced = target.jump === 'short' || !matches.some((m) => m.row.operands[opIndex] === 'Jv');
    if (isJb) {
      const sameSection = target.v.section === req.section || (target.v.simple && req.section < 0);
      const inRange = disp >= -128 && disp <= 127;
      if (!forced && target.v.known && (!sameSection || !inRange)) continue; // try the near form
      if (forced && target.v.known && !inRange) {
        le(bytes.length ? bytes : [], 0, 0);
        bytes[relAt] = disp & 0xff;
        return { bytes, error: `short jump is out of range: the target is ${disp} bytes away (a short jump reaches -128..127)`, operand: opIndex, warnings };
      }
    }
    const out = bytes;
    const tmp: number[] = [];
    immBytes(tmp, disp, relSize);
    for (let j = 0; j < relSize; j++) out[relAt + j] = tmp[j]!;
    return { bytes: out, warnings, fields };
  }
  return { bytes: [], error: explainMismatch(req), operand: -1, warnings };
}

function describeOperand(o: EncOperand): string {
  if (o.t === 'reg') return `${o.reg.cls === 'seg' ? 'segment register' : o.reg.cls === 'cr' ? 'control register' : o.reg.cls === 'dr' ? 'debug register' : `${regBits(o.reg)}-bit register`} ${o.reg.name}`;
  if (o.t === 'mem') return o.size ? `${o.size === 8 ? 'an' : 'a'} ${o.size}-bit memory operand` : 'a memory operand';
  if (o.seg) return 'a far address seg:offset';
  return o.size ? `${o.size === 8 ? 'an' : 'a'} ${o.size}-bit immediate` : 'an immediate value';
}

const KIND_TEXT: Partial<Record<OperandKind, string>> = {
  Eb: 'r/m8', Ew: 'r/m16', Ed: 'r/m32', Ev: 'r/m16/32', Gb: 'reg8', Gw: 'reg16', Gd: 'reg32', Gv: 'reg16/32',
  Rw: 'reg16', Rd: 'reg32', Rv: 'reg16/32', M: 'mem', Mw: 'mem16', Md: 'mem32', Mp: 'far pointer in memory', Ms: 'mem',
  Ma: 'mem', Ib: 'imm8', Iw: 'imm16', Iv: 'imm16/32', Ibs: 'imm8', Jb: 'label', Jv: 'label', Ap: 'seg:offset',
  Cd: 'crN', Dd: 'drN', Sw: 'segment register', Ob: '[address]', Ov: '[address]', Zb: 'reg8', Zv: 'reg16/32',
  Zd: 'reg32', AL: 'al', AX: 'ax', eAX: 'ax/eax', CL: 'cl', DX: 'dx', ES: 'es', CS: 'cs', SS: 'ss', DS: 'ds',
  FS: 'fs', GS: 'gs', '1': '1',
};

/** "expected ..., found ..." for an operand combination no row accepts. */
function explainMismatch(req: EncodeRequest): string {
  const rows = rowsForMnemonic(req.mnemonic);
  const found = req.operands.length === 0 ? 'no operands' : req.operands.map(describeOperand).join(', ');
  const [o0, o1] = req.operands;
  const counts = new Set(rows.map((r) => r.operands.length));
  const mems = req.operands.filter((o) => o.t === 'mem').length;
  if (counts.has(req.operands.length)) {
    if (mems >= 2) return `an instruction can have at most one memory operand (found ${found}): load one of them into a register first`;
    if (req.mnemonic === 'mov' && o0?.t === 'reg' && o0.reg.cls === 'seg' && o1?.t === 'imm') {
      return `a segment register cannot be loaded with an immediate value: load a general register first (mov ax, value / mov ${o0.reg.name}, ax)`;
    }
    if (req.mnemonic === 'mov' && o0?.t === 'reg' && (o0.reg.cls === 'cr' || o0.reg.cls === 'dr') && o1?.t !== 'reg') {
      return `${o0.reg.name} can only be loaded from a 32-bit general register (mov eax, value / mov ${o0.reg.name}, eax)`;
    }
    if ((req.mnemonic === 'jmp' || req.mnemonic === 'call') && o0?.t === 'imm' && o0.jump === 'far') {
      return `a far ${req.mnemonic} needs segment:offset (${req.mnemonic} 0x08:label) or a far pointer in memory (${req.mnemonic} far [pointer]); a flat binary has no segment for '${req.mnemonic} far label'`;
    }
    if (o0?.t === 'reg' && o0.reg.cls === 'r8' && (req.mnemonic === 'push' || req.mnemonic === 'pop')) {
      return `${req.mnemonic} works on 16- or 32-bit values, not on the 8-bit register ${o0.reg.name}`;
    }
    if (req.operands.length === 1 && o0?.t === 'imm' && rows.every((r) => OPERAND_INFO[r.operands[0]!].form === 'mem')) {
      return `'${req.mnemonic}' needs a memory operand: write the address in brackets, e.g. [label]`;
    }
    if (req.operands.length === 2) {
      const swapped = { ...req, operands: [req.operands[1]!, req.operands[0]!] };
      if (rows.some((r) => matchRow(r, swapped))) return `the operands of '${req.mnemonic}' are the wrong way round: the destination comes first (found ${found})`;
    }
  }
  const sizeOf = (o: EncOperand): number => (o.t === 'reg' && o.reg.cls !== 'seg' ? regBits(o.reg) : o.t === 'mem' ? o.size : 0);
  if (req.operands.length === 2 && counts.has(2)) {
    const [a, b] = [sizeOf(req.operands[0]!), sizeOf(req.operands[1]!)];
    const sameSizeForm = rows.some((r) => r.operands.length >= 2 && r.operands[0]!.length === 2 && r.operands[1]!.length === 2 && r.operands[0]![1] === r.operands[1]![1]);
    if (a && b && a !== b && sameSizeForm) {
      return `operand sizes do not match: the first operand is ${a}-bit, the second ${b}-bit (${found})`;
    }
  }
  const forms = new Set<string>();
  // general forms first: the accumulator, moffs and register-in-opcode rows are NASM's shortcuts
  const general = rows.filter((r) => !r.operands.some((k) => ['Ob', 'Ov', 'Zb', 'Zv', 'Zd', 'AL', 'eAX', 'AX'].includes(k)));
  for (const r of general.length ? general : rows) {
    if (r.flags & (1 << 10)) continue;
    const f = r.operands.map((k) => KIND_TEXT[k] ?? k).join(', ');
    forms.add(f || '(no operands)');
  }
  const list = [...forms].slice(0, 10).join(' | ');
  if (!counts.has(req.operands.length)) {
    const c = [...counts].sort();
    if (c.length === 1 && c[0] === 0) return `'${req.mnemonic}' takes no operands, found ${req.operands.length} (${found})`;
    return `'${req.mnemonic}' takes ${c.join(' or ')} operand${c.length === 1 && c[0] === 1 ? '' : 's'}, found ${req.operands.length} (${found}); forms: ${list}`;
  }
  return `invalid combination of operands for '${req.mnemonic}': found ${found}; expected one of: ${list}`;
}

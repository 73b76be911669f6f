// The bytes of one instruction, once a row has been chosen: prefixes in NASM's order, the opcode,
// ModRM/SIB/displacement, immediates, and a zeroed branch displacement that encode() fills in
// once it knows the instruction's length.

import { OPERAND_INFO, RowFlag } from './types.ts';
import type { EncField, EncMemOperand, EncodeRequest, EncOperand, EncValue } from './encode-types.ts';
import type { Match } from './encode-match.ts';

/** The encoded row, with where its branch displacement sits (relAt -1: none). */
export interface RowBytes {
  bytes: number[];
  relAt: number;
  relSize: number;
  fields: EncField[];
}

const RM16: Record<string, number> = { 'bx+si': 0, 'bx+di': 1, 'bp+si': 2, 'bp+di': 3, si: 4, di: 5, bp: 6, bx: 7 };
const SEG_PREFIX = [0x26, 0x2e, 0x36, 0x3e, 0x64, 0x65];
const PREFIX_SEG: Record<string, number> = { es: 0, cs: 1, ss: 2, ds: 3, fs: 4, gs: 5 };

/** Prefix words NASM accepts and their bytes; o16/o32/a16/a32 only where they change the mode's size (-1). */
const PREFIX_BYTE: Record<string, (bits: number) => number> = {
  wait: () => 0x9b, lock: () => 0xf0, rep: () => 0xf3, repe: () => 0xf3, repz: () => 0xf3, repne: () => 0xf2, repnz: () => 0xf2,
  es: () => 0x26, cs: () => 0x2e, ss: () => 0x36, ds: () => 0x3e, fs: () => 0x64, gs: () => 0x65,
  o16: (b) => (b === 32 ? 0x66 : -1), o32: (b) => (b === 16 ? 0x66 : -1), a16: (b) => (b === 32 ? 0x67 : -1), a32: (b) => (b === 16 ? 0x67 : -1),
};

/** The byte of a prefix written on its own line (`rep`, `o16`), in `bits` code; -1 when it has none. */
export function prefixByte(name: string, bits: number): number {
  return PREFIX_BYTE[name]!(bits);
}

/** Little-endian bytes of v (which may exceed 32 bits' range; no bit operations on it). */
export function le(out: number[], v: number, n: number): void {
  for (let i = 0; i < n; i++) out.push(Math.floor(v / 2 ** (8 * i)) & 0xff);
}

/** An immediate or displacement of n bytes, truncated to its width. */
export function immBytes(out: number[], v: number, n: number): void {
  if (n === 1) out.push(v & 0xff);
  else if (n === 2) le(out, v & 0xffff, 2);
  else le(out, v >>> 0, 4);
}

/** Collects the relocatable value fields of one encoding, for the listing's marks. */
class Fields {
  readonly list: EncField[] = [];
  /** The value about to be written at out.length, if it is an address (plain numbers are not marked). */
  add(out: number[], size: number, value: EncValue | null): void {
    if (value && !value.simple) this.list.push({ at: out.length, size, value, rel: false });
  }
}

function checkRange(v: EncValue, bytes: number, warnings: string[], signedOnly = false): void {
  if (!v.known || !v.simple) return;
  const x = v.value;
  const lim = 2 ** (8 * bytes);
  if (signedOnly ? x < -lim / 2 || x >= lim / 2 : x < -lim / 2 || x >= lim) {
    warnings.push(bytes === 1 ? `value ${x} does not fit in a byte (-128..255): it is truncated` : `value ${x} does not fit in ${8 * bytes} bits: it is truncated`);
  }
}

export function addrSize(op: EncMemOperand, req: EncodeRequest): 16 | 32 {
  const r = op.base ?? op.index;
  if (r) return r.cls === 'r16' ? 16 : 32;
  if (op.dispSize === 16 || op.dispSize === 32) return op.dispSize;
  if (req.prefixes.includes('a16')) return 16;
  if (req.prefixes.includes('a32')) return 32;
  return req.bits;
}

/** NASM's mod: disp8 when forced or small and known, none when zero (not for [bp]/[ebp]). */
function pickMod(op: EncMemOperand, canZero: boolean, warnings: string[]): number {
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

/** ModRM (+displacement) with 16-bit addressing: the eight base/index pairs of RM16. */
function modrm16(out: number[], regField: number, op: EncMemOperand, fields: Fields, warnings: string[]): void {
  const d = op.disp;
  const dv = d ? d.value : 0;
  const key = op.base && op.index ? op.base.name + '+' + op.index.name : (op.base ?? op.index)?.name ?? '';
  if (!key) {
    out.push((regField << 3) | 6);
    fields.add(out, 2, d);
    le(out, dv & 0xffff, 2);
    return;
  }
  const rm = RM16[key]!;
  const mod = pickMod(op, rm !== 6, warnings);
  out.push((mod << 6) | (regField << 3) | rm);
  if (mod) fields.add(out, mod === 1 ? 1 : 2, d);
  if (mod === 1) out.push(dv & 0xff);
  else if (mod === 2) le(out, dv & 0xffff, 2);
}

/** ModRM (+SIB +displacement) with 32-bit addressing. */
function modrm32(out: number[], regField: number, op: EncMemOperand, fields: Fields, warnings: string[]): void {
  const d = op.disp;
  const dv = d ? d.value : 0;
  const { base, index } = op;
  if (!base && !index) {
    out.push((regField << 3) | 5);
    fields.add(out, 4, d);
    le(out, dv >>> 0, 4);
    return;
  }
  const ss = [0, 0, 1, 1, 2, 2, 2, 2, 3][op.scale] ?? 0;
  if (!base) {
    out.push((regField << 3) | 4, (ss << 6) | (index!.num << 3) | 5);
    fields.add(out, 4, d);
    le(out, dv >>> 0, 4);
    return;
  }
  const mod = pickMod(op, base.num !== 5, warnings);
  if (!index && base.num !== 4) out.push((mod << 6) | (regField << 3) | base.num);
  else out.push((mod << 6) | (regField << 3) | 4, (ss << 6) | ((index ? index.num : 4) << 3) | base.num);
  if (mod) fields.add(out, mod === 1 ? 1 : 4, d);
  if (mod === 1) out.push(dv & 0xff);
  else if (mod === 2) le(out, dv >>> 0, 4);
}

/** ModRM (+SIB +displacement) for register field `regField` and operand `op`. */
function modrm(out: number[], regField: number, op: EncOperand, req: EncodeRequest, fields: Fields, warnings: string[]): void {
  if (op.t === 'reg') out.push(0xc0 | (regField << 3) | op.reg.num);
  else if (op.t === 'mem') (addrSize(op, req) === 16 ? modrm16 : modrm32)(out, regField, op, fields, warnings);
}

/** Prefix bytes in NASM's order: wait, lock/rep, segment, operand size, address size; and the address size. */
function prefixBytes(m: Match, req: EncodeRequest): { pre: number[]; asz: number } {
  const { row, osz } = m;
  const ops = req.operands;
  const pre: number[] = [];
  for (const p of req.prefixes) if (p === 'wait') pre.push(0x9b);
  for (const p of req.prefixes) if (p === 'lock' || p.startsWith('rep')) pre.push(PREFIX_BYTE[p]!(req.bits));
  let seg = -1;
  for (const p of req.prefixes) if (p in PREFIX_SEG) seg = PREFIX_SEG[p]!;
  let asz: number = req.bits;
  for (const o of ops) {
    if (o.t !== 'mem') continue;
    if (o.seg >= 0) seg = o.seg;
    asz = addrSize(o, req);
  }
  if (row.asize) asz = row.asize;
  const addressed = ops.some((o) => o.t === 'mem' && (o.base || o.index));
  if (req.prefixes.includes('a16') && !addressed) asz = 16;
  if (req.prefixes.includes('a32') && !addressed) asz = 32;
  if (seg >= 0) pre.push(SEG_PREFIX[seg]!);
  let wantOsz = 0;
  if (row.osize) wantOsz = row.osize;
  else if ((row.flags & RowFlag.NO_OSIZE_PREFIX) === 0 && row.operands.some((k) => OPERAND_INFO[k].size === 'v' || k === 'Mp' || k === 'Ap' || k === 'Ibs')) wantOsz = osz;
  if (req.prefixes.includes('o16')) wantOsz = 16;
  if (req.prefixes.includes('o32')) wantOsz = 32;
  if (wantOsz && wantOsz !== req.bits) pre.push(0x66);
  if (asz !== req.bits) pre.push(0x67);
  return { pre, asz };
}

/** Opcode and ModRM: a register in the opcode's low bits (+r) or the reg/r/m fields. */
function opcodeAndModrm(out: number[], m: Match, req: EncodeRequest, fields: Fields, warnings: string[]): void {
  const { row } = m;
  const ops = req.operands;
  if (row.prefix) out.push(row.prefix);
  if (row.map === 1) out.push(0x0f);
  let opcode = row.opcode;
  if (row.opreg) {
    const o = ops[row.operands.findIndex((k) => OPERAND_INFO[k].loc === 'opreg')]!;
    if (o.t === 'reg') opcode += o.reg.num;
  }
  out.push(opcode);
  if (!row.modrm) return;
  let regField = row.ext >= 0 ? row.ext : 0;
  let rmOp: EncOperand | undefined;
  let regOp: EncOperand | undefined;
  row.operands.forEach((k, i) => {
    const loc = OPERAND_INFO[k].loc;
    const o = ops[i]!;
    if ((loc === 'reg' || loc === 'creg' || loc === 'dreg' || loc === 'sreg') && o.t === 'reg') {
      regField = o.reg.num;
      regOp = o;
    }
    if (loc === 'rm') rmOp = o;
  });
  // A ModRM row that names no r/m operand is NASM's `r+` form (`imul Gv,Ibs` = 6B /r): the one
  // register operand fills both fields, as in `imul eax, 5` = `imul eax, eax, 5`.
  rmOp ??= regOp;
  if (rmOp) modrm(out, regField, rmOp, req, fields, warnings);
}

/** Encodes row m.row for the request; a branch displacement is left as zeros at relAt. */
export function rowBytes(m: Match, req: EncodeRequest, warnings: string[]): RowBytes {
  const { row, osz } = m;
  const ops = req.operands;
  const fields = new Fields();
  const { pre: out, asz } = prefixBytes(m, req);
  opcodeAndModrm(out, m, req, fields, warnings);
  let relAt = -1;
  let relSize = 0;
  row.operands.forEach((k, i) => {
    const o = ops[i]!;
    const info = OPERAND_INFO[k];
    if (info.loc === 'moffs' && o.t === 'mem') {
      const n = asz === 16 ? 2 : 4;
      fields.add(out, n, o.disp);
      immBytes(out, o.disp ? o.disp.value : 0, n);
    }
    if (o.t !== 'imm') return;
    if (k === 'Ap') {
      fields.add(out, osz === 16 ? 2 : 4, o.v);
      immBytes(out, o.v.value, osz === 16 ? 2 : 4);
      immBytes(out, o.seg!.value, 2);
    } else if (info.loc === 'rel') {
      relAt = out.length;
      relSize = k === 'Jb' ? 1 : osz === 16 ? 2 : 4;
      if (o.v.section !== req.section) fields.list.push({ at: out.length, size: relSize, value: o.v, rel: true });
      for (let j = 0; j < relSize; j++) out.push(0);
    } else if (k === 'Ibs') {
      if (o.size === 8) checkRange(o.v, 1, warnings, true);
      fields.add(out, 1, o.v);
      out.push(o.v.value & 0xff);
    } else if (info.loc === 'imm' || info.loc === 'imm2') {
      const n = info.size === 'v' ? osz / 8 : (info.size as number) / 8;
      checkRange(o.v, n, warnings);
      fields.add(out, n, o.v);
      immBytes(out, o.v.value, n);
    }
  });
  // aam/aad without an operand imply 0A; the x87 control rows imply their fixed ModRM byte.
  if (row.impliedImm >= 0 && ops.length === 0) out.push(row.impliedImm);
  return { bytes: out, relAt, relSize, fields: fields.list };
}

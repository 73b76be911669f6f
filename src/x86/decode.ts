// Table-driven x86 decoder (16/32-bit, 486). Lookup structures are built from ROWS at module load:
// one candidate list per (map, opcode); most lists hold one row. The result goes into a caller-owned
// Decoded object of one fixed shape (the CPU caches them per address), so decoding allocates nothing.
import { ROWS } from './table.ts';
import { DecodeError, type DecodeErrorCode, OPERAND_INFO, type OpcodeRow, Rep, RowFlag, Seg } from './types.ts';

/** Returns the byte at `index` bytes past the instruction start (0..14), or -1 past the end of input. */
export type FetchByte = (index: number) => number;

/** One decoded instruction. Create once with `new Decoded()` and reuse; every field is rewritten. */
export class Decoded {
  /** The matched row, or null when the bytes are not a valid instruction (see error). */
  row: OpcodeRow | null = null;
  /**
   * On BAD_LOCK (and only then): the row the bytes would decode to without the LOCK prefix, so the
   * CPU's #UD warning and the disassembler can name the instruction. Null otherwise.
   */
  candidate: OpcodeRow | null = null;
  /** DecodeError code; 0 when row is set. */
  error: DecodeErrorCode = DecodeError.NONE;
  /** Instruction length in bytes, prefixes included (for errors: bytes examined so far). */
  length = 0;
  /** Number of prefix bytes. */
  prefixCount = 0;
  /** 0 = one-byte map, 1 = 0F map; opcode = the opcode byte. */
  map = 0;
  opcode = 0;
  /** Segment override prefix (Seg.*) or -1. */
  segOverride = -1;
  /** Rep.NONE / Rep.REPE (F3) / Rep.REPNE (F2): the last one seen wins. */
  rep: number = Rep.NONE;
  lock = false;
  /** 66 / 67 prefix present. */
  opsizePrefix = false;
  adsizePrefix = false;
  /** Effective operand and address size. */
  opsize: 16 | 32 = 32;
  adsize: 16 | 32 = 32;
  /** ModRM fields (-1 when the instruction has no ModRM). */
  mod = -1;
  reg = -1;
  rm = -1;
  /** True when an operand is in memory (ModRM mod != 3, or moffs). */
  isMemory = false;
  /** Effective address: base and index registers (0-7, -1 none), scale as a shift count 0-3. */
  eaBase = -1;
  eaIndex = -1;
  eaScale = 0;
  /** Displacement, sign-extended to a signed 32-bit number (moffs: unsigned address). */
  disp = 0;
  /** Displacement size in bytes as encoded: 0, 1, 2 or 4. */
  dispSize = 0;
  /**
   * Segment of the memory operand: the override, else DS, or SS for BP/EBP/ESP-based forms. Also set
   * (override or DS) for instructions without ModRM memory: the DS:(E)SI source of string ops and XLAT.
   */
  eaSeg: number = Seg.DS;
  /** True when a SIB byte was present. */
  hasSib = false;
  /**
   * First immediate as the instruction uses it, unsigned and masked to its size: Ib/Iw zero-extended,
   * Ibs sign-extended to the operand size, Iv at the operand size, Ap's offset. For Jb/Jv: the signed
   * branch displacement (target = next EIP + imm).
   */
  imm = 0;
  /** Second immediate: ENTER's nesting level (Ib), Ap's selector. */
  imm2 = 0;
  /** Encoded size in bytes of the first immediate (0 if none), for formatters. */
  immSize = 0;
}

const EMPTY: readonly OpcodeRow[] = [];
/** Candidate rows per (map << 8 | opcode), decodable rows only, table order. */
const SLOTS: (readonly OpcodeRow[])[] = new Array(512).fill(EMPTY);
for (const r of ROWS) {
  if (r.flags & RowFlag.ASM_ONLY) continue;
  const count = r.opreg ? 8 : 1;
  for (let i = 0; i < count; i++) {
    const key = (r.map << 8) | (r.opcode + i);
    SLOTS[key] = [...SLOTS[key]!, r];
  }
}
/** Per slot: does the instruction have a ModRM byte (rows of a slot agree). */
const HAS_MODRM = new Uint8Array(512);
for (let i = 0; i < 512; i++) HAS_MODRM[i] = SLOTS[i]!.length > 0 && SLOTS[i]![0]!.modrm ? 1 : 0;

/** Rows whose r/m is always a register whatever mod says (MOV CRn/DRn: the 486 ignores mod). */
const RM_ALWAYS_REGISTER = new Uint8Array(ROWS.length);
for (const r of ROWS) {
  if (r.mod === 'any' && r.operands.some((k) => OPERAND_INFO[k].loc === 'rm' && OPERAND_INFO[k].form === 'reg')) RM_ALWAYS_REGISTER[r.id] = 1;
}

/** 16-bit addressing: base and index registers per rm (6 with mod 0 = disp16 only). */
const EA16_BASE = [3, 3, 5, 5, 6, 7, 5, 3]; // bx bx bp bp si di bp bx
const EA16_INDEX = [6, 7, 6, 7, -1, -1, -1, -1]; // si di si di

/** Same for bytes (for tests and the disassembler): decode at `offset` of `bytes`. */
let srcBytes: Uint8Array = new Uint8Array(0);
let srcOffset = 0;
const fetchFromBytes: FetchByte = (i) => {
  const p = srcOffset + i;
  return p < srcBytes.length ? srcBytes[p]! : -1;
};

/** Decode the instruction at `offset` of `bytes` in `bits`-bit code (CS.D). */
export function decodeBytes(out: Decoded, bytes: Uint8Array, offset: number, bits: 16 | 32): Decoded {
  srcBytes = bytes;
  srcOffset = offset;
  return decode(out, fetchFromBytes, bits);
}

function fail(out: Decoded, error: DecodeErrorCode, length: number): Decoded {
  out.row = null;
  out.error = error;
  out.length = length;
  return out;
}

const MAX_LENGTH = 15;

/** Decode one instruction through `fetch` in `bits`-bit code. Returns `out`. */
export function decode(out: Decoded, fetch: FetchByte, bits: 16 | 32): Decoded {
  out.row = null;
  out.candidate = null;
  out.error = DecodeError.NONE;
  out.segOverride = -1;
  out.rep = Rep.NONE;
  out.lock = false;
  out.opsizePrefix = false;
  out.adsizePrefix = false;
  out.mod = out.reg = out.rm = -1;
  out.isMemory = false;
  out.eaBase = out.eaIndex = -1;
  out.eaScale = 0;
  out.disp = 0;
  out.dispSize = 0;
  out.hasSib = false;
  out.imm = out.imm2 = out.immSize = 0;

  let pos = 0;
  let b = 0;
  // Prefixes.
  for (;;) {
    if (pos >= MAX_LENGTH) return fail(out, DecodeError.TOO_LONG, pos);
    b = fetch(pos++);
    if (b < 0) return fail(out, DecodeError.TRUNCATED, pos - 1);
    if (b === 0x66) out.opsizePrefix = true;
    else if (b === 0x67) out.adsizePrefix = true;
    else if (b === 0xf0) out.lock = true;
    else if (b === 0xf3) out.rep = Rep.REPE;
    else if (b === 0xf2) out.rep = Rep.REPNE;
    else if ((b & 0xe7) === 0x26) out.segOverride = (b >> 3) & 3; // 26 2E 36 3E
    else if (b === 0x64 || b === 0x65) out.segOverride = b - 0x60; // FS=4 GS=5
    else break;
  }
  out.prefixCount = pos - 1;
  const opsize: 16 | 32 = out.opsizePrefix ? (bits === 32 ? 16 : 32) : bits;
  const adsize: 16 | 32 = out.adsizePrefix ? (bits === 32 ? 16 : 32) : bits;
  out.opsize = opsize;
  out.adsize = adsize;
  out.eaSeg = out.segOverride >= 0 ? out.segOverride : Seg.DS;

  let map = 0;
  if (b === 0x0f) {
    if (pos >= MAX_LENGTH) return fail(out, DecodeError.TOO_LONG, pos);
    b = fetch(pos++);
    if (b < 0) return fail(out, DecodeError.TRUNCATED, pos - 1);
    map = 1;
  }
  out.map = map;
  out.opcode = b;
  const key = (map << 8) | b;
  const candidates = SLOTS[key]!;
  if (candidates.length === 0) return fail(out, DecodeError.UNKNOWN_OPCODE, pos);

  let mod = 3;
  let reg = 0;
  if (HAS_MODRM[key]) {
    if (pos >= MAX_LENGTH) return fail(out, DecodeError.TOO_LONG, pos);
    const m = fetch(pos++);
    if (m < 0) return fail(out, DecodeError.TRUNCATED, pos - 1);
    mod = m >> 6;
    reg = (m >> 3) & 7;
    out.mod = mod;
    out.reg = reg;
    out.rm = m & 7;
  }

  const row = selectRow(candidates, mod, reg, opsize, adsize, out.rep);
  if (row === null) return fail(out, modMismatch(candidates, mod, reg), pos);

  if (out.mod >= 0 && mod !== 3 && RM_ALWAYS_REGISTER[row.id] === 0) {
    pos = adsize === 16 ? decodeEa16(out, fetch, pos) : decodeEa32(out, fetch, pos);
    if (pos < 0) return fail(out, -pos === 100 ? DecodeError.TOO_LONG : DecodeError.TRUNCATED, out.length);
  }
  pos = decodeImmediates(out, row, fetch, pos, opsize, adsize);
  if (pos < 0) return fail(out, -pos === 100 ? DecodeError.TOO_LONG : DecodeError.TRUNCATED, out.length);

  if (out.lock && ((row.flags & RowFlag.LOCK) === 0 || !out.isMemory)) {
    fail(out, DecodeError.BAD_LOCK, pos);
    out.candidate = row;
    return out;
  }
  out.row = row;
  out.length = pos;
  return out;
}

function selectRow(candidates: readonly OpcodeRow[], mod: number, reg: number, opsize: number, adsize: number, rep: number): OpcodeRow | null {
  for (let i = 0; i < candidates.length; i++) {
    const r = candidates[i]!;
    if (r.ext >= 0 && r.ext !== reg) continue;
    if (r.mod === 'mem' ? mod === 3 : r.mod === 'reg' && mod !== 3) continue;
    if (r.osize !== 0 && r.osize !== opsize) continue;
    if (r.asize !== 0 && r.asize !== adsize) continue;
    if (r.prefix === 0xf3 && rep !== Rep.REPE) continue;
    return r;
  }
  return null;
}

/** Why no candidate matched: a row with this /digit exists but wants the other ModRM form. */
function modMismatch(candidates: readonly OpcodeRow[], mod: number, reg: number): DecodeErrorCode {
  for (const r of candidates) {
    if (r.ext >= 0 && r.ext !== reg) continue;
    if (r.mod === 'mem' && mod === 3) return DecodeError.REGISTER_FORM;
    if (r.mod === 'reg' && mod !== 3) return DecodeError.MEMORY_FORM;
  }
  return DecodeError.UNKNOWN_OPCODE;
}

/**
 * Read `size` (1, 2 or 4) bytes little-endian at pos, unsigned. On failure returns NaN with
 * out.length set and the failure kind in readError (100 = past 15 bytes, 101 = input ended).
 */
let readError = 0;
function readLE(out: Decoded, fetch: FetchByte, pos: number, size: number): number {
  if (pos + size > MAX_LENGTH) {
    readError = 100;
    out.length = MAX_LENGTH;
    return NaN;
  }
  const b0 = fetch(pos);
  if (size === 1) {
    if (b0 < 0) return truncated(out, pos);
    return b0;
  }
  const b1 = fetch(pos + 1);
  if (size === 2) {
    if ((b0 | b1) < 0) return truncated(out, pos);
    return b0 | (b1 << 8);
  }
  const b2 = fetch(pos + 2);
  const b3 = fetch(pos + 3);
  if ((b0 | b1 | b2 | b3) < 0) return truncated(out, pos);
  return (b0 | (b1 << 8) | (b2 << 16) | (b3 << 24)) >>> 0;
}

function truncated(out: Decoded, pos: number): number {
  readError = 101;
  out.length = pos;
  return NaN;
}

function decodeEa16(out: Decoded, fetch: FetchByte, pos: number): number {
  const { mod, rm } = out;
  out.isMemory = true;
  if (mod === 0 && rm === 6) {
    const d = readLE(out, fetch, pos, 2);
    if (d !== d) return -readError;
    out.disp = (d << 16) >> 16;
    out.dispSize = 2;
    out.eaSeg = out.segOverride >= 0 ? out.segOverride : Seg.DS;
    return pos + 2;
  }
  out.eaBase = EA16_BASE[rm]!;
  out.eaIndex = EA16_INDEX[rm]!;
  out.eaSeg = out.segOverride >= 0 ? out.segOverride : out.eaBase === 5 ? Seg.SS : Seg.DS;
  if (mod === 0) return pos;
  const size = mod === 1 ? 1 : 2;
  const d = readLE(out, fetch, pos, size);
  if (d !== d) return -readError;
  out.disp = size === 1 ? (d << 24) >> 24 : (d << 16) >> 16;
  out.dispSize = size;
  return pos + size;
}

function decodeEa32(out: Decoded, fetch: FetchByte, pos: number): number {
  const mod = out.mod;
  let base = out.rm;
  out.isMemory = true;
  if (base === 4) {
    out.hasSib = true;
    const sib = readLE(out, fetch, pos, 1);
    if (sib !== sib) return -readError;
    pos++;
    const index = (sib >> 3) & 7;
    out.eaIndex = index === 4 ? -1 : index;
    out.eaScale = sib >> 6;
    base = sib & 7;
    if (base === 5 && mod === 0) base = -1;
  } else if (base === 5 && mod === 0) {
    base = -1;
  }
  out.eaBase = base;
  out.eaSeg = out.segOverride >= 0 ? out.segOverride : base === 4 || base === 5 ? Seg.SS : Seg.DS;
  const size = mod === 1 ? 1 : mod === 2 || base === -1 ? 4 : 0;
  if (size === 0) return pos;
  const d = readLE(out, fetch, pos, size);
  if (d !== d) return -readError;
  out.disp = size === 1 ? (d << 24) >> 24 : d | 0;
  out.dispSize = size;
  return pos + size;
}

/** Immediate plan codes, precomputed per row in operand order (at most two per row). */
const IMM_IB = 1, IMM_IBS = 2, IMM_IW = 3, IMM_IV = 4, IMM_JB = 5, IMM_JV = 6, IMM_AP = 7, IMM_MOFFS = 8;
const IMM_CODE: Partial<Record<string, number>> = { Ib: IMM_IB, Ibs: IMM_IBS, Iw: IMM_IW, Iv: IMM_IV, Jb: IMM_JB, Jv: IMM_JV, Ap: IMM_AP, Ob: IMM_MOFFS, Ov: IMM_MOFFS };
const IMM_PLAN: Uint8Array[] = ROWS.map((r) => Uint8Array.from(r.operands.map((k) => IMM_CODE[k] ?? 0).filter((c) => c !== 0)));

function decodeImmediates(out: Decoded, row: OpcodeRow, fetch: FetchByte, pos: number, opsize: number, adsize: number): number {
  const plan = IMM_PLAN[row.id]!;
  for (let i = 0; i < plan.length; i++) {
    const code = plan[i]!;
    if (code === IMM_MOFFS) {
      const size = adsize >> 3;
      const v = readLE(out, fetch, pos, size);
      if (v !== v) return -readError;
      pos += size;
      out.isMemory = true;
      out.disp = v;
      out.dispSize = size;
      out.eaSeg = out.segOverride >= 0 ? out.segOverride : Seg.DS;
      continue;
    }
    const size = code === IMM_IB || code === IMM_IBS || code === IMM_JB ? 1 : code === IMM_IW ? 2 : opsize >> 3;
    const v = readLE(out, fetch, pos, size);
    if (v !== v) return -readError;
    pos += size;
    let value = v;
    if (code === IMM_IBS) value = opsize === 16 ? ((v << 24) >> 24) & 0xffff : ((v << 24) >> 24) >>> 0;
    else if (code === IMM_JB) value = (v << 24) >> 24;
    else if (code === IMM_JV) value = size === 2 ? (v << 16) >> 16 : v | 0;
    if (i > 0) {
      out.imm2 = value; // ENTER Iw,Ib
      continue;
    }
    out.imm = value;
    out.immSize = size;
    if (code === IMM_AP) {
      const sel = readLE(out, fetch, pos, 2);
      if (sel !== sel) return -readError;
      pos += 2;
      out.imm2 = sel;
    }
  }
  return pos;
}

/** The decodable rows for (map, opcode), for tools that enumerate the table. */
export function candidateRows(map: 0 | 1, opcode: number): readonly OpcodeRow[] {
  return SLOTS[(map << 8) | opcode]!;
}

// NASM-syntax text for a decoded instruction, spelled the way ndisasm (NASM 2.16) spells it:
// prefixes it did not fold into the instruction (o16/o32/a16/a32, rep, lock, segment), mnemonics
// that name the operand size only when it differs from the mode's, size keywords only where the
// operands do not imply the size, hex numbers as `0x1f`, signed `byte +0x5` for sign-extended imm8.
import type { Decoded } from './decode.ts';
import { WAIT_FORMS, type X87Form, x87Form } from './x87.ts';
import { OPERAND_INFO, type OpcodeRow, type OperandKind, Rep, RowFlag, REG16_NAMES, REG32_NAMES, REG8_NAMES, SEG_NAMES } from './types.ts';

const hex = (n: number): string => '0x' + n.toString(16);

/** Row mnemonics ndisasm prints without a size suffix when the operand size is the mode's. */
const DEFAULT_SIZE_NAME: Record<string, string> = {
  pushaw: 'pusha', pushad: 'pusha', popaw: 'popa', popad: 'popa', pushfw: 'pushf', pushfd: 'pushf',
  popfw: 'popf', popfd: 'popf', iretw: 'iret', iretd: 'iret',
};

/**
 * ndisasm's names for F2/F3 as TSX lock elision hints: XCHG with memory and LOCKed read-modify-write
 * instructions take xacquire/xrelease, MOV to memory takes xrelease.
 */
function hlePrefix(row: OpcodeRow, d: Decoded): string {
  if (d.rep === Rep.NONE) return '';
  const name = d.rep === Rep.REPNE ? 'xacquire' : 'xrelease';
  // ndisasm's choice follows its templates: MOV r/m,imm takes F3 as xrelease for any destination,
  // MOV r/m,r and XCHG only with memory (their reg,reg templates come first), LOCKed ops always
  // except in register-to-register form.
  if (row.op === 'mov' && d.rep === Rep.REPE && row.map === 0) {
    if (row.opcode === 0xc6 || row.opcode === 0xc7) return name;
    if ((row.opcode === 0x88 || row.opcode === 0x89) && d.isMemory) return name;
    return '';
  }
  if (row.op === 'xchg' && row.operands[0] !== 'eAX' && d.isMemory) return name;
  if (d.lock && row.flags & RowFlag.LOCK && (d.isMemory || !row.operands.some((k) => OPERAND_INFO[k].loc === 'reg'))) return name;
  return '';
}

/** Branches on which ndisasm reads F2 as MPX's BND prefix. */
const BND_OPS = new Set(['jmp', 'jcc', 'call', 'ret', 'jmp_indirect', 'call_indirect']);

/** Ops whose operand size ndisasm shows by a w/d suffix on the mnemonic (ret/retf). */
const SUFFIXED_OPS = new Set(['ret', 'ret_far']);

/**
 * Ops where a 66 prefix does not change anything ndisasm shows, so it prints `o16`/`o32`:
 * segment register pushes/pops, push imm8, LGDT-family, and everything without operands that is
 * not size-named.
 */
function opsizeShown(row: OpcodeRow): boolean {
  if (row.osize !== 0 || row.mnemonic === 'nop') return true;
  if (SUFFIXED_OPS.has(row.op)) return true;
  for (const k of row.operands) {
    const s = OPERAND_INFO[k].size;
    if (s === 'v' || s === 'p' || s === 'a' || k === 'Rv' || k === 'Zd') return true;
  }
  return false;
}

function regName(num: number, size: number): string {
  return size === 8 ? REG8_NAMES[num]! : size === 16 ? REG16_NAMES[num]! : REG32_NAMES[num]!;
}

function operandSize(kind: OperandKind, d: Decoded): number {
  const s = OPERAND_INFO[kind].size;
  return s === 'v' ? d.opsize : typeof s === 'number' ? s : 0;
}

/** Does any other operand name a general register whose size matches `size`? */
function sizedByRegister(row: OpcodeRow, except: number, size: number, d: Decoded): boolean {
  for (let i = 0; i < row.operands.length; i++) {
    if (i === except) continue;
    const k = row.operands[i]!;
    const info = OPERAND_INFO[k];
    if (k === 'CL' || k === 'DX') continue;
    const gpr = info.loc === 'reg' || info.loc === 'opreg' || (info.loc === 'fixed' && !info.segment) || (info.loc === 'rm' && d.mod === 3);
    if (gpr && operandSize(k, d) === size) return true;
  }
  return false;
}

/** Size keyword ndisasm puts on a memory operand of this row, or ''. */
function memorySizeKeyword(row: OpcodeRow, index: number, d: Decoded): string {
  const kind = row.operands[index]!;
  if (kind === 'Mp') {
    if (row.op === 'jmp_far_indirect' || row.op === 'call_far_indirect') return d.opsizePrefix ? `${d.opsize === 16 ? 'word' : 'dword'} far ` : 'far ';
    return '';
  }
  if (kind === 'M' || kind === 'Ms' || kind === 'Ma' || kind === 'Mw') return '';
  if (row.op === 'call_indirect' || row.op === 'jmp_indirect') return d.opsizePrefix ? (d.opsize === 16 ? 'word ' : 'dword ') : '';
  if (row.op === 'setcc') return '';
  if (kind === 'Ew' && (row.op === 'lldt' || row.op === 'ltr' || row.op === 'verr' || row.op === 'verw' || row.op === 'lmsw' || row.op === 'lar' || row.op === 'lsl' || row.op === 'mov_to_seg' || row.op === 'arpl')) return '';
  // ndisasm's templates for movzx/movsx r16,rm8 carry no size.
  if ((row.op === 'movsx' || row.op === 'movzx') && kind === 'Eb' && d.opsize === 16) return '';
  const size = operandSize(kind, d);
  if (row.op !== 'movzx' && row.op !== 'movsx' && sizedByRegister(row, index, size, d)) return '';
  return size === 8 ? 'byte ' : size === 16 ? 'word ' : size === 32 ? 'dword ' : '';
}

function memoryText(d: Decoded, sizeKw: string, bits: number, moffs: boolean): string {
  const parts: string[] = [];
  const regs = d.adsize === 16 ? REG16_NAMES : REG32_NAMES;
  if (d.eaBase >= 0) parts.push(regs[d.eaBase]!);
  if (d.eaIndex >= 0) parts.push(d.eaScale > 0 ? `${regs[d.eaIndex]}*${1 << d.eaScale}` : regs[d.eaIndex]!);
  let text = parts.join('+');
  const started = parts.length > 0;
  if (d.dispSize > 0) {
    if (started) text += d.disp < 0 ? `-${hex(-d.disp)}` : `+${hex(d.disp)}`;
    else text = hex(d.adsize === 16 ? d.disp & 0xffff : d.disp >>> 0);
  }
  // ndisasm names the address size of a bare displacement (32-bit ModRM always; 16-bit outside
  // 16-bit code) and of SIB forms in 16-bit code; it goes before the segment: `[dword fs:0x10]`.
  let addrWord = '';
  if (moffs) {
    if (d.adsize !== bits) addrWord = d.adsize === 16 ? 'word ' : 'dword ';
  } else {
    if (d.adsize === 32 && (d.hasSib ? bits === 16 : !started)) addrWord = 'dword ';
    else if (d.adsize === 16 && !started && bits === 32) addrWord = 'word ';
  }
  const seg = d.segOverride >= 0 ? `${SEG_NAMES[d.segOverride]}:` : '';
  // ...except for moffs, where ndisasm writes `[es:dword 0x12345678]`.
  return moffs ? `${sizeKw}[${seg}${addrWord}${text}]` : `${sizeKw}[${addrWord}${seg}${text}]`;
}

function immediateText(kind: OperandKind, d: Decoded, value: number, row: OpcodeRow, nextAddress: number, bits: number): string {
  switch (kind) {
    case 'Ibs': {
      const s = (value << (32 - d.opsize)) >> (32 - d.opsize);
      return s < 0 ? `byte -${hex(-s)}` : `byte +${hex(s)}`;
    }
    case 'Jb':
    case 'Jv': {
      // ndisasm wraps rel8 targets at the mode's width, rel16/32 targets at the operand size.
      const width = kind === 'Jb' ? bits : d.opsize;
      const target = hex(((nextAddress + value) & (width === 16 ? 0xffff : 0xffffffff)) >>> 0);
      if (kind === 'Jb') return row.op === 'jmp' ? `short ${target}` : target;
      if (d.opsize !== bits) return `${d.opsize === 16 ? 'word' : 'dword'} ${target}`;
      return row.op === 'jcc' ? `near ${target}` : target;
    }
    case 'Ap':
      return `${d.opsize !== bits ? (d.opsize === 16 ? 'word ' : 'dword ') : ''}${hex(d.imm2)}:${hex(d.imm)}`;
    case 'Iv':
      if (row.op === 'push') return `${d.opsize === 16 ? 'word' : 'dword'} ${hex(value)}`;
      if (row.op === 'imul3') return `${d.opsize === 16 ? 'word' : 'dword'} ${hex(value)}`;
      return hex(value);
    case 'Ib':
      if (row.opcode === 0xc0 || row.opcode === 0xc1 || (row.map === 1 && row.opcode === 0xba)) return `byte ${hex(value)}`;
      return hex(value);
    default:
      return hex(value);
  }
}

function operandText(row: OpcodeRow, i: number, d: Decoded, nextAddress: number, bits: number): string {
  const kind = row.operands[i]!;
  const info = OPERAND_INFO[kind];
  switch (info.loc) {
    case 'rm':
      if (d.mod === 3 || info.form === 'reg') return regName(d.rm, operandSize(kind, d) || d.opsize);
      return memoryText(d, memorySizeKeyword(row, i, d), bits, false);
    case 'reg':
      return regName(d.reg, operandSize(kind, d));
    case 'creg':
      return `cr${d.lock ? d.reg + 8 : d.reg}`; // LOCK MOV CRn is AMD's CR8-15 to ndisasm (#UD on a 486)
    case 'dreg':
      return `dr${d.reg}`;
    case 'sreg':
      return SEG_NAMES[d.reg] ?? `segr${d.reg}`;
    case 'opreg':
      return regName(d.opcode & 7, operandSize(kind, d));
    case 'fixed':
      return info.segment ? SEG_NAMES[info.fixedReg]! : regName(info.fixedReg, operandSize(kind, d));
    case 'const':
      return '1';
    case 'moffs':
      return memoryText(d, '', bits, true);
    case 'imm':
      if (i > 0 && OPERAND_INFO[row.operands[i - 1]!].loc === 'imm') return hex(d.imm2); // ENTER Iw,Ib
      return immediateText(kind, d, d.imm, row, nextAddress, bits);
    case 'rel':
      return immediateText(kind, d, d.imm, row, nextAddress, bits);
    case 'imm2':
      return hex(d.imm2);
    default:
      return '';
  }
}

/**
 * Whether ndisasm 2.16 prints an unused 67 prefix as a16/a32 (its template matching decides; this
 * is the rule observed over random bytes): in 32-bit code only on instructions without written
 * operands; in 16-bit code also when every operand is a register named by ModRM or the opcode.
 */
function adsizeShown(row: OpcodeRow, d: Decoded, bits: number, x87: X87Form | null): boolean {
  if (nopAsXchg(row, d)) return false;
  if (x87) return x87.operand === 'none' || (bits === 16 && x87.operand === 'st');
  if (row.operands.length === 0) return true;
  if (bits === 32) return false;
  return row.operands.every((k) => {
    const loc = OPERAND_INFO[k].loc;
    return loc === 'rm' || loc === 'reg' || loc === 'creg' || loc === 'dreg' || loc === 'sreg' || loc === 'opreg';
  });
}

function x87Text(f: X87Form, d: Decoded, bits: number): string {
  switch (f.operand) {
    case 'mem':
      return `${f.mnemonic} ${memoryText(d, f.size ? f.size + ' ' : '', bits, false)}`;
    case 'st':
      return `${f.mnemonic} st${d.rm}`;
    case 'to-st':
      return `${f.mnemonic} to st${d.rm}`;
    case 'ax':
      return `${f.mnemonic} ax`;
    default:
      return f.mnemonic;
  }
}

/** 90 with a 66 or 67 prefix: ndisasm prefers the `xchg eax,eax` template (no prefix word to show). */
function nopAsXchg(row: OpcodeRow, d: Decoded): boolean {
  return row.mnemonic === 'nop' && (d.opsizePrefix || d.adsizePrefix);
}

function mnemonicText(row: OpcodeRow, d: Decoded, bits: number): string {
  if (row.osize !== 0 && row.osize === bits && DEFAULT_SIZE_NAME[row.mnemonic]) return DEFAULT_SIZE_NAME[row.mnemonic]!;
  if (SUFFIXED_OPS.has(row.op) && d.opsize !== bits) {
    if (row.mnemonic === 'ret' && row.operands.length > 0 && bits === 32) return 'retnw'; // ndisasm's template name
    return row.mnemonic + (d.opsize === 16 ? 'w' : 'd');
  }
  if (nopAsXchg(row, d)) return 'xchg';
  return row.mnemonic;
}

/** Does ndisasm show the segment prefix inside a memory operand (else as a prefix word)? */
function hasMemoryOperand(row: OpcodeRow, d: Decoded): boolean {
  return d.isMemory && !row.operands.every((k) => OPERAND_INFO[k].loc !== 'rm' && OPERAND_INFO[k].loc !== 'moffs');
}

/**
 * The instruction text, e.g. `add word [bx+si+0x10],byte -0x1`. `address` = where it starts.
 * `row` defaults to d.row; the disassembler passes d.candidate to show `lock add eax,ebx` as ndisasm does.
 */
export function formatInstruction(d: Decoded, address: number, bits: 16 | 32, row: OpcodeRow | null = d.row, wait = false): string {
  if (row === null) return '';
  let x87 = row.flags & RowFlag.ESC ? x87Form(d.opcode, d.mod, d.reg, d.rm) : null;
  if (x87 && wait && WAIT_FORMS[x87.mnemonic]) {
    x87 = { ...x87, mnemonic: WAIT_FORMS[x87.mnemonic]! }; // 9B DB E3 = finit
    wait = false;
  }
  // Prefix words in ndisasm's order: segment, wait, rep, lock, o16/o32, a16/a32.
  const prefixes: string[] = [];
  const memory = hasMemoryOperand(row, d) || (x87 !== null && d.mod !== 3);
  if (d.segOverride >= 0 && !memory) prefixes.push(SEG_NAMES[d.segOverride]!);
  if (wait) prefixes.push('wait');
  if (d.rep !== Rep.NONE && row.prefix === 0) {
    const hle = hlePrefix(row, d);
    // F2 on a near branch is MPX's BND prefix to ndisasm.
    if (hle) prefixes.push(hle);
    else if (d.rep === Rep.REPNE && BND_OPS.has(row.op) && !(row.op === 'jmp' && row.operands[0] === 'Jb')) prefixes.push('bnd');
    else if (row.flags & RowFlag.REPE) prefixes.push(d.rep === Rep.REPE ? 'repe' : 'repne');
    else prefixes.push(d.rep === Rep.REPE ? 'rep' : 'repne');
  }
  if (d.lock && !(row.map === 1 && (row.opcode === 0x20 || row.opcode === 0x22))) prefixes.push('lock');
  if (d.opsizePrefix && !opsizeShown(row)) prefixes.push(bits === 16 ? 'o32' : 'o16');
  const adsizeUsed = memory || row.asize !== 0 || row.op === 'loop' || row.op === 'loope' || row.op === 'loopne';
  if (d.adsizePrefix && !adsizeUsed && adsizeShown(row, d, bits, x87)) prefixes.push(bits === 16 ? 'a32' : 'a16');
  if (x87) return [...prefixes, x87Text(x87, d, bits)].join(' ');

  const next = address + d.length;
  const ops: string[] = [];
  if (nopAsXchg(row, d)) ops.push(regName(0, d.opsize), regName(0, d.opsize));
  for (let i = 0; i < row.operands.length; i++) ops.push(operandText(row, i, d, next, bits));
  if ((row.op === 'loop' || row.op === 'loope' || row.op === 'loopne') && d.adsizePrefix) ops.push(d.adsize === 16 ? 'cx' : 'ecx');
  // ndisasm's `aam`/`aad` template without operand is for D4/D5 0A, unless a 67 prefix would then show.
  if ((row.op === 'aam' || row.op === 'aad') && d.imm === 10 && !d.adsizePrefix) ops.length = 0;
  const text = mnemonicText(row, d, bits) + (ops.length ? ' ' + ops.join(',') : '');
  return prefixes.length ? `${prefixes.join(' ')} ${text}` : text;
}

// The instruction corpus, generated from the opcode table: every encodable row × operand size ×
// addressing mode (registers; 16- and 32-bit memory forms with and without SIB, disp8/disp16/disp32,
// segment overrides) × edge-value immediates, as NASM source lines for `bits 16` and `bits 32`.
// Shared: the ndisasm conformance test disassembles it; the assembler's test assembles it with vizor
// and with NASM and compares bytes.
import { ROWS } from '../../src/x86/table.ts';
import { OPERAND_INFO, type OpcodeRow, type OperandKind, RowFlag } from '../../src/x86/types.ts';

export interface CorpusLine {
  /** One line of NASM source (no label, position independent: branch targets are `$+n`). */
  source: string;
  /** The table row the line was generated from (NASM may pick a shorter equivalent encoding). */
  rowId: number;
}

const REG: Record<8 | 16 | 32, { rm: string[]; reg: string[]; op: string[] }> = {
  8: { rm: ['al', 'bh'], reg: ['cl', 'dh'], op: ['al', 'dl', 'bh'] },
  16: { rm: ['ax', 'di'], reg: ['dx', 'bp'], op: ['ax', 'sp', 'di'] },
  32: { rm: ['eax', 'edi'], reg: ['ebx', 'esp'], op: ['eax', 'ebp', 'edi'] },
};

/** Memory operands with 16-bit addressing (every rm, every mod, overrides). */
const MEM16 = [
  '[bx+si]', '[bx+di]', '[bp+si]', '[bp+di]', '[si]', '[di]', '[0x1234]', '[bx]',
  '[bx+si+0x7f]', '[bx+di-0x80]', '[bp+si+0x1]', '[bp+di-0x1]', '[si+0x10]', '[di-0x10]', '[bp]', '[bx+0x7f]',
  '[bx+si+0x1234]', '[bx+di-0x1234]', '[bp+si+0x7fff]', '[bp+di-0x8000]', '[si+0x80]', '[di-0x81]', '[bp+0x100]', '[bx+0xfff]',
  '[0x0]', '[0xffff]', '[es:bx]', '[cs:si+0x10]', '[ss:bp]', '[ds:bp+di+0x20]', '[fs:0x10]', '[gs:bx+si]', '[ss:bx]',
];
/** Memory operands with 32-bit addressing (no SIB, SIB with and without base/index, all scales). */
const MEM32 = [
  '[eax]', '[ecx]', '[edx]', '[ebx]', '[esp]', '[ebp]', '[esi]', '[edi]',
  '[eax+0x7f]', '[ecx-0x80]', '[esp+0x4]', '[ebp-0x4]', '[esi+0x12345678]', '[edi-0x12345678]', '[ebx+0x80]', '[edx-0x81]',
  '[0x12345678]', '[0x0]', '[0xffffffff]', '[eax+ebx]', '[ecx+edx*2]', '[esi+edi*4+0x10]', '[esp+ebp*8-0x80]',
  '[ebp+esi*2]', '[ebx*4]', '[eax*8+0x12345678]', '[ecx*2-0x4]', '[ebp+eax*4+0x1000]', '[esp+eax]', '[edx+ebp]',
  '[es:eax]', '[cs:ebx+0x10]', '[ss:esp]', '[ds:ebp]', '[fs:0x10]', '[gs:esi+edi*2]', '[ss:eax]',
  '[eax*2]', '[esi*1+0x10]', '[ebp*2+0x4]', '[esp*1]', '[ebx+ebp]',
];
/** A few of the other address size (a 67 prefix) for each mode. */
const MEM16_IN_32 = ['[bx+si]', '[bp]', '[word 0x1234]', '[bx+di+0x7f]', '[es:bp+si-0x1234]'];
const MEM32_IN_16 = ['[eax]', '[ebp+0x10]', '[dword 0x12345678]', '[esp+ecx*4]', '[fs:ebx*8+0x10]', '[edx+0x80]'];

const IMM: Record<'b' | 'w' | 'd' | 'bs', string[]> = {
  b: ['0x0', '0x7f', '0x80', '0xff', '0x1', '-0x1', '0x3'],
  w: ['0x0', '0x7fff', '0x8000', '0xffff', '0x1234', '0x80', '-0x1', '-0x81'],
  d: ['0x0', '0x7fffffff', '0x80000000', '0xffffffff', '0x12345678', '0x80', '0xff80', '-0x1', '-0x81'],
  bs: ['-0x80', '-0x1', '0x0', '0x7f', '0x1'],
};
const SIZE_WORD: Record<number, string> = { 8: 'byte', 16: 'word', 32: 'dword' };

function sizeOf(kind: OperandKind, osize: 16 | 32): 8 | 16 | 32 {
  const s = OPERAND_INFO[kind].size;
  return s === 'v' ? osize : s === 8 || s === 16 || s === 32 ? s : osize;
}

/** Options for one operand at a given operand size; `memory` lists are returned separately. */
function registerChoices(kind: OperandKind, osize: 16 | 32, row: OpcodeRow): string[] {
  const info = OPERAND_INFO[kind];
  const size = sizeOf(kind, osize);
  switch (info.loc) {
    case 'rm':
      return info.form === 'mem' ? [] : REG[size].rm;
    case 'reg':
      return REG[size].reg;
    case 'opreg':
      return REG[size].op;
    case 'creg':
      return ['cr0', 'cr2', 'cr3', 'cr4'];
    case 'dreg':
      return ['dr0', 'dr1', 'dr2', 'dr3', 'dr6', 'dr7'];
    case 'sreg':
      return row.operands[0] === 'Sw' ? ['es', 'ss', 'ds', 'fs', 'gs'] : ['es', 'cs', 'ss', 'ds', 'fs', 'gs'];
    case 'fixed':
      if (info.segment) return [kind.toLowerCase()];
      return [[['al', 'cl', 'dl'], ['ax', 'cx', 'dx'], ['eax', 'ecx', 'edx']][size === 8 ? 0 : size === 16 ? 1 : 2]![info.fixedReg]!];
    case 'const':
      return ['1'];
    case 'imm':
    case 'imm2':
      if (kind === 'Ap') return osize === 16 ? ['0x1234:0x5678', '0xf000:0xfff0'] : ['0x8:0x12345678', '0x10:0x0'];
      if (kind === 'Ibs') return IMM.bs;
      return size === 8 ? IMM.b : size === 16 ? IMM.w : IMM.d;
    case 'rel':
      if (kind === 'Jb') return ['$+0x2', '$+0x10', '$-0x7d', '$+0x81'];
      return ['$+0x1234', '$-0x1000', '$+0x3'];
    default:
      return [];
  }
}

function hasRegisterOfSize(row: OpcodeRow, except: number, size: number, osize: 16 | 32): boolean {
  return row.operands.some((k, i) => {
    if (i === except || k === 'CL' || k === 'DX') return false; // counts and ports do not size an operation
    const loc = OPERAND_INFO[k].loc;
    const isGpr = loc === 'reg' || loc === 'opreg' || (loc === 'fixed' && !OPERAND_INFO[k].segment);
    return isGpr && sizeOf(k, osize) === size;
  });
}

/** The text of the memory operand at index i of a row (size keyword where NASM needs or accepts one). */
function memoryText(row: OpcodeRow, i: number, osize: 16 | 32, ea: string, variant: number): string {
  const kind = row.operands[i]!;
  const info = OPERAND_INFO[kind];
  if (kind === 'Mp' && (row.op === 'jmp_far_indirect' || row.op === 'call_far_indirect')) return `far ${SIZE_WORD[osize]} ${ea}`;
  if (info.size === 'none' || info.size === 'p' || info.size === 's' || info.size === 'a' || kind === 'Mw' || kind === 'Ew' && row.operands.length === 1 && row.op !== 'push') {
    return ea;
  }
  const size = sizeOf(kind, osize);
  const needed = !hasRegisterOfSize(row, i, size, osize) || row.op === 'movzx' || row.op === 'movsx';
  return needed || variant % 2 === 1 ? `${SIZE_WORD[size]} ${ea}` : ea;
}

/** Branch-size keywords so each Jb/Jv row is really exercised. */
function branchText(row: OpcodeRow, target: string): string {
  if (row.operands[0] === 'Jb' && (row.op === 'jmp' || row.op === 'jcc')) return `short ${target}`;
  if (row.operands[0] === 'Jv' && (row.op === 'jmp' || row.op === 'jcc')) return `near ${target}`;
  return target;
}

function operandSizesFor(row: OpcodeRow): (16 | 32)[] {
  if (row.osize !== 0) return [row.osize];
  // Branches stay at the native size: NASM's `o16 jz near` keeps a 32-bit displacement.
  if (row.operands.some((k) => OPERAND_INFO[k].loc === 'rel')) return [0 as 16];
  const usesV = [...row.operands, ...row.implicit].some((k) => OPERAND_INFO[k].size === 'v' || k === 'Ap' || k === 'Mp' || k === 'Ma');
  if (!usesV) return [0 as 16];
  return row.flags & RowFlag.NO_O16_FORM ? [32] : [16, 32];
}

function linesForRow(row: OpcodeRow, bits: 16 | 32): string[] {
  const out: string[] = [];
  for (let osize of operandSizesFor(row)) {
    const sizeless = osize === (0 as 16);
    if (sizeless) osize = bits;
    const rmIndex = row.operands.findIndex((k) => OPERAND_INFO[k].loc === 'rm');
    const memForms = rmIndex >= 0 && OPERAND_INFO[row.operands[rmIndex]!].form !== 'reg' && !(row.mod === 'any' && OPERAND_INFO[row.operands[rmIndex]!].form === 'reg')
      ? [...(bits === 16 ? MEM16 : MEM32), ...(bits === 16 ? MEM32_IN_16 : MEM16_IN_32)]
      : [];
    const choices = row.operands.map((k) => registerChoices(k, osize, row));
    // Variations: each register choice of the r/m operand, each memory form, and enough lines to
    // cycle through every other operand's choices at least once.
    const rmRegs = rmIndex >= 0 ? choices[rmIndex]! : [];
    const longest = Math.max(1, ...choices.map((c) => c.length));
    const variants: (string | null)[] = rmIndex >= 0 ? [...rmRegs, ...memForms] : new Array(longest).fill(null);
    const count = Math.max(variants.length, longest);
    for (let v = 0; v < count; v++) {
      const parts: string[] = [];
      for (let i = 0; i < row.operands.length; i++) {
        const kind = row.operands[i]!;
        if (i === rmIndex) {
          const x = variants[v % variants.length]!;
          parts.push(x.startsWith('[') ? memoryText(row, i, osize, x, v) : x);
          continue;
        }
        const list = choices[i]!;
        let text = list[(v + i) % list.length]!;
        if (OPERAND_INFO[kind].loc === 'rel') text = branchText(row, text);
        if (kind === 'Ob' || kind === 'Ov') text = bits === 16 ? ['[0x1234]', '[es:0x12]', '[0xffff]'][v % 3]! : ['[0x12345678]', '[fs:0x10]', '[0x0]'][v % 3]!;
        if (kind === 'Ap' && !sizeless && osize !== bits) text = `${SIZE_WORD[osize]} ${text}`;
        if (kind === 'Iv' && row.op === 'push') text = `${SIZE_WORD[osize]} ${text}`;
        if (kind === 'Ibs' && row.op === 'push') text = `${SIZE_WORD[osize]} ${text}`;
        parts.push(text);
      }
      // Registers must say the operand size when nothing else does (string ops, pusha...: the mnemonic does).
      let prefix = '';
      if (!sizeless && osize !== bits && !row.operands.some((k, i) => i !== rmIndex && (OPERAND_INFO[k].loc === 'reg' || OPERAND_INFO[k].loc === 'opreg' || (OPERAND_INFO[k].loc === 'fixed' && !OPERAND_INFO[k].segment)) && OPERAND_INFO[k].size === 'v')) {
        const rmIsReg = rmIndex >= 0 && !parts[rmIndex]!.includes('[');
        const sized = parts.some((p) => /\b(word|dword)\b/.test(p)) || rmIsReg;
        if (!sized && row.osize === 0 && !(row.flags & RowFlag.NO_OSIZE_PREFIX)) prefix = osize === 16 ? 'o16 ' : 'o32 ';
      }
      out.push(`${prefix}${row.mnemonic}${parts.length ? ' ' + parts.join(', ') : ''}`);
    }
  }
  return [...new Set(out)];
}

/** Extra prefix lines: rep/lock/segment/address-size prefixes on the instructions that take them. */
function prefixLines(row: OpcodeRow, bits: 16 | 32): string[] {
  const out: string[] = [];
  const other = bits === 16 ? 32 : 16;
  // LOOPcc with the other address size's counter: `loop $+0x10, ecx` in 16-bit code.
  if (row.op === 'loop' || row.op === 'loope' || row.op === 'loopne') out.push(`${row.mnemonic} $+0x10, ${other === 32 ? 'ecx' : 'cx'}`, `${row.mnemonic} $-0x10, ${bits === 32 ? 'ecx' : 'cx'}`);
  if (row.op === 'xlat' && row.mnemonic === 'xlatb') out.push('es xlatb', `a${other} xlatb`);
  if (row.operands.length === 0 && row.flags & (RowFlag.REP | RowFlag.REPE)) {
    const reps = row.flags & RowFlag.REP ? ['rep'] : ['repe', 'repne', 'repz', 'repnz'];
    for (const r of reps) out.push(`${r} ${row.mnemonic}`);
    out.push(`fs ${row.mnemonic}`, `es ${row.mnemonic}`, `${bits === 16 ? 'a32' : 'a16'} ${row.mnemonic}`, `${bits === 16 ? 'a32' : 'a16'} ${reps[0]} ${row.mnemonic}`);
  }
  if (row.flags & RowFlag.LOCK && row.operands.length > 0 && OPERAND_INFO[row.operands[0]!].loc === 'rm') {
    const ea = bits === 16 ? '[bx+si+0x10]' : '[eax+ecx*4]';
    const rest = row.operands.slice(1).map((k) => registerChoices(k, bits, row)[1] ?? registerChoices(k, bits, row)[0]!);
    const sized = memoryText(row, 0, bits, ea, 1);
    out.push(`lock ${row.mnemonic} ${[sized, ...rest].join(', ')}`);
  }
  return out;
}

/** The corpus for `bits` (16 or 32): one entry per source line, in table order. */
export function generateCorpus(bits: 16 | 32): CorpusLine[] {
  const lines: CorpusLine[] = [];
  for (const row of ROWS) {
    if (row.flags & RowFlag.DECODE_ONLY) continue;
    for (const source of [...linesForRow(row, bits), ...prefixLines(row, bits)]) lines.push({ source, rowId: row.id });
  }
  return lines;
}

/** The corpus as one NASM source file. */
export function corpusSource(bits: 16 | 32): string {
  return `bits ${bits}\n` + generateCorpus(bits).map((l) => l.source).join('\n') + '\n';
}

// The opcode table: every 486 integer and system instruction, one row per (mnemonic, operand form).
// Read by the decoder (decode.ts), the disassembler (format.ts) and the assembler (encode.ts).
// Rows are written with a small notation, parsed once at module load:
//   row('add Ev,Ibs', '83 /0', 'add', LOCK, { pref: 0 })
// encoding: optional '0F', the opcode byte (hex), then '+r' (register in the low bits), '/r'
// (ModRM, reg = register operand) or '/0'..'/7' (ModRM, reg = opcode extension).
import { FLAGS_BY_OP } from './flags.ts';
import { RowFlag as F, type CpuLevel, type OpcodeRow, type OperandKind, OPERAND_INFO } from './types.ts';

interface RowOptions {
  osize?: 16 | 32;
  asize?: 16 | 32;
  implicit?: OperandKind[];
  pref?: number;
  level?: CpuLevel;
  cc?: number;
  impliedImm?: number;
  /** A prefix the encoding requires (0xF3 for PAUSE = F3 90), or 0. */
  prefix?: number;
  /** Override the ModRM mod restriction derived from the operands (MOV CRn ignores mod). */
  mod?: 'any' | 'mem' | 'reg';
}

const rows: OpcodeRow[] = [];
const opNames: string[] = [];
const opIds = new Map<string, number>();

function parseEncoding(enc: string): { map: 0 | 1; opcode: number; ext: number; modrm: boolean; opreg: boolean } {
  const parts = enc.split(' ');
  let map: 0 | 1 = 0;
  if (parts[0] === '0F') {
    map = 1;
    parts.shift();
  }
  const head = parts[0]!;
  const opreg = head.endsWith('+r');
  const opcode = parseInt(opreg ? head.slice(0, -2) : head, 16);
  const tail = parts[1];
  const modrm = tail !== undefined;
  const ext = tail !== undefined && tail !== '/r' ? Number(tail.slice(1)) : -1;
  return { map, opcode, ext, modrm, opreg };
}

function deriveMod(operands: readonly OperandKind[]): 'any' | 'mem' | 'reg' {
  for (const k of operands) {
    const form = OPERAND_INFO[k].form;
    if (OPERAND_INFO[k].loc === 'rm' && form !== 'any') return form;
  }
  return 'any';
}

function row(spec: string, enc: string, op: string, flags = 0, o: RowOptions = {}): void {
  const space = spec.indexOf(' ');
  const mnemonic = space < 0 ? spec : spec.slice(0, space);
  const operands = (space < 0 ? [] : spec.slice(space + 1).split(',')) as OperandKind[];
  for (const k of [...operands, ...(o.implicit ?? [])]) {
    if (!(k in OPERAND_INFO)) throw new Error(`x86 table: unknown operand kind '${k}' in '${spec}'`);
  }
  const e = parseEncoding(enc);
  const needsModrm = operands.some((k) => ['rm', 'reg', 'creg', 'dreg', 'sreg'].includes(OPERAND_INFO[k].loc));
  if (needsModrm && !e.modrm) throw new Error(`x86 table: '${spec}' has ModRM operands but encoding '${enc}' has no ModRM`);
  const [flagsDefined, flagsUndefined] = FLAGS_BY_OP[op] ?? [0, 0];
  let opId = opIds.get(op);
  if (opId === undefined) {
    opId = opNames.length;
    opIds.set(op, opId);
    opNames.push(op);
  }
  rows.push({
    id: rows.length, mnemonic, opId, map: e.map, opcode: e.opcode, ext: e.ext, modrm: e.modrm,
    mod: o.mod ?? deriveMod(operands), opreg: e.opreg, operands, implicit: o.implicit ?? [], op,
    cc: o.cc ?? -1, prefix: o.prefix ?? 0, osize: o.osize ?? 0, asize: o.asize ?? 0, impliedImm: o.impliedImm ?? -1, flags,
    level: o.level ?? 86, flagsDefined, flagsUndefined, pref: o.pref ?? 2,
  });
}

const hex = (n: number): string => n.toString(16).toUpperCase().padStart(2, '0');
const CC = ['o', 'no', 'c', 'nc', 'z', 'nz', 'na', 'a', 's', 'ns', 'pe', 'po', 'l', 'nl', 'ng', 'g'];
const { NO_O16_FORM, NO_OSIZE_PREFIX, LOCK, REP, REPE, PRIV, IOPL, BRANCH, SENSITIVE, SEGMENT, PROTECTED_ONLY, ESC, DECODE_ONLY, ASM_ONLY, UNDOCUMENTED, IO, STOP, CONDITIONAL } = F;
const UNDOC = DECODE_ONLY | UNDOCUMENTED;
const JUMP = BRANCH | STOP;

// ---- arithmetic and logic: 00-3F and groups 80-83 ----
const ALU = ['add', 'or', 'adc', 'sbb', 'and', 'sub', 'xor', 'cmp'];
ALU.forEach((m, i) => {
  const lock = m === 'cmp' ? 0 : LOCK;
  const b = i * 8;
  row(`${m} Eb,Gb`, `${hex(b)} /r`, m, lock, { pref: 1 });
  row(`${m} Ev,Gv`, `${hex(b + 1)} /r`, m, lock, { pref: 1 });
  row(`${m} Gb,Eb`, `${hex(b + 2)} /r`, m, 0, { pref: 2 });
  row(`${m} Gv,Ev`, `${hex(b + 3)} /r`, m, 0, { pref: 2 });
  row(`${m} AL,Ib`, hex(b + 4), m, 0, { pref: 1 });
  row(`${m} eAX,Iv`, hex(b + 5), m, 0, { pref: 1 });
  row(`${m} Eb,Ib`, `80 /${i}`, m, lock, { pref: 2 });
  row(`${m} Ev,Iv`, `81 /${i}`, m, lock, { pref: 2 });
  row(`${m} Eb,Ib`, `82 /${i}`, m, lock | UNDOC, { pref: 9 });
  row(`${m} Ev,Ibs`, `83 /${i}`, m, lock, { pref: 0 });
});

// ---- segment register pushes and pops, BCD ----
(['ES', 'CS', 'SS', 'DS'] as const).forEach((s, i) => {
  row(`push ${s}`, hex(0x06 + i * 8), 'push_seg', SEGMENT | SENSITIVE);
  if (s !== 'CS') row(`pop ${s}`, hex(0x07 + i * 8), 'pop_seg', SEGMENT);
});
row('push FS', '0F A0', 'push_seg', SEGMENT | SENSITIVE, { level: 386 });
row('pop FS', '0F A1', 'pop_seg', SEGMENT, { level: 386 });
row('push GS', '0F A8', 'push_seg', SEGMENT | SENSITIVE, { level: 386 });
row('pop GS', '0F A9', 'pop_seg', SEGMENT, { level: 386 });
row('daa', '27', 'daa');
row('das', '2F', 'das');
row('aaa', '37', 'aaa');
row('aas', '3F', 'aas');

// ---- register-in-opcode forms 40-5F, stack ----
row('inc Zv', '40+r', 'inc', 0, { pref: 0 });
row('dec Zv', '48+r', 'dec', 0, { pref: 0 });
row('push Zv', '50+r', 'push', 0, { pref: 0 });
row('pop Zv', '58+r', 'pop', 0, { pref: 0 });
row('pushaw', '60', 'pusha', 0, { osize: 16, level: 186 });
row('pushad', '60', 'pusha', 0, { osize: 32, level: 386 });
row('pusha', '60', 'pusha', ASM_ONLY, { level: 186 });
row('popaw', '61', 'popa', 0, { osize: 16, level: 186 });
row('popad', '61', 'popa', 0, { osize: 32, level: 386 });
row('popa', '61', 'popa', ASM_ONLY, { level: 186 });
row('bound Gv,Ma', '62 /r', 'bound', 0, { level: 186 });
row('arpl Ew,Gw', '63 /r', 'arpl', PROTECTED_ONLY, { level: 286 });
row('push Ibs', '6A', 'push', 0, { pref: 0, level: 186 });
row('push Iv', '68', 'push', 0, { pref: 1, level: 186 });
row('imul Gv,Ev,Ibs', '6B /r', 'imul3', 0, { pref: 0, level: 186 });
row('imul Gv,Ev,Iv', '69 /r', 'imul3', 0, { pref: 1, level: 186 });

// ---- string instructions (operands implicit) ----
const strings: [string, number, string, number, OperandKind[], OperandKind[]][] = [
  ['ins', 0x6c, 'ins', REP | IOPL | IO, ['Yb', 'DX'], ['Yv', 'DX']],
  ['outs', 0x6e, 'outs', REP | IOPL | IO, ['DX', 'Xb'], ['DX', 'Xv']],
  ['movs', 0xa4, 'movs', REP, ['Yb', 'Xb'], ['Yv', 'Xv']],
  ['cmps', 0xa6, 'cmps', REPE, ['Xb', 'Yb'], ['Xv', 'Yv']],
  ['stos', 0xaa, 'stos', REP, ['Yb', 'AL'], ['Yv', 'eAX']],
  ['lods', 0xac, 'lods', REP, ['AL', 'Xb'], ['eAX', 'Xv']],
  ['scas', 0xae, 'scas', REPE, ['AL', 'Yb'], ['eAX', 'Yv']],
];
for (const [m, opc, op, flags, implB, implV] of strings) {
  const level: CpuLevel = m === 'ins' || m === 'outs' ? 186 : 86;
  row(`${m}b`, hex(opc), op, flags, { implicit: implB, level });
  row(`${m}w`, hex(opc + 1), op, flags, { implicit: implV, osize: 16, level });
  row(`${m}d`, hex(opc + 1), op, flags, { implicit: implV, osize: 32, level: 386 });
}

// ---- conditional jumps and SETcc ----
CC.forEach((c, cc) => {
  row(`j${c} Jb`, hex(0x70 + cc), 'jcc', BRANCH | CONDITIONAL, { cc, pref: 0 });
  row(`j${c} Jv`, `0F ${hex(0x80 + cc)}`, 'jcc', BRANCH | CONDITIONAL, { cc, pref: 1, level: 386 });
  row(`set${c} Eb`, `0F ${hex(0x90 + cc)} /r`, 'setcc', 0, { cc, level: 386 });
});

// ---- test, xchg, mov, lea, pop r/m ----
row('test Eb,Gb', '84 /r', 'test', 0, { pref: 1 });
row('test Ev,Gv', '85 /r', 'test', 0, { pref: 1 });
row('test Gb,Eb', '84 /r', 'test', ASM_ONLY, { pref: 2 });
row('test Gv,Ev', '85 /r', 'test', ASM_ONLY, { pref: 2 });
row('test AL,Ib', 'A8', 'test', 0, { pref: 1 });
row('test eAX,Iv', 'A9', 'test', 0, { pref: 1 });
row('test Eb,Ib', 'F6 /0', 'test', 0, { pref: 2 });
row('test Ev,Iv', 'F7 /0', 'test', 0, { pref: 2 });
row('test Eb,Ib', 'F6 /1', 'test', UNDOC, { pref: 9 });
row('test Ev,Iv', 'F7 /1', 'test', UNDOC, { pref: 9 });
// NASM puts the first operand of `xchg r,r` in ModRM reg, and ndisasm prints 86/87 as `xchg G,E`.
row('xchg Gb,Eb', '86 /r', 'xchg', LOCK, { pref: 1 });
row('xchg Gv,Ev', '87 /r', 'xchg', LOCK, { pref: 1 });
row('xchg Eb,Gb', '86 /r', 'xchg', LOCK | ASM_ONLY, { pref: 2 });
row('xchg Ev,Gv', '87 /r', 'xchg', LOCK | ASM_ONLY, { pref: 2 });
// PAUSE executes as NOP (on a 486 too); its own op lets guest mode see it (PAUSE-loop exiting).
row('pause', '90', 'pause', 0, { prefix: 0xf3 });
row('nop', '90', 'nop');
row('xchg eAX,Zv', '90+r', 'xchg', 0, { pref: 0 });
row('xchg Zv,eAX', '90+r', 'xchg', ASM_ONLY, { pref: 0 });
row('mov Eb,Gb', '88 /r', 'mov', 0, { pref: 1 });
row('mov Ev,Gv', '89 /r', 'mov', 0, { pref: 1 });
row('mov Gb,Eb', '8A /r', 'mov', 0, { pref: 2 });
row('mov Gv,Ev', '8B /r', 'mov', 0, { pref: 2 });
row('mov Rv,Sw', '8C /r', 'mov_from_seg', SEGMENT | SENSITIVE);
row('mov Mw,Sw', '8C /r', 'mov_from_seg', SEGMENT | SENSITIVE);
row('mov Sw,Rv', '8E /r', 'mov_to_seg', SEGMENT | NO_OSIZE_PREFIX);
row('mov Sw,Mw', '8E /r', 'mov_to_seg', SEGMENT);
row('lea Gv,M', '8D /r', 'lea');
row('pop Ev', '8F /0', 'pop', 0, { pref: 1 });
row('mov AL,Ob', 'A0', 'mov', 0, { pref: 0 });
row('mov eAX,Ov', 'A1', 'mov', 0, { pref: 0 });
row('mov Ob,AL', 'A2', 'mov', 0, { pref: 0 });
row('mov Ov,eAX', 'A3', 'mov', 0, { pref: 0 });
row('mov Zb,Ib', 'B0+r', 'mov', 0, { pref: 0 });
row('mov Zv,Iv', 'B8+r', 'mov', 0, { pref: 0 });
row('mov Eb,Ib', 'C6 /0', 'mov', 0, { pref: 1 });
row('mov Ev,Iv', 'C7 /0', 'mov', 0, { pref: 1 });

// ---- conversions, flags, far call, misc one-byte ----
row('cbw', '98', 'cbw', 0, { osize: 16 });
row('cwde', '98', 'cbw', 0, { osize: 32, level: 386 });
row('cwd', '99', 'cwd', 0, { osize: 16 });
row('cdq', '99', 'cwd', 0, { osize: 32, level: 386 });
row('call Ap', '9A', 'call_far', BRANCH | SEGMENT);
row('wait', '9B', 'wait');
row('fwait', '9B', 'wait', ASM_ONLY);
row('pushfw', '9C', 'pushf', SENSITIVE, { osize: 16 });
row('pushfd', '9C', 'pushf', SENSITIVE, { osize: 32, level: 386 });
row('pushf', '9C', 'pushf', SENSITIVE | ASM_ONLY);
row('popfw', '9D', 'popf', SENSITIVE, { osize: 16 });
row('popfd', '9D', 'popf', SENSITIVE, { osize: 32, level: 386 });
row('popf', '9D', 'popf', SENSITIVE | ASM_ONLY);
row('sahf', '9E', 'sahf');
row('lahf', '9F', 'lahf');
row('xlatb', 'D7', 'xlat', 0, { implicit: ['AL'] });
row('xlat', 'D7', 'xlat', ASM_ONLY, { implicit: ['AL'] });
row('salc', 'D6', 'salc');

// ---- shifts and rotates: C0 C1 D0-D3 ----
const SHIFTS = ['rol', 'ror', 'rcl', 'rcr', 'shl', 'shr', 'sal', 'sar'];
SHIFTS.forEach((m, i) => {
  // /6 is an undocumented alias of SHL on the 486; ndisasm prints it as db. NASM's `sal` assembles as /4.
  const undoc = i === 6 ? UNDOC : 0;
  const mn = i === 6 ? 'sal' : m;
  const op = i === 6 ? 'shl' : m;
  row(`${mn} Eb,1`, `D0 /${i}`, op, undoc, { pref: 0 });
  row(`${mn} Ev,1`, `D1 /${i}`, op, undoc, { pref: 0 });
  row(`${mn} Eb,CL`, `D2 /${i}`, op, undoc, { pref: 1 });
  row(`${mn} Ev,CL`, `D3 /${i}`, op, undoc, { pref: 1 });
  row(`${mn} Eb,Ib`, `C0 /${i}`, op, undoc, { pref: 1, level: 186 });
  row(`${mn} Ev,Ib`, `C1 /${i}`, op, undoc, { pref: 1, level: 186 });
});
// NASM's `sal` is SHL (/4).
for (const [ops, enc, pref] of [['Eb,1', 'D0', 0], ['Ev,1', 'D1', 0], ['Eb,CL', 'D2', 1], ['Ev,CL', 'D3', 1], ['Eb,Ib', 'C0', 1], ['Ev,Ib', 'C1', 1]] as const) {
  row(`sal ${ops}`, `${enc} /4`, 'shl', ASM_ONLY, { pref });
}

// ---- returns, far loads, enter/leave, interrupts ----
row('ret Iw', 'C2', 'ret', JUMP);
row('ret', 'C3', 'ret', JUMP);
row('retf Iw', 'CA', 'ret_far', JUMP | SEGMENT);
row('retf', 'CB', 'ret_far', JUMP | SEGMENT);
row('les Gv,Mp', 'C4 /r', 'les', SEGMENT);
row('lds Gv,Mp', 'C5 /r', 'lds', SEGMENT);
row('lss Gv,Mp', '0F B2 /r', 'lss', SEGMENT, { level: 386 });
row('lfs Gv,Mp', '0F B4 /r', 'lfs', SEGMENT, { level: 386 });
row('lgs Gv,Mp', '0F B5 /r', 'lgs', SEGMENT, { level: 386 });
row('enter Iw,Ib', 'C8', 'enter', 0, { level: 186 });
row('leave', 'C9', 'leave', 0, { level: 186 });
row('int3', 'CC', 'int3', BRANCH);
row('int Ib', 'CD', 'int', BRANCH);
row('into', 'CE', 'into', BRANCH);
row('int1', 'F1', 'int1', BRANCH | UNDOCUMENTED, { level: 386 });
row('icebp', 'F1', 'int1', BRANCH | ASM_ONLY, { level: 386 });
row('iretw', 'CF', 'iret', JUMP | SEGMENT, { osize: 16 });
row('iretd', 'CF', 'iret', JUMP | SEGMENT, { osize: 32, level: 386 });
row('iret', 'CF', 'iret', JUMP | SEGMENT | ASM_ONLY);
row('aam Ib', 'D4', 'aam', 0, { pref: 1 });
row('aam', 'D4', 'aam', ASM_ONLY, { pref: 0, impliedImm: 10 });
row('aad Ib', 'D5', 'aad', 0, { pref: 1 });
row('aad', 'D5', 'aad', ASM_ONLY, { pref: 0, impliedImm: 10 });

// ---- x87 escapes: decoded so the CPU can raise #NM/#UD; the 486 here has no FPU ----
for (let opc = 0xd8; opc <= 0xdf; opc++) row(`esc${opc - 0xd8}`, `${hex(opc)} /r`, 'esc', ESC | DECODE_ONLY);

// ---- loops, jumps, calls, I/O ----
row('loopne Jb', 'E0', 'loopne', BRANCH | CONDITIONAL);
row('loopnz Jb', 'E0', 'loopne', BRANCH | CONDITIONAL | ASM_ONLY);
row('loope Jb', 'E1', 'loope', BRANCH | CONDITIONAL);
row('loopz Jb', 'E1', 'loope', BRANCH | CONDITIONAL | ASM_ONLY);
row('loop Jb', 'E2', 'loop', BRANCH | CONDITIONAL);
// NASM names the counter (and so the address size) after the target: `loop label, ecx`.
for (const [m, opc, op] of [['loopne', 'E0', 'loopne'], ['loopnz', 'E0', 'loopne'], ['loope', 'E1', 'loope'], ['loopz', 'E1', 'loope'], ['loop', 'E2', 'loop']] as const) {
  row(`${m} Jb,CX`, opc, op, BRANCH | CONDITIONAL | ASM_ONLY, { asize: 16 });
  row(`${m} Jb,ECX`, opc, op, BRANCH | CONDITIONAL | ASM_ONLY, { asize: 32, level: 386 });
}
row('jcxz Jb', 'E3', 'jcxz', BRANCH | CONDITIONAL, { asize: 16 });
row('jecxz Jb', 'E3', 'jcxz', BRANCH | CONDITIONAL, { asize: 32, level: 386 });
row('in AL,Ib', 'E4', 'in', IOPL | IO, { pref: 0 });
row('in eAX,Ib', 'E5', 'in', IOPL | IO, { pref: 0 });
row('out Ib,AL', 'E6', 'out', IOPL | IO, { pref: 0 });
row('out Ib,eAX', 'E7', 'out', IOPL | IO, { pref: 0 });
row('in AL,DX', 'EC', 'in', IOPL | IO, { pref: 1 });
row('in eAX,DX', 'ED', 'in', IOPL | IO, { pref: 1 });
row('out DX,AL', 'EE', 'out', IOPL | IO, { pref: 1 });
row('out DX,eAX', 'EF', 'out', IOPL | IO, { pref: 1 });
row('call Jv', 'E8', 'call', BRANCH);
row('jmp Jb', 'EB', 'jmp', JUMP, { pref: 0 });
row('jmp Jv', 'E9', 'jmp', JUMP, { pref: 1 });
row('jmp Ap', 'EA', 'jmp_far', JUMP | SEGMENT);

// ---- F4-FF: flags, unary group 3, inc/dec group 4/5 ----
row('hlt', 'F4', 'hlt', PRIV);
row('cmc', 'F5', 'cmc');
row('clc', 'F8', 'clc');
row('stc', 'F9', 'stc');
row('cli', 'FA', 'cli', IOPL);
row('sti', 'FB', 'sti', IOPL);
row('cld', 'FC', 'cld');
row('std', 'FD', 'std');
(['not', 'neg', 'mul', 'imul', 'div', 'idiv'] as const).forEach((m, i) => {
  const op = m === 'imul' ? 'imul1' : m;
  const lock = i < 2 ? LOCK : 0;
  row(`${m} Eb`, `F6 /${i + 2}`, op, lock);
  row(`${m} Ev`, `F7 /${i + 2}`, op, lock);
});
row('inc Eb', 'FE /0', 'inc', LOCK, { pref: 1 });
row('dec Eb', 'FE /1', 'dec', LOCK, { pref: 1 });
row('inc Ev', 'FF /0', 'inc', LOCK, { pref: 1 });
row('dec Ev', 'FF /1', 'dec', LOCK, { pref: 1 });
row('call Ev', 'FF /2', 'call_indirect', BRANCH);
row('call Mp', 'FF /3', 'call_far_indirect', BRANCH | SEGMENT);
row('jmp Ev', 'FF /4', 'jmp_indirect', JUMP);
row('jmp Mp', 'FF /5', 'jmp_far_indirect', JUMP | SEGMENT);
row('push Ev', 'FF /6', 'push', 0, { pref: 1 });

// ---- 0F map: system instructions ----
const SYS = PROTECTED_ONLY;
row('sldt Rv', '0F 00 /0', 'sldt', SYS | SENSITIVE, { level: 286 });
row('sldt Mw', '0F 00 /0', 'sldt', SYS | SENSITIVE, { level: 286 });
row('str Rv', '0F 00 /1', 'str', SYS | SENSITIVE, { level: 286 });
row('str Mw', '0F 00 /1', 'str', SYS | SENSITIVE, { level: 286 });
row('lldt Ew', '0F 00 /2', 'lldt', SYS | PRIV, { level: 286 });
row('ltr Ew', '0F 00 /3', 'ltr', SYS | PRIV, { level: 286 });
row('verr Ew', '0F 00 /4', 'verr', SYS | SENSITIVE, { level: 286 });
row('verw Ew', '0F 00 /5', 'verw', SYS | SENSITIVE, { level: 286 });
row('sgdt Ms', '0F 01 /0', 'sgdt', SENSITIVE, { level: 286 });
row('sidt Ms', '0F 01 /1', 'sidt', SENSITIVE, { level: 286 });
row('lgdt Ms', '0F 01 /2', 'lgdt', PRIV, { level: 286 });
row('lidt Ms', '0F 01 /3', 'lidt', PRIV, { level: 286 });
row('smsw Rv', '0F 01 /4', 'smsw', SENSITIVE, { level: 286 });
row('smsw Mw', '0F 01 /4', 'smsw', SENSITIVE, { level: 286 });
row('lmsw Ew', '0F 01 /6', 'lmsw', PRIV, { level: 286 });
row('invlpg M', '0F 01 /7', 'invlpg', PRIV, { level: 486 });
row('lar Gv,Ew', '0F 02 /r', 'lar', SYS | SENSITIVE, { level: 286 });
row('lsl Gv,Ew', '0F 03 /r', 'lsl', SYS | SENSITIVE, { level: 286 });
// NASM also accepts a 32-bit source register (`lar eax, ebx`) and encodes it like the 16-bit one.
row('lar Gv,Rd', '0F 02 /r', 'lar', SYS | SENSITIVE | ASM_ONLY, { level: 386 });
row('lsl Gv,Rd', '0F 03 /r', 'lsl', SYS | SENSITIVE | ASM_ONLY, { level: 386 });
row('clts', '0F 06', 'clts', PRIV, { level: 286 });
row('invd', '0F 08', 'invd', PRIV, { level: 486 });
row('wbinvd', '0F 09', 'wbinvd', PRIV, { level: 486 });
row('ud2', '0F 0B', 'ud', 0, { level: 586 });
row('mov Rd,Cd', '0F 20 /r', 'mov_from_cr', PRIV, { level: 386, mod: 'any' });
row('mov Rd,Dd', '0F 21 /r', 'mov_from_dr', PRIV, { level: 386, mod: 'any' });
row('mov Cd,Rd', '0F 22 /r', 'mov_to_cr', PRIV, { level: 386, mod: 'any' });
row('mov Dd,Rd', '0F 23 /r', 'mov_to_dr', PRIV, { level: 386, mod: 'any' });
row('wrmsr', '0F 30', 'wrmsr', PRIV, { level: 586 });
row('rdtsc', '0F 31', 'rdtsc', 0, { level: 586 });
row('rdmsr', '0F 32', 'rdmsr', PRIV, { level: 586 });
row('cpuid', '0F A2', 'cpuid', 0, { level: 486 });

// ---- 0F map: bit operations, double shifts, 486 additions ----
row('bt Ev,Gv', '0F A3 /r', 'bt', 0, { level: 386 });
row('bts Ev,Gv', '0F AB /r', 'bts', LOCK, { level: 386 });
row('btr Ev,Gv', '0F B3 /r', 'btr', LOCK, { level: 386 });
row('btc Ev,Gv', '0F BB /r', 'btc', LOCK, { level: 386 });
row('bt Ev,Ib', '0F BA /4', 'bt', 0, { level: 386 });
row('bts Ev,Ib', '0F BA /5', 'bts', LOCK, { level: 386 });
row('btr Ev,Ib', '0F BA /6', 'btr', LOCK, { level: 386 });
row('btc Ev,Ib', '0F BA /7', 'btc', LOCK, { level: 386 });
row('shld Ev,Gv,Ib', '0F A4 /r', 'shld', 0, { level: 386 });
row('shld Ev,Gv,CL', '0F A5 /r', 'shld', 0, { level: 386 });
row('shrd Ev,Gv,Ib', '0F AC /r', 'shrd', 0, { level: 386 });
row('shrd Ev,Gv,CL', '0F AD /r', 'shrd', 0, { level: 386 });
row('imul Gv,Ev', '0F AF /r', 'imul2', 0, { level: 386 });
row('cmpxchg Eb,Gb', '0F B0 /r', 'cmpxchg', LOCK, { level: 486 });
row('cmpxchg Ev,Gv', '0F B1 /r', 'cmpxchg', LOCK, { level: 486 });
row('movzx Gv,Eb', '0F B6 /r', 'movzx', 0, { level: 386 });
row('movzx Gv,Ew', '0F B7 /r', 'movzx', NO_O16_FORM, { level: 386 });
row('movsx Gv,Eb', '0F BE /r', 'movsx', 0, { level: 386 });
row('movsx Gv,Ew', '0F BF /r', 'movsx', NO_O16_FORM, { level: 386 });
row('bsf Gv,Ev', '0F BC /r', 'bsf', 0, { level: 386 });
row('bsr Gv,Ev', '0F BD /r', 'bsr', 0, { level: 386 });
row('xadd Eb,Gb', '0F C0 /r', 'xadd', LOCK, { level: 486 });
row('xadd Ev,Gv', '0F C1 /r', 'xadd', LOCK, { level: 486 });
row('bswap Zd', '0F C8+r', 'bswap', 0, { level: 486 });

// ---- assembler-only forms NASM's own table has (appended here so row ids above stay put) ----
// NASM's BSWAP row is `o32 0F C8+r`: the operand size is 32 whatever the mode (66 0F C8 in bits 16).
row('bswap Zd', '0F C8+r', 'bswap', ASM_ONLY, { level: 486, osize: 32, pref: 0 });
// `imul r, imm` is `imul r, r, imm` (NASM's `r+`): a ModRM row with no r/m operand repeats the register.
row('imul Gv,Ibs', '6B /r', 'imul3', ASM_ONLY, { pref: 0, level: 186 });
row('imul Gv,Iv', '69 /r', 'imul3', ASM_ONLY, { pref: 1, level: 186 });
// x87 control instructions: kernels use them to probe for an FPU (#NM/#UD here). Each is an escape
// byte and a fixed ModRM byte (fninit = DB E3); the table has no field for a fixed ModRM, so the
// byte rides in impliedImm, the byte written after the opcode. The decoder reads D8-DF through the
// esc rows above; `finit`/`fclex` are `wait fninit`/`wait fnclex` (x87.ts WAIT_FORMS).
for (const [m, opc, modrm] of [['fninit', 'DB', 0xe3], ['fnclex', 'DB', 0xe2], ['fnop', 'D9', 0xd0], ['fld1', 'D9', 0xe8], ['fldz', 'D9', 0xee], ['fchs', 'D9', 0xe0], ['fabs', 'D9', 0xe1]] as const) {
  row(m, opc, 'esc', ESC | ASM_ONLY, { impliedImm: modrm });
}

/** Every row, indexed by OpcodeRow.id. */
export const ROWS: readonly OpcodeRow[] = rows;
/** Every semantic op key, indexed by OpcodeRow.opId. */
export const OP_NAMES: readonly string[] = opNames;

const byMnemonic = new Map<string, OpcodeRow[]>();
for (const r of rows) {
  if (r.flags & DECODE_ONLY) continue;
  let list = byMnemonic.get(r.mnemonic);
  if (!list) byMnemonic.set(r.mnemonic, (list = []));
  list.push(r);
}
for (const list of byMnemonic.values()) list.sort((a, b) => a.pref - b.pref || a.id - b.id);

/**
 * The rows the assembler may emit for a mnemonic (NASM spelling, lower case), in preference order
 * (ascending pref, then table order); DECODE_ONLY rows are left out. Jcc/SETcc rows use ndisasm's
 * suffixes (jz, jnc, setna...); map other spellings through CC_ALIASES first.
 */
export function rowsForMnemonic(mnemonic: string): readonly OpcodeRow[] {
  return byMnemonic.get(mnemonic) ?? [];
}

/** All mnemonics in the table. */
export function mnemonics(): string[] {
  return [...byMnemonic.keys()];
}

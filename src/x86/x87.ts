// x87 escapes (D8-DF) for display only. vizor's 486 has no FPU (the CPU raises #NM/#UD for these
// rows), but kernels probe for one (`fninit`, `fnstsw ax`), so the disassembler names them as ndisasm
// does instead of printing `db` and mis-decoding the bytes that follow.

/** How an x87 instruction shows its operand. */
export type X87Operand = 'none' | 'mem' | 'st' | 'to-st' | 'ax';

export interface X87Form {
  mnemonic: string;
  operand: X87Operand;
  /** Memory size keyword ('' for environment/state/control-word forms). */
  size: '' | 'word' | 'dword' | 'qword' | 'tword';
}

const ARITH = ['fadd', 'fmul', 'fcom', 'fcomp', 'fsub', 'fsubr', 'fdiv', 'fdivr'];
const IARITH = ['fiadd', 'fimul', 'ficom', 'ficomp', 'fisub', 'fisubr', 'fidiv', 'fidivr'];

/** Memory forms by [escape 0-7][reg]: mnemonic and size; '' = invalid. */
const MEMORY: readonly (readonly [string, X87Form['size']][])[] = [
  ARITH.map((m) => [m, 'dword'] as [string, X87Form['size']]),
  [['fld', 'dword'], ['', ''], ['fst', 'dword'], ['fstp', 'dword'], ['fldenv', ''], ['fldcw', ''], ['fnstenv', ''], ['fnstcw', '']],
  IARITH.map((m) => [m, 'dword'] as [string, X87Form['size']]),
  [['fild', 'dword'], ['fisttp', 'dword'], ['fist', 'dword'], ['fistp', 'dword'], ['', ''], ['fld', 'tword'], ['', ''], ['fstp', 'tword']],
  ARITH.map((m) => [m, 'qword'] as [string, X87Form['size']]),
  [['fld', 'qword'], ['fisttp', 'qword'], ['fst', 'qword'], ['fstp', 'qword'], ['frstor', ''], ['', ''], ['fnsave', ''], ['fnstsw', '']],
  IARITH.map((m) => [m, 'word'] as [string, X87Form['size']]),
  [['fild', 'word'], ['fisttp', 'word'], ['fist', 'word'], ['fistp', 'word'], ['fbld', 'tword'], ['fild', 'qword'], ['fbstp', 'tword'], ['fistp', 'qword']],
];

/** Register forms with an st(i) operand, by [escape][reg]; '' = see FIXED or invalid. */
const REGISTER: readonly (readonly string[])[] = [
  ARITH,
  ['fld', 'fxch', '', '', '', '', '', ''],
  ['fcmovb', 'fcmove', 'fcmovbe', 'fcmovu', '', '', '', ''],
  ['fcmovnb', 'fcmovne', 'fcmovnbe', 'fcmovnu', '', 'fucomi', 'fcomi', ''],
  ['fadd', 'fmul', '', '', 'fsubr', 'fsub', 'fdivr', 'fdiv'], // DC: `fadd to st1`
  ['ffree', '', 'fst', 'fstp', 'fucom', 'fucomp', '', ''],
  ['faddp', 'fmulp', '', '', 'fsubrp', 'fsubp', 'fdivrp', 'fdivp'],
  ['ffreep', '', '', '', '', 'fucomip', 'fcomip', ''],
];

/** Register forms without a register operand, by escape and full ModRM byte. */
const FIXED: Readonly<Record<number, Readonly<Record<number, string>>>> = {
  1: {
    0xd0: 'fnop', 0xe0: 'fchs', 0xe1: 'fabs', 0xe4: 'ftst', 0xe5: 'fxam', 0xe8: 'fld1', 0xe9: 'fldl2t', 0xea: 'fldl2e',
    0xeb: 'fldpi', 0xec: 'fldlg2', 0xed: 'fldln2', 0xee: 'fldz', 0xf0: 'f2xm1', 0xf1: 'fyl2x', 0xf2: 'fptan', 0xf3: 'fpatan',
    0xf4: 'fxtract', 0xf5: 'fprem1', 0xf6: 'fdecstp', 0xf7: 'fincstp', 0xf8: 'fprem', 0xf9: 'fyl2xp1', 0xfa: 'fsqrt',
    0xfb: 'fsincos', 0xfc: 'frndint', 0xfd: 'fscale', 0xfe: 'fsin', 0xff: 'fcos',
  },
  2: { 0xe9: 'fucompp' },
  3: { 0xe0: 'fneni', 0xe1: 'fndisi', 0xe2: 'fnclex', 0xe3: 'fninit', 0xe4: 'fsetpm' },
  6: { 0xd9: 'fcompp' },
  7: { 0xe0: 'fnstsw' },
};

/** The x87 form for escape opcode D8+esc with ModRM fields, or null if ndisasm has none. */
export function x87Form(opcode: number, mod: number, reg: number, rm: number): X87Form | null {
  const esc = opcode - 0xd8;
  if (esc < 0 || esc > 7) return null;
  if (mod !== 3) {
    const [mnemonic, size] = MEMORY[esc]![reg]!;
    return mnemonic ? { mnemonic, operand: 'mem', size } : null;
  }
  const fixed = FIXED[esc]?.[0xc0 | (reg << 3) | rm];
  if (fixed) return { mnemonic: fixed, operand: fixed === 'fnstsw' ? 'ax' : 'none', size: '' };
  const mnemonic = REGISTER[esc]![reg]!;
  if (!mnemonic) return null;
  return { mnemonic, operand: esc === 4 ? 'to-st' : 'st', size: '' };
}

/** Control instructions that have a WAIT-prefixed spelling without the `n` (9B DB E3 = finit). */
export const WAIT_FORMS: Readonly<Record<string, string>> = {
  fninit: 'finit', fnclex: 'fclex', fnstsw: 'fstsw', fnstcw: 'fstcw', fnstenv: 'fstenv', fnsave: 'fsave', fneni: 'feni', fndisi: 'fdisi',
};

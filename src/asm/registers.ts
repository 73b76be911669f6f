// Register names NASM accepts, with their class and encoding number.

export type RegClass = 'r8' | 'r16' | 'r32' | 'seg' | 'cr' | 'dr' | 'tr';

export interface Reg {
  name: string;
  cls: RegClass;
  num: number;
}

const REGS = new Map<string, Reg>();
function add(cls: RegClass, names: string[]): void {
  names.forEach((name, num) => {
    if (name) REGS.set(name, { name, cls, num });
  });
}
add('r8', ['al', 'cl', 'dl', 'bl', 'ah', 'ch', 'dh', 'bh']);
add('r16', ['ax', 'cx', 'dx', 'bx', 'sp', 'bp', 'si', 'di']);
add('r32', ['eax', 'ecx', 'edx', 'ebx', 'esp', 'ebp', 'esi', 'edi']);
add('seg', ['es', 'cs', 'ss', 'ds', 'fs', 'gs']);
add('cr', ['cr0', '', 'cr2', 'cr3', 'cr4']);
add('dr', ['dr0', 'dr1', 'dr2', 'dr3', 'dr4', 'dr5', 'dr6', 'dr7']);
add('tr', ['', '', '', 'tr3', 'tr4', 'tr5', 'tr6', 'tr7']);

/** The register named `name` (any case), or undefined. */
export function register(name: string): Reg | undefined {
  return REGS.get(name) ?? REGS.get(name.toLowerCase());
}

export const REGISTER_BITS: Record<RegClass, number> = { r8: 8, r16: 16, r32: 32, seg: 16, cr: 32, dr: 32, tr: 32 };

/** Registers of 64-bit mode, rejected with a clear message. */
export const LONG_MODE_REGS = /^(r[a-ds][xip]|r[sd]i|r[bs]p|r(8|9|1[0-5])[dwb]?|[sd]il|[bs]pl|rip)$/i;

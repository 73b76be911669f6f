// The i386 register file as GDB sees it: the target description (feature org.gnu.gdb.i386.core,
// whose register names and order GDB's i386 architecture checks) and the `g` packet layout:
// eax..edi, eip, eflags, cs ss ds es fs gs (32 bits each), then the x87 registers (st0-st7 80-bit,
// fctrl..fop 32-bit). The machine is an integer 486 without an FPU, so the x87 part reads as zeros.
import type { DebugCpuState } from '../debug/types.ts';
import { leHex, parseLeHex } from './packet.ts';

export const GPR_NAMES = ['eax', 'ecx', 'edx', 'ebx', 'esp', 'ebp', 'esi', 'edi', 'eip', 'eflags', 'cs', 'ss', 'ds', 'es', 'fs', 'gs'] as const;
export type GprName = (typeof GPR_NAMES)[number];
const X87_NAMES = ['fctrl', 'fstat', 'ftag', 'fiseg', 'fioff', 'foseg', 'fooff', 'fop'];

/** Register number → size in bytes. */
export const REG_SIZES: readonly number[] = [...GPR_NAMES.map(() => 4), ...Array(8).fill(10), ...X87_NAMES.map(() => 4)];

const EFLAGS_FIELDS = [
  ['CF', 0], ['', 1], ['PF', 2], ['AF', 4], ['ZF', 6], ['SF', 7], ['TF', 8], ['IF', 9], ['DF', 10], ['OF', 11],
  ['NT', 14], ['RF', 16], ['VM', 17], ['AC', 18], ['VIF', 19], ['VIP', 20], ['ID', 21],
] as const;

function reg(name: string, regnum: number, bitsize: number, type: string, group?: string): string {
  return `    <reg name="${name}" bitsize="${bitsize}" type="${type}" regnum="${regnum}"${group ? ` group="${group}"` : ''}/>`;
}

export const TARGET_XML = [
  '<?xml version="1.0"?>',
  '<!DOCTYPE target SYSTEM "gdb-target.dtd">',
  '<target version="1.0">',
  '  <architecture>i386</architecture>',
  '  <feature name="org.gnu.gdb.i386.core">',
  '    <flags id="i386_eflags" size="4">',
  ...EFLAGS_FIELDS.map(([n, b]) => `      <field name="${n}" start="${b}" end="${b}"/>`),
  '    </flags>',
  ...GPR_NAMES.map((n, i) => reg(n, i, 32, n === 'esp' || n === 'ebp' ? 'data_ptr' : n === 'eip' ? 'code_ptr' : n === 'eflags' ? 'i386_eflags' : 'int32')),
  ...Array.from({ length: 8 }, (_, i) => reg(`st${i}`, 16 + i, 80, 'i387_ext')),
  ...X87_NAMES.map((n, i) => reg(n, 24 + i, 32, 'int', 'float')),
  '  </feature>',
  '</target>',
  '',
].join('\n');

/** Value of GDB register `n` from the CPU state (x87 registers read 0; fctrl its reset value). */
export function registerHex(s: DebugCpuState, n: number): string | undefined {
  if (n < 0 || n >= REG_SIZES.length) return undefined;
  if (n < GPR_NAMES.length) {
    const name = GPR_NAMES[n]!;
    const v = n >= 10 ? s[name as 'cs'].selector : s[name as 'eax'];
    return leHex(v >>> 0, 4);
  }
  return leHex(n === 24 ? 0x37f : n === 26 ? 0xffff : 0, REG_SIZES[n]!);
}

/** The whole `g` packet. */
export function allRegistersHex(s: DebugCpuState): string {
  let out = '';
  for (let n = 0; n < REG_SIZES.length; n++) out += registerHex(s, n)!;
  return out;
}

/**
 * A state patch for writing register `n` (GDB's P / G). General registers, EIP and EFLAGS are
 * writable; segment selectors, x87 and unknown registers are ignored (undefined), since a
 * selector alone cannot reload a protected-mode descriptor cache.
 */
export function registerPatch(n: number, hex: string, s: DebugCpuState): Partial<DebugCpuState> | undefined {
  if (n < 0 || n >= 10) return undefined;
  const name = GPR_NAMES[n] as Exclude<GprName, 'cs' | 'ss' | 'ds' | 'es' | 'fs' | 'gs'>;
  const v = parseLeHex(hex.slice(0, 8));
  return s[name] === v ? {} : { [name]: v };
}

/** Splits a `G` packet's data into per-register hex strings. */
export function splitRegisters(hex: string): string[] {
  const out: string[] = [];
  let p = 0;
  for (const size of REG_SIZES) {
    if (p + size * 2 > hex.length) break;
    out.push(hex.slice(p, p + size * 2));
    p += size * 2;
  }
  return out;
}

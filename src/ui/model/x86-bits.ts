// Decoding of x86 system structures for display: flag and control-register bits, segment and
// gate descriptors, the TSS. Pure functions over numbers and bytes (Intel SDM vol. 3 layouts).
import { readU16, readU32 } from './format.ts';

export interface BitField {
  bit: number;
  name: string;
  title: string;
  /** Width in bits (IOPL is 2). */
  width?: number;
}

export const EFLAGS_BITS: BitField[] = [
  { bit: 0, name: 'CF', title: 'Carry: unsigned overflow out of the top bit' },
  { bit: 2, name: 'PF', title: 'Parity: the low byte has an even number of 1 bits' },
  { bit: 4, name: 'AF', title: 'Adjust: carry out of bit 3 (BCD arithmetic)' },
  { bit: 6, name: 'ZF', title: 'Zero: the result was zero' },
  { bit: 7, name: 'SF', title: 'Sign: the top bit of the result' },
  { bit: 8, name: 'TF', title: 'Trap: single-step, #DB after every instruction' },
  { bit: 9, name: 'IF', title: 'Interrupt enable: maskable interrupts are accepted' },
  { bit: 10, name: 'DF', title: 'Direction: string instructions count down' },
  { bit: 11, name: 'OF', title: 'Overflow: signed overflow' },
  { bit: 12, name: 'IOPL', title: 'I/O privilege level: the ring allowed IN/OUT/CLI/STI', width: 2 },
  { bit: 14, name: 'NT', title: 'Nested task: IRET returns to the previous TSS' },
  { bit: 16, name: 'RF', title: 'Resume: suppress instruction breakpoints once' },
  { bit: 17, name: 'VM', title: 'Virtual-8086 mode' },
  { bit: 18, name: 'AC', title: 'Alignment check (ring 3 with CR0.AM)' },
  { bit: 21, name: 'ID', title: 'CPUID available (the bit can be toggled)' },
];

export const CR0_BITS: BitField[] = [
  { bit: 0, name: 'PE', title: 'Protection enable: protected mode' },
  { bit: 1, name: 'MP', title: 'Monitor coprocessor' },
  { bit: 2, name: 'EM', title: 'Emulation: no FPU, FPU instructions raise #NM' },
  { bit: 3, name: 'TS', title: 'Task switched: next FPU use raises #NM' },
  { bit: 4, name: 'ET', title: 'Extension type (always 1 on a 486)' },
  { bit: 5, name: 'NE', title: 'Numeric error: FPU errors raise #MF' },
  { bit: 16, name: 'WP', title: 'Write protect: ring 0 honours read-only pages' },
  { bit: 18, name: 'AM', title: 'Alignment mask' },
  { bit: 29, name: 'NW', title: 'Not write-through' },
  { bit: 30, name: 'CD', title: 'Cache disable' },
  { bit: 31, name: 'PG', title: 'Paging: linear addresses go through the page tables' },
];

export const CR4_BITS: BitField[] = [
  { bit: 0, name: 'VME', title: 'Virtual-8086 mode extensions' },
  { bit: 1, name: 'PVI', title: 'Protected-mode virtual interrupts' },
  { bit: 2, name: 'TSD', title: 'RDTSC only in ring 0' },
  { bit: 3, name: 'DE', title: 'Debugging extensions' },
  { bit: 4, name: 'PSE', title: 'Page size extension: 4 MiB pages (PDE.PS)' },
  { bit: 5, name: 'PAE', title: 'Physical address extension (not on a 486)' },
  { bit: 7, name: 'PGE', title: 'Global pages' },
];

export const CR3_BITS: BitField[] = [
  { bit: 3, name: 'PWT', title: 'Page-level write-through for the page directory' },
  { bit: 4, name: 'PCD', title: 'Page-level cache disable for the page directory' },
];

export const PTE_BITS: BitField[] = [
  { bit: 0, name: 'P', title: 'Present' },
  { bit: 1, name: 'RW', title: 'Writable' },
  { bit: 2, name: 'US', title: 'User (ring 3) may access' },
  { bit: 3, name: 'PWT', title: 'Write-through' },
  { bit: 4, name: 'PCD', title: 'Cache disable' },
  { bit: 5, name: 'A', title: 'Accessed' },
  { bit: 6, name: 'D', title: 'Dirty (written)' },
  { bit: 7, name: 'PS', title: 'Page size: 4 MiB page (in a PDE with CR4.PSE)' },
  { bit: 8, name: 'G', title: 'Global' },
];

export function fieldValue(v: number, f: BitField): number {
  return (v >>> f.bit) & ((1 << (f.width ?? 1)) - 1);
}

export interface Descriptor {
  raw: [number, number];
  present: boolean;
  dpl: number;
  /** 'code' | 'data' | a system type name. */
  kind: string;
  base: number;
  limit: number;
  /** Text summary, e.g. "code 32-bit, readable, DPL 0". */
  summary: string;
  /** For gates: selector:offset. */
  selector?: number;
  offset?: number;
}

const SYSTEM_TYPES: Record<number, string> = {
  1: '16-bit TSS (available)', 2: 'LDT', 3: '16-bit TSS (busy)', 4: '16-bit call gate', 5: 'task gate',
  6: '16-bit interrupt gate', 7: '16-bit trap gate', 9: '32-bit TSS (available)', 11: '32-bit TSS (busy)',
  12: '32-bit call gate', 14: '32-bit interrupt gate', 15: '32-bit trap gate',
};

/** Decodes an 8-byte GDT/LDT/IDT entry given as its low and high dwords. */
export function decodeDescriptor(lo: number, hi: number): Descriptor {
  const access = (hi >>> 8) & 0xff;
  const flags = (hi >>> 20) & 0xf;
  const present = (access & 0x80) !== 0;
  const dpl = (access >>> 5) & 3;
  const s = (access & 0x10) !== 0;
  const type = access & 0xf;
  const base = ((lo >>> 16) | ((hi & 0xff) << 16) | (hi & 0xff000000)) >>> 0;
  const rawLimit = (lo & 0xffff) | (hi & 0xf0000);
  const limit = (flags & 8 ? rawLimit * 4096 + 0xfff : rawLimit) >>> 0;
  const raw: [number, number] = [lo >>> 0, hi >>> 0];
  if (lo === 0 && hi === 0) return { raw, present: false, dpl: 0, kind: 'null', base: 0, limit: 0, summary: 'null (unused)' };
  if (s) {
    const code = (type & 8) !== 0;
    const bits = flags & 4 ? '32-bit' : '16-bit';
    const attrs = code
      ? [type & 2 ? 'readable' : 'execute-only', type & 4 ? 'conforming' : '']
      : [type & 2 ? 'writable' : 'read-only', type & 4 ? 'expand-down' : ''];
    if (type & 1) attrs.push('accessed');
    const summary = `${code ? 'code' : 'data'} ${bits}, ${attrs.filter(Boolean).join(', ')}, DPL ${dpl}${present ? '' : ', NOT PRESENT'}`;
    return { raw, present, dpl, kind: code ? 'code' : 'data', base, limit, summary };
  }
  const kind = SYSTEM_TYPES[type] ?? `reserved type ${type}`;
  if (type === 4 || type === 5 || type === 6 || type === 7 || type === 12 || type === 14 || type === 15) {
    const selector = lo >>> 16;
    const offset = type === 5 ? 0 : ((lo & 0xffff) | (hi & 0xffff0000)) >>> 0;
    const target = type === 5 ? `TSS selector 0x${selector.toString(16)}` : `${selector.toString(16).padStart(4, '0')}:${offset.toString(16).padStart(8, '0')}`;
    return { raw, present, dpl, kind, base: 0, limit: 0, selector, offset, summary: `${kind} → ${target}, DPL ${dpl}${present ? '' : ', NOT PRESENT'}` };
  }
  return { raw, present, dpl, kind, base, limit, summary: `${kind}, DPL ${dpl}${present ? '' : ', NOT PRESENT'}` };
}

export function decodeTable(bytes: Uint8Array, count: number): Descriptor[] {
  const out: Descriptor[] = [];
  for (let i = 0; i < count && i * 8 + 8 <= bytes.length; i++) out.push(decodeDescriptor(readU32(bytes, i * 8), readU32(bytes, i * 8 + 4)));
  return out;
}

/** The 32-bit TSS fields (SDM vol. 3 fig. 7-2), as [name, value, width in hex digits]. */
export function decodeTss(bytes: Uint8Array): [string, number, number][] {
  if (bytes.length < 104) return [];
  const d = (off: number) => readU32(bytes, off);
  const w = (off: number) => readU16(bytes, off);
  return [
    ['link', w(0), 4], ['esp0', d(4), 8], ['ss0', w(8), 4], ['esp1', d(12), 8], ['ss1', w(16), 4], ['esp2', d(20), 8], ['ss2', w(24), 4],
    ['cr3', d(28), 8], ['eip', d(32), 8], ['eflags', d(36), 8], ['eax', d(40), 8], ['ecx', d(44), 8], ['edx', d(48), 8], ['ebx', d(52), 8],
    ['esp', d(56), 8], ['ebp', d(60), 8], ['esi', d(64), 8], ['edi', d(68), 8], ['es', w(72), 4], ['cs', w(76), 4], ['ss', w(80), 4],
    ['ds', w(84), 4], ['fs', w(88), 4], ['gs', w(92), 4], ['ldt', w(96), 4], ['iomap', w(102), 4],
  ];
}

/** Describes a segment register's hidden part (access = descriptor bytes 5..6). */
export function describeSegment(access: number, protectedMode: boolean): string {
  if (!protectedMode) return 'real mode: base = selector × 16';
  if ((access & 0x80) === 0) return 'not present / null';
  const hi = (access & 0xff) << 8 | ((access >> 8) & 0xf) << 20;
  return decodeDescriptor(0, hi).summary;
}

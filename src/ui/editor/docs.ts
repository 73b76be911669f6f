// Hover text for mnemonics, registers and directives: one short line each, what a student needs
// while stepping. The mnemonic list itself comes from the opcode table (src/x86/table.ts).
import { mnemonics } from '../../x86/table.ts';
import { CC_ALIASES } from '../../x86/types.ts';

const CC_TEXT = [
  'overflow (OF=1)', 'not overflow (OF=0)', 'below / carry (CF=1, unsigned <)', 'above or equal / no carry (CF=0, unsigned >=)',
  'equal / zero (ZF=1)', 'not equal / not zero (ZF=0)', 'below or equal (CF=1 or ZF=1, unsigned <=)', 'above (CF=0 and ZF=0, unsigned >)',
  'sign (SF=1, negative)', 'not sign (SF=0)', 'parity even (PF=1)', 'parity odd (PF=0)', 'less (SF≠OF, signed <)',
  'greater or equal (SF=OF, signed >=)', 'less or equal (ZF=1 or SF≠OF, signed <=)', 'greater (ZF=0 and SF=OF, signed >)',
];

const TEXT: Record<string, string> = {
  mov: 'Copies the source operand to the destination. Flags are not changed.',
  add: 'dest = dest + src. Sets CF, OF, SF, ZF, AF, PF.', adc: 'dest = dest + src + CF (add with carry).',
  sub: 'dest = dest − src. Sets CF (borrow), OF, SF, ZF, AF, PF.', sbb: 'dest = dest − src − CF (subtract with borrow).',
  cmp: 'Computes dest − src and sets the flags like SUB, but keeps dest. Usually followed by a conditional jump.',
  and: 'dest = dest AND src. Clears CF and OF.', or: 'dest = dest OR src. Clears CF and OF.', xor: 'dest = dest XOR src; `xor eax, eax` is the usual way to zero a register.',
  test: 'Computes dest AND src and sets SF, ZF, PF (CF=OF=0), keeping dest.', not: 'Inverts every bit. Flags unchanged.', neg: "Two's complement negation: dest = 0 − dest.",
  inc: 'dest = dest + 1 (CF unchanged).', dec: 'dest = dest − 1 (CF unchanged).',
  mul: 'Unsigned multiply of AL/AX/EAX by the operand; result in AX, DX:AX or EDX:EAX.', imul: 'Signed multiply (one, two or three operands).',
  div: 'Unsigned divide of AX, DX:AX or EDX:EAX by the operand: quotient in AL/AX/EAX, remainder in AH/DX/EDX. Divide by zero raises #DE.',
  idiv: 'Signed divide, like DIV. Raises #DE on divide by zero or overflow.',
  push: 'ESP −= operand size, then stores the operand at [SS:ESP].', pop: 'Loads [SS:ESP] into the operand, then ESP += operand size.',
  pusha: 'Pushes all general registers (AX..DI / EAX..EDI).', pushad: 'Pushes EAX, ECX, EDX, EBX, the original ESP, EBP, ESI, EDI.',
  popa: 'Pops all general registers (the saved SP is skipped).', popad: 'Pops EDI, ESI, EBP, (skip ESP), EBX, EDX, ECX, EAX.',
  pushf: 'Pushes FLAGS/EFLAGS.', pushfd: 'Pushes EFLAGS. Sensitive (Popek–Goldberg): in ring 1 it shows the real flags; vizor\'s VMM emulates CLI/STI on the real IF, so here it shows the guest\'s own.',
  popf: 'Pops FLAGS/EFLAGS; IF and IOPL change only with enough privilege (silently ignored otherwise).', popfd: 'Pops EFLAGS; IF changes only if CPL ≤ IOPL, IOPL only in ring 0 — silently.',
  lea: 'Loads the effective address of a memory operand (no memory access). Handy for arithmetic.',
  call: 'Pushes the return address, then jumps to the target.', ret: 'Pops the return address and jumps there; `ret n` also pops n bytes of arguments.',
  retf: 'Far return: pops EIP then CS (and ESP/SS when returning to an outer ring).', jmp: 'Jumps to the target (short, near or far `jmp sel:offset`).',
  loop: 'ECX −= 1; jumps if ECX ≠ 0.', loope: 'ECX −= 1; jumps if ECX ≠ 0 and ZF=1.', loopne: 'ECX −= 1; jumps if ECX ≠ 0 and ZF=0.',
  jcxz: 'Jumps if CX = 0.', jecxz: 'Jumps if ECX = 0.',
  int: 'Software interrupt: pushes EFLAGS, CS, EIP (and SS, ESP on a ring change) and enters the handler named by the IDT entry.',
  int3: 'Breakpoint trap (#BP, vector 3).', into: 'Raises #OF (vector 4) if OF=1.', int1: 'Raises #DB (vector 1).', icebp: 'Raises #DB (vector 1).',
  iret: 'Returns from an interrupt: pops EIP, CS, EFLAGS (and ESP, SS on a ring change).', iretd: 'Returns from an interrupt (32-bit frame).', iretw: 'Returns from an interrupt (16-bit frame).',
  hlt: 'Stops the CPU until the next interrupt. Privileged (ring 0). With IF=0 it waits forever.',
  cli: 'Clears IF: maskable interrupts are held off. Needs CPL ≤ IOPL.', sti: 'Sets IF (after the next instruction). Needs CPL ≤ IOPL.',
  clc: 'CF = 0.', stc: 'CF = 1.', cmc: 'CF = NOT CF.', cld: 'DF = 0: string instructions count up.', std: 'DF = 1: string instructions count down.',
  in: 'Reads a byte/word/dword from an I/O port (DX or an immediate). Subject to IOPL and the TSS I/O bitmap.',
  out: 'Writes AL/AX/EAX to an I/O port. `out 0xF4, al` ends a vizor/QEMU run with the debug-exit device.',
  lgdt: 'Loads GDTR (limit and base) from a 6-byte memory operand. Privileged.', lidt: 'Loads IDTR from a 6-byte memory operand. Privileged.',
  sgdt: 'Stores GDTR — not privileged on a 486, so a deprivileged guest sees the host\'s GDT (a Popek–Goldberg hole).',
  sidt: 'Stores IDTR — not privileged on a 486 (a Popek–Goldberg hole).', lldt: 'Loads LDTR with a selector. Privileged.', ltr: 'Loads the task register with a TSS selector. Privileged.',
  sldt: 'Stores LDTR\'s selector.', str: 'Stores the task register\'s selector.', smsw: 'Stores the low 16 bits of CR0 — not privileged (a Popek–Goldberg hole when the VMM\'s CR0 differs from the guest\'s; vizor keeps the guest\'s CR0).',
  lmsw: 'Loads the low 4 bits of CR0 (PE can be set, not cleared). Privileged.', clts: 'Clears CR0.TS. Privileged.',
  invlpg: 'Drops the TLB entry for one linear address. Privileged; hypervisors with shadow paging trap it.',
  invd: 'Invalidates caches without writing back. Privileged.', wbinvd: 'Writes back and invalidates caches. Privileged.',
  cpuid: 'Returns processor identification in EAX, EBX, ECX, EDX for the leaf in EAX.', rdtsc: 'EDX:EAX = time-stamp counter (virtual time here).',
  rdmsr: 'EDX:EAX = MSR[ECX]. Privileged.', wrmsr: 'MSR[ECX] = EDX:EAX. Privileged.',
  nop: 'Does nothing for one instruction.', pause: 'Spin-loop hint (F3 90); a NOP on a 486.', ud2: 'Raises #UD (invalid opcode) on purpose.',
  xchg: 'Swaps the two operands (with memory: locked).', bswap: 'Reverses the byte order of a 32-bit register.',
  movzx: 'Moves with zero extension to a wider register.', movsx: 'Moves with sign extension to a wider register.',
  cbw: 'AX = sign-extended AL.', cwde: 'EAX = sign-extended AX.', cwd: 'DX:AX = sign-extended AX.', cdq: 'EDX:EAX = sign-extended EAX (before IDIV).',
  shl: 'Shifts left; the last bit out goes to CF.', sal: 'Same as SHL.', shr: 'Logical shift right (zeros in).', sar: 'Arithmetic shift right (copies of the sign bit in).',
  rol: 'Rotates left.', ror: 'Rotates right.', rcl: 'Rotates left through CF.', rcr: 'Rotates right through CF.',
  shld: 'Double-precision shift left.', shrd: 'Double-precision shift right.',
  bt: 'CF = the selected bit.', bts: 'CF = the bit, then sets it.', btr: 'CF = the bit, then clears it.', btc: 'CF = the bit, then complements it.',
  bsf: 'Index of the lowest set bit (ZF=1 if the source is 0).', bsr: 'Index of the highest set bit.',
  cmpxchg: 'If accumulator = dest then dest = src (ZF=1) else accumulator = dest (ZF=0).', xadd: 'Exchanges and adds: tmp = dest + src; src = dest; dest = tmp.',
  enter: 'Makes a stack frame: push EBP, EBP = ESP, ESP −= size.', leave: 'Undoes ENTER: ESP = EBP, pop EBP.',
  les: 'Loads a far pointer into ES:reg.', lds: 'Loads a far pointer into DS:reg.', lss: 'Loads a far pointer into SS:reg.', lfs: 'Loads a far pointer into FS:reg.', lgs: 'Loads a far pointer into GS:reg.',
  lar: 'Loads the access rights of a selector\'s descriptor.', lsl: 'Loads the segment limit of a selector\'s descriptor.',
  verr: 'ZF=1 if the segment is readable at this privilege.', verw: 'ZF=1 if the segment is writable at this privilege.', arpl: 'Adjusts a selector\'s RPL up to the source\'s RPL.',
  sahf: 'Flags (SF ZF AF PF CF) = AH.', lahf: 'AH = the low byte of FLAGS.', xlat: 'AL = [EBX + AL].', xlatb: 'AL = [EBX + AL].', salc: 'AL = CF ? 0xFF : 0 (undocumented).',
  daa: 'Decimal adjust after addition.', das: 'Decimal adjust after subtraction.', aaa: 'ASCII adjust after addition.', aas: 'ASCII adjust after subtraction.',
  aam: 'ASCII adjust after multiply.', aad: 'ASCII adjust before division.', bound: 'Raises #BR if the index is outside the bounds in memory.',
  wait: 'Waits for the FPU.', fwait: 'Waits for the FPU.',
};

const STRING_TEXT: Record<string, string> = {
  movs: 'Copies [DS:ESI] to [ES:EDI], then steps both by the size (down if DF=1). With REP: ECX times.',
  cmps: 'Compares [DS:ESI] with [ES:EDI] and steps both. With REPE/REPNE: scans.',
  stos: 'Stores AL/AX/EAX at [ES:EDI] and steps EDI. With REP: fills ECX elements.',
  lods: 'Loads [DS:ESI] into AL/AX/EAX and steps ESI.', scas: 'Compares AL/AX/EAX with [ES:EDI] and steps EDI.',
  ins: 'Reads from port DX into [ES:EDI] and steps EDI.', outs: 'Writes [DS:ESI] to port DX and steps ESI.',
};

export const REGISTER_DOCS: Record<string, string> = {
  eax: 'Accumulator: results of MUL/DIV, return values, IN/OUT data.', ebx: 'Base register (general purpose).',
  ecx: 'Counter: LOOP, REP, shifts by CL.', edx: 'Data: high half of MUL/DIV results, the port number for IN/OUT.',
  esi: 'Source index for string instructions.', edi: 'Destination index for string instructions.',
  ebp: 'Frame pointer: addresses arguments and locals on the stack (default segment SS).', esp: 'Stack pointer: top of the stack in SS.',
  eip: 'Instruction pointer: the next instruction (CS:EIP).', eflags: 'Flags: results (CF ZF SF OF...) and controls (IF DF TF IOPL).',
  cs: 'Code segment: its RPL is the current privilege level (CPL).', ds: 'Default data segment.', es: 'Extra segment: destination of string instructions.',
  ss: 'Stack segment.', fs: 'Extra data segment.', gs: 'Extra data segment.',
  cr0: 'Control register 0: PE (protected mode), PG (paging), WP ...', cr2: 'Control register 2: the linear address of the last page fault.',
  cr3: 'Control register 3: physical address of the page directory.', cr4: 'Control register 4: PSE (4 MiB pages) ...',
};
for (const [r32, r16, lo, hi] of [['eax', 'ax', 'al', 'ah'], ['ebx', 'bx', 'bl', 'bh'], ['ecx', 'cx', 'cl', 'ch'], ['edx', 'dx', 'dl', 'dh']]) {
  REGISTER_DOCS[r16] = `Low 16 bits of ${r32.toUpperCase()}.`;
  REGISTER_DOCS[lo] = `Low byte of ${r16.toUpperCase()}.`;
  REGISTER_DOCS[hi] = `High byte of ${r16.toUpperCase()} (bits 8–15 of ${r32.toUpperCase()}).`;
}
for (const r of ['si', 'di', 'bp', 'sp']) REGISTER_DOCS[r] = `Low 16 bits of E${r.toUpperCase()}.`;

export const DIRECTIVES = [
  'db', 'dw', 'dd', 'dq', 'resb', 'resw', 'resd', 'resq', 'times', 'equ', 'org', 'bits', 'section', 'segment', 'align', 'alignb',
  'incbin', 'global', 'extern', 'use16', 'use32', 'cpu',
];
export const SIZE_WORDS = ['byte', 'word', 'dword', 'qword', 'short', 'near', 'far', 'strict', 'rel', 'abs'];
export const PREFIX_WORDS = ['rep', 'repe', 'repz', 'repne', 'repnz', 'lock', 'o16', 'o32', 'a16', 'a32'];

/** Every mnemonic NASM accepts for the table's rows (conditional jumps with all their aliases). */
export const MNEMONICS: string[] = (() => {
  const set = new Set(mnemonics());
  for (const aliases of CC_ALIASES) for (const a of aliases) for (const p of ['j', 'set', 'cmov']) if (p !== 'cmov') set.add(p + a);
  return [...set].sort();
})();

function ccOf(m: string): [string, string] | null {
  for (const prefix of ['set', 'j']) {
    if (!m.startsWith(prefix)) continue;
    const idx = CC_ALIASES.findIndex((list) => list.includes(m.slice(prefix.length)));
    if (idx >= 0) return [prefix, CC_TEXT[idx]];
  }
  return null;
}

/** One-line documentation for a word under the mouse, or null. */
export function docFor(word: string): { title: string; text: string } | null {
  const w = word.toLowerCase();
  if (REGISTER_DOCS[w]) return { title: `register ${w}`, text: REGISTER_DOCS[w] };
  if (!MNEMONICS.includes(w) && !PREFIX_WORDS.includes(w)) return null;
  if (TEXT[w]) return { title: w, text: TEXT[w] };
  const cc = w === 'jcxz' || w === 'jecxz' ? null : ccOf(w);
  if (cc) return { title: w, text: cc[0] === 'j' ? `Jumps if ${cc[1]}.` : `Sets the byte operand to 1 if ${cc[1]}, else 0.` };
  const base = w.replace(/[bwd]$/, '');
  if (STRING_TEXT[base]) return { title: w, text: STRING_TEXT[base] };
  if (PREFIX_WORDS.includes(w)) return { title: w, text: 'Instruction prefix.' };
  return { title: w, text: 'An instruction of the 486 (see the Intel SDM, volume 2).' };
}

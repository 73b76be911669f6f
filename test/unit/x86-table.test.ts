// Consistency of the opcode table: every encoding decodes to exactly one row, assembler-only
// spellings have a decodable twin, preferences give NASM's choices, and the flag sets that the CPU
// and the hypervisor rely on name the instructions the SDM says they should.
import { describe, expect, it } from 'vitest';
import { candidateRows } from '../../src/x86/decode.ts';
import { OP_NAMES, ROWS, rowsForMnemonic } from '../../src/x86/table.ts';
import { CC_ALIASES, CC_NAMES, type OpcodeRow, OPERAND_INFO, RowFlag } from '../../src/x86/types.ts';

const decodable = ROWS.filter((r) => !(r.flags & RowFlag.ASM_ONLY));

function matches(r: OpcodeRow, reg: number, memory: boolean, osize: number, asize: number, f3: boolean): boolean {
  if (r.ext >= 0 && r.ext !== reg) return false;
  if (r.mod === 'mem' && !memory) return false;
  if (r.mod === 'reg' && memory) return false;
  if (r.osize !== 0 && r.osize !== osize) return false;
  if (r.asize !== 0 && r.asize !== asize) return false;
  if (r.prefix === 0xf3 && !f3) return false;
  return true;
}

describe('x86 opcode table', () => {
  it('has one decodable row per encoding (90 = pause/nop/xchg is the only ordered overlap)', () => {
    const overlaps: string[] = [];
    for (const map of [0, 1] as const) {
      for (let opcode = 0; opcode < 256; opcode++) {
        const rows = candidateRows(map, opcode);
        for (let reg = 0; reg < 8; reg++) for (const memory of [false, true]) for (const osize of [16, 32]) for (const asize of [16, 32]) for (const f3 of [false, true]) {
          const hits = rows.filter((r) => r.modrm || (reg === 0 && !memory)).filter((r) => matches(r, reg, memory, osize, asize, f3));
          if (hits.length > 1 && !(map === 0 && opcode === 0x90)) overlaps.push(`${map ? '0F ' : ''}${opcode.toString(16)}: ${hits.map((h) => h.mnemonic).join('/')}`);
        }
      }
    }
    expect([...new Set(overlaps)]).toEqual([]);
    expect(candidateRows(0, 0x90).map((r) => r.mnemonic)).toEqual(['pause', 'nop', 'xchg']);
  });

  it('gives every assembler-only spelling a decodable twin with the same encoding', () => {
    for (const a of ROWS.filter((r) => r.flags & RowFlag.ASM_ONLY)) {
      const twin = decodable.find((r) => r.map === a.map && r.opcode === a.opcode && r.ext === a.ext && r.op === a.op);
      expect(twin, `${a.mnemonic} ${a.operands.join(',')}`).toBeDefined();
    }
  });

  it('keeps ModRM presence consistent with the operands', () => {
    for (const r of ROWS) {
      const needs = r.operands.some((k) => ['rm', 'reg', 'creg', 'dreg', 'sreg'].includes(OPERAND_INFO[k].loc)) || r.ext >= 0;
      expect(r.modrm, `${r.mnemonic} ${r.operands.join(',')}`).toBe(needs || (r.modrm && r.op === 'setcc') || (r.modrm && r.op === 'esc'));
    }
  });

  it('orders rows as NASM -Ox chooses: imm8 sign-extended, then accumulator, then general forms', () => {
    const add = rowsForMnemonic('add').map((r) => `${r.opcode.toString(16)}:${r.operands.join(',')}`);
    expect(add.indexOf('83:Ev,Ibs')).toBeLessThan(add.indexOf('5:eAX,Iv'));
    expect(add.indexOf('5:eAX,Iv')).toBeLessThan(add.indexOf('81:Ev,Iv'));
    expect(add.indexOf('4:AL,Ib')).toBeLessThan(add.indexOf('80:Eb,Ib'));
    expect(add.indexOf('1:Ev,Gv')).toBeLessThan(add.indexOf('3:Gv,Ev'));
    expect(add.some((s) => s.startsWith('82:'))).toBe(false); // decode-only
    const shl = rowsForMnemonic('shl').map((r) => r.operands.join(','));
    expect(shl.indexOf('Ev,1')).toBeLessThan(shl.indexOf('Ev,Ib'));
    const jmp = rowsForMnemonic('jmp').map((r) => r.operands.join(','));
    expect(jmp.indexOf('Jb')).toBeLessThan(jmp.indexOf('Jv'));
    const mov = rowsForMnemonic('mov').map((r) => `${r.opcode.toString(16)}:${r.operands.join(',')}`);
    expect(mov.indexOf('a1:eAX,Ov')).toBeLessThan(mov.indexOf('8b:Gv,Ev'));
    expect(mov.indexOf('89:Ev,Gv')).toBeLessThan(mov.indexOf('8b:Gv,Ev'));
    expect(mov.indexOf('b8:Zv,Iv')).toBeLessThan(mov.indexOf('c7:Ev,Iv'));
    expect(rowsForMnemonic('push')[0]!.operands).toEqual(['Zv']);
    expect(rowsForMnemonic('imul').find((r) => r.operands.length === 3)!.operands).toEqual(['Gv', 'Ev', 'Ibs']);
  });

  it('names condition codes as ndisasm does and lists NASM aliases', () => {
    for (const r of ROWS.filter((x) => x.op === 'jcc' || x.op === 'setcc')) {
      expect(r.mnemonic).toBe((r.op === 'jcc' ? 'j' : 'set') + CC_NAMES[r.cc]);
      expect(r.opcode & 0xf).toBe(r.cc);
    }
    for (let cc = 0; cc < 16; cc++) expect(CC_ALIASES[cc]![0]).toBe(CC_NAMES[cc]);
  });

  it('marks LOCK only where a memory destination exists', () => {
    for (const r of ROWS.filter((x) => x.flags & RowFlag.LOCK)) {
      // The memory operand is the destination (for XCHG, which swaps, either operand).
      const rm = r.operands.findIndex((k) => OPERAND_INFO[k].loc === 'rm');
      expect(rm === 0 || (r.op === 'xchg' && rm === 1), `${r.mnemonic} ${r.operands.join(',')}`).toBe(true);
    }
    const lockable = new Set(ROWS.filter((r) => r.flags & RowFlag.LOCK).map((r) => r.mnemonic));
    expect([...lockable].sort()).toEqual(['adc', 'add', 'and', 'btc', 'btr', 'bts', 'cmpxchg', 'dec', 'inc', 'neg', 'not', 'or', 'sbb', 'sub', 'xadd', 'xchg', 'xor']);
  });

  it('flags privileged, sensitive and I/O instructions', () => {
    const names = (flag: number): string[] => [...new Set(ROWS.filter((r) => r.flags & flag).map((r) => r.op))].sort();
    expect(names(RowFlag.PRIV)).toEqual(['clts', 'hlt', 'invd', 'invlpg', 'lgdt', 'lidt', 'lldt', 'lmsw', 'ltr', 'mov_from_cr', 'mov_from_dr', 'mov_to_cr', 'mov_to_dr', 'rdmsr', 'wbinvd', 'wrmsr']);
    const sensitive = names(RowFlag.SENSITIVE);
    for (const op of ['popf', 'pushf', 'sgdt', 'sidt', 'sldt', 'smsw', 'str', 'lar', 'lsl', 'verr', 'verw', 'push_seg', 'mov_from_seg']) expect(sensitive).toContain(op);
    expect(names(RowFlag.IO)).toEqual(['in', 'ins', 'out', 'outs']);
    expect(names(RowFlag.IOPL)).toEqual(['cli', 'in', 'ins', 'out', 'outs', 'sti']);
    expect(names(RowFlag.PROTECTED_ONLY)).toEqual(['arpl', 'lar', 'lldt', 'lsl', 'ltr', 'sldt', 'str', 'verr', 'verw']);
    expect(names(RowFlag.REPE)).toEqual(['cmps', 'scas']);
    expect(names(RowFlag.REP)).toEqual(['ins', 'lods', 'movs', 'outs', 'stos']);
  });

  it('records the 486 additions and the flags each op leaves undefined', () => {
    const level486 = [...new Set(ROWS.filter((r) => r.level === 486).map((r) => r.op))].sort();
    expect(level486).toEqual(['bswap', 'cmpxchg', 'cpuid', 'invd', 'invlpg', 'wbinvd', 'xadd']);
    const row = (m: string): OpcodeRow => rowsForMnemonic(m)[0]!;
    expect(row('mul').flagsUndefined).toBe(0x80 | 0x40 | 0x10 | 0x04); // SF ZF AF PF
    expect(row('div').flagsUndefined).toBe(0x8d5);
    expect(row('and').flagsUndefined).toBe(0x10);
    expect(row('inc').flagsDefined & 0x1).toBe(0); // INC leaves CF alone
    expect(row('bsf').flagsDefined).toBe(0x40);
  });

  it('numbers ops densely for dispatch', () => {
    for (const r of ROWS) expect(OP_NAMES[r.opId]).toBe(r.op);
  });
});

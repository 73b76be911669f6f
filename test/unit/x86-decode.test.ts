// Decoder unit tests: prefixes, ModRM/SIB forms, 16-bit addressing, immediates, invalid encodings,
// the 15-byte limit. Expected values are worked out from the Intel SDM encoding rules.
import { describe, expect, it } from 'vitest';
import { Decoded, decode, decodeBytes } from '../../src/x86/decode.ts';
import { DecodeError, Rep, Seg } from '../../src/x86/types.ts';

function dec(bytes: number[], bits: 16 | 32 = 32): Decoded {
  return decodeBytes(new Decoded(), Uint8Array.from(bytes), 0, bits);
}

describe('x86 decoder: basic forms', () => {
  it('decodes add r/m32, r32 with a register operand', () => {
    const d = dec([0x01, 0xd8]); // add eax, ebx
    expect(d.row?.mnemonic).toBe('add');
    expect(d.row?.operands).toEqual(['Ev', 'Gv']);
    expect([d.length, d.mod, d.reg, d.rm, d.isMemory]).toEqual([2, 3, 3, 0, false]);
  });

  it('selects a group row by /digit and sign-extends Ibs to the operand size', () => {
    const d = dec([0x83, 0xe9, 0xff]); // sub ecx, -1
    expect(d.row?.mnemonic).toBe('sub');
    expect(d.imm).toBe(0xffffffff);
    const w = dec([0x66, 0x83, 0xe9, 0x80]); // sub cx, -128
    expect(w.opsize).toBe(16);
    expect(w.imm).toBe(0xff80);
    expect(w.length).toBe(4);
  });

  it('decodes register-in-opcode rows and Iv by operand size', () => {
    const d = dec([0xbb, 0x78, 0x56, 0x34, 0x12]); // mov ebx, 0x12345678
    expect(d.row?.operands).toEqual(['Zv', 'Iv']);
    expect(d.imm).toBe(0x12345678);
    expect(d.length).toBe(5);
    const w = dec([0xbb, 0x34, 0x12], 16);
    expect([w.imm, w.length, w.opsize]).toEqual([0x1234, 3, 16]);
  });

  it('picks rows by operand size (cwd/cdq) and address size (jcxz/jecxz)', () => {
    expect(dec([0x99]).row?.mnemonic).toBe('cdq');
    expect(dec([0x99], 16).row?.mnemonic).toBe('cwd');
    expect(dec([0x66, 0x99]).row?.mnemonic).toBe('cwd');
    expect(dec([0xe3, 0x00]).row?.mnemonic).toBe('jecxz');
    expect(dec([0x67, 0xe3, 0x00]).row?.mnemonic).toBe('jcxz');
  });

  it('prefers nop over xchg eax,eax for 90', () => {
    expect(dec([0x90]).row?.mnemonic).toBe('nop');
    expect(dec([0x91]).row?.mnemonic).toBe('xchg');
  });

  it('reads relative displacements as signed numbers', () => {
    expect(dec([0xeb, 0xfe]).imm).toBe(-2);
    expect(dec([0x0f, 0x84, 0x00, 0x00, 0x00, 0x80]).imm).toBe(-0x80000000);
    const w = dec([0xe9, 0xfd, 0xff], 16);
    expect([w.imm, w.length]).toEqual([-3, 3]);
  });

  it('reads ENTER and far pointer immediates into imm and imm2', () => {
    const e = dec([0xc8, 0x10, 0x00, 0x02]);
    expect([e.imm, e.imm2, e.length]).toEqual([0x10, 2, 4]);
    const j = dec([0xea, 0x78, 0x56, 0x34, 0x12, 0x08, 0x00]);
    expect([j.row?.mnemonic, j.imm, j.imm2, j.length]).toEqual(['jmp', 0x12345678, 8, 7]);
    const j16 = dec([0xea, 0x00, 0x7c, 0x00, 0x00], 16);
    expect([j16.imm, j16.imm2, j16.length]).toEqual([0x7c00, 0, 5]);
  });
});

describe('x86 decoder: prefixes', () => {
  it('records segment overrides, rep kinds, lock, 66 and 67', () => {
    const d = dec([0xf3, 0x26, 0xa5]);
    expect([d.rep, d.segOverride, d.prefixCount, d.row?.mnemonic]).toEqual([Rep.REPE, Seg.ES, 2, 'movsd']);
    const s = dec([0xf2, 0xae], 16);
    expect([s.rep, s.row?.mnemonic]).toEqual([Rep.REPNE, 'scasb']);
    const f = dec([0x64, 0x8b, 0x00]);
    expect([f.segOverride, f.eaSeg]).toEqual([Seg.FS, Seg.FS]);
    const l = dec([0xf0, 0x01, 0x18]); // lock add [eax], ebx
    expect([l.lock, l.row?.mnemonic, l.length]).toEqual([true, 'add', 3]);
    const a = dec([0x67, 0x8b, 0x07]); // mov eax, [bx]
    expect([a.adsize, a.eaBase, a.eaIndex]).toEqual([16, 3, -1]);
  });
});

describe('x86 decoder: 32-bit addressing', () => {
  it('decodes SIB with scale, index and disp8', () => {
    const d = dec([0x8b, 0x44, 0x8b, 0xf0]); // mov eax, [ebx+ecx*4-0x10]
    expect([d.eaBase, d.eaIndex, d.eaScale, d.disp, d.dispSize, d.hasSib, d.length]).toEqual([3, 1, 2, -16, 1, true, 4]);
  });
  it('decodes disp32 without base (mod 0, rm 5) and SIB without base', () => {
    const d = dec([0x8b, 0x05, 0x78, 0x56, 0x34, 0x12]);
    expect([d.eaBase, d.eaIndex, d.disp, d.length]).toEqual([-1, -1, 0x12345678, 6]);
    const s = dec([0x8b, 0x04, 0x8d, 0x00, 0x10, 0x00, 0x00]); // [ecx*4+0x1000]
    expect([s.eaBase, s.eaIndex, s.eaScale, s.disp, s.length]).toEqual([-1, 1, 2, 0x1000, 7]);
  });
  it('defaults to SS for ESP and EBP bases', () => {
    expect(dec([0x8b, 0x04, 0x24]).eaSeg).toBe(Seg.SS); // [esp]
    expect(dec([0x8b, 0x45, 0x08]).eaSeg).toBe(Seg.SS); // [ebp+8]
    expect(dec([0x8b, 0x04, 0x2c]).eaSeg).toBe(Seg.SS); // [esp+ebp] base esp
    expect(dec([0x8b, 0x04, 0x25, 0, 0, 0, 0]).eaSeg).toBe(Seg.DS); // index none, base esp
    expect(dec([0x3e, 0x8b, 0x45, 0x08]).eaSeg).toBe(Seg.DS);
  });
});

describe('x86 decoder: 16-bit addressing', () => {
  it('decodes the eight base/index pairs', () => {
    const expected = [[3, 6], [3, 7], [5, 6], [5, 7], [6, -1], [7, -1], [5, -1], [3, -1]];
    for (let rm = 0; rm < 8; rm++) {
      const d = dec([0x8b, 0x40 | rm, 0x7f], 16);
      expect([d.eaBase, d.eaIndex, d.disp, d.length]).toEqual([...expected[rm]!, 0x7f, 3]);
      expect(d.eaSeg).toBe(expected[rm]![0] === 5 ? Seg.SS : Seg.DS);
    }
  });
  it('decodes disp16 alone for mod 0 rm 6 and sign-extends disp16', () => {
    const d = dec([0x8b, 0x06, 0x34, 0x12], 16);
    expect([d.eaBase, d.disp, d.dispSize, d.eaSeg, d.length]).toEqual([-1, 0x1234, 2, Seg.DS, 4]);
    expect(dec([0x8b, 0x87, 0xff, 0xff], 16).disp).toBe(-1);
  });
  it('decodes moffs at the address size', () => {
    const d = dec([0xa1, 0x34, 0x12], 16);
    expect([d.disp, d.length, d.isMemory]).toEqual([0x1234, 3, true]);
    const e = dec([0x67, 0xa1, 0x34, 0x12]);
    expect([d.disp, e.length, e.opsize]).toEqual([0x1234, 4, 32]);
  });
});

describe('x86 decoder: invalid encodings', () => {
  it('reports unknown opcodes', () => {
    expect(dec([0x0f, 0xff]).error).toBe(DecodeError.UNKNOWN_OPCODE);
    expect(dec([0x0f, 0x00, 0xf0]).error).toBe(DecodeError.UNKNOWN_OPCODE); // 0F 00 /6
    expect(dec([0xfe, 0xd0]).error).toBe(DecodeError.UNKNOWN_OPCODE); // FE /2
    expect(dec([0xff, 0xf8]).row).toBeNull(); // FF /7
  });
  it('reports register forms where memory is required', () => {
    expect(dec([0x8d, 0xc0]).error).toBe(DecodeError.REGISTER_FORM); // lea eax, eax
    expect(dec([0x0f, 0x01, 0xd0]).error).toBe(DecodeError.REGISTER_FORM); // lgdt eax
    expect(dec([0xc4, 0xc0]).error).toBe(DecodeError.REGISTER_FORM); // les eax, eax
    expect(dec([0xff, 0xd8]).error).toBe(DecodeError.REGISTER_FORM); // call far eax
  });
  it('rejects LOCK on non-lockable instructions and register destinations', () => {
    expect(dec([0xf0, 0x8b, 0x00]).error).toBe(DecodeError.BAD_LOCK); // lock mov
    expect(dec([0xf0, 0x01, 0xc0]).error).toBe(DecodeError.BAD_LOCK); // lock add eax, eax
    expect(dec([0xf0, 0x39, 0x00]).error).toBe(DecodeError.BAD_LOCK); // lock cmp
    expect(dec([0xf0, 0x0f, 0xc1, 0x08]).row?.mnemonic).toBe('xadd');
  });
  it('enforces the 15-byte limit', () => {
    const ok = dec([0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x90]);
    expect([ok.row?.mnemonic, ok.length, ok.opsize]).toEqual(['nop', 11, 16]);
    const fourteen = [...new Array(14).fill(0x2e), 0x90];
    expect(dec(fourteen).length).toBe(15);
    const long = dec([...new Array(15).fill(0x2e), 0x90]);
    expect(long.error).toBe(DecodeError.TOO_LONG);
    // 10 prefixes + 81 /0 with SIB, disp32 and imm32 is 10+1+1+1+4+4 = 21 bytes.
    const big = dec([...new Array(10).fill(0x3e), 0x81, 0x84, 0x24, 1, 2, 3, 4, 5, 6, 7, 8]);
    expect(big.error).toBe(DecodeError.TOO_LONG);
  });
  it('reports truncated input', () => {
    expect(dec([0x8b]).error).toBe(DecodeError.TRUNCATED);
    expect(dec([0xb8, 1, 2]).error).toBe(DecodeError.TRUNCATED);
  });
  it('lets a throwing fetch (a page fault) propagate, and names the row behind a bad LOCK', () => {
    const fault = new Error('#PF');
    const fetch = (i: number): number => {
      if (i >= 2) throw fault;
      return [0x8b, 0x80][i]!;
    };
    expect(() => decode(new Decoded(), fetch, 32)).toThrow(fault);
    const d = dec([0xf0, 0x8b, 0x00]);
    expect([d.row, d.candidate?.mnemonic, d.error]).toEqual([null, 'mov', DecodeError.BAD_LOCK]);
    expect(dec([0x8b, 0x00]).candidate).toBeNull();
  });

  it('sets the string-source segment for instructions without ModRM memory', () => {
    expect(dec([0xac]).eaSeg).toBe(Seg.DS); // lodsb
    expect(dec([0x26, 0xac]).eaSeg).toBe(Seg.ES);
    expect(dec([0x64, 0xd7]).eaSeg).toBe(Seg.FS); // xlatb
  });

  it('treats MOV CRn operands as registers whatever mod says', () => {
    const d = dec([0x0f, 0x20, 0x00]); // mod 0: still mov eax, cr0
    expect([d.row?.mnemonic, d.length, d.isMemory]).toEqual(['mov', 3, false]);
  });
});

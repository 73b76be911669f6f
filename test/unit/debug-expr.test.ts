import { describe, expect, it } from 'vitest';
import { compileExpression, ExprError, type EvalContext } from '../../src/debug/expr.ts';
import { compileHitCondition, resolveLine } from '../../src/debug/breakpoints.ts';
import { registerValue } from '../../src/debug/linear.ts';
import type { DebugCpuState } from '../../src/debug/types.ts';

const seg = (selector: number) => ({ selector, base: 0, limit: 0xffffffff, access: 0xc93 });
const state: DebugCpuState = {
  eax: 3, ecx: 0x12345678, edx: 0xffffffff, ebx: 0x80, esp: 0x8ff0, ebp: 0, esi: 0, edi: 7,
  eip: 0x100020, eflags: 0x246, cs: seg(8), ss: seg(0x10), ds: seg(0x10), es: seg(0x10), fs: seg(0x10), gs: seg(0x10),
  cr0: 0x11, cr2: 0, cr3: 0, cr4: 0, halted: false,
};
const memory = new Uint8Array(0x10000);
new DataView(memory.buffer).setUint32(0x8ff4, 0x2000, true);
new DataView(memory.buffer).setUint32(0x100, 0xdeadbeef, true);
const ctx: EvalContext = {
  register: (n) => registerValue(state, n),
  memory: (a, size) => {
    let v = 0;
    for (let k = size - 1; k >= 0; k--) v = (v << 8) | memory[a + k]!;
    return v >>> 0;
  },
  symbol: (n) => (n === 'buffer' ? 0x100 : undefined),
};
const ev = (t: string) => compileExpression(t)(ctx);

describe('condition expressions', () => {
  it('evaluates the brief example and its parts', () => {
    expect(ev('eax == 3 && [esp+4] > 0x1000')).toBe(1);
    expect(ev('[esp+4]')).toBe(0x2000);
    expect(ev('eax == 4 || [esp+4] > 0x3000')).toBe(0);
  });
  it('reads 8/16/32-bit registers, flags and sizes of memory', () => {
    expect(ev('cx')).toBe(0x5678);
    expect(ev('ch')).toBe(0x56);
    expect(ev('cl')).toBe(0x78);
    expect(ev('zf')).toBe(1);
    expect(ev('cf')).toBe(0);
    expect(ev('pf + if')).toBe(2);
    expect(ev('byte [buffer]')).toBe(0xef);
    expect(ev('word [buffer + 2]')).toBe(0xdead);
    expect(ev('dword [0x100]')).toBe(0xdeadbeef);
    expect(ev('cs == 8 && ss == 0x10')).toBe(1);
  });
  it('does unsigned 32-bit arithmetic with C precedence', () => {
    expect(ev('1 + 2 * 3')).toBe(7);
    expect(ev('(1 + 2) * 3')).toBe(9);
    expect(ev('edx + 1')).toBe(0);
    expect(ev('-1')).toBe(0xffffffff);
    expect(ev('edx > 1')).toBe(1); // unsigned
    expect(ev('~0 >> 28')).toBe(15);
    expect(ev('1 << 31')).toBe(0x80000000);
    expect(ev('0ffh + 0b101 + 10')).toBe(270);
    expect(ev('7 % 4 == 3 & 1')).toBe(1);
    expect(ev('!eax')).toBe(0);
    expect(ev('ebx & 0x80 != 0')).toBe(0x80 & 1); // == binds tighter than &, as in C
  });
  it('reports parse errors with the column', () => {
    const cases: [string, number, RegExp][] = [
      ['eax ==', 7, /expected a number/],
      ['eax == 3 &&& 1', 12, /expected a number/],
      ['[esp + 4', 9, /expected '\]'/],
      ['eax # 3', 5, /unexpected character '#'/],
      ['byte esp', 6, /expected '\['/],
      ['0x1g', 1, /bad number/],
      ['(eax', 5, /expected '\)'/],
      ['eax 3', 5, /unexpected '3'/],
      ['', 1, /empty/],
      ['0x100000000', 1, /does not fit/],
    ];
    for (const [text, col, msg] of cases) {
      let err: unknown;
      try {
        compileExpression(text);
      } catch (e) {
        err = e;
      }
      expect(err, text).toBeInstanceOf(ExprError);
      expect((err as ExprError).column, text).toBe(col);
      expect((err as ExprError).message, text).toMatch(msg);
    }
  });
  it('reports unknown names and division by zero when evaluated', () => {
    expect(() => ev('nosuch + 1')).toThrow(/unknown name 'nosuch'/);
    expect(() => ev('1 / (eax - 3)')).toThrow(/division by zero/);
  });
});

describe('hit conditions and line resolution', () => {
  it('parses hit conditions', () => {
    expect([1, 2, 3, 4].map(compileHitCondition('3'))).toEqual([false, false, true, false]);
    expect([1, 2, 3, 4].map(compileHitCondition('>=3'))).toEqual([false, false, true, true]);
    expect([1, 2, 3, 4].map(compileHitCondition('> 3'))).toEqual([false, false, false, true]);
    expect([1, 2, 3, 4].map(compileHitCondition('%2'))).toEqual([false, true, false, true]);
    expect(() => compileHitCondition('x')).toThrow(/bad hit condition/);
  });
  it('resolves file:line to the first address at or after the line', () => {
    const map = [
      { address: 0x1000, file: 'k.asm', line: 3 },
      { address: 0x1005, file: 'k.asm', line: 5 },
      { address: 0x1003, file: 'k.asm', line: 5 },
      { address: 0x2000, file: 'lib/x.inc', line: 5 },
    ];
    expect(resolveLine(map, 'k.asm', 3)).toBe(0x1000);
    expect(resolveLine(map, 'k.asm', 4)).toBe(0x1003);
    expect(resolveLine(map, 'x.inc', 1)).toBe(0x2000);
    expect(resolveLine(map, 'k.asm', 6)).toBeUndefined();
  });
});

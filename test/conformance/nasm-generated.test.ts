// A generated program (bench/asm.ts's generator: instructions of every common shape, forward and
// backward jumps that need many passes to settle, data, macros, times, align, three sections),
// assembled by NASM and by vizor: the same bytes, so multi-pass jump sizing matches NASM -Ox.
import { describe, expect, it } from 'vitest';
import { generate } from '../../bench/asm.ts';
import { assemble } from '../../src/asm/index.ts';
import { firstMismatch, runNasm } from './nasm-oracle.ts';

describe.concurrent('generated programs vs nasm', () => {
  for (const [lines, seed, bits] of [[3000, 1, 32], [3000, 2, 32], [3000, 3, 16], [5000, 4, 16], [20000, 42, 32]] as const) {
    it(`${lines} lines, seed ${seed}, bits ${bits}`, () => {
      const source = generate(lines, seed, bits);
      const nasm = runNasm(source, {}, ['-w-all']);
      expect(nasm.stderr).toBe('');
      const ours = assemble(source, { fileName: 'in.asm' });
      expect(ours.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
      expect(firstMismatch(ours, nasm.bytes, source)).toBeNull();
    });
  }
});

import { describe, expect, it } from 'vitest';
import { run32 } from './cpu-harness.ts';

describe('cpu smoke', () => {
  it('runs a loop', () => {
    const { state, reason } = run32(`
      mov ecx, 10
      xor eax, eax
    l: add eax, ecx
      dec ecx
      jnz l
    `);
    expect(reason).toBe('halt');
    expect(state.eax).toBe(55);
    expect(state.ecx).toBe(0);
  });
});

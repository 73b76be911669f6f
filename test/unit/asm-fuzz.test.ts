// Property test: random token soup and mutated real programs (fixture kernels, the instruction
// corpus) never make the assembler throw; it always returns diagnostics or bytes, never both an
// error and output. A few thousand seeded cases here; `npm run fuzz` runs a million.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { corpusSource } from '../conformance/x86-corpus.ts';
import { checkCase, fuzzCase } from './asm-fuzz-cases.ts';

const root = join(dirname(new URL(import.meta.url).pathname), '..', '..');

export function fuzzSeeds(): string[] {
  const seeds: string[] = [corpusSource(16), corpusSource(32)];
  for (const d of ['fixtures/kernels', 'fixtures/kernels/lib', 'fixtures/bench', 'fixtures/asm-errors']) {
    const dir = join(root, d);
    if (!existsSync(dir)) continue;
    for (const f of readdirSync(dir)) if (/\.(asm|inc)$/.test(f)) seeds.push(readFileSync(join(dir, f), 'utf8'));
  }
  return seeds;
}

describe('assembler fuzz', () => {
  const seeds = fuzzSeeds();
  it('has real programs to mutate', () => {
    expect(seeds.length).toBeGreaterThan(10);
  });
  for (const seed of [1, 2, 3]) {
    it(`seed ${seed}: 1000 cases never throw`, () => {
      const failures: string[] = [];
      for (let i = 0; i < 1000; i++) {
        const src = fuzzCase(seed, i, seeds);
        const f = checkCase(src);
        if (f && failures.length < 5) failures.push(`case ${seed}/${i}: ${f}\n--- source ---\n${src.slice(0, 400)}`);
      }
      expect(failures).toEqual([]);
    });
  }
});

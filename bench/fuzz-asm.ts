// The long fuzz run of the assembler (`npm run fuzz`, default 1,000,000 cases):
//   node bin/vizor-ts.mjs bench/fuzz-asm.ts [CASES] [SEED]
// Feeds random and mutated sources (see test/unit/asm-fuzz-cases.ts) and prints throughput and
// every failure (a throw, an internal error, errors with output). Exit status 1 if any failed.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { corpusSource } from '../test/conformance/x86-corpus.ts';
import { checkCase, fuzzCase } from '../test/unit/asm-fuzz-cases.ts';

const root = join(dirname(new URL(import.meta.url).pathname), '..');
const cases = Number(process.argv[2] ?? 1_000_000);
const seed = Number(process.argv[3] ?? 1);

const seeds: string[] = [corpusSource(16), corpusSource(32)];
for (const d of ['fixtures/kernels', 'fixtures/kernels/lib', 'fixtures/bench', 'fixtures/asm-errors']) {
  const dir = join(root, d);
  if (!existsSync(dir)) continue;
  for (const f of readdirSync(dir)) if (/\.(asm|inc)$/.test(f)) seeds.push(readFileSync(join(dir, f), 'utf8'));
}

const start = performance.now();
let failures = 0;
let bytes = 0;
let last = start;
let slowest = { ms: 0, i: -1 };
for (let i = 0; i < cases; i++) {
  const src = fuzzCase(seed, i, seeds);
  bytes += src.length;
  const t0 = performance.now();
  const f = checkCase(src);
  const took = performance.now() - t0;
  if (took > slowest.ms) slowest = { ms: took, i };
  if (f) {
    failures++;
    if (failures <= 20) console.log(`FAIL case ${seed}/${i}: ${f}\n--- source ---\n${src}\n--------------`);
  }
  const now = performance.now();
  if (now - last > 10_000) {
    last = now;
    console.log(`  ${i + 1} cases, ${((i + 1) / ((now - start) / 1000)).toFixed(0)} cases/s, ${failures} failures`);
  }
}
const secs = (performance.now() - start) / 1000;
console.log(`fuzz-asm: ${cases} cases (seed ${seed}) in ${secs.toFixed(1)} s: ${(cases / secs).toFixed(0)} cases/s, ${(bytes / secs / 1e6).toFixed(2)} MB/s of source, ${failures} failures; slowest case ${seed}/${slowest.i} took ${slowest.ms.toFixed(0)} ms`);
process.exitCode = failures > 0 ? 1 : 0;

// vizor's disassembler against ndisasm on the table-generated corpus: NASM assembles the corpus
// (one nasm run per mode), ndisasm and vizor disassemble the same bytes, and every listing line —
// address, bytes (so every instruction length) and text — must be identical.
//
// The comparison below has no exceptions. Undocumented encodings (82 /n, F6/F7 /1, D0-D3/C0/C1 /6),
// which NASM never emits and the CPU executes, print as `db` in both (checked in the last test), and
// x87 escapes are named as ndisasm names them although vizor's 486 has no FPU.
// Differences on arbitrary bytes are in ndisasm-random.test.ts.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Decoded, decodeBytes } from '../../src/x86/decode.ts';
import { disassemble, formatListingLine } from '../../src/x86/disasm.ts';
import { ROWS } from '../../src/x86/table.ts';
import { RowFlag } from '../../src/x86/types.ts';
import { corpusSource, generateCorpus } from './x86-corpus.ts';

const dir = mkdtempSync(join(tmpdir(), 'vizor-ndisasm-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function assemble(bits: 16 | 32, source: string): Uint8Array {
  const asmPath = join(dir, `corpus${bits}.asm`);
  const binPath = join(dir, `corpus${bits}.bin`);
  writeFileSync(asmPath, source);
  execFileSync('nasm', ['-f', 'bin', '-w-number-overflow', '-o', binPath, asmPath], { stdio: ['ignore', 'pipe', 'pipe'] });
  return new Uint8Array(readFileSync(binPath));
}

function ndisasm(bits: 16 | 32, bytes: Uint8Array): string[] {
  const binPath = join(dir, `ndisasm${bits}.bin`);
  writeFileSync(binPath, bytes);
  const out = execFileSync('ndisasm', ['-b', String(bits), binPath], { encoding: 'utf8', maxBuffer: 64 << 20 });
  return out.trimEnd().split('\n').map(normalise);
}

/** Whitespace only: ndisasm and vizor both print `0x` lower-case hex, so numbers need no rewriting. */
function normalise(line: string): string {
  return line.replace(/\s+$/, '').replace(/ {2,}/g, '  ');
}

function vizorListing(bits: 16 | 32, bytes: Uint8Array): string[] {
  return disassemble(bytes, { bits }).map(formatListingLine).join('\n').split('\n').map(normalise);
}

/** Instruction starts (addresses) in a listing; continuation lines (`-…`) are skipped. */
function starts(lines: string[]): number[] {
  return lines.filter((l) => !l.startsWith(' ')).map((l) => parseInt(l.slice(0, 8), 16));
}

describe.concurrent('disassembler vs ndisasm on the generated corpus', () => {
  for (const bits of [16, 32] as const) {
    it(`bits ${bits}: every line identical`, () => {
      const corpus = generateCorpus(bits);
      expect(corpus.length).toBeGreaterThan(10000);
      const bytes = assemble(bits, corpusSource(bits));
      const theirs = ndisasm(bits, bytes);
      const ours = vizorListing(bits, bytes);
      // Every instruction length agrees (same start addresses) ...
      expect(starts(ours)).toEqual(starts(theirs));
      // ... and every line's text; report the first few differences readably.
      const diffs: string[] = [];
      for (let i = 0; i < Math.max(ours.length, theirs.length) && diffs.length < 20; i++) {
        if (ours[i] !== theirs[i]) diffs.push(`ndisasm: ${theirs[i]}\n  vizor: ${ours[i]}`);
      }
      expect(diffs).toEqual([]);
    });
  }

  it('the corpus exercises every decodable row of the table', () => {
    const seen = new Set<number>();
    const d = new Decoded();
    for (const bits of [16, 32] as const) {
      const bytes = assemble(bits, corpusSource(bits));
      for (let offset = 0; offset < bytes.length; ) {
        decodeBytes(d, bytes, offset, bits);
        expect(d.row, `undecodable NASM output at ${bits}-bit offset ${offset}`).not.toBeNull();
        seen.add(d.row!.id);
        offset += d.length;
      }
    }
    const missing = ROWS.filter((r) => !(r.flags & (RowFlag.DECODE_ONLY | RowFlag.ASM_ONLY)) && !seen.has(r.id));
    expect(missing.map((r) => `${r.mnemonic} ${r.operands.join(',')}`)).toEqual([]);
  });

  it('undocumented encodings print as db, x87 escapes by name, as in ndisasm', () => {
    // 82 /0, F6 /1, D0 /6: db in both; D9 C0 fld st0; 9B DB E3 finit; DF E0 fnstsw ax.
    const bytes = Uint8Array.from([0x82, 0xc0, 0x01, 0xf6, 0xc8, 0x01, 0xd0, 0xf0, 0xd9, 0xc0, 0x9b, 0xdb, 0xe3, 0xdf, 0xe0]);
    const theirs = ndisasm(32, bytes);
    expect(vizorListing(32, bytes)).toEqual(theirs);
    expect(theirs[0]).toMatch(/db 0x82$/);
    expect(theirs.slice(-3).map((l) => l.split('  ').pop())).toEqual(['fld st0', 'finit', 'fnstsw ax']);
  });
});

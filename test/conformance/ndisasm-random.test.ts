// vizor's decoder and disassembler against ndisasm on random bytes (not just NASM output): 16-byte
// slots, each an optional prefix or two, an optional 0F, then random bytes, padded with NOPs so both
// disassemblers start every slot in sync. Each slot's first line must be identical, with exactly two
// explicit exceptions:
//   NON_486   ndisasm decodes an instruction the 486 does not have: a 0F opcode absent from the
//             486 table (MMX, SSE, CMOVcc, SYSENTER, multi-byte NOP, ...), or a later instruction
//             that reuses a 486 encoding with a prefix (TZCNT = F3 BSF, WBNOINVD = F3 WBINVD).
//             vizor prints `db`, a lone prefix word, or the 486 meaning of the bytes.
// x87 escapes (D8-DF) are not exceptions: vizor's 486 has no FPU, but the disassembler names them.
//   TOO_LONG  ndisasm accepted an instruction longer than 15 bytes; the 486 raises #GP (vizor: TOO_LONG).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { disassemble, formatListingLine } from '../../src/x86/disasm.ts';
import { candidateRows } from '../../src/x86/decode.ts';
import { ROWS } from '../../src/x86/table.ts';

const SLOTS = 12000;
const SLOT = 32;
const PREFIXES = [0x66, 0x67, 0xf2, 0xf3, 0xf0, 0x26, 0x2e, 0x36, 0x3e, 0x64, 0x65, 0x9b];
const PREFIX_WORDS = new Set(['es', 'cs', 'ss', 'ds', 'fs', 'gs', 'wait', 'rep', 'repe', 'repne', 'lock', 'o16', 'o32', 'a16', 'a32', 'bnd', 'xacquire', 'xrelease']);
/** Every mnemonic vizor can print: the table's plus the size-named spellings ndisasm uses. */
const VIZOR_MNEMONICS = new Set([...ROWS.map((r) => r.mnemonic), 'pusha', 'popa', 'pushf', 'popf', 'iret', 'retw', 'retd', 'retfw', 'retfd', 'retnw', 'db']);

const dir = mkdtempSync(join(tmpdir(), 'vizor-ndisasm-random-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function randomSlots(seed: number): Uint8Array {
  let s = seed >>> 0 || 1;
  const rnd = (): number => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s & 0xff;
  };
  const buf = new Uint8Array(SLOTS * SLOT).fill(0x90);
  for (let k = 0; k < SLOTS; k++) {
    const bytes: number[] = [];
    const prefixCount = rnd() % 4 === 0 ? 1 + (rnd() % 2) : 0;
    for (let i = 0; i < prefixCount; i++) bytes.push(PREFIXES[rnd() % PREFIXES.length]!);
    const kind = rnd() % 6;
    if (kind < 2) bytes.push(0x0f);
    else if (kind === 2) bytes.push(...(rnd() % 2 ? [0x9b] : []), 0xd8 + (rnd() % 8)); // x87, maybe WAITed
    while (bytes.length < 12) bytes.push(rnd());
    buf.set(bytes, k * SLOT);
  }
  return buf;
}

/** First line per address: address → [hex bytes, text]. */
function byAddress(lines: string[]): Map<number, [string, string]> {
  const map = new Map<number, [string, string]>();
  for (const l of lines) {
    if (l.startsWith(' ')) continue;
    const m = /^([0-9A-F]{8})  (\S+)\s+(.*)$/.exec(l);
    if (m) map.set(parseInt(m[1]!, 16), [m[2]!, m[3]!]);
  }
  return map;
}

/** Is the opcode after the prefixes at `offset` one the 486 table lacks? */
function non486Opcode(bytes: Uint8Array, offset: number): boolean {
  let p = offset;
  while (PREFIXES.includes(bytes[p]!)) p++;
  const map = bytes[p] === 0x0f ? 1 : 0;
  const rows = candidateRows(map, bytes[p + map]!);
  return rows.length === 0;
}

function mnemonicOf(text: string): string {
  const words = text.split(/[ ,]/);
  let i = 0;
  while (i < words.length - 1 && PREFIX_WORDS.has(words[i]!)) i++;
  return words[i]!;
}

describe.concurrent('disassembler vs ndisasm on random bytes', () => {
  for (const [bits, seed] of [[16, 0x1234], [32, 0x5678]] as const) {
    it(`bits ${bits}: identical except for the listed exceptions`, () => {
      const bytes = randomSlots(seed);
      const path = join(dir, `random${bits}.bin`);
      writeFileSync(path, bytes);
      const theirs = byAddress(execFileSync('ndisasm', ['-b', String(bits), path], { encoding: 'utf8', maxBuffer: 256 << 20 }).split('\n'));
      const ours = byAddress(disassemble(bytes, { bits }).map(formatListingLine).join('\n').split('\n'));
      const counts = { same: 0, NON_486: 0, TOO_LONG: 0, unaligned: 0 };
      const unexplained: string[] = [];
      for (let k = 0; k < SLOTS; k++) {
        const t = theirs.get(k * SLOT);
        const o = ours.get(k * SLOT);
        if (t === undefined || o === undefined) {
          counts.unaligned++; // the previous slot's instruction ran into this one in one of them
          continue;
        }
        if (t[0] === o[0] && t[1] === o[1]) counts.same++;
        else if (non486Opcode(bytes, k * SLOT) || !VIZOR_MNEMONICS.has(mnemonicOf(t[1]))) counts.NON_486++;
        else if (t[0].length > 30) counts.TOO_LONG++;
        else if (unexplained.length < 20) unexplained.push(`ndisasm: ${t.join('  ')}\n  vizor: ${o.join('  ')}`);
      }
      console.log(bits, counts);
      expect(unexplained).toEqual([]);
      expect(counts.same).toBeGreaterThan(SLOTS * 0.75);
      expect(counts.unaligned).toBeLessThan(SLOTS * 0.01);
    });
  }
});

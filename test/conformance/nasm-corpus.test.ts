// The assembler against NASM on the corpus generated from the opcode table (every mnemonic ×
// operand form × size × addressing mode, bits 16 and 32): one nasm run per mode, per-line bytes
// compared through NASM's listing and vizor's map, so a mismatch names its source line.
// Then the round trip: vizor's disassembler turns the bytes back into text, vizor assembles that
// text again, and the bytes must be the same.
import { describe, expect, it } from 'vitest';
import { assemble } from '../../src/asm/index.ts';
import { disassemble } from '../../src/x86/disasm.ts';
import { runNasm, vizorPerLine } from './nasm-oracle.ts';
import { corpusSource, generateCorpus } from './x86-corpus.ts';

function mismatches(source: string, nasm: Map<number, string>, ours: Map<number, string>): string[] {
  const lines = source.split('\n');
  const out: string[] = [];
  for (const [n, hex] of nasm) {
    const mine = ours.get(n) ?? '';
    if (mine !== hex) out.push(`line ${n} '${lines[n - 1]}': nasm ${hex}, vizor ${mine || '(nothing)'}`);
  }
  for (const n of ours.keys()) if (!nasm.has(n)) out.push(`line ${n} '${lines[n - 1]}': vizor emitted bytes, nasm none`);
  return out;
}

/**
 * Text → text that NASM would turn back into the same bytes.
 * ndisasm (and so vizor's disassembler) marks a foreign address size inside the brackets:
 * `[dword esp+ecx*4]` in 16-bit code. In NASM source that keyword forces a 32-bit displacement,
 * so NASM itself would not reproduce the bytes from that text; with registers present the address
 * size is implied anyway, so the keyword is dropped. (`[dword 0x1234]` without registers keeps it.)
 */
function reassemblable(text: string, bytes: Uint8Array): string {
  // ndisasm writes short Jcc without `short`; NASM never picks the short form for an absolute
  // (non-label) target, so the keyword is added where the bytes are a short Jcc.
  const op = bytes[bytes.length - 2]!;
  // ndisasm prints several WAIT bytes before an instruction as one `wait`
  let waits = 0;
  while (bytes[waits] === 0x9b) waits++;
  if (waits > 1 && text.startsWith('wait ')) text = 'wait '.repeat(waits - 1) + text;
  if (/^j(?!mp)[a-z]+ 0x/.test(text) && op >= 0x70 && op <= 0x7f) text = text.replace(' ', ' short ');
  return text.replace(/\[(?:dword|word) ([^\]]*\b(?:e?[abcd]x|e?[sd]i|e?[sb]p)\b[^\]]*)\]/g, '[$1]');
}

describe.concurrent('assembler vs nasm on the table-generated corpus', () => {
  for (const bits of [16, 32] as const) {
    it(`bits ${bits}: every line byte-identical`, () => {
      const corpus = generateCorpus(bits);
      expect(corpus.length).toBeGreaterThan(10000);
      const source = corpusSource(bits);
      const nasm = runNasm(source, {}, ['-w-number-overflow']);
      expect(nasm.stderr).toBe('');
      expect(nasm.ok).toBe(true);
      const r = assemble(source, { fileName: 'in.asm' });
      expect(r.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
      const diffs = mismatches(source, nasm.perLine, vizorPerLine(r, 'in.asm'));
      expect(diffs.slice(0, 20)).toEqual([]);
      expect(nasm.perLine.size).toBeGreaterThan(corpus.length * 0.99);
      expect(Buffer.from(r.bytes).equals(Buffer.from(nasm.bytes))).toBe(true);
    });

    it(`bits ${bits}: disassemble then reassemble gives the same bytes`, () => {
      const r = assemble(corpusSource(bits), { fileName: 'in.asm' });
      expect(r.bytes.length).toBeGreaterThan(50000);
      const lines = disassemble(r.bytes, { bits });
      const text = `bits ${bits}\n` + lines.map((l) => reassemblable(l.text, l.bytes)).join('\n') + '\n';
      const again = assemble(text, { fileName: 'round.asm' });
      expect(again.diagnostics.filter((d) => d.severity === 'error').slice(0, 10)).toEqual([]);
      // name the first differing instruction if any
      const perLine = vizorPerLine(again, 'round.asm');
      const bad: string[] = [];
      lines.forEach((l, i) => {
        const want = Buffer.from(l.bytes).toString('hex').toUpperCase();
        const got = perLine.get(i + 2) ?? '';
        if (got !== want && bad.length < 20) bad.push(`${l.address.toString(16)} '${l.text}': want ${want}, got ${got}`);
      });
      expect(bad).toEqual([]);
      expect(Buffer.from(again.bytes).equals(Buffer.from(r.bytes))).toBe(true);
    });
  }
});

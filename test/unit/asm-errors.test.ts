// The error catalogue: every file in fixtures/asm-errors/ is a malformed (or suspicious) program
// whose trailing `; expect: LINE:COLUMN: SEVERITY: MESSAGE` comments list exactly the diagnostics
// vizor must report, in order (a file path prefix when the message is about another file).
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { assemble } from '../../src/asm/index.ts';

const dir = join(dirname(new URL(import.meta.url).pathname), '..', '..', 'fixtures', 'asm-errors');
const files = readdirSync(dir).filter((f) => f.endsWith('.asm')).sort();
const provider = { read: (p: string) => (existsSync(join(dir, p)) ? readFileSync(join(dir, p), 'utf8') : undefined) };

describe('assembler error catalogue', () => {
  it('has at least 40 malformed sources, each with expectations', () => {
    expect(files.length).toBeGreaterThanOrEqual(40);
    for (const f of files) expect(readFileSync(join(dir, f), 'utf8'), f).toMatch(/^; expect: /m);
  });

  for (const f of files) {
    it(f, () => {
      const source = readFileSync(join(dir, f), 'utf8');
      const expected = source.split('\n').filter((l) => l.startsWith('; expect: ')).map((l) => l.slice('; expect: '.length));
      const r = assemble(source, { fileName: f, provider });
      const got = r.diagnostics.map((d) => `${d.file === f ? '' : d.file + ':'}${d.line}:${d.column}: ${d.severity}: ${d.message}`);
      expect(got).toEqual(expected);
      // an error means no output; warnings alone still produce bytes
      if (expected.some((e) => e.includes(': error: '))) expect(r.bytes.length).toBe(0);
    });
  }
});

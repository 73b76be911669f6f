// Bad images: vizor refuses each with exit status 4 and one clear line naming the problem, never
// a stack trace. The images and what is wrong with them: fixtures/bad/README.md.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../helpers/nasm.ts';
import { runVizorArgs } from '../helpers/vizor.ts';

const BAD = join(REPO_ROOT, 'fixtures', 'bad');

const CASES: { file: string; boot: '--multiboot' | '--boot-sector'; says: RegExp }[] = [
  { file: 'empty.bin', boot: '--multiboot', says: /empty/i },
  { file: 'garbage.bin', boot: '--multiboot', says: /multiboot header/i },
  { file: 'bad-checksum.bin', boot: '--multiboot', says: /checksum/i },
  { file: 'truncated.bin', boot: '--multiboot', says: /truncated/i },
  { file: 'header-cut.bin', boot: '--multiboot', says: /cut off|truncated/i },
  { file: 'truncated-elf.elf', boot: '--multiboot', says: /truncated/i },
  { file: 'empty.bin', boot: '--boot-sector', says: /empty/i },
  { file: 'garbage.bin', boot: '--boot-sector', says: /signature|0x55/i },
  { file: 'does-not-exist.bin', boot: '--multiboot', says: /does-not-exist\.bin/ },
];

describe.concurrent('vizor run rejects bad images', () => {
  for (const c of CASES) {
    it(`${c.file} ${c.boot}: status 4, one line mentioning ${c.says}`, async () => {
      const r = await runVizorArgs(['run', join(BAD, c.file), c.boot, '--max-instructions', '1000000'], 30_000);
      expect(r.timedOut).toBe(false);
      expect(r.status, `stderr: ${r.stderr}`).toBe(4);
      expect(r.stdout).toBe('');
      const lines = r.stderr.trimEnd().split('\n');
      expect(lines, `expected one line, got:\n${r.stderr}`).toHaveLength(1);
      expect(lines[0]).toMatch(c.says);
      expect(r.stderr).not.toMatch(/\bat .*:\d+:\d+\)?$|Error:|node:internal/m);
    });
  }
});

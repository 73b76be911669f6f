// vizor's listing against `nasm -l` on programs without relocatable values (NASM prints those as
// section-relative placeholders like [00000000]; vizor prints the final bytes, see the report).
// Warning lines are left out: vizor words its messages for students.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { assemble } from '../../src/asm/index.ts';

const FILES: Record<string, string> = { 'defs.inc': 'A equ 1\n%macro m 0\n  nop ; one\n%endmacro\nm\n' };

const PROGRAMS: Record<string, string> = {
  'data, times, reservations': 'db "hello world, this is long", 0\ntimes 3 db 1\ntimes 20 db 2\nmov eax, [ebx+ecx*4+0x12345678]\nsection .bss\nresb 3\nresb 9\nresd 2\nalignb 16\nresb 30\n',
  'macros, %rep, %include, false %if': '%macro m2 1\n  mov ax, %1 ; comment\n  db 1,2,3,4,5,6,7,8,9,10,11,12\n%endmacro\nm2 5\n%rep 2\nnop\n%endrep\n%include "defs.inc"\n%if 0\nnop\n%endif\n%define X 1\nx equ 5\nl:\n',
};

function nasmListing(source: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'vizor-lst-'));
  try {
    for (const [n, t] of Object.entries(FILES)) writeFileSync(join(dir, n), t);
    writeFileSync(join(dir, 'in.asm'), source);
    execFileSync('nasm', ['-f', 'bin', '-w-all', '-o', 'out.bin', '-l', 'out.lst', 'in.asm'], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    return readFileSync(join(dir, 'out.lst'), 'utf8');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const withoutWarnings = (text: string) => text.split('\n').filter((l) => !l.includes('******************')).join('\n');

describe.concurrent('listing vs nasm -l', () => {
  for (const [name, source] of Object.entries(PROGRAMS)) {
    it(name, () => {
      const ours = assemble(source, { fileName: 'in.asm', provider: { read: (p) => FILES[p] } });
      expect(withoutWarnings(ours.listing())).toBe(withoutWarnings(nasmListing(source)));
    });
  }
});

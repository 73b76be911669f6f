// `vizor asm`: files in, files out, exit statuses, and diagnostics as file:line:column with a caret.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const root = join(dirname(new URL(import.meta.url).pathname), '..', '..');
const dir = mkdtempSync(join(tmpdir(), 'vizor-asm-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function vizor(...args: string[]) {
  const r = spawnSync(process.execPath, [join(root, 'bin', 'vizor.mjs'), 'asm', ...args], { cwd: dir, encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('vizor asm', () => {
  it('writes the binary, the listing and the map', () => {
    writeFileSync(join(dir, 'inc.asm'), 'VALUE equ 0x42\n');
    writeFileSync(join(dir, 'ok.asm'), 'bits 16\norg 0x7c00\n%include "inc.asm"\nstart: mov al, VALUE\n jmp start\n');
    const r = vizor('ok.asm', '-o', 'ok.bin', '-l', 'ok.lst', '--map', 'ok.json');
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(Array.from(readFileSync(join(dir, 'ok.bin')))).toEqual([0xb0, 0x42, 0xeb, 0xfc]);
    expect(readFileSync(join(dir, 'ok.lst'), 'utf8')).toContain('     4 00000000 B042                    start: mov al, VALUE');
    const map = JSON.parse(readFileSync(join(dir, 'ok.json'), 'utf8'));
    expect(map.items[0]).toEqual({ address: 0x7c00, length: 2, file: 'ok.asm', line: 4, column: 8, kind: 'code', section: '.text' });
    expect(map.symbols).toContainEqual({ name: 'start', address: 0x7c00, section: '.text', kind: 'label' });
  });

  it('names the output after the input like nasm when -o is missing', () => {
    writeFileSync(join(dir, 'plain.asm'), 'db 1\n');
    expect(vizor('plain.asm').status).toBe(0);
    expect(existsSync(join(dir, 'plain'))).toBe(true);
  });

  it('exits 1 with every error as file:line:column, a source excerpt and a caret, and writes no output', () => {
    writeFileSync(join(dir, 'bad.asm'), 'bits 16\n    mov ax, bl\n    jmp nowhere\n');
    const r = vizor('bad.asm', '-o', 'bad.bin');
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('bad.asm:2:5: error: operand sizes do not match');
    expect(r.stderr).toContain("bad.asm:3:9: error: undefined symbol 'nowhere'\n        jmp nowhere\n            ^\n");
    expect(r.stderr).toContain('2 errors; no output written');
    expect(existsSync(join(dir, 'bad.bin'))).toBe(false);
  });

  it('exits 2 on usage errors and 4 on an unreadable input, without a stack trace', () => {
    expect(vizor().status).toBe(2);
    expect(vizor('a.asm', '--bogus').status).toBe(2);
    const r = vizor('missing.asm');
    expect(r.status).toBe(4);
    expect(r.stderr).toBe("vizor asm: cannot read 'missing.asm': no such file\n");
  });
});

// `vizor disasm` end to end: the command's output equals `ndisasm` for the same file, bits and
// origin; bad arguments and unreadable files give a message and the documented exit status.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..', '..');
const dir = mkdtempSync(join(tmpdir(), 'vizor-disasm-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function vizor(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [join(root, 'bin', 'vizor.mjs'), 'disasm', ...args], { encoding: 'utf8', cwd: root });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** A boot-sector-like program: real-mode setup, a GDT load, the switch to protected mode, 32-bit code. */
const SOURCE = `bits 16
org 0x7c00
  cli
  xor ax, ax
  mov ds, ax
  mov ss, ax
  mov sp, 0x7c00
  lgdt [gdtr]
  mov eax, cr0
  or al, 1
  mov cr0, eax
  jmp 0x08:pm
gdtr: dw 23
  dd 0x7c40
bits 32
pm:
  mov ax, 0x10
  mov ds, ax
  mov esi, msg
  mov dx, 0x3f8
.next:
  lodsb
  test al, al
  jz .done
  out dx, al
  jmp .next
.done:
  hlt
msg: db "hi", 0
`;

describe('vizor disasm', () => {
  it('prints what ndisasm prints, for 16- and 32-bit code with an origin', () => {
    const asm = join(dir, 'boot.asm');
    const bin = join(dir, 'boot.bin');
    writeFileSync(asm, SOURCE);
    const nasm = spawnSync('nasm', ['-f', 'bin', '-o', bin, asm], { encoding: 'utf8' });
    expect(nasm.status, nasm.stderr).toBe(0);
    for (const [bits, org] of [['16', '0x7c00'], ['32', '0x7c00'], ['16', '0']] as const) {
      const nd = spawnSync('ndisasm', ['-b', bits, '-o', org, bin], { encoding: 'utf8' });
      expect(nd.status).toBe(0);
      const ours = vizor(bin, '--bits', bits, '--org', org);
      expect(ours.status).toBe(0);
      expect(ours.stdout).toBe(nd.stdout);
    }
  });

  it('rejects bad arguments with status 2 and unreadable files with status 4', () => {
    const bad = vizor(join(dir, 'x.bin'), '--bits', '64');
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain('--bits takes 16 or 32');
    expect(vizor().status).toBe(2);
    expect(vizor('a.bin', '--org', 'zz').stderr).toContain('--org takes an address');
    const missing = vizor(join(dir, 'missing.bin'));
    expect(missing.status).toBe(4);
    expect(missing.stderr).toContain('no such file');
    expect(missing.stderr).not.toContain('    at ');
  });
});

import { describe, expect, it, beforeAll } from 'vitest';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { multibootKernel } from './machine-helpers.ts';

const ROOT = join(import.meta.dirname, '..', '..');
let dir = '';

function vizor(args: string[]): Promise<{ status: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile('node', [join(ROOT, 'bin/vizor.mjs'), 'run', ...args], { cwd: dir, timeout: 60_000 }, (err, stdout, stderr) => {
      const status = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
      resolve({ status, stdout, stderr });
    });
  });
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'vizor-cli-run-'));
  writeFileSync(join(dir, 'hello.bin'), multibootKernel(`
  mov esi, msg
.l: lodsb
  test al, al
  jz .d
  call putc
  jmp .l
.d: mov al, 0x10
  out 0xf4, al
msg: db 'hello from vizor', 10, 0
`));
  writeFileSync(join(dir, 'triple.bin'), multibootKernel('  lidt [z]\n  int 3\nz: dw 0\n  dd 0\n'));
  writeFileSync(join(dir, 'spin.bin'), multibootKernel('  jmp $\n'));
  writeFileSync(join(dir, 'halt.bin'), multibootKernel('  cli\n  hlt\n'));
  writeFileSync(join(dir, 'empty.bin'), new Uint8Array(0));
  writeFileSync(join(dir, 'garbage.bin'), new Uint8Array(3000).map((_, i) => (i * 151 + 7) & 0xff));
  writeFileSync(join(dir, 'hello.asm'), 'bits 16\norg 0x7c00\n  mov al, 0x02\n  out 0xf4, al\ntimes 510-($-$$) db 0\ndw 0xaa55\n');
  writeFileSync(join(dir, 'broken.asm'), 'bits 16\n  mov al, \n');
});

describe.concurrent('vizor run', () => {
  it('serial output to stdout and the debug-exit status (v<<1)|1', async () => {
    const r = await vizor(['hello.bin']);
    expect(r).toEqual({ status: 33, stdout: 'hello from vizor\n', stderr: '' });
  });

  it('triple fault: status 6 and one line', async () => {
    const r = await vizor(['triple.bin', '--multiboot']);
    expect(r.status).toBe(6);
    expect(r.stderr).toMatch(/^vizor: triple fault at EIP=0x[0-9A-F]{8}, the machine shut down\n$/);
  });

  it('instruction limit: status 8', async () => {
    const r = await vizor(['spin.bin', '--max-instructions', '100000']);
    expect(r).toEqual({ status: 8, stdout: '', stderr: 'vizor: instruction limit of 100000 reached\n' });
  });

  it('HLT with interrupts disabled: status 10', async () => {
    const r = await vizor(['halt.bin']);
    expect(r.status).toBe(10);
    expect(r.stderr).toMatch(/^vizor: the guest halted with interrupts disabled at EIP=0x0010[0-9A-F]{4}\n$/);
  });

  it('bad images: status 4 with the reason, never a stack trace', async () => {
    const empty = await vizor(['empty.bin']);
    expect(empty).toMatchObject({ status: 4, stderr: 'vizor: empty.bin: the image is empty\n' });
    const garbage = await vizor(['garbage.bin', '--multiboot']);
    expect(garbage.status).toBe(4);
    expect(garbage.stderr).toBe('vizor: garbage.bin: no Multiboot header (magic 0x1BADB002) in the first 8 KiB\n');
    const undetected = await vizor(['garbage.bin']);
    expect(undetected.stderr).toMatch(/say how to boot it/);
    const missing = await vizor(['nope.bin']);
    expect(missing).toMatchObject({ status: 4, stderr: 'vizor: nope.bin: cannot read: no such file\n' });
  });

  it('usage errors: status 2', async () => {
    expect((await vizor([])).status).toBe(2);
    expect((await vizor(['hello.bin', '--mem', 'lots'])).stderr).toMatch(/^vizor run: --mem takes a size/);
    expect((await vizor(['hello.bin', '--flat'])).status).toBe(2);
    expect((await vizor(['hello.bin', '--multiboot', '--rom'])).status).toBe(2);
    expect((await vizor(['hello.bin', '--bogus'])).stderr).toMatch(/unknown option '--bogus'/);
  });

  it('--trace-cpu writes one JSON line per instruction, state before it executes', async () => {
    const r = await vizor(['hello.bin', '--trace-cpu', 'cpu.ndjson']);
    expect(r.status).toBe(33);
    const lines = readFileSync(join(dir, 'cpu.ndjson'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(lines[0]).toEqual({
      n: 0, cs: 8, eip: lines[0].ecx, eax: 0x2badb002, ecx: lines[0].ecx, edx: 0x10511, ebx: 0x9500, esp: 0x6f08, ebp: 0,
      esi: 0, edi: 0x1000, eflags: 6, ds: 0x10, es: 0x10, ss: 0x10, fs: 0x10, gs: 0x10, cr0: 0x11, cr2: 0, cr3: 0,
    });
    expect(lines.length).toBeGreaterThan(100);
    lines.forEach((l, i) => expect(l.n).toBe(i));
  });

  it('.asm input is assembled by vizor; assembly errors give file:line:column', async () => {
    expect((await vizor(['hello.asm'])).status).toBe(5);
    const bad = await vizor(['broken.asm']);
    expect(bad.status).toBe(4);
    expect(bad.stderr).toMatch(/^broken\.asm:2:\d+: error: /);
  });

  it('--vga prints the screen to stderr', async () => {
    const r = await vizor(['hello.bin', '--vga']);
    expect(r.stderr.startsWith('--- VGA text screen ---\n')).toBe(true);
  });
});

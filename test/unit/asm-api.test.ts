// The assembler's public API: assemble() results (bytes, diagnostics, map, listing), the file
// provider, defines, and the rule that src/asm stays browser-safe (no Node imports).
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { addressOfLine, assemble, itemAt, symbolAddress } from '../../src/asm/index.ts';
import { parseNumber } from '../../src/asm/lexer.ts';

const root = join(dirname(new URL(import.meta.url).pathname), '..', '..');

describe('assemble()', () => {
  it('returns bytes and no diagnostics for a correct program', () => {
    const r = assemble('bits 16\norg 0x7c00\nstart: mov ax, 0x1234\n jmp start\n', { fileName: 'boot.asm' });
    expect(r.diagnostics).toEqual([]);
    expect(Array.from(r.bytes)).toEqual([0xb8, 0x34, 0x12, 0xeb, 0xfb]);
  });

  it('maps every emitted item to file:line:column and back', () => {
    const src = 'bits 32\norg 0x100000\n_start:\n    mov eax, 1\n    db 1, 2\nsection .bss\nbuf: resb 16\n';
    const r = assemble(src, { fileName: 'k.asm' });
    expect(r.map.items).toEqual([
      { address: 0x100000, length: 5, file: 'k.asm', line: 4, column: 5, kind: 'code', section: '.text' },
      { address: 0x100005, length: 2, file: 'k.asm', line: 5, column: 5, kind: 'data', section: '.text' },
      { address: 0x100008, length: 16, file: 'k.asm', line: 7, column: 6, kind: 'reserve', section: '.bss' },
    ]);
    expect(r.map.symbols).toContainEqual({ name: '_start', address: 0x100000, section: '.text', kind: 'label' });
    expect(r.map.symbols).toContainEqual({ name: 'buf', address: 0x100008, section: '.bss', kind: 'label' });
    expect(r.map.sections).toEqual([
      { name: '.text', start: 0x100000, fileOffset: 0, length: 7, nobits: false },
      { name: '.bss', start: 0x100008, fileOffset: -1, length: 16, nobits: true },
    ]);
  });

  it('looks the map up both ways: address -> line and line -> address', () => {
    const r = assemble('org 0x7c00\nstart: xor ax, ax\n  mov bx, 5\n  jmp start\n', { fileName: 'b.asm' });
    expect(itemAt(r.map, 0x7c03)?.line).toBe(3);
    expect(itemAt(r.map, 0x7c04)?.line).toBe(3);
    expect(itemAt(r.map, 0x7c05)?.line).toBe(4);
    expect(itemAt(r.map, 0x7c07)).toBeUndefined();
    expect(addressOfLine(r.map, 'b.asm', 4)).toBe(0x7c05);
    expect(addressOfLine(r.map, 'b.asm', 1)).toBeUndefined();
    expect(symbolAddress(r.map, 'start')).toBe(0x7c00);
  });

  it('attributes macro-expanded code to the line that calls the macro', () => {
    const src = '%macro twice 1\n  inc %1\n  inc %1\n%endmacro\n    twice ax\n';
    const r = assemble(src, { fileName: 'm.asm' });
    expect(r.map.items.map((i) => [i.line, i.column, i.length])).toEqual([[5, 5, 1], [5, 5, 1]]);
  });

  it('reads %include and incbin files through the provider, relative to the including file', () => {
    const files: Record<string, string | Uint8Array> = {
      'inc/defs.inc': 'VALUE equ 7\n%include "more.inc"\n',
      'inc/more.inc': 'OTHER equ 9\n',
      'blob.bin': new Uint8Array([0xde, 0xad]),
    };
    const r = assemble('%include "inc/defs.inc"\ndb VALUE, OTHER\nincbin "blob.bin"\n', { fileName: 'main.asm', provider: { read: (p) => files[p] } });
    expect(r.diagnostics).toEqual([]);
    expect(Array.from(r.bytes)).toEqual([7, 9, 0xde, 0xad]);
  });

  it('takes -D style defines', () => {
    const r = assemble('%ifdef DEBUG\ndb LEVEL\n%endif\n', { defines: { DEBUG: '', LEVEL: '3' } });
    expect(Array.from(r.bytes)).toEqual([3]);
  });

  it('reports every error of a file with file:line:column, and returns no bytes', () => {
    const r = assemble('mov ax, bl\nfoo bar\njmp nowhere\n', { fileName: 'bad.asm' });
    expect(r.diagnostics.map((d) => `${d.file}:${d.line}:${d.column}:${d.severity}`)).toEqual(['bad.asm:1:1:error', 'bad.asm:2:1:error', 'bad.asm:3:5:error']);
    expect(r.bytes.length).toBe(0);
  });

  it('never throws, whatever the input', () => {
    const inputs = ['\0\0\0', '%macro', '[', 'db "', '%rep 1000000000\nnop\n%endrep', 'times 1e9 db 0', 'x equ x', '%if\n%elif\n%else\n%else', '\uffff\ud800', ')'.repeat(10000), '('.repeat(5000) + '1'];
    for (const src of inputs) {
      const r = assemble(src);
      expect(r.bytes).toBeInstanceOf(Uint8Array);
      expect(Array.isArray(r.diagnostics)).toBe(true);
      expect(typeof r.listing()).toBe('string');
    }
  });

  it('writes a listing in the layout of nasm -l', () => {
    const r = assemble('start: mov ax, 1\n  db "hello world, long text"\n  times 3 nop\n', { fileName: 'l.asm' });
    expect(r.listing().split('\n')).toEqual([
      '     1 00000000 B80100                  start: mov ax, 1',
      '     2 00000003 68656C6C6F20776F72-       db "hello world, long text"',
      '     2 0000000C 6C642C206C6F6E6720-',
      '     2 00000015 74657874           ',
      '     3 00000019 90<rep 3h>                times 3 nop',
      '',
    ]);
  });
});

describe('number forms', () => {
  it('parses every NASM radix notation', () => {
    const cases: [string, bigint][] = [
      ['0x1F', 31n], ['1Fh', 31n], ['0h1F', 31n], ['$1F', 31n], ['0x_1F', 31n], ['17', 17n], ['17d', 17n], ['0d17', 17n],
      ['0t17', 17n], ['1011b', 11n], ['0b1011', 11n], ['0y1011', 11n], ['1011y', 11n], ['17q', 15n], ['17o', 15n],
      ['0o17', 15n], ['0q17', 15n], ['1_000', 1000n],
    ];
    for (const [text, v] of cases) expect(parseNumber(text), text).toBe(v);
    expect(parseNumber('12q9')).toBeUndefined();
    expect(parseNumber('0x')).toBe(0n); // as in NASM: 0 with the x suffix
    expect(parseNumber('0xg1')).toBeUndefined();
  });
});

describe('browser safety', () => {
  it('src/asm imports nothing from Node, the DOM layers or the CLI', () => {
    const dir = join(root, 'src', 'asm');
    for (const f of readdirSync(dir)) {
      const text = readFileSync(join(dir, f), 'utf8');
      expect(text, f).not.toMatch(/from ['"](node:|fs|path|os|child_process)/);
      expect(text, f).not.toMatch(/from ['"]\.\.\/(ui|worker|cli|machine)\//);
      expect(text, f).not.toMatch(/\bprocess\.|\brequire\(/);
    }
  });
});

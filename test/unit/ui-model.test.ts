// Pure logic behind the views: descriptor and bit decoding, the page walk, address parsing, share
// links, keyboard shortcuts, go to definition, and the small state classes.
import { describe, expect, it } from 'vitest';
import { decodeDescriptor, decodeTss, describeSegment, fieldValue, EFLAGS_BITS } from '../../src/ui/model/x86-bits.ts';
import { parseAddress, valueTitle } from '../../src/ui/model/format.ts';
import { decodeShare, encodeShare } from '../../src/ui/model/share.ts';
import { keyAction } from '../../src/ui/keys.ts';
import { findDefinition } from '../../src/ui/editor/labels.ts';
import { docFor } from '../../src/ui/editor/docs.ts';
import { translate } from '../../src/worker/walk.ts';
import { Breakpoints } from '../../src/ui/state/breakpoints.svelte.ts';
import { Project } from '../../src/ui/state/project.svelte.ts';
import { Settings } from '../../src/ui/state/settings.svelte.ts';
import type { AsmMap } from '../../src/worker/protocol.ts';

const split = (q: bigint): [number, number] => [Number(q & 0xffffffffn), Number(q >> 32n)];

describe('descriptor decoding (Intel SDM vol. 3, 3.4.5)', () => {
  it('decodes the flat ring-0 code and ring-3 data segments of the fixture GDT', () => {
    const code = decodeDescriptor(...split(0x00cf9a000000ffffn));
    expect(code).toMatchObject({ kind: 'code', present: true, dpl: 0, base: 0, limit: 0xffffffff });
    expect(code.summary).toBe('code 32-bit, readable, DPL 0');
    const data3 = decodeDescriptor(...split(0x00cff2000000ffffn));
    expect(data3).toMatchObject({ kind: 'data', dpl: 3, limit: 0xffffffff });
    expect(decodeDescriptor(...split(0x000092000000ffffn)).summary).toBe('data 16-bit, writable, DPL 0');
    expect(decodeDescriptor(0, 0).kind).toBe('null');
  });

  it('decodes an interrupt gate to selector:offset, and a TSS descriptor', () => {
    // offset 0x00100123, selector 0x08, P=1 DPL=0 type=0xE
    const gate = decodeDescriptor(0x00080123, 0x00108e00);
    expect(gate).toMatchObject({ kind: '32-bit interrupt gate', selector: 8, offset: 0x100123, present: true });
    const tss = decodeDescriptor(0x20000067, 0x00008910); // base 0x102000, limit 0x67, available 32-bit TSS
    expect(tss).toMatchObject({ kind: '32-bit TSS (available)', base: 0x102000, limit: 0x67 });
  });

  it('describes a segment register from its access bits, and reads TSS fields', () => {
    expect(describeSegment(0xc9b, true)) // access byte 9B, flags G|D (0x800|0x400).toBe('code 32-bit, readable, accessed, DPL 0');
    expect(describeSegment(0x93, false)).toBe('real mode: base = selector × 16');
    const bytes = new Uint8Array(104);
    new DataView(bytes.buffer).setUint32(4, 0x9000, true);
    new DataView(bytes.buffer).setUint16(8, 0x10, true);
    const fields = Object.fromEntries(decodeTss(bytes).map(([n, v]) => [n, v]));
    expect(fields).toMatchObject({ esp0: 0x9000, ss0: 0x10 });
  });

  it('reads multi-bit fields (IOPL)', () => {
    const iopl = EFLAGS_BITS.find((f) => f.name === 'IOPL')!;
    expect(fieldValue(0x3202, iopl)).toBe(3);
  });
});

describe('the page walk', () => {
  const mem = new Map<number, number>([[0x1000 + 4 * 1, 0x2000 | 7], [0x2000 + 4 * 0x23, 0x5000 | 3], [0x1000 + 4 * 2, 0x00800000 | 0x83]]);
  const read = (a: number) => mem.get(a) ?? 0;
  it('walks directory then table for a 4 KiB page', () => {
    const t = translate(0x00423abc, 0x1000, 0, read);
    expect(t.steps.map((s) => [s.level, s.address])).toEqual([[2, 0x1004], [1, 0x208c]]);
    expect(t.physical).toBe(0x5abc);
  });
  it('stops at a 4 MiB page when CR4.PSE is on, and reports a missing entry', () => {
    expect(translate(0x00812345, 0x1000, 0x10, read).physical).toBe(0x00812345);
    expect(translate(0x00c00000, 0x1000, 0x10, read)).toMatchObject({ physical: null, note: 'page directory entry not present' });
  });
});

describe('small helpers', () => {
  it('parses addresses the ways a student types them', () => {
    const syms = [{ name: 'msg', address: 0x100090 }];
    expect([parseAddress('0x10'), parseAddress('10h'), parseAddress('16'), parseAddress('msg', syms), parseAddress('nope', syms)]).toEqual([16, 16, 16, 0x100090, null]);
    expect(valueTitle(0xffffffff)).toContain('signed -1');
  });

  it('maps VS Code debugger keys', () => {
    const k = (key: string, mods: Partial<KeyboardEvent> = {}) => keyAction({ key, shiftKey: false, ctrlKey: false, metaKey: false, altKey: false, ...mods });
    expect([k('F5'), k('F5', { shiftKey: true }), k('F10'), k('F11'), k('F11', { shiftKey: true }), k('F10', { ctrlKey: true }), k('F10', { shiftKey: true }), k('a')])
      .toEqual(['continue', 'reset', 'over', 'into', 'out', 'cursor', 'back', null]);
    // Ctrl+Shift+M enlarges the bottom panel; a plain or Ctrl-only M is the editor's.
    expect([k('M', { ctrlKey: true, shiftKey: true }), k('m', { ctrlKey: true }), k('M', { shiftKey: true })]).toEqual(['maximize', null, null]);
  });

  it('finds label definitions, local labels under their global one, across files', () => {
    const files = [
      { name: 'main.asm', text: 'start:\n  jmp .loop\n.loop:\n  call putc\nother:\n.loop:\n  jmp .loop\n%include "lib.inc"\n' },
      { name: 'lib.inc', text: 'COM1 equ 0x3f8\nputc:\n  ret\n' },
    ];
    expect(findDefinition(files, 'main.asm', 2, '.loop')).toEqual({ file: 'main.asm', line: 3, column: 1 });
    expect(findDefinition(files, 'main.asm', 7, '.loop')).toEqual({ file: 'main.asm', line: 6, column: 1 });
    expect(findDefinition(files, 'main.asm', 4, 'putc')).toEqual({ file: 'lib.inc', line: 2, column: 1 });
    expect(findDefinition(files, 'main.asm', 4, 'COM1')).toEqual({ file: 'lib.inc', line: 1, column: 1 });
    expect(findDefinition(files, 'main.asm', 4, 'nothing')).toBeNull();
  });

  it('has hover text for mnemonics, condition codes and registers', () => {
    expect(docFor('jnae')!.text).toContain('CF=1');
    expect(docFor('MOV')!.title).toBe('mov');
    expect(docFor('cr3')!.text).toContain('page directory');
    expect(docFor('stosd')!.text).toContain('ES:EDI');
    expect(docFor('banana')).toBeNull();
  });
});

describe('share links', () => {
  it('round-trips a multi-file project through the URL fragment', async () => {
    const project = { main: 'k.asm', files: [{ name: 'k.asm', text: '%include "lib.inc"\nhlt ; ünïcode\n' }, { name: 'lib.inc', text: 'nop\n'.repeat(500) }] };
    const frag = await encodeShare(project);
    expect(frag).toMatch(/^code=[A-Za-z0-9_-]+$/);
    expect(frag.length).toBeLessThan(200); // deflate-raw squeezes the repetition
    expect(await decodeShare('#' + frag)).toEqual({ version: 1, ...project });
  });
  it('says so when a link is damaged, and ignores fragments without a program', async () => {
    const frag = await encodeShare({ main: 'a', files: [{ name: 'a', text: 'x'.repeat(100) }] });
    await expect(decodeShare('#' + frag.slice(0, 12))).rejects.toThrow(/damaged/);
    expect(await decodeShare('#other=1')).toBeNull();
  });
});

describe('state classes', () => {
  const map: AsmMap = {
    symbols: [],
    lines: [
      { address: 0x100, length: 2, file: 'a.asm', line: 3, code: true },
      { address: 0x102, length: 4, file: 'a.asm', line: 5, code: false },
      { address: 0x106, length: 1, file: 'a.asm', line: 7, code: true },
    ],
  };
  it('resolves breakpoints to the next line with code', () => {
    const b = new Breakpoints();
    b.toggle('a.asm', 3);
    b.toggle('a.asm', 4);
    b.toggle('a.asm', 9);
    expect(b.resolve(map).map((r) => r.address)).toEqual([0x100, 0x106]);
    b.toggle('a.asm', 3);
    expect(b.list.map((x) => x.line)).toEqual([4, 9]);
  });

  it('keeps project files and settings in storage', () => {
    const store = new Map<string, string>();
    const storage = { getItem: (k: string) => store.get(k) ?? null, setItem: (k: string, v: string) => void store.set(k, v) };
    const p = new Project({ main: 'a.asm', files: [{ name: 'a.asm', text: 'nop' }] }, storage);
    p.addFile('b.asm', 'hlt');
    p.setText('a.asm', 'cli');
    const again = new Project({ main: 'x', files: [] }, storage);
    expect(again.files).toEqual([{ name: 'a.asm', text: 'cli' }, { name: 'b.asm', text: 'hlt' }]);
    const s = new Settings(storage);
    s.systemDark = true;
    expect(s.dark).toBe(true);
    s.toggleTheme();
    expect([s.theme, s.dark]).toEqual(['light', false]);
    s.presenter = true;
    s.save();
    expect(new Settings(storage).presenter).toBe(true);
  });
});

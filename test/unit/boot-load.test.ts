import { describe, expect, it } from 'vitest';
import { bootSector, checkRom, detectBootMode, loadFlat } from '../../src/machine/boot/load.ts';
import { Disk } from '../../src/machine/boot/disk.ts';
import { kbdTranslate } from '../../src/machine/boot/bios-keyboard.ts';

const sector = () => { const s = new Uint8Array(512); s[510] = 0x55; s[511] = 0xaa; return s; };

describe('boot mode detection and checks', () => {
  it('Multiboot header → multiboot; 512 bytes or a signature → boot sector; else a clear error', () => {
    const mb = new Uint8Array(1024);
    new DataView(mb.buffer).setUint32(8, 0x1badb002, true);
    new DataView(mb.buffer).setUint32(16, (-0x1badb002) >>> 0, true);
    expect(detectBootMode(mb)).toEqual({ kind: 'multiboot' });
    expect(detectBootMode(sector())).toEqual({ kind: 'boot-sector' });
    expect(detectBootMode(new Uint8Array(512))).toEqual({ kind: 'boot-sector' });
    const floppy = new Uint8Array(1474560);
    floppy.set(sector());
    expect(detectBootMode(floppy)).toEqual({ kind: 'boot-sector' });
    expect(() => detectBootMode(new Uint8Array(700))).toThrow(/--multiboot, --boot-sector, --flat ADDR or --rom/);
    const rom = new Uint8Array(0x10000).fill(0xff);
    rom.set([0xea, 0x5b, 0xe0, 0x00, 0xf0], 0xfff0); // the reset vector: JMP F000:E05B
    expect(detectBootMode(rom)).toEqual({ kind: 'rom' });
    expect(() => detectBootMode(rom.subarray(0, 0xfff8))).toThrow(/--rom/); // not a ROM's size
    expect(() => detectBootMode(new Uint8Array(0x10000).fill(0xff))).toThrow(/--rom/); // no jump at the reset vector
    expect(() => detectBootMode(new Uint8Array(0))).toThrow('the image is empty');
  });

  it('a boot sector needs 512 bytes ending in 55 AA', () => {
    expect(bootSector(sector())).toHaveLength(512);
    expect(() => bootSector(new Uint8Array(100))).toThrow('a boot sector needs 512 bytes, the image has 100');
    expect(() => bootSector(new Uint8Array(512))).toThrow(/no boot signature: bytes 510-511 are 0x00 0x00/);
  });

  it('flat images must fit and not cover the IVT', () => {
    const writes: number[] = [];
    const mem = { size: 1 << 20, writeBytes: (p: number) => writes.push(p) };
    loadFlat(new Uint8Array(16), 0x7000, mem);
    expect(writes).toEqual([0x7000]);
    expect(() => loadFlat(new Uint8Array(16), 0x100, mem)).toThrow(/interrupt vector table/);
    expect(() => loadFlat(new Uint8Array(4096), 0xfffff, mem)).toThrow(/does not fit in memory/);
  });

  it('ROM images are 64 or 128 KiB', () => {
    expect(() => checkRom(new Uint8Array(0x10000))).not.toThrow();
    expect(() => checkRom(new Uint8Array(0x20000))).not.toThrow();
    expect(() => checkRom(new Uint8Array(0x8000))).toThrow(/64 KiB or 128 KiB/);
  });
});

describe('boot disk geometry', () => {
  it('floppy-sized images are drive 0 with floppy geometry; others are hard disk 0x80, 16 heads, 63 sectors', () => {
    const f = new Disk(new Uint8Array(1474560));
    expect([f.drive, f.geometry.cylinders, f.geometry.heads, f.geometry.sectors]).toEqual([0, 80, 2, 18]);
    expect(f.chsToLba(1, 1, 1)).toBe(36 + 18);
    const h = new Disk(new Uint8Array(1000));
    expect([h.drive, h.sectorCount, h.geometry.heads, h.geometry.sectors]).toEqual([0x80, 2, 16, 63]);
    expect(h.read(1)![488]).toBe(0); // the partial last sector is padded with zeros
    expect(h.read(2)).toBeUndefined();
    expect(h.chsToLba(0, 0, 0)).toBe(-1);
  });
});

describe('BIOS keyboard translation (scan set 1)', () => {
  it('letters, shift, control, extended keys', () => {
    let r = kbdTranslate(0x1e, 0, 0);
    expect(r.key).toBe(0x1e61);
    r = kbdTranslate(0x2a, 0, 0); // shift down
    expect(kbdTranslate(0x1e, r.shiftFlags, 0).key).toBe(0x1e41);
    expect(kbdTranslate(0x02, r.shiftFlags, 0).key).toBe(0x0221); // '!'
    r = kbdTranslate(0xaa, r.shiftFlags, 0); // shift up
    expect(r.shiftFlags).toBe(0);
    expect(kbdTranslate(0x1c, 0, 0).key).toBe(0x1c0d);
    expect(kbdTranslate(0x2e, 0x04, 0).key).toBe(0x2e03); // ctrl-C
    const e0 = kbdTranslate(0xe0, 0, 0);
    expect(e0.key).toBeUndefined();
    expect(kbdTranslate(0x48, 0, e0.extendedFlags).key).toBe(0x48e0);
    expect(kbdTranslate(0x9e, 0, 0).key).toBeUndefined(); // break code
  });
});

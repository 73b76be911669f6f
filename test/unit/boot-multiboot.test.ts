import { describe, expect, it } from 'vitest';
import { findMultibootHeader, loadMultiboot, planElf } from '../../src/machine/boot/multiboot.ts';
import { BootError } from '../../src/machine/boot/errors.ts';
import { e820Map } from '../../src/machine/boot/layout.ts';

class FakeMem {
  readonly ram: Uint8Array;
  constructor(readonly size: number) { this.ram = new Uint8Array(size); }
  writeBytes(p: number, b: Uint8Array) { this.ram.set(b, p); }
  u32(p: number) { return new DataView(this.ram.buffer).getUint32(p, true); }
  str(p: number) { let s = ''; while (this.ram[p]) s += String.fromCharCode(this.ram[p++]!); return s; }
}

/** A flat kernel with the a.out kludge, loaded at 1 MiB, header at `at`. */
function aoutKernel(opts: { size?: number; at?: number; flags?: number; checksumDelta?: number; loadEnd?: number; bssEnd?: number; headerAddr?: number; entry?: number } = {}): Uint8Array {
  const size = opts.size ?? 0x200, at = opts.at ?? 0;
  const img = new Uint8Array(size);
  const dv = new DataView(img.buffer);
  const flags = opts.flags ?? 0x00010003;
  const base = 0x100000;
  dv.setUint32(at, 0x1badb002, true);
  dv.setUint32(at + 4, flags, true);
  dv.setUint32(at + 8, (-(0x1badb002 + flags) + (opts.checksumDelta ?? 0)) >>> 0, true);
  dv.setUint32(at + 12, opts.headerAddr ?? base + at, true);
  dv.setUint32(at + 16, base, true);
  dv.setUint32(at + 20, opts.loadEnd ?? base + size, true);
  dv.setUint32(at + 24, opts.bssEnd ?? base + size + 0x1000, true);
  dv.setUint32(at + 28, opts.entry ?? base + at + 32, true);
  for (let i = at + 32; i < size; i++) img[i] = i & 0xff;
  return img;
}

function elfKernel(opts: { truncate?: number; machine?: number } = {}): Uint8Array {
  const img = new Uint8Array(0x1100);
  const dv = new DataView(img.buffer);
  img.set([0x7f, 0x45, 0x4c, 0x46, 1, 1, 1]);
  dv.setUint16(16, 2, true); // ET_EXEC
  dv.setUint16(18, opts.machine ?? 3, true);
  dv.setUint32(24, 0xc0100010, true); // virtual entry (higher half)
  dv.setUint32(28, 52, true);
  dv.setUint16(42, 32, true);
  dv.setUint16(44, 1, true);
  const ph = 52;
  dv.setUint32(ph, 1, true); // PT_LOAD
  dv.setUint32(ph + 4, 0x1000, true);
  dv.setUint32(ph + 8, 0xc0100000, true);
  dv.setUint32(ph + 12, 0x100000, true);
  dv.setUint32(ph + 16, 0x100, true);
  dv.setUint32(ph + 20, 0x2000, true);
  // Multiboot header inside the first 8 KiB, without the a.out kludge.
  dv.setUint32(0x1000, 0x1badb002, true);
  dv.setUint32(0x1004, 3, true);
  dv.setUint32(0x1008, (-(0x1badb002 + 3)) >>> 0, true);
  for (let i = 0x100c; i < 0x1100; i++) img[i] = 0xcc;
  return opts.truncate ? img.subarray(0, opts.truncate) : img;
}

describe('Multiboot header search', () => {
  it('finds the header at a 4-byte aligned offset in the first 8 KiB', () => {
    expect(findMultibootHeader(aoutKernel({ size: 0x800, at: 0x400 }))?.offset).toBe(0x400);
    const far = aoutKernel({ size: 0x3000, at: 0x2100 });
    expect(findMultibootHeader(far)).toBeNull();
  });

  it('a bad checksum is a BootError naming the rule', () => {
    expect(() => findMultibootHeader(aoutKernel({ checksumDelta: 1 }))).toThrow('Multiboot header checksum is wrong: flags+magic+checksum must be 0');
  });

  it('garbage has no header; loadMultiboot says so', () => {
    const junk = new Uint8Array(4096).map((_, i) => (i * 37) & 0xff);
    expect(findMultibootHeader(junk)).toBeNull();
    expect(() => loadMultiboot(junk, new FakeMem(4 << 20))).toThrow(/no Multiboot header .* first 8 KiB/);
    expect(() => loadMultiboot(new Uint8Array(0), new FakeMem(4 << 20))).toThrow('the image is empty');
  });
});

describe('a.out kludge', () => {
  it('loads the image at load_addr, zeroes the bss and builds the info structure as QEMU does', () => {
    const mem = new FakeMem(16 << 20);
    mem.ram.fill(0xee, 0x100200, 0x101200); // bss must be cleared
    const img = aoutKernel();
    const r = loadMultiboot(img, mem, 'k.bin ');
    expect(r.entry).toBe(0x100020);
    expect(r.infoAddr).toBe(0x9500);
    expect(mem.ram.subarray(0x100000, 0x100200)).toEqual(img);
    expect(mem.ram.subarray(0x100200, 0x101200).every((b) => b === 0)).toBe(true);
    expect(mem.u32(0x9500)).toBe(0x24f);
    expect(mem.u32(0x9504)).toBe(639);
    expect(mem.u32(0x9508)).toBe(15232); // QEMU -m 16 reports 0x3B80
    expect(mem.u32(0x950c)).toBe(0x8000ffff);
    expect(mem.str(mem.u32(0x9510))).toBe('k.bin ');
    expect(mem.u32(0x9510)).toBe(0x102000); // after the kernel and its bss, page aligned
    expect(mem.u32(0x952c)).toBe(6 * 24);
    expect(mem.u32(0x9530)).toBe(0x9000);
    expect(mem.str(mem.u32(0x9540))).toBe('vizor');
    const map = e820Map(16 << 20);
    map.forEach((e, k) => {
      expect(mem.u32(0x9000 + k * 24)).toBe(20);
      expect(mem.u32(0x9000 + k * 24 + 4)).toBe(e.base);
      expect(mem.u32(0x9000 + k * 24 + 12)).toBe(e.length);
      expect(mem.u32(0x9000 + k * 24 + 20)).toBe(e.type);
    });
    expect(map[3]).toEqual({ base: 0x100000, length: 0xee0000, type: 1 });
  });

  it('rejects a truncated image with the sizes', () => {
    const img = aoutKernel({ loadEnd: 0x100000 + 0x800 });
    expect(() => loadMultiboot(img, new FakeMem(16 << 20))).toThrow(/image is truncated: .* 2048 bytes .* the file has 512 bytes/);
  });

  it('rejects inconsistent addresses', () => {
    const mem = new FakeMem(16 << 20);
    expect(() => loadMultiboot(aoutKernel({ headerAddr: 0xff000 }), mem)).toThrow(/header_addr .* below load_addr/);
    expect(() => loadMultiboot(aoutKernel({ headerAddr: 0x100100 }), mem)).toThrow(/larger than the header's file offset/);
    expect(() => loadMultiboot(aoutKernel({ bssEnd: 0x100100 }), mem)).toThrow(/bss_end_addr .* below/);
    expect(() => loadMultiboot(aoutKernel({ entry: 0x300000 }), mem)).toThrow(/entry_addr .* outside/);
  });

  it('a kernel bigger than memory is a BootError that suggests --mem', () => {
    const img = aoutKernel({ bssEnd: 0x100000 + (8 << 20) });
    expect(() => loadMultiboot(img, new FakeMem(4 << 20))).toThrow(/does not fit in memory.*--mem/);
  });

  it('refuses required features it does not have', () => {
    expect(() => loadMultiboot(aoutKernel({ flags: 0x00010008 }), new FakeMem(16 << 20))).toThrow(/requires features/);
  });
});

describe('ELF kernels', () => {
  it('loads PT_LOAD segments at their physical address and translates a virtual entry', () => {
    const mem = new FakeMem(16 << 20);
    mem.ram.fill(0xee, 0x100100, 0x102000);
    const r = loadMultiboot(elfKernel(), mem);
    expect(r.entry).toBe(0x100010);
    expect(mem.ram[0x100000]).toBe(0x02); // the header's bytes: file offset 0x1000 onwards
    expect(mem.ram.subarray(0x100100, 0x102000).every((b) => b === 0)).toBe(true);
  });

  it('explains bad ELF files', () => {
    expect(() => planElf(elfKernel({ machine: 62 }))).toThrow(/not for i386/);
    expect(() => loadMultiboot(elfKernel({ truncate: 0x1080 }), new FakeMem(16 << 20))).toThrow(/truncated/);
    const notElf = elfKernel();
    notElf[0] = 0;
    expect(() => loadMultiboot(notElf, new FakeMem(16 << 20))).toThrow(/must be an ELF file/);
  });

  it('every failure is a BootError', () => {
    try {
      loadMultiboot(elfKernel({ truncate: 0x1080 }), new FakeMem(16 << 20));
    } catch (e) {
      expect(e).toBeInstanceOf(BootError);
      expect((e as Error).message).not.toContain('\n');
    }
  });
});

// Where the built-in firmware puts things in low memory, and the memory map it reports.
// Values follow what QEMU + SeaBIOS leave behind (measured; see QEMU-NOTES.md) where a kernel
// could notice: Multiboot info at 0x9500 with its memory map at 0x9000, 639 KiB of base memory,
// the top 128 KiB of RAM reserved for firmware tables.

export const MB_INFO_ADDR = 0x9500;
export const MB_MMAP_ADDR = 0x9000;
/** Flat GDT for the protected-mode loaders: inside the BIOS area, which the memory map reserves. */
export const GDT_ADDR = 0xf0f00;
export const EBDA_ADDR = 0x9fc00;
export const BIOS_BASE = 0xf0000;
export const BASE_MEMORY_KB = 639;
export const HIGH_RESERVED = 0x20000;

export interface E820Entry { base: number; length: number; type: 1 | 2 }

export function e820Map(memoryBytes: number): E820Entry[] {
  const usableTop = Math.max(0x100000, memoryBytes - HIGH_RESERVED);
  const map: E820Entry[] = [
    { base: 0, length: EBDA_ADDR, type: 1 },
    { base: EBDA_ADDR, length: 0xa0000 - EBDA_ADDR, type: 2 },
    { base: 0xf0000, length: 0x10000, type: 2 },
  ];
  if (usableTop > 0x100000) map.push({ base: 0x100000, length: usableTop - 0x100000, type: 1 });
  if (memoryBytes > 0x100000) map.push({ base: usableTop, length: memoryBytes - usableTop, type: 2 });
  map.push({ base: 0xfffc0000, length: 0x40000, type: 2 });
  return map;
}

/** KiB of usable memory above 1 MiB (Multiboot mem_upper). */
export function upperMemoryKb(memoryBytes: number): number {
  return Math.max(0, Math.floor((memoryBytes - HIGH_RESERVED - 0x100000) / 1024));
}

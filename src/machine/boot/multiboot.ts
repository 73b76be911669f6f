// Multiboot v1 loader, as QEMU's `-kernel` does it: find the header in the first 8 KiB, load an
// ELF32 kernel by its program headers or a flat kernel by the a.out-kludge addresses, and build the
// information structure (measured QEMU layout: info at 0x9500, memory map at 0x9000, command line
// and loader name just after the kernel, page-aligned).
import { BootError, hex } from './errors.ts';
import { MB_INFO_ADDR, MB_MMAP_ADDR, e820Map, upperMemoryKb, BASE_MEMORY_KB } from './layout.ts';

export const MULTIBOOT_MAGIC = 0x1badb002;
export const MULTIBOOT_BOOTLOADER_MAGIC = 0x2badb002;
const SEARCH = 8192;
const FLAG_AOUT_KLUDGE = 0x10000;
/** Requirement bits (0-15) we honour: page-align modules, memory info, video mode (ignored, as QEMU). */
const SUPPORTED_REQUIRED = 0x0007;

export interface MultibootHeader {
  offset: number; flags: number;
  headerAddr: number; loadAddr: number; loadEndAddr: number; bssEndAddr: number; entryAddr: number;
}

/** A chunk of the kernel to place in memory: file bytes then `zero` bytes of zeros. */
export interface LoadSegment { addr: number; bytes: Uint8Array; zero: number }

export interface KernelPlan { entry: number; segments: LoadSegment[]; low: number; high: number }

const u32 = (b: Uint8Array, o: number): number => (b[o] | (b[o + 1] << 8) | (b[o + 2] << 16) | (b[o + 3] << 24)) >>> 0;
const u16 = (b: Uint8Array, o: number): number => b[o] | (b[o + 1] << 8);

/**
 * The Multiboot header, or null when the first 8 KiB hold no magic at all. A magic whose checksum
 * fails (and no valid header elsewhere) is a BootError: the user clearly meant Multiboot.
 */
export function findMultibootHeader(image: Uint8Array): MultibootHeader | null {
  let badChecksumAt = -1;
  const end = Math.min(image.length, SEARCH) - 12;
  for (let i = 0; i <= end; i += 4) {
    if (u32(image, i) !== MULTIBOOT_MAGIC) continue;
    const flags = u32(image, i + 4);
    if (((MULTIBOOT_MAGIC + flags + u32(image, i + 8)) >>> 0) !== 0) {
      if (badChecksumAt < 0) badChecksumAt = i;
      continue;
    }
    const field = (k: number) => (i + 12 + 4 * k + 4 <= image.length ? u32(image, i + 12 + 4 * k) : 0);
    if (flags & FLAG_AOUT_KLUDGE && i + 32 > image.length) {
      throw new BootError(`Multiboot header at offset ${hex(i)} is cut off: the a.out kludge fields need 32 bytes`);
    }
    return { offset: i, flags, headerAddr: field(0), loadAddr: field(1), loadEndAddr: field(2), bssEndAddr: field(3), entryAddr: field(4) };
  }
  if (badChecksumAt >= 0) {
    throw new BootError(`Multiboot header checksum is wrong: flags+magic+checksum must be 0 (header at offset ${hex(badChecksumAt)})`);
  }
  return null;
}

/** Where the kernel's bytes go, per the a.out kludge fields (QEMU's checks, with clearer words). */
export function planAout(image: Uint8Array, h: MultibootHeader): KernelPlan {
  if (h.headerAddr < h.loadAddr) {
    throw new BootError(`Multiboot a.out kludge: header_addr ${hex(h.headerAddr)} is below load_addr ${hex(h.loadAddr)}`);
  }
  if (h.headerAddr - h.loadAddr > h.offset) {
    throw new BootError(`Multiboot a.out kludge: header_addr - load_addr (${hex(h.headerAddr - h.loadAddr)}) is larger than the header's file offset (${hex(h.offset)})`);
  }
  const textOffset = h.offset - (h.headerAddr - h.loadAddr);
  let loadSize: number;
  if (h.loadEndAddr !== 0) {
    if (h.loadEndAddr < h.loadAddr) {
      throw new BootError(`Multiboot a.out kludge: load_end_addr ${hex(h.loadEndAddr)} is below load_addr ${hex(h.loadAddr)}`);
    }
    loadSize = h.loadEndAddr - h.loadAddr;
  } else {
    loadSize = image.length - textOffset;
  }
  if (textOffset + loadSize > image.length) {
    throw new BootError(`image is truncated: the Multiboot header asks for ${loadSize} bytes from offset ${hex(textOffset)}, the file has ${image.length} bytes`);
  }
  let memSize = loadSize;
  if (h.bssEndAddr !== 0) {
    if (h.bssEndAddr < h.loadAddr + loadSize) {
      throw new BootError(`Multiboot a.out kludge: bss_end_addr ${hex(h.bssEndAddr)} is below the end of the loaded image ${hex(h.loadAddr + loadSize)}`);
    }
    memSize = h.bssEndAddr - h.loadAddr;
  }
  if (h.loadAddr + memSize > 0x100000000) throw new BootError('Multiboot kernel does not fit in the 4 GiB address space');
  if (h.entryAddr < h.loadAddr || h.entryAddr >= h.loadAddr + Math.max(memSize, 1)) {
    throw new BootError(`Multiboot entry_addr ${hex(h.entryAddr)} is outside the kernel ${hex(h.loadAddr)}..${hex(h.loadAddr + memSize)}`);
  }
  return {
    entry: h.entryAddr,
    segments: [{ addr: h.loadAddr, bytes: image.subarray(textOffset, textOffset + loadSize), zero: memSize - loadSize }],
    low: h.loadAddr,
    high: h.loadAddr + memSize,
  };
}

/** An ELF32 i386 executable's PT_LOAD segments at their physical addresses. */
export function planElf(image: Uint8Array): KernelPlan {
  if (image.length < 52 || u32(image, 0) !== 0x464c457f) {
    throw new BootError('Multiboot kernel without the a.out kludge (flag 16) must be an ELF file, and this is not one');
  }
  if (image[4] !== 1) throw new BootError('ELF kernel is not 32-bit (ELFCLASS32 expected)');
  if (image[5] !== 1) throw new BootError('ELF kernel is not little-endian');
  if (u16(image, 18) !== 3) throw new BootError(`ELF kernel is not for i386 (e_machine ${u16(image, 18)})`);
  if (u16(image, 16) !== 2) throw new BootError(`ELF kernel is not an executable (e_type ${u16(image, 16)}, 2 expected)`);
  const phoff = u32(image, 28), phentsize = u16(image, 42), phnum = u16(image, 44);
  if (phnum === 0) throw new BootError('ELF kernel has no program headers');
  if (phentsize < 32 || phoff + phnum * phentsize > image.length) {
    throw new BootError('ELF kernel is truncated: its program headers run past the end of the file');
  }
  const entryVirtual = u32(image, 24);
  const segments: LoadSegment[] = [];
  let entry = -1, low = Infinity, high = 0;
  for (let k = 0; k < phnum; k++) {
    const ph = phoff + k * phentsize;
    if (u32(image, ph) !== 1) continue; // PT_LOAD only
    const offset = u32(image, ph + 4), vaddr = u32(image, ph + 8), paddr = u32(image, ph + 12);
    const filesz = u32(image, ph + 16), memsz = u32(image, ph + 20);
    if (offset + filesz > image.length) {
      throw new BootError(`ELF kernel is truncated: segment ${k} needs bytes up to ${hex(offset + filesz)}, the file has ${hex(image.length)}`);
    }
    if (memsz < filesz) throw new BootError(`ELF segment ${k} has p_memsz smaller than p_filesz`);
    if (paddr + memsz > 0x100000000) throw new BootError(`ELF segment ${k} does not fit in the 4 GiB address space`);
    segments.push({ addr: paddr, bytes: image.subarray(offset, offset + filesz), zero: memsz - filesz });
    low = Math.min(low, paddr);
    high = Math.max(high, paddr + memsz);
    // A higher-half kernel links its entry virtually: translate through the segment holding it.
    if (entryVirtual >= vaddr && entryVirtual < vaddr + Math.max(memsz, 1)) entry = entryVirtual - vaddr + paddr;
  }
  if (segments.length === 0) throw new BootError('ELF kernel has no loadable (PT_LOAD) segment');
  if (entry < 0) entry = entryVirtual;
  return { entry, segments, low, high };
}

export interface PhysicalWriter {
  readonly size: number;
  writeBytes(p: number, bytes: Uint8Array): void;
}

/** Writes the kernel's segments, checking they land in RAM. */
export function placeKernel(mem: PhysicalWriter, plan: KernelPlan): void {
  for (const s of plan.segments) {
    const end = s.addr + s.bytes.length + s.zero;
    if (end > mem.size) {
      throw new BootError(`kernel does not fit in memory: it needs up to ${hex(end)}, the machine has ${mem.size / 1048576} MiB (try --mem)`);
    }
    if (s.addr < 0x500 && s.bytes.length + s.zero > 0) throw new BootError(`kernel would overwrite the interrupt vector table at ${hex(s.addr)}`);
  }
  for (const s of plan.segments) {
    mem.writeBytes(s.addr, s.bytes);
    if (s.zero > 0) mem.writeBytes(s.addr + s.bytes.length, new Uint8Array(s.zero));
  }
}

export interface MultibootLoaded { entry: number; infoAddr: number; header: MultibootHeader; plan: KernelPlan }

/** Loads a Multiboot kernel and its information structure. Throws BootError for bad images. */
export function loadMultiboot(image: Uint8Array, mem: PhysicalWriter, cmdline = ''): MultibootLoaded {
  if (image.length === 0) throw new BootError('the image is empty');
  const header = findMultibootHeader(image);
  if (header === null) throw new BootError('no Multiboot header (magic 0x1BADB002) in the first 8 KiB');
  const unsupported = header.flags & 0xffff & ~SUPPORTED_REQUIRED;
  if (unsupported) throw new BootError(`Multiboot header requires features this loader lacks (flags ${hex(unsupported)})`);
  const plan = header.flags & FLAG_AOUT_KLUDGE ? planAout(image, header) : planElf(image);
  placeKernel(mem, plan);
  writeMultibootInfo(mem, plan, cmdline);
  return { entry: plan.entry, infoAddr: MB_INFO_ADDR, header, plan };
}

/** The information structure: flags 0x24F (mem, boot device, cmdline, mods, mmap, loader name). */
export function writeMultibootInfo(mem: PhysicalWriter, plan: KernelPlan, cmdline: string): void {
  const info = new Uint8Array(88);
  const dv = new DataView(info.buffer);
  const strings = new TextEncoder().encode(`${cmdline}\0vizor\0`);
  const bufAddr = Math.ceil(plan.high / 4096) * 4096;
  if (bufAddr + strings.length > mem.size) throw new BootError('kernel fills memory: no room left for the Multiboot command line');
  const nameAddr = bufAddr + new TextEncoder().encode(cmdline).length + 1;
  const map = e820Map(mem.size);
  dv.setUint32(0, 0x24f, true);
  dv.setUint32(4, BASE_MEMORY_KB, true);
  dv.setUint32(8, upperMemoryKb(mem.size), true);
  dv.setUint32(12, 0x8000ffff, true); // boot device: first hard disk, no partition (as QEMU)
  dv.setUint32(16, bufAddr, true);
  dv.setUint32(20, 0, true); // mods_count
  dv.setUint32(24, bufAddr, true); // mods_addr
  dv.setUint32(44, map.length * 24, true);
  dv.setUint32(48, MB_MMAP_ADDR, true);
  dv.setUint32(64, nameAddr, true);
  const mmap = new Uint8Array(map.length * 24);
  const mv = new DataView(mmap.buffer);
  map.forEach((e, k) => {
    mv.setUint32(k * 24, 20, true);
    mv.setUint32(k * 24 + 4, e.base, true);
    mv.setUint32(k * 24 + 12, e.length, true);
    mv.setUint32(k * 24 + 20, e.type, true);
  });
  mem.writeBytes(MB_MMAP_ADDR, mmap);
  mem.writeBytes(MB_INFO_ADDR, info);
  mem.writeBytes(bufAddr, strings);
}

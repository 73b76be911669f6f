// Boot image loading for each mode; the machine applies the returned CPU set-up.
import { BootError, hex } from './errors.ts';
import { findMultibootHeader, loadMultiboot, type PhysicalWriter } from './multiboot.ts';

export type BootMode =
  | { kind: 'boot-sector' }
  | { kind: 'multiboot'; cmdline?: string }
  | { kind: 'flat'; address: number }
  | { kind: 'rom' };

/** Picks a mode for an image given without a flag, or explains why it cannot. */
export function detectBootMode(image: Uint8Array): BootMode {
  if (image.length === 0) throw new BootError('the image is empty');
  if (findMultibootHeader(image) !== null) return { kind: 'multiboot' };
  if (image.length === 512 || (image.length >= 512 && image[510] === 0x55 && image[511] === 0xaa)) return { kind: 'boot-sector' };
  if (looksLikeRom(image)) return { kind: 'rom' };
  throw new BootError('no Multiboot header in the first 8 KiB and no boot signature (0x55AA at offset 510): say how to boot it with --multiboot, --boot-sector, --flat ADDR or --rom');
}

/**
 * A BIOS ROM image: 64 or 128 KiB whose reset vector (16 bytes from the end, where the CPU starts
 * at F000:FFF0) holds a jump, as every PC BIOS's does (usually JMP F000:E05B).
 */
function looksLikeRom(image: Uint8Array): boolean {
  if (image.length !== 0x10000 && image.length !== 0x20000) return false;
  const op = image[image.length - 16];
  return op === 0xea || op === 0xe9 || op === 0xeb; // JMP ptr16:16, JMP rel16, JMP rel8
}

/** Checks a boot sector image and returns its first sector. */
export function bootSector(image: Uint8Array): Uint8Array {
  if (image.length === 0) throw new BootError('the image is empty');
  if (image.length < 512) throw new BootError(`a boot sector needs 512 bytes, the image has ${image.length}`);
  if (image[510] !== 0x55 || image[511] !== 0xaa) {
    throw new BootError(`no boot signature: bytes 510-511 are ${hex(image[510], 2)} ${hex(image[511], 2)}, not 0x55 0xAA`);
  }
  return image.subarray(0, 512);
}

export function loadFlat(image: Uint8Array, address: number, mem: PhysicalWriter): void {
  if (image.length === 0) throw new BootError('the image is empty');
  if (address < 0x500) throw new BootError(`flat load address ${hex(address)} would overwrite the interrupt vector table and BIOS data`);
  if (address + image.length > mem.size) {
    throw new BootError(`image does not fit in memory: ${image.length} bytes at ${hex(address)} end past ${mem.size / 1048576} MiB (try --mem)`);
  }
  mem.writeBytes(address, image);
}

export function checkRom(image: Uint8Array): void {
  if (image.length === 0) throw new BootError('the image is empty');
  if (image.length !== 0x10000 && image.length !== 0x20000) {
    throw new BootError(`a BIOS ROM must be 64 KiB or 128 KiB, this image has ${image.length} bytes`);
  }
}

export { loadMultiboot, BootError };

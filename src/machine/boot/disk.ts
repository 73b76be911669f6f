// The boot disk behind INT 13h: the image file, with a geometry chosen from its size. Standard
// floppy sizes (360K, 720K, 1.2M, 1.44M, 2.88M) are floppies (drive 0x00); anything else is a
// hard disk (drive 0x80) with 16 heads and 63 sectors per track, as SeaBIOS would translate it.
export interface Geometry { cylinders: number; heads: number; sectors: number }

const FLOPPIES: Record<number, Geometry & { type: number }> = {
  368640: { cylinders: 40, heads: 2, sectors: 9, type: 1 },
  737280: { cylinders: 80, heads: 2, sectors: 9, type: 3 },
  1228800: { cylinders: 80, heads: 2, sectors: 15, type: 2 },
  1474560: { cylinders: 80, heads: 2, sectors: 18, type: 4 },
  2949120: { cylinders: 80, heads: 2, sectors: 36, type: 5 },
};

export class Disk {
  readonly drive: number;
  readonly geometry: Geometry;
  readonly floppyType: number;
  readonly sectorCount: number;
  /** A private copy: INT 13h writes change it, never the file. */
  readonly data: Uint8Array;

  constructor(image: Uint8Array) {
    this.data = new Uint8Array(Math.ceil(image.length / 512) * 512);
    this.data.set(image);
    this.sectorCount = this.data.length / 512;
    const f = FLOPPIES[image.length];
    if (f) {
      this.drive = 0x00;
      this.geometry = { cylinders: f.cylinders, heads: f.heads, sectors: f.sectors };
      this.floppyType = f.type;
    } else {
      this.drive = 0x80;
      this.floppyType = 0;
      this.geometry = { cylinders: Math.min(1024, Math.max(1, Math.ceil(this.sectorCount / (16 * 63)))), heads: 16, sectors: 63 };
    }
  }

  get isFloppy(): boolean {
    return this.drive < 0x80;
  }

  /** CHS (sector numbered from 1) to LBA, or -1 when outside the geometry. */
  chsToLba(c: number, h: number, s: number): number {
    const g = this.geometry;
    if (s < 1 || s > g.sectors || h >= g.heads || c >= g.cylinders) return -1;
    return (c * g.heads + h) * g.sectors + (s - 1);
  }

  /** Sector `lba`, or undefined past the end of the image. */
  read(lba: number): Uint8Array | undefined {
    if (lba < 0 || lba >= this.sectorCount) return undefined;
    return this.data.subarray(lba * 512, lba * 512 + 512);
  }

  write(lba: number, bytes: Uint8Array): boolean {
    if (lba < 0 || lba >= this.sectorCount) return false;
    this.data.set(bytes.subarray(0, 512), lba * 512);
    return true;
  }
}

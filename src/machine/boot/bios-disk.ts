// INT 13h on the boot image: reset, status, CHS read/write/verify, get parameters, disk type, and
// the EDD extensions (41h check, 42h/43h LBA read/write, 48h parameters). Only the boot drive exists.
import { BDA, setCarry, type BiosMemory } from './bios-context.ts';
import { hi8, lo8, lo16, setHi8, setLo8, setLo16, type CpuStateLike } from './realmode.ts';
import type { Disk } from './disk.ts';

const ST_OK = 0x00, ST_BAD_COMMAND = 0x01, ST_NOT_FOUND = 0x04, ST_TIMEOUT = 0x80;

export class BiosDisk {
  private lastStatus = 0;
  constructor(private readonly mem: BiosMemory, public disk: Disk | null) {}

  init(): void {
    const d = this.disk;
    this.mem.write8(BDA + 0x75, d && !d.isFloppy ? 1 : 0); // number of hard disks
  }

  handle(st: CpuStateLike): void {
    const ah = hi8(st.eax), dl = lo8(st.edx);
    const d = this.disk;
    if (d === null || dl !== d.drive) {
      if (ah === 0x08 && d !== null && ((dl & 0x80) === (d.drive & 0x80))) return this.finish(st, ST_TIMEOUT);
      return this.finish(st, ah === 0x41 ? ST_BAD_COMMAND : ST_TIMEOUT);
    }
    switch (ah) {
      case 0x00: return this.finish(st, ST_OK);
      case 0x01: st.eax = setHi8(st.eax, this.lastStatus); return this.finish(st, ST_OK, false);
      case 0x02: case 0x03: case 0x04: return this.chsTransfer(st, d, ah);
      case 0x08: return this.parameters(st, d);
      case 0x15: {
        if (d.isFloppy) { st.eax = setHi8(st.eax, 0x02); setCarry(this.mem, st, false); return; }
        st.eax = setHi8(st.eax, 0x03);
        st.ecx = setLo16(st.ecx, d.sectorCount >>> 16);
        st.edx = setLo16(st.edx, d.sectorCount & 0xffff);
        setCarry(this.mem, st, false);
        return;
      }
      case 0x41:
        if (lo16(st.ebx) !== 0x55aa) return this.finish(st, ST_BAD_COMMAND);
        st.ebx = setLo16(st.ebx, 0xaa55);
        st.ecx = setLo16(st.ecx, 0x0001); // fixed disk access subset
        st.eax = setHi8(st.eax, 0x30);
        setCarry(this.mem, st, false);
        return;
      case 0x42: case 0x43: case 0x44: return this.lbaTransfer(st, d, ah);
      case 0x48: return this.eddParameters(st, d);
      default: return this.finish(st, ST_BAD_COMMAND);
    }
  }

  private finish(st: CpuStateLike, status: number, setAh = true): void {
    this.lastStatus = status;
    if (setAh) st.eax = setHi8(st.eax, status);
    this.mem.write8(this.disk?.isFloppy ? BDA + 0x41 : BDA + 0x74, status);
    setCarry(this.mem, st, status !== ST_OK);
  }

  /** Moves `count` sectors between the disk and memory; returns how many were done. */
  private transfer(d: Disk, lba: number, count: number, addr: number, write: boolean, verify: boolean): number {
    for (let k = 0; k < count; k++) {
      const sector = d.read(lba + k);
      if (sector === undefined) return k;
      if (verify) continue;
      if (write) d.write(lba + k, this.mem.readBytes(addr + k * 512, 512));
      else this.mem.writeBytes(addr + k * 512, sector);
    }
    return count;
  }

  private chsTransfer(st: CpuStateLike, d: Disk, ah: number): void {
    const count = lo8(st.eax);
    const cl = lo8(st.ecx);
    const cyl = hi8(st.ecx) | ((cl & 0xc0) << 2);
    const lba = d.chsToLba(cyl, hi8(st.edx), cl & 0x3f);
    if (count === 0 || lba < 0) { st.eax = setLo8(st.eax, 0); return this.finish(st, ST_NOT_FOUND); }
    const addr = st.es.base + lo16(st.ebx);
    const done = this.transfer(d, lba, count, addr, ah === 0x03, ah === 0x04);
    st.eax = setLo8(st.eax, done);
    this.finish(st, done === count ? ST_OK : ST_NOT_FOUND);
  }

  private lbaTransfer(st: CpuStateLike, d: Disk, ah: number): void {
    const dap = st.ds.base + lo16(st.esi);
    const size = this.mem.read8(dap);
    if (size < 0x10) return this.finish(st, ST_BAD_COMMAND);
    const count = this.mem.read16(dap + 2);
    let addr = (this.mem.read16(dap + 6) << 4) + this.mem.read16(dap + 4);
    if (size >= 0x18 && this.mem.read32(dap + 4) === 0xffffffff) addr = this.mem.read32(dap + 0x10); // 64-bit flat buffer
    const lbaHigh = this.mem.read32(dap + 12);
    const lba = lbaHigh !== 0 ? -1 : this.mem.read32(dap + 8);
    const done = lba < 0 ? 0 : this.transfer(d, lba, count, addr, ah === 0x43, ah === 0x44);
    this.mem.write16(dap + 2, done);
    this.finish(st, done === count ? ST_OK : ST_NOT_FOUND);
  }

  private parameters(st: CpuStateLike, d: Disk): void {
    const g = d.geometry;
    const maxCyl = g.cylinders - 1;
    st.eax = setLo16(st.eax, 0);
    st.ecx = setLo16(st.ecx, ((maxCyl & 0xff) << 8) | ((maxCyl >> 2) & 0xc0) | g.sectors);
    st.edx = setLo16(st.edx, ((g.heads - 1) << 8) | 1);
    if (d.isFloppy) st.ebx = setLo8(st.ebx, d.floppyType);
    this.finish(st, ST_OK);
  }

  private eddParameters(st: CpuStateLike, d: Disk): void {
    const buf = st.ds.base + lo16(st.esi);
    const g = d.geometry;
    this.mem.write16(buf, 0x1a);
    this.mem.write16(buf + 2, 0x0002); // CHS information valid
    this.mem.write32(buf + 4, g.cylinders);
    this.mem.write32(buf + 8, g.heads);
    this.mem.write32(buf + 12, g.sectors);
    this.mem.write32(buf + 16, d.sectorCount);
    this.mem.write32(buf + 20, 0);
    this.mem.write16(buf + 24, 512);
    this.finish(st, ST_OK);
  }

  saveState(): { lastStatus: number; disk: Uint8Array | null } {
    return { lastStatus: this.lastStatus, disk: this.disk ? this.disk.data.slice() : null };
  }

  loadState(s: { lastStatus: number; disk: Uint8Array | null }): void {
    this.lastStatus = s.lastStatus;
    if (this.disk && s.disk) this.disk.data.set(s.disk);
  }
}

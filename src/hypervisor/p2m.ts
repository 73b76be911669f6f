// Host frames and guest-physical memory. The host has one Memory; the hypervisor hands its 4 KiB
// frames out on demand. Each VM's guest-physical page number (gfn) maps to a host frame through
// its p2m array, allocated the first time the page is touched. Guest-physical addresses beyond
// the VM's RAM map to NONE_FRAME, a host page outside RAM: reads give all ones, writes vanish,
// exactly what a bare PC does above its memory.
import type { Memory } from '../machine/memory.ts';
import type { FrameOwner } from '../trace/schema.ts';
import type { FrameEvents } from './frame-events.ts';

/** A host page number beyond any RAM and any MMIO: the "nothing there" page. */
export const NONE_FRAME = 0xeffff;

export class HostFrames {
  private next: number;
  private readonly free: number[] = [];
  private readonly limit: number;
  /** Frames currently handed out. */
  used = 0;
  /** Owner bookkeeping and 'frame' events (set by the hypervisor; see frame-events.ts). */
  events: FrameEvents | null = null;

  /** Frames below `firstFrame` stay the hypervisor's (never given to a guest or a table). */
  constructor(readonly memory: Memory, readonly firstFrame = 256) {
    this.next = firstFrame;
    this.limit = memory.size >>> 12;
  }

  get total(): number {
    return this.limit;
  }

  /** A zeroed frame, or -1 when host memory is exhausted. */
  alloc(owner: FrameOwner = 'hypervisor', ownerVm = -1): number {
    let f: number;
    if (this.free.length > 0) f = this.free.pop()!;
    else if (this.next < this.limit) f = this.next++;
    else return -1;
    this.used++;
    this.zero(f);
    this.events?.alloc(f, owner, ownerVm);
    return f;
  }

  release(frame: number): void {
    if (frame <= 0 || frame >= this.limit) return;
    this.free.push(frame);
    this.used--;
    this.events?.free(frame);
  }

  private zero(frame: number): void {
    const m = this.memory;
    if (m.codePages[frame] !== 0) m.onCodeWrite(frame); // decoded code there is stale now
    m.ram.fill(0, frame << 12, (frame + 1) << 12);
    m.markDirtyPage(frame); // a direct ram write: incremental snapshots must see it
  }
}

export class GuestPhysical {
  /** Guest RAM pages. */
  readonly pages: number;
  /** gfn → host frame; 0 = not backed yet. */
  readonly p2m: Int32Array;
  /** Pages backed so far. */
  backed = 0;
  /** Set when a backing allocation failed (the host ran out of frames). */
  exhausted = false;
  /** The VM this memory belongs to (frame events name it). */
  vm = -1;
  /**
   * A BIOS ROM's read-only alias below 4 GiB: guest pages from `romGfn` to 0xFFFFF map to host
   * pages from `romHostPage` on (a host MMIO window whose writes vanish, see Hypervisor.mapRom).
   */
  private romGfn = 0x100000;
  private romHostPage = 0;

  constructor(private readonly frames: HostFrames, readonly bytes: number) {
    this.pages = bytes >>> 12;
    this.p2m = new Int32Array(this.pages);
  }

  get memory(): Memory {
    return this.frames.memory;
  }

  /** Maps the top `pages` guest pages below 4 GiB to the host pages of a ROM window. */
  mapRom(hostPage: number, pages: number): void {
    this.romGfn = 0x100000 - pages;
    this.romHostPage = hostPage;
  }

  /** Host page for a guest page beyond RAM: the ROM alias or nothing. */
  private beyondRam(gfn: number): number {
    return gfn >= this.romGfn && gfn < 0x100000 ? this.romHostPage + (gfn - this.romGfn) : NONE_FRAME;
  }

  /** Host frame of guest page `gfn` (allocating it), NONE_FRAME beyond RAM, -1 if the host is full. */
  backing(gfn: number): number {
    if (gfn < 0 || gfn >= this.pages) return this.beyondRam(gfn);
    const f = this.p2m[gfn]!;
    if (f !== 0) return f;
    const nf = this.frames.alloc('guest', this.vm);
    if (nf < 0) {
      this.exhausted = true;
      return -1;
    }
    this.p2m[gfn] = nf;
    this.backed++;
    return nf;
  }

  /** Host frame if already backed (no allocation), else -1. */
  peekBacking(gfn: number): number {
    if (gfn < 0 || gfn >= this.pages) return this.beyondRam(gfn);
    const f = this.p2m[gfn]!;
    return f === 0 ? -1 : f;
  }

  /** Host physical address for a guest-physical address (allocating), or -1. */
  hostAddress(gpa: number): number {
    const f = this.backing(gpa >>> 12);
    return f < 0 ? -1 : ((f << 12) | (gpa & 0xfff)) >>> 0;
  }

  read32(gpa: number): number {
    const h = this.hostAddress(gpa >>> 0);
    return h < 0 ? 0xffffffff : this.memory.read32(h);
  }

  write32(gpa: number, v: number): void {
    const h = this.hostAddress(gpa >>> 0);
    if (h >= 0) this.memory.write32(h, v);
  }

  readBytes(gpa: number, n: number): Uint8Array {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; ) {
      const a = (gpa + i) >>> 0;
      const chunk = Math.min(n - i, 4096 - (a & 0xfff));
      const f = this.peekBacking(a >>> 12);
      if (f === NONE_FRAME) out.fill(0xff, i, i + chunk);
      else if (a >>> 12 >= this.pages) for (let k = 0; k < chunk; k++) out[i + k] = this.memory.read8(a - (a & ~0xfff) + (f << 12) + k);
      else if (f > 0) out.set(this.memory.ram.subarray((f << 12) | (a & 0xfff), ((f << 12) | (a & 0xfff)) + chunk), i);
      i += chunk;
    }
    return out;
  }

  writeBytes(gpa: number, bytes: Uint8Array): void {
    for (let i = 0; i < bytes.length; ) {
      const a = (gpa + i) >>> 0;
      const chunk = Math.min(bytes.length - i, 4096 - (a & 0xfff));
      const h = this.hostAddress(a);
      if (h >= 0 && a >>> 12 < this.pages) this.memory.writeBytes(h, bytes.subarray(i, i + chunk));
      i += chunk;
    }
  }

  /** FNV-1a over every backed page (gfn and contents): another VM cannot change it. */
  checksum(): number {
    let h = 0x811c9dc5;
    const ram = this.memory.ram;
    for (let g = 0; g < this.pages; g++) {
      const f = this.p2m[g]!;
      if (f === 0) continue;
      h = Math.imul(h ^ g, 0x01000193);
      const base = f << 12;
      for (let k = 0; k < 4096; k++) h = Math.imul(h ^ ram[base + k]!, 0x01000193);
    }
    return h >>> 0;
  }

  /** Gives every frame back (the VM is gone). */
  releaseAll(): void {
    for (let g = 0; g < this.pages; g++) {
      const f = this.p2m[g]!;
      if (f !== 0) this.frames.release(f);
      this.p2m[g] = 0;
    }
    this.backed = 0;
  }
}

// Host frames, guest-physical memory (p2m) and the guest walk shared by shadow and nested paging.
import { describe, expect, it } from 'vitest';
import { Memory } from '../../src/machine/memory.ts';
import { GuestPhysical, HostFrames, NONE_FRAME } from '../../src/hypervisor/p2m.ts';
import { walkGuest } from '../../src/hypervisor/guest-walk.ts';
import { Hypervisor } from '../../src/hypervisor/index.ts';

describe('host frames and p2m', () => {
  it('backs guest pages on demand with zeroed, distinct host frames', () => {
    const mem = new Memory(4 << 20);
    const frames = new HostFrames(mem, 256);
    const a = new GuestPhysical(frames, 1 << 20), b = new GuestPhysical(frames, 1 << 20);
    expect(a.backed).toBe(0);
    a.write32(0x1000, 0xdeadbeef);
    b.write32(0x1000, 0x12345678);
    expect(a.backed).toBe(1);
    expect(a.p2m[1]).not.toBe(b.p2m[1]);
    expect(a.read32(0x1000)).toBe(0xdeadbeef);
    expect(b.read32(0x1000)).toBe(0x12345678);
    const sum = a.checksum();
    b.write32(0x2000, 1);
    expect(a.checksum()).toBe(sum);
    a.releaseAll();
    expect(frames.used).toBe(2); // b's two pages
    const c = new GuestPhysical(frames, 1 << 20);
    expect(c.read32(0x1000)).toBe(0); // a reused frame comes back zeroed
  });

  it('maps guest-physical addresses beyond RAM to nothing: reads all ones, writes vanish', () => {
    const mem = new Memory(4 << 20);
    const g = new GuestPhysical(new HostFrames(mem), 1 << 20);
    expect(g.backing(0x100)).toBe(NONE_FRAME);
    g.write32(0x200000, 5);
    expect(g.read32(0x200000)).toBe(0xffffffff);
    expect([...g.readBytes(0xffffe, 4)]).toEqual([0, 0, 0xff, 0xff]);
  });

  it('refuses a VM the host cannot guarantee memory for', () => {
    const hv = new Hypervisor({ hostMemoryBytes: 32 << 20 });
    const image = new Uint8Array(0);
    expect(() => hv.addVm({ image, memoryBytes: 64 << 20 })).toThrow(/not enough host memory/);
  });
});

describe('the guest walk', () => {
  const tables = new Map<number, number>();
  const rd = (a: number) => tables.get(a) ?? 0;
  const wr = (a: number, v: number) => { tables.set(a, v >>> 0); };
  const id = (gpa: number) => gpa;
  const t = { cr0: 0x80010001, cr3: 0x1000, cr4: 0x10 };

  it('sets A on the PDE, A and D on the PTE, folds permissions, and faults with the right code', () => {
    tables.clear();
    wr(0x1000, 0x2000 | 7);                 // PDE 0: user, writable
    wr(0x2000 + 5 * 4, 0x9000 | 5);         // PTE 5: user, read-only
    wr(0x1000 + 4, 0x400000 | 0x83);        // PDE 1: 4 MiB page, supervisor, writable
    const r = walkGuest(t, 0x5123, false, true, id, rd, wr, null);
    expect(r.ok && r.gpa).toBe(0x9123);
    expect(rd(0x1000) & 0x20).toBe(0x20);
    expect(rd(0x2000 + 20) & 0x60).toBe(0x20);
    expect(walkGuest(t, 0x5123, true, true, id, rd, wr, null).errorCode).toBe(7); // user write to read-only
    expect(walkGuest(t, 0x6000, false, false, id, rd, wr, null).errorCode).toBe(0); // not present, read, supervisor
    const big = walkGuest(t, 0x456789, true, false, id, rd, wr, null);
    expect(big.ok && big.large && big.gpa).toBe(0x456789);
    expect(rd(0x1004) & 0x60).toBe(0x60);
    expect(walkGuest(t, 0x456789, false, true, id, rd, wr, null).errorCode).toBe(5); // user read of a supervisor page
  });

  it('lets the supervisor write read-only pages when CR0.WP is clear', () => {
    tables.clear();
    wr(0x1000, 0x2000 | 5);
    wr(0x2000, 0x9000 | 5);
    expect(walkGuest({ ...t, cr0: 0x80000001 }, 0x10, true, false, id, rd, wr, null).ok).toBe(true);
    expect(walkGuest(t, 0x10, true, false, id, rd, wr, null).errorCode).toBe(3);
  });
});

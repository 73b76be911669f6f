import { describe, expect, it } from 'vitest';
import { History } from '../../src/debug/history.ts';

const PAGE = 4096;
/** A fake machine snapshot: RAM as a page map (as Memory.saveSnapshot makes it) plus CPU bytes. */
function snap(pages: Record<number, number>): unknown {
  const m = new Map<number, Uint8Array>();
  for (const [n, fill] of Object.entries(pages)) m.set(Number(n), new Uint8Array(PAGE).fill(fill));
  return { cpu: { regs: new Int32Array(16) }, memory: { size: 1 << 20, pages: m } };
}

describe('snapshot history', () => {
  it('stores a page once when following snapshots did not change it', () => {
    const h = new History({ interval: 10, budgetBytes: 1 << 30 });
    h.add(0, snap({ 0: 1, 1: 2, 2: 3 }), 0, { consoleLength: 0, exceptions: 0 });
    h.add(10, snap({ 0: 1, 1: 9, 2: 3 }), 0, { consoleLength: 0, exceptions: 0 });
    h.add(20, snap({ 0: 1, 1: 9, 2: 3, 3: 4 }), 0, { consoleLength: 0, exceptions: 0 });
    expect(h.uniquePages).toBe(5); // pages 0, 2 shared; page 1 twice; page 3 new
    const a = (h.entries[0]!.snapshot as { memory: { pages: Map<number, Uint8Array> } }).memory.pages;
    const c = (h.entries[2]!.snapshot as { memory: { pages: Map<number, Uint8Array> } }).memory.pages;
    expect(c.get(0)).toBe(a.get(0)); // the same buffer
    expect(c.get(1)![0]).toBe(9);
    expect(h.atOrBefore(15)!.instructions).toBe(10);
    expect(h.atOrBefore(20)!.instructions).toBe(20);
    expect(h.atOrBefore(-1)).toBeUndefined();
    expect(() => h.add(20, snap({}), 0, { consoleLength: 0, exceptions: 0 })).toThrow(/increase/);
  });
  it('keeps to its byte budget, dense near the present and sparse in the past', () => {
    const h = new History({ interval: 1, budgetBytes: 40 * PAGE });
    for (let i = 0; i < 400; i++) h.add(i, snap({ [i % 200]: (i % 250) + 1 }), 0, { consoleLength: 0, exceptions: 0 });
    expect(h.bytes).toBeLessThanOrEqual(40 * PAGE);
    const pos = h.entries.map((e) => e.instructions);
    expect(pos[0]).toBe(0);
    expect(pos.at(-1)).toBe(399);
    const gaps = pos.slice(1).map((p, i) => p - pos[i]!);
    expect(gaps.at(-1)!).toBeLessThan(gaps[0]!); // recent snapshots closer together than old ones
    // dropped snapshots release their pages
    expect(h.uniquePages).toBeLessThanOrEqual(h.entries.length);
  });
  it('shares large byte arrays (a disk image) between snapshots while they do not change', () => {
    const h = new History({ interval: 1, budgetBytes: 1 << 30 });
    const disk = (fill: number) => ({ devices: { disk: { lastStatus: 0, disk: new Uint8Array(1 << 20).fill(fill) } } });
    h.add(0, disk(1), 0, { consoleLength: 0, exceptions: 0 });
    h.add(1, disk(1), 0, { consoleLength: 0, exceptions: 0 });
    h.add(2, disk(2), 0, { consoleLength: 0, exceptions: 0 });
    const d = (i: number) => (h.entries[i]!.snapshot as ReturnType<typeof disk>).devices.disk.disk;
    expect(d(1)).toBe(d(0));
    expect(d(2)).not.toBe(d(1));
    expect(h.bytes).toBeLessThan(2 * (1 << 20) + 3 * 4096);
  });
});

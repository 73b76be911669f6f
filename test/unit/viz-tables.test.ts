// @vitest-environment happy-dom
// Guest vs shadow tables rebuilt from events, and the walk of the last fault laid out in 1-D / 2-D.
import { describe, expect, it } from 'vitest';
import type { EventFields, EventKind } from '../../src/trace/schema.ts';
import { rebuildTables } from '../../src/ui/hv/tables.ts';
import { lastWalk, layoutWalk } from '../../src/ui/hv/walk.ts';
import { generateScenario } from '../../src/ui/hv/scenario.ts';
import type { VizEvent } from '../../src/ui/hv/types.ts';
import { maskOf } from '../../src/trace/schema.ts';
import { Hypervisor } from '../../src/hypervisor/index.ts';
import { hvKernel } from './hv-helpers.ts';

function stream() {
  const events: VizEvent[] = [];
  let seq = 0;
  return {
    events,
    at<K extends EventKind>(vm: number, kind: K, f: EventFields[K]): number {
      events.push({ seq: ++seq, tick: seq * 10, vm, vcpu: 0, kind, ...f } as VizEvent);
      return seq;
    },
  };
}

describe('guest and shadow tables', () => {
  const s = stream();
  s.at(0, 'shadow', { op: 'write-protect', linear: 0x3000, guestPte: 0x3023, shadowPte: 0x83021, guestTable: 0x3000 });
  s.at(0, 'pagefault', { outcome: 'hidden', linear: 0x400123, physical: 0x200123, errorCode: 4, eip: 0 });
  s.at(0, 'walk', { linear: 0x400123, step: 1, level: 2, dimension: 'guest', address: 0x1004, value: 0x3027 });
  s.at(0, 'walk', { linear: 0x400123, step: 2, level: 1, dimension: 'guest', address: 0x3000, value: 0x200027 });
  const fill = s.at(0, 'shadow', { op: 'fill', linear: 0x400000, guestPte: 0x200027, shadowPte: 0x900027 });
  s.at(0, 'shadow', { op: 'fill', linear: 0x401000, guestPte: 0x201027, shadowPte: 0x901027 });
  s.at(1, 'shadow', { op: 'fill', linear: 0x400000, guestPte: 0x555027, shadowPte: 0x666027 }); // another VM
  const inval = s.at(0, 'shadow', { op: 'invalidate', linear: 0x401000, guestPte: 0x201027, shadowPte: 0 });
  s.at(0, 'pagefault', { outcome: 'injected', linear: 0x402000, errorCode: 6, eip: 0 });
  const flush = s.at(0, 'shadow', { op: 'flush', linear: 0, guestPte: 0, shadowPte: 0 });

  it('pairs each guest PTE with the shadow PTE built from it, per VM', () => {
    const t = rebuildTables(s.events, 0, fill);
    expect(t.dirs.map((d) => d.dir)).toEqual([1]);
    const d = t.dirs[0]!;
    expect(d).toMatchObject({ guestPde: 0x3027, guestTable: 0x3000, writeProtected: true });
    expect(d.entries).toEqual([{ linear: 0x400000, index: 0, guestPte: 0x200027, shadowPte: 0x900027, lastOp: 'fill', lastSeq: fill, hiddenFaults: 1, trueFaults: 0 }]);
    expect(t.last).toEqual({ linear: 0x400000, op: 'fill', seq: fill });
    expect(rebuildTables(s.events, 1).dirs[0]!.entries[0]!.shadowPte).toBe(0x666027);
  });

  it('invalidate clears one shadow entry, flush all of them; true faults are counted apart', () => {
    const t = rebuildTables(s.events, 0, inval);
    expect(t.dirs[0]!.entries.map((e) => [e.linear, e.shadowPte, e.lastOp])).toEqual([[0x400000, 0x900027, 'fill'], [0x401000, 0, 'invalidate']]);
    const end = rebuildTables(s.events, 0);
    expect(end.flushes).toBe(1);
    expect(end.last).toEqual({ linear: 0, op: 'flush', seq: flush });
    expect(end.dirs[0]!.entries.every((e) => e.shadowPte === 0 && e.lastOp === 'flush')).toBe(true);
    expect(end.dirs[0]!.entries.find((e) => e.linear === 0x402000)).toMatchObject({ trueFaults: 1, hiddenFaults: 0, guestPte: null });
    expect(end.protectedPages).toEqual([0x3000]);
  });

  it('seeds guest entries from a snapshot', () => {
    const t = rebuildTables([], 2, Infinity, { vm: 2, pdes: [{ dir: 0, value: 0x2027 }], ptes: [{ linear: 0x5000, value: 0x5027 }] });
    expect(t.dirs[0]).toMatchObject({ dir: 0, guestPde: 0x2027, guestTable: 0x2000, writeProtected: false });
    expect(t.dirs[0]!.entries[0]).toMatchObject({ linear: 0x5000, guestPte: 0x5027, shadowPte: 0 });
  });
});

describe('translation walk', () => {
  it('replays the last fault of a nested run as a 2-D walk of 8 numbered references', () => {
    const run = generateScenario({ events: 5000, paging: 'nested' });
    const w = lastWalk(run.events)!;
    expect(w.fault.outcome).toBe('ept-violation');
    expect(w.twoD).toBe(true);
    expect(w.refs.map((r) => r.step)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    const layout = layoutWalk(w.refs);
    expect({ cols: layout.cols, rows: layout.rows }).toEqual({ cols: 3, rows: 3 });
    // Column k: nested L2 on row 0, nested L1 on row 1, then the guest reference on row 2.
    expect(layout.cells.map((c) => [c.ref.step, c.col, c.row])).toEqual([[1, 0, 0], [2, 0, 1], [3, 0, 2], [4, 1, 0], [5, 1, 1], [6, 1, 2], [7, 2, 0], [8, 2, 1]]);
    expect(layout.cells.at(-1)!.missed).toBe(true); // the nested PTE that was missing: the violation
  });

  it('replays a shadow run\'s last fault in 1-D and respects the position and the VM', () => {
    const run = generateScenario({ events: 5000, paging: 'shadow' });
    const w = lastWalk(run.events, Infinity, 1)!;
    expect(w.fault.vm).toBe(1);
    expect(w.twoD).toBe(false);
    expect(layoutWalk(w.refs).rows).toBe(1);
    const firstFault = run.events.find((e) => e.kind === 'pagefault')!;
    expect(lastWalk(run.events, firstFault.seq - 1)).toBeNull();
    expect(lastWalk(run.events, firstFault.seq)!.fault).toBe(firstFault);
  });
});

describe('translation walk in the hypervisor\'s event order', () => {
  it('finds the CPU\'s shadow walk and the software guest walk around the exit, the fault reported after the entry', () => {
    const s = stream();
    const lin = 0x104ffc;
    s.at(0, 'exit', { reason: 'IO_INSTRUCTION', qualification: 0, instructionLength: 1, eip: 0, cycles: 1 });
    s.at(0, 'walk', { linear: 0x999000, step: 1, level: 2, dimension: 'host', address: 0, value: 0 }); // another page
    s.at(0, 'walk', { linear: lin, step: 1, level: 2, dimension: 'host', address: 0x11e000, value: 0x128007 });
    s.at(0, 'walk', { linear: lin, step: 2, level: 1, dimension: 'host', address: 0x129410, value: 0 });
    s.at(0, 'walk', { linear: lin, step: 1, level: 2, dimension: 'guest', address: 0x105000, value: 0x107023 });
    s.at(0, 'walk', { linear: lin, step: 2, level: 1, dimension: 'guest', address: 0x107410, value: 0x104063 });
    s.at(0, 'exit', { reason: 'EXCEPTION_NMI', qualification: lin, guestLinear: lin, instructionLength: 0, eip: 0, cycles: 3000 });
    s.at(0, 'entry', { eip: 0 });
    s.at(0, 'pagefault', { outcome: 'hidden', linear: lin, physical: lin, errorCode: 2, eip: 0 });
    s.at(0, 'shadow', { op: 'fill', linear: 0x104000, guestPte: 0x104063, shadowPte: 0x120003 });
    const w = lastWalk(s.events)!;
    expect(w.refs.map((r) => `${r.dimension}${r.level}`)).toEqual(['host2', 'host1', 'guest2', 'guest1']);
    const layout = layoutWalk(w.refs);
    expect(layout.rowNames).toEqual(['the CPU walks the shadow table', "the hypervisor walks the guest's own table"]);
    expect(layout.cells.map((c) => [c.order, c.row, c.col, c.missed])).toEqual([[1, 0, 0, false], [2, 0, 1, true], [3, 1, 0, false], [4, 1, 1, false]]);
  });
});

describe('shadow roots: one shadow per guest CR3, as the hypervisor caches them', () => {
  const A = 0x300000, B = 0x301000;
  it('a cache hit (resync naming a CR3) switches roots and keeps their entries; a miss (flush naming one) starts an empty root', () => {
    const s = stream();
    s.at(0, 'shadow', { op: 'flush', linear: 0, guestPte: 0, shadowPte: 0, guestTable: A });
    s.at(0, 'shadow', { op: 'fill', linear: 0x800000, guestPte: 0x400027, shadowPte: 0x900025 });
    const toB = s.at(0, 'shadow', { op: 'flush', linear: 0, guestPte: 0, shadowPte: 0, guestTable: B });
    s.at(0, 'shadow', { op: 'fill', linear: 0x800000, guestPte: 0x500027, shadowPte: 0xa00025 });
    s.at(0, 'shadow', { op: 'fill', linear: 0x801000, guestPte: 0x501027, shadowPte: 0xa01025 });
    const backToA = s.at(0, 'shadow', { op: 'resync', linear: 0, guestPte: 0, shadowPte: 0, guestTable: A });
    const atB = rebuildTables(s.events, 0, toB);
    expect(atB.cr3).toBe(B);
    expect(atB.dirs).toEqual([]);
    expect(atB.roots).toEqual([{ cr3: B, current: true, entries: 0 }, { cr3: A, current: false, entries: 1 }]);
    const t = rebuildTables(s.events, 0, backToA);
    expect(t.cr3).toBe(A);
    expect(t.roots).toEqual([{ cr3: A, current: true, entries: 1 }, { cr3: B, current: false, entries: 2 }]);
    // No entry for page 0 from the resync, and A's entry is as it was filled.
    expect(t.dirs.flatMap((d) => d.entries.map((e) => [e.linear, e.guestPte, e.shadowPte, e.lastOp]))).toEqual([[0x800000, 0x400027, 0x900025, 'fill']]);
    expect(t.last).toEqual({ linear: 0, op: 'resync', seq: backToA });
    expect(t.flushes).toBe(2);
  });

  it('keeps at most 4 roots (least recently used out), a mode change drops them all, and a table write zaps every root using it', () => {
    const s = stream();
    for (const cr3 of [0x10000, 0x11000, 0x12000, 0x13000]) s.at(0, 'shadow', { op: 'flush', linear: 0, guestPte: 0, shadowPte: 0, guestTable: cr3 });
    s.at(0, 'shadow', { op: 'resync', linear: 0, guestPte: 0, shadowPte: 0, guestTable: 0x10000 }); // 0x11000 is now the LRU
    const fifth = s.at(0, 'shadow', { op: 'flush', linear: 0, guestPte: 0, shadowPte: 0, guestTable: 0x14000 });
    expect(rebuildTables(s.events, 0, fifth).roots.map((r) => r.cr3)).toEqual([0x14000, 0x10000, 0x13000, 0x12000]);
    // Both address spaces map dir 2 through the same guest table 0x20000; a write to its entry 1 zaps both.
    s.at(0, 'walk', { linear: 0x801000, step: 1, level: 2, dimension: 'guest', address: 0x14008, value: 0x20027 });
    s.at(0, 'shadow', { op: 'fill', linear: 0x801000, guestPte: 0x501027, shadowPte: 0xa01025 });
    s.at(0, 'shadow', { op: 'resync', linear: 0, guestPte: 0, shadowPte: 0, guestTable: 0x10000 });
    s.at(0, 'walk', { linear: 0x801000, step: 1, level: 2, dimension: 'guest', address: 0x10008, value: 0x20027 });
    s.at(0, 'shadow', { op: 'fill', linear: 0x801000, guestPte: 0x501027, shadowPte: 0xb01025 });
    const zap = s.at(0, 'shadow', { op: 'invalidate', linear: 0xc0020004, guestPte: 0, shadowPte: 0, guestTable: 0x20000 });
    const t = rebuildTables(s.events, 0, zap);
    expect(t.dirs[0]!.entries.map((e) => [e.linear, e.shadowPte, e.lastOp])).toEqual([[0x801000, 0, 'invalidate']]);
    expect(t.roots.map((r) => [r.cr3, r.entries])).toEqual([[0x10000, 0], [0x14000, 0], [0x13000, 0], [0x12000, 0]]);
    s.at(0, 'shadow', { op: 'flush', linear: 0, guestPte: 0, shadowPte: 0 });
    const after = rebuildTables(s.events, 0);
    expect(after.roots).toEqual([{ cr3: null, current: true, entries: 0 }]);
    // The next directory reference names the address space again.
    s.at(0, 'walk', { linear: 0x801000, step: 1, level: 2, dimension: 'guest', address: 0x13008, value: 0x20027 });
    expect(rebuildTables(s.events, 0).cr3).toBe(0x13000);
  });

  it('follows fixtures/hv/cr3-switch.asm: two address spaces, each with its own shadow of the same linear pages', async () => {
    const image = await hvKernel('cr3-switch');
    const hv = new Hypervisor();
    const events: VizEvent[] = [];
    hv.emitter.listen({ mask: maskOf(['io', 'pagefault', 'shadow', 'walk', 'exit']), onEvent: (ev) => { events.push(ev); } });
    hv.addVm({ image, memoryBytes: 16 << 20 });
    hv.run();
    const mark = (phase: number) => events.find((e) => e.kind === 'io' && e.port === 0x80 && e.dir === 'out' && e.value === phase)!.seq;
    const switches = events.filter((e) => e.kind === 'shadow' && e.guestTable !== undefined && (e.op === 'resync' || e.op === 'flush') && e.linear === 0);
    // Round 3: both spaces are cached from round 1 on, so every switch is a hit.
    const round3 = switches.filter((e) => e.seq > mark(3) && e.seq < mark(4));
    expect(round3.map((e) => [e.kind === 'shadow' && e.op, e.kind === 'shadow' && e.guestTable])).toEqual([['resync', A], ['resync', B]]);
    const inA = rebuildTables(events, 0, round3[0]!.seq);
    const inB = rebuildTables(events, 0, round3[1]!.seq);
    expect(inA.cr3).toBe(A);
    expect(inB.cr3).toBe(B);
    expect(inA.roots.map((r) => [r.cr3, r.current])).toEqual([[A, true], [B, false]]);
    expect(inB.roots.map((r) => [r.cr3, r.current])).toEqual([[B, true], [A, false]]);
    // At VIRT each space has its own 16 pages (A's frames at 0x400000, B's at 0x500000; B one more),
    // all still shadowed right after the switch: nothing was zeroed.
    const virt = (t: typeof inA) => t.dirs.find((d) => d.dir === 2)!.entries;
    expect(virt(inA).map((e) => (e.guestPte! & ~0xfff) >>> 0)).toEqual(Array.from({ length: 16 }, (_, i) => 0x400000 + i * 4096));
    expect(virt(inB).map((e) => (e.guestPte! & ~0xfff) >>> 0)).toEqual([...Array.from({ length: 16 }, (_, i) => 0x500000 + i * 4096), 0x600000]);
    expect(virt(inA).every((e) => (e.shadowPte & 1) === 1)).toBe(true);
    expect(virt(inB).every((e) => (e.shadowPte & 1) === 1)).toBe(true);
    expect(inA.roots.find((r) => r.cr3 === B)!.entries).toBeGreaterThanOrEqual(17);
    // The last phase's write to B's extra PTE while A runs zaps B's cached entry (B is not current).
    const zap = events.find((e) => e.seq > mark(9) && e.kind === 'shadow' && e.op === 'invalidate' && e.guestTable !== undefined)!;
    const atZap = rebuildTables(events, 0, zap.seq);
    expect(atZap.cr3).toBe(A);
    const entriesOf = (t: typeof inA, cr3: number) => t.roots.find((r) => r.cr3 === cr3)!.entries;
    expect(entriesOf(atZap, B)).toBe(entriesOf(rebuildTables(events, 0, zap.seq - 1), B) - 1);
  });
});

// @vitest-environment happy-dom
// Guest vs shadow tables rebuilt from events, and the walk of the last fault laid out in 1-D / 2-D.
import { describe, expect, it } from 'vitest';
import type { EventFields, EventKind } from '../../src/trace/schema.ts';
import { rebuildTables } from '../../src/ui/hv/tables.ts';
import { lastWalk, layoutWalk } from '../../src/ui/hv/walk.ts';
import { generateScenario } from '../../src/ui/hv/scenario.ts';
import type { VizEvent } from '../../src/ui/hv/types.ts';

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

// A big binary trace's guest/shadow tables and translation walk (table-replay.ts, read from the
// columns with checkpoints) are exactly what a replay of every event from the start shows
// (tables.ts's rebuildTables and walk.ts's lastWalk over the whole event list), at any position,
// in any order of seeks — including entries filled long before the position, which the old
// "last 50,000 events" window lost.
import { describe, expect, it } from 'vitest';
import { Hypervisor } from '../../src/hypervisor/index.ts';
import { maskOf, type EventFields, type EventKind, type TraceEvent } from '../../src/trace/schema.ts';
import { encodeTraceFile, scanTraceFile } from '../../src/trace/file.ts';
import { TimelineStore } from '../../src/ui/hv/timeline-store.ts';
import { generateScenario } from '../../src/ui/hv/scenario.ts';
import { rebuildTables } from '../../src/ui/hv/tables.ts';
import { lastWalk } from '../../src/ui/hv/walk.ts';
import { CHECKPOINT_EVENTS, ColumnTables, columnLastWalk } from '../../src/ui/hv/table-replay.ts';
import type { VizEvent } from '../../src/ui/hv/types.ts';
import { hvKernel } from './hv-helpers.ts';

/** The events as a .vzt file read back: the columns the page views (batches of 4096 events). */
function columnsOf(events: readonly VizEvent[]) {
  const scan = scanTraceFile(encodeTraceFile(events, {}, 4096).slice().buffer);
  if (!scan.ok) throw new Error(scan.error.message);
  const store = new TimelineStore();
  store.addColumns(scan.batches);
  expect(store.n).toBe(events.length);
  return store.columns;
}

/** fixtures/hv/cr3-switch.asm under the hypervisor: VM 0 with two address spaces, shadow roots cached and zapped. */
async function realRun(): Promise<VizEvent[]> {
  const hv = new Hypervisor();
  const events: VizEvent[] = [];
  hv.emitter.listen({ mask: maskOf(['pagefault', 'shadow', 'walk', 'exit', 'entry']), onEvent: (ev) => { events.push(ev); } });
  hv.addVm({ image: await hvKernel('cr3-switch'), memoryBytes: 16 << 20 });
  hv.run();
  return events;
}

/** `events`, then a synthetic run of other VMs (ids shifted by one) numbered after them: VM 0 goes quiet. */
function thenOthers(events: VizEvent[], n: number, paging: 'shadow' | 'nested'): VizEvent[] {
  const last = events.at(-1)!;
  const others = generateScenario({ events: n, paging }).events.map((e) =>
    ({ ...e, seq: e.seq + last.seq, tick: e.tick + last.tick + 1, vm: e.vm < 0 ? e.vm : e.vm + 1 }) as VizEvent);
  return [...events, ...others];
}

const vmsOf = (events: readonly VizEvent[]) => [...new Set(events.map((e) => e.vm).filter((v) => v >= 0))].sort((a, b) => a - b);

/** Checks the column replay against a full replay at `indexes` (in that order: forwards, backwards, across checkpoints) for every VM. */
function expectExact(events: readonly VizEvent[], indexes: readonly number[]): void {
  const cols = columnsOf(events);
  const replay = new ColumnTables(cols);
  const vms = vmsOf(events);
  for (const i of indexes) {
    const seq = events[i]!.seq;
    for (const vm of vms) {
      expect(replay.tablesAt(i + 1, vm), `tables of VM ${vm} at event ${i}`).toEqual(rebuildTables(events, vm, seq));
      expect(columnLastWalk(cols, i + 1, vm), `walk of VM ${vm} at event ${i}`).toEqual(lastWalk(events, seq, vm));
    }
  }
}

describe('tables and walk of a big binary trace equal a full replay', () => {
  it('keeps a real run\'s shadow roots and entries filled 150,000 events before the position', async () => {
    const real = await realRun();
    const events = thenOthers(real, 150_000, 'shadow');
    const cols = columnsOf(events);
    const end = events.length;
    const t = new ColumnTables(cols).tablesAt(end, 0);
    expect(t).toEqual(rebuildTables(events, 0));
    // Not vacuous: VM 0's shadow entries were all filled in its run, long before the position...
    const present = t.dirs.flatMap((d) => d.entries).filter((e) => (e.shadowPte & 1) === 1);
    expect(present.length).toBeGreaterThanOrEqual(16);
    expect(Math.max(...present.map((e) => e.lastSeq))).toBeLessThanOrEqual(real.at(-1)!.seq);
    expect(end - real.length).toBeGreaterThan(50_000);
    expect(t.roots.filter((r) => r.cr3 !== null).length).toBe(2); // both address spaces' shadows cached
    // ... so the old window (the last 50,000 events) showed none of them, nor its last fault's walk.
    const windowed = rebuildTables(events.slice(-50_000), 0);
    expect(windowed.dirs.flatMap((d) => d.entries).filter((e) => (e.shadowPte & 1) === 1)).toEqual([]);
    expect(lastWalk(events.slice(-50_000), Infinity, 0)).toBeNull();
    const walk = columnLastWalk(cols, end, 0);
    expect(walk).not.toBeNull();
    expect(walk).toEqual(lastWalk(events, Infinity, 0));
    expect(walk!.refs.length).toBeGreaterThan(0);
  });

  it.each(['shadow', 'nested'] as const)('at positions forwards, backwards and across checkpoints (%s paging, every VM)', async (paging) => {
    const events = thenOthers(await realRun(), 2 * CHECKPOINT_EVENTS + 30_000, paging);
    const n = events.length;
    const marks = [1, 2].map((c) => c * CHECKPOINT_EVENTS);
    expectExact(events, [
      1_000, 60_000, // the replay's front goes forward
      marks[0]! - 1, marks[0]!, marks[0]! + 1, // around a checkpoint
      n - 1, // the end: every checkpoint taken
      30_000, marks[1]! - 5, marks[0]! + 77_777, 0, marks[1]!, n - 2_000, // behind the front: from checkpoints
    ]);
  });

  it('through random CR3 switches, cache hits and misses, mode changes, table writes and faults', () => {
    // A stream of table events for 3 VMs, no story, every operation the replay knows, in any
    // order: the column replay must still agree with the object replay event for event.
    let x = 12345;
    const r = (k: number) => { x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0; return x % k; };
    const events: VizEvent[] = [];
    const at = <K extends EventKind>(vm: number, kind: K, f: EventFields[K]) => {
      events.push({ seq: events.length + 1, tick: events.length * 3, vm, vcpu: 0, kind, ...f } as TraceEvent);
    };
    const cr3s = [0, 0x1000, 0x9000, 0x11000, 0x19000, 0x21000, 0x29000];
    const page = () => ((r(4) << 22) | (r(64) << 12)) >>> 0;
    const pte = () => ((r(0x4000) << 12) | r(0x80)) >>> 0;
    while (events.length < CHECKPOINT_EVENTS + 40_000) {
      const vm = r(3), what = r(100), cr3 = cr3s[r(cr3s.length)]!, lin = page();
      if (what < 20) at(vm, 'walk', { linear: lin, step: 1, level: 2, dimension: 'guest', address: cr3 + (lin >>> 22) * 4, value: (0x40000 + r(8) * 0x1000) | r(2) | 6 });
      else if (what < 35) at(vm, 'walk', { linear: lin, step: 2, level: 1, dimension: r(5) === 0 ? 'nested' : 'guest', address: 0x40000 + r(0x1000), value: pte() });
      else if (what < 50) at(vm, 'pagefault', { outcome: (['bare', 'hidden', 'injected', 'ept-violation'] as const)[r(4)]!, linear: lin | r(0x1000), errorCode: r(8), eip: 0 });
      else if (what < 65) at(vm, 'shadow', { op: 'fill', linear: lin, guestPte: pte(), shadowPte: pte() });
      else if (what < 70) at(vm, 'shadow', { op: 'invalidate', linear: lin, guestPte: pte(), shadowPte: 0 });
      else if (what < 74) at(vm, 'shadow', { op: 'invalidate', linear: 0x40000 + r(8) * 0x1000 + r(1024) * 4, guestPte: pte(), shadowPte: 0, guestTable: 0x40000 + r(8) * 0x1000 });
      else if (what < 80) at(vm, 'shadow', { op: r(2) ? 'write-protect' : 'unprotect', linear: cr3, guestPte: cr3 | 0x23, shadowPte: pte(), guestTable: cr3 });
      else if (what < 86) at(vm, 'shadow', { op: 'flush', linear: 0, guestPte: 0, shadowPte: 0, guestTable: cr3 });
      else if (what < 88) at(vm, 'shadow', { op: 'flush', linear: 0, guestPte: 0, shadowPte: 0 });
      else if (what < 94) at(vm, 'shadow', { op: 'resync', linear: 0, guestPte: 0, shadowPte: 0, guestTable: cr3 });
      else if (what < 96) at(vm, 'shadow', { op: 'resync', linear: lin, guestPte: pte(), shadowPte: pte(), guestTable: 0x40000 });
      else at(vm, 'exit', { reason: 'CR_ACCESS', qualification: 3, instructionLength: 3, eip: 0, cycles: 100 });
    }
    const n = events.length;
    expectExact(events, [n - 1, 5, 99_999, CHECKPOINT_EVENTS, CHECKPOINT_EVENTS - 1, 77, n - 3, 123_456]);
  });
});

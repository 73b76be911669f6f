// @vitest-environment happy-dom
// The exit timeline's data: level-of-detail bins must add up to exactly what raw events say, the
// binary-batch path must see the same events as the object path, slices must pair entries and exits.
import { describe, expect, it } from 'vitest';
import { encodeBatch } from '../../src/trace/binary.ts';
import type { TraceEvent } from '../../src/trace/schema.ts';
import { generateScenario } from '../../src/ui/hv/scenario.ts';
import { CAT, NCAT, TimelineStore } from '../../src/ui/hv/timeline-store.ts';
import { countRange, geometryFor, laneAt, nearestEvent } from '../../src/ui/hv/timeline-draw.ts';

const run = generateScenario({ events: 30_000, paging: 'shadow' });
const store = new TimelineStore();
store.addEvents(run.events);

function rawCount(lane: number, t0: number, t1: number): number[] {
  const c = new Array<number>(NCAT).fill(0);
  for (let i = 0; i < store.n; i++) if (store.lane[i] === lane && store.tick[i]! >= t0 && store.tick[i]! < t1) c[store.cat[i]!]!++;
  return c;
}
function binTotals(lane: number, t0: number, t1: number, width: number): number[] {
  const b = store.bin(lane, t0, t1, width);
  const c = new Array<number>(NCAT).fill(0);
  for (let x = 0; x < width; x++) for (let k = 0; k < NCAT; k++) c[k]! += b.counts[x * NCAT + k]!;
  return c;
}

describe('timeline store', () => {
  it('classifies every event into a lane and category', () => {
    expect(store.n).toBe(run.events.length);
    const exits = run.events.filter((e) => e.kind === 'exit').length;
    let seen = 0;
    for (let i = 0; i < store.n; i++) if (store.cat[i] === CAT.exit) seen++;
    expect(seen).toBe(exits);
    expect(store.lanes).toBe(1 + run.info.vms.length);
    const hidden = run.events.filter((e) => e.kind === 'pagefault' && e.outcome === 'hidden').length;
    expect(countRange(store, 0, -Infinity, Infinity).counts[CAT.hidden]! + [1, 2, 3].reduce((a, l) => a + countRange(store, l, -Infinity, Infinity).counts[CAT.hidden]!, 0)).toBe(hidden);
  });

  it('pairs each entry with the next exit into guest slices, and exits with the next entry into handler slices', () => {
    // Guest time per VM from the events directly.
    const guest = new Map<number, number>();
    const open = new Map<number, number>();
    for (const e of run.events) {
      if (e.kind === 'entry') open.set(e.vm, e.tick);
      if (e.kind === 'exit' && open.has(e.vm)) { guest.set(e.vm, (guest.get(e.vm) ?? 0) + e.tick - open.get(e.vm)!); open.delete(e.vm); }
    }
    const fromSlices = new Map<number, number>();
    for (let s = 0; s < store.sliceCount; s++) {
      expect(store.sliceEnd[s]!).toBeGreaterThan(store.sliceStart[s]!);
      if (s > 0) expect(store.sliceStart[s]!).toBeGreaterThanOrEqual(store.sliceEnd[s - 1]!); // one CPU: disjoint, sorted
      if (store.sliceLane[s]! > 0) fromSlices.set(store.sliceVm[s]!, (fromSlices.get(store.sliceVm[s]!) ?? 0) + store.sliceEnd[s]! - store.sliceStart[s]!);
    }
    expect(fromSlices).toEqual(guest);
  });

  it('bins from the pyramid (zoomed out) and from raw events (zoomed in) count exactly the events in range', () => {
    const a = store.firstTick, b = store.lastTick + 1;
    for (const width of [50, 333, 1000]) {
      expect(store.levelFor((b - a) / width)).toBeGreaterThanOrEqual(0);
      for (let lane = 0; lane < store.lanes; lane++) expect(binTotals(lane, a, b, width)).toEqual(rawCount(lane, a, b));
    }
    // A window a few hundred ticks wide is finer than the finest pyramid level: raw events.
    const mid = store.tick[Math.floor(store.n / 2)]!;
    expect(store.levelFor(300 / 800)).toBe(-1);
    for (let lane = 0; lane < store.lanes; lane++) expect(binTotals(lane, mid, mid + 300, 800)).toEqual(rawCount(lane, mid, mid + 300));
  });

  it('coverage zoomed out matches the guest time of each VM', () => {
    const a = store.firstTick, b = store.lastTick + 1, width = 500;
    for (let lane = 1; lane < store.lanes; lane++) {
      const bins = store.bin(lane, a, b, width);
      const covered = bins.cover.reduce((s, c) => s + c, 0) * ((b - a) / width);
      let truth = 0;
      for (let s = 0; s < store.sliceCount; s++) if (store.sliceLane[s] === lane) truth += store.sliceEnd[s]! - store.sliceStart[s]!;
      expect(Math.abs(covered - truth) / truth).toBeLessThan(0.02);
    }
  });

  it('ingests binary batches without objects and decodes single events for hover text', () => {
    const trace = run.events.filter((e): e is TraceEvent => e.kind !== 'frame');
    const fromObjects = new TimelineStore();
    fromObjects.addEvents(trace);
    const fromBatches = new TimelineStore();
    for (let i = 0; i < trace.length; i += 4096) fromBatches.addBatch(encodeBatch(trace.slice(i, i + 4096)));
    expect(fromBatches.n).toBe(trace.length);
    expect(fromBatches.tick.subarray(0, trace.length)).toEqual(fromObjects.tick.subarray(0, trace.length));
    expect(fromBatches.cat.subarray(0, trace.length)).toEqual(fromObjects.cat.subarray(0, trace.length));
    expect(fromBatches.sub.subarray(0, trace.length)).toEqual(fromObjects.sub.subarray(0, trace.length));
    expect(fromBatches.sliceCount).toBe(fromObjects.sliceCount);
    for (const i of [0, 4095, 4096, 12345, trace.length - 1]) expect(fromBatches.eventAt(i)).toEqual(trace[i]);
  });

  it('forgets events from a seq on when the debugger steps back', () => {
    const s = new TimelineStore();
    s.addEvents(run.events);
    const cut = run.events[20_000]!.seq;
    s.truncateFromSeq(cut);
    expect(s.n).toBe(20_000);
    expect(s.seq[s.n - 1]).toBeLessThan(cut);
  });

  it('finds the event under the pointer, preferring the hovered row', () => {
    const i = run.events.findIndex((e) => e.kind === 'exit');
    const ev = run.events[i]!;
    expect(nearestEvent(store, ev.vm + 1, ev.tick + 3, 10, 0)).toBe(i);
    expect(nearestEvent(store, ev.vm + 1, ev.tick + 1e9, 10)).toBe(-1);
  });

  it('maps pointer y to lane and mark row', () => {
    const g = geometryFor(1000, 4, 14);
    expect(laneAt(g, g.axis - 1, 4)).toBeNull();
    expect(laneAt(g, g.axis + 2, 4)).toEqual({ lane: 0, row: -1 });
    expect(laneAt(g, g.axis + g.laneHeight * 1.95, 4)).toEqual({ lane: 1, row: 2 });
    expect(laneAt(g, g.axis + g.laneHeight * 4 + 1, 4)).toBeNull();
  });
});

describe('timeline slices on the hypervisor\'s own stream shape', () => {
  it('a switch ends the handler and starts guest time without an entry event', () => {
    const ev = (seq: number, tick: number, vm: number, kind: string, f: object) => ({ seq, tick, vm, vcpu: 0, kind, ...f }) as TraceEvent;
    const exit = { reason: 'PREEMPTION_TIMER', qualification: 0, instructionLength: 0, eip: 0, cycles: 100 };
    const list = [
      ev(0, 0, -1, 'sched', { from: -1, to: 0, reason: 'start' }),
      ev(1, 500, 0, 'exit', exit),
      ev(2, 600, -1, 'sched', { from: 0, to: 1, reason: 'quantum' }),
      ev(3, 650, -1, 'sched', { from: -1, to: 0, reason: 'wake' }),
      ev(4, 900, 1, 'exit', exit),
      ev(5, 1000, 1, 'entry', { eip: 0 }),
      ev(6, 1200, 1, 'exit', exit),
    ];
    const a = new TimelineStore();
    a.addEvents(list);
    const b = new TimelineStore();
    b.addBatch(encodeBatch(list));
    for (const st of [a, b]) {
      const slices = Array.from({ length: st.sliceCount }, (_, i) => [st.sliceLane[i], st.sliceVm[i], st.sliceStart[i], st.sliceEnd[i]]);
      expect(slices).toEqual([[1, 0, 0, 500], [0, 0, 500, 600], [2, 1, 600, 900], [0, 1, 900, 1000], [2, 1, 1000, 1200]]);
    }
  });
});

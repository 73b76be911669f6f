// The page map (src/migration/page-map.ts) that `vizor migrate --trace` writes into the trace
// header, and the migration view's per-page states built from it (src/ui/migration/model.ts):
// range text round-trips, malformed maps are refused, and on a real pre-copy migration the grid's
// state counts at every moment agree with the migration's own events.
import { describe, expect, it } from 'vitest';
import { Hypervisor } from '../../src/hypervisor/index.ts';
import { readImage } from '../../src/cli/image.ts';
import { driveVm } from '../../src/migration/driver.ts';
import { Migration } from '../../src/migration/engine.ts';
import { decodePageMap, encodePageMap, pageMapOf, pagesOf, rangesOf } from '../../src/migration/page-map.ts';
import { HostMerger } from '../../src/migration/trace-merge.ts';
import { buildModel, countStates, pageStatesAt, PAGE } from '../../src/ui/migration/model.ts';
import { maskOf, type TraceEvent } from '../../src/trace/schema.ts';

describe('page lists as ranges', () => {
  it('round-trips and refuses what is not a range list', () => {
    const pages = [0, 1, 2, 3, 7, 9, 10, 4095];
    expect(rangesOf(pages)).toBe('0-3,7,9-10,4095');
    expect(pagesOf(rangesOf(pages), 4096)).toEqual(pages);
    expect(pagesOf('', 10)).toEqual([]);
    for (const bad of ['1-', 'a', '5-3', '0-4096', '1,,2']) expect(pagesOf(bad, 4096), bad).toBeNull();
    expect(decodePageMap({ guestPages: 16, live: '0-3', rounds: [{ send: '0-3', dirty: '2' }], final: '2' })).toEqual({ guestPages: 16, live: [0, 1, 2, 3], rounds: [{ send: [0, 1, 2, 3], dirty: [2] }], final: [2] });
    for (const bad of [null, 3, { guestPages: 0 }, { guestPages: 16, live: '0-99', rounds: [], final: '' }, { guestPages: 16, live: '', rounds: 'x', final: '' }]) expect(decodePageMap(bad)).toBeNull();
  });
});

describe('the grid of a real pre-copy migration', () => {
  it('every moment: the grid counts are the events\' own, and at the end every page with data is on host B', async () => {
    const image = await readImage('fixtures/migration/writer-small.asm');
    const MB = { kind: 'multiboot' as const, cmdline: 'k ' };
    const a = new Hypervisor({ hostMemoryBytes: 96 << 20 }), b = new Hypervisor({ hostMemoryBytes: 96 << 20 });
    const events: TraceEvent[] = [];
    const merger = new HostMerger({ mask: maskOf(['migration', 'console']), onEvent: (ev) => events.push(ev) });
    merger.attach(a.emitter);
    merger.attach(b.emitter);
    const src = a.addVm({ image, boot: MB, memoryBytes: 8 << 20 });
    driveVm(a, src, { instructions: 200_000 });
    const m = new Migration(a, src, b, { link: { bandwidthBitsPerSecond: 1e9, latencyNs: 10_000 }, mode: 'precopy', maxDowntimeNs: 150_000 });
    const r = m.run({ image, boot: MB, memoryBytes: 8 << 20 });
    expect(r.rounds.length).toBeGreaterThan(1);
    const map = pageMapOf(r.events, 2048);
    expect(map.rounds.map((x) => x.send.length)).toEqual(r.rounds.map((x) => x.pagesSent));
    expect(map.rounds.map((x) => x.dirty.length)).toEqual(r.rounds.map((x) => x.dirtyAfter));
    expect(map.final.length).toBe(r.finalPages);
    const model = buildModel(events, { pages: encodePageMap(map) })!;
    expect(model.pages).toEqual(map);
    model.steps.forEach((step, i) => {
      const n = countStates(pageStatesAt(model, i)!);
      expect(n.reduce((x, y) => x + y, 0)).toBe(2048);
      if (step.phase === 'round-start') expect(n[PAGE.sending], `${i} ${step.label}`).toBe(map.rounds[step.round]!.send.length);
      if (step.phase === 'dirty') expect(n[PAGE.dirty], `${i} ${step.label}`).toBe(map.rounds[step.round]!.dirty.length);
      if (step.phase === 'downtime-start') expect(n[PAGE.sending]).toBe(r.finalPages);
    });
    const end = countStates(pageStatesAt(model, model.steps.length - 1)!);
    expect(end[PAGE.clean] + end[PAGE.dirty] + end[PAGE.sending]).toBe(0);
    expect(end[PAGE.sent]).toBe(new Set([...map.live, ...map.rounds.flatMap((x) => x.dirty)]).size);
    a.release();
    b.release();
  });
});

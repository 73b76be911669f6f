// The views' figures read from a binary trace's columns (column-views.ts) equal the ones derived
// from the same events as objects (derive.ts), at the end of the run and at positions before it,
// so opening a big .vzt shows what opening the NDJSON would.
import { describe, expect, it } from 'vitest';
import { generateScenario } from '../../src/ui/hv/scenario.ts';
import { encodeTraceFile, scanTraceFile } from '../../src/trace/file.ts';
import { TimelineStore } from '../../src/ui/hv/timeline-store.ts';
import { columnFrameExtent, columnTotals, decodeKinds, decodeRange, withTotals, SPARSE_KINDS } from '../../src/ui/hv/column-views.ts';
import { exitStats, memoryMap, schedule, vmCards } from '../../src/ui/hv/derive.ts';

describe.each(['shadow', 'nested'] as const)('column views of a %s-paging trace', (paging) => {
  const run = generateScenario({ events: 30_000, paging });
  const scan = scanTraceFile(encodeTraceFile(run.events, {}, 4096).slice().buffer);
  if (!scan.ok) throw new Error(scan.error.message);
  const store = new TimelineStore();
  store.addColumns(scan.batches);
  const cols = store.columns;
  const positions = [Infinity, run.events[12_345]!.seq, run.events[3_500]!.seq, 0];

  it('exits by reason, VM cards, the schedule and the memory map equal the object derivations at every position', () => {
    const sparse = decodeKinds(cols, SPARSE_KINDS);
    for (const at of positions) {
      const t = columnTotals(cols, at, run.info);
      expect(t.exits, `exits at ${at}`).toEqual(exitStats(run.events, at));
      expect(withTotals(vmCards(sparse, run.info, at), t), `cards at ${at}`).toEqual(vmCards(run.events, run.info, at));
      const m = memoryMap(run.events, run.info, at);
      expect(t.memory.owners, `memory at ${at}`).toEqual(m.owners);
      expect(t.memory.counts).toEqual(m.counts);
      expect(t.memory.lastChanged).toBe(m.lastChanged);
      expect(t.sched, `schedule at ${at}`).toEqual(schedule(run.events, run.info, at));
    }
  });

  it('decodes ranges and kinds exactly, and finds the frame extent', () => {
    expect(decodeRange(cols, 4000, 4100)).toStrictEqual(run.events.slice(4000, 4100));
    expect(decodeKinds(cols, ['sched'])).toStrictEqual(run.events.filter((e) => e.kind === 'sched'));
    expect(columnFrameExtent(cols)).toBe(Math.max(...run.events.map((e) => (e.kind === 'frame' ? e.frame + 1 : 0))));
    expect(store.n).toBe(run.events.length);
  });
});

// A big binary trace's counters (exits by reason, faults per VM, the host memory map, the
// scheduler's Gantt, credits and shares, the VMs' states) read through TotalsReplay's checkpoints
// equal one scan from the start (columnTotals, itself checked against the object derivations in
// viz-columns.test.ts) at positions visited forwards, backwards and across checkpoints.
import { describe, expect, it } from 'vitest';
import { encodeTraceFile, scanTraceFile } from '../../src/trace/file.ts';
import { TimelineStore } from '../../src/ui/hv/timeline-store.ts';
import { generateScenario } from '../../src/ui/hv/scenario.ts';
import { columnTotals, withConsoleTails } from '../../src/ui/hv/column-views.ts';
import { TotalsReplay, endOfSeq } from '../../src/ui/hv/totals-scan.ts';
import { CHECKPOINT_EVENTS } from '../../src/ui/hv/table-replay.ts';
import { exitStats, memoryMap, schedule } from '../../src/ui/hv/derive.ts';

describe.each(['shadow', 'nested'] as const)('counters of a %s-paging trace through checkpoints', (paging) => {
  const run = generateScenario({ events: 2 * CHECKPOINT_EVENTS + 20_000, paging });
  const scan = scanTraceFile(encodeTraceFile(run.events, {}, 4096).slice().buffer);
  if (!scan.ok) throw new Error(scan.error.message);
  const store = new TimelineStore();
  store.addColumns(scan.batches);
  const cols = store.columns;
  const n = run.events.length;

  it('equal one scan from the start at every position, in any order', () => {
    const replay = new TotalsReplay(cols, run.info);
    const C = CHECKPOINT_EVENTS;
    for (const end of [500, 90_000, C - 1, C, C + 1, n, 17, C + 60_000, 2 * C - 3, 0, 2 * C, n - 1_000, n]) {
      const seq = end === 0 ? 0 : run.events[end - 1]!.seq;
      expect(endOfSeq(cols, seq), `end of seq ${seq}`).toBe(end);
      const got = withConsoleTails(replay.at(end), cols, end, run.info);
      expect(got, `totals after ${end} events`).toEqual(columnTotals(cols, seq, run.info));
    }
    // And, at one position past the first checkpoint, the object derivations themselves.
    const seq = run.events[C + 12_345]!.seq;
    const t = replay.at(C + 12_346);
    expect(t.exits).toEqual(exitStats(run.events, seq));
    expect(t.sched).toEqual(schedule(run.events, run.info, seq));
    expect(t.memory.owners).toEqual(memoryMap(run.events, run.info, seq).owners);
  });
});

// Every event the hypervisor emits fits the schema (the trace validator is the judge), ticks never
// go backwards, each exit is followed by its entry, and switches name the VM they go to.
import { describe, expect, it } from 'vitest';
import { fixtureKernel, hvKernel } from './hv-helpers.ts';
import { Hypervisor } from '../../src/hypervisor/index.ts';
import { ALL_KINDS_MASK, validateEvent, type TraceEvent } from '../../src/trace/index.ts';

describe('hypervisor events', () => {
  for (const paging of ['shadow', 'nested'] as const) {
    it(`${paging}: all events valid, ordered, exits paired with entries`, async () => {
      const hv = new Hypervisor({ quantum: 20_000 });
      const events: TraceEvent[] = [];
      hv.emitter.listen({ mask: ALL_KINDS_MASK, onEvent: (ev) => events.push(ev) });
      hv.addVm({ image: await fixtureKernel('pit-timer'), paging });
      hv.addVm({ image: await hvKernel('count-pages'), paging, cpu: 'bt', memoryBytes: 16 << 20 });
      hv.addVm({ image: await hvKernel('hole'), paging, cpu: 'deprivilege' });
      hv.run();
      expect(events.length).toBeGreaterThan(1000);
      let lastTick = 0, lastSeq = -1, openExit = false;
      const kinds = new Set<string>();
      for (const ev of events) {
        const v = validateEvent(JSON.parse(JSON.stringify(ev)));
        if (!v.ok) throw new Error(`${v.error} in ${JSON.stringify(ev)}`);
        expect(ev.tick).toBeGreaterThanOrEqual(lastTick);
        expect(ev.seq).toBeGreaterThan(lastSeq);
        lastTick = ev.tick;
        lastSeq = ev.seq;
        kinds.add(ev.kind);
        if (ev.kind === 'exit') { expect(openExit).toBe(false); openExit = true; }
        if (ev.kind === 'entry') { expect(openExit).toBe(true); openExit = false; }
        if (ev.kind === 'sched') expect(ev.vm).toBe(-1);
      }
      for (const k of ['exit', 'entry', 'sched', 'walk', 'io', 'console', 'interrupt', 'pagefault']) expect(kinds).toContain(k);
      if (paging === 'shadow') expect(kinds).toContain('shadow');
      const vmsSeen = new Set(events.filter((e) => e.kind === 'console').map((e) => e.vm));
      expect([...vmsSeen].sort()).toEqual([0, 1, 2]);
    });
  }
});

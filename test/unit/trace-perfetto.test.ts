// The Chrome/Perfetto trace-event JSON for a multi-VM stream: the structure the format requires
// (traceEvents, ph/ts/dur/pid/tid, metadata names), slices well nested per thread, and the sinks.
import { describe, expect, it } from 'vitest';
import {
  HYPERVISOR_PID,
  checkChromeTrace,
  pidOf,
  tidOf,
  toPerfetto,
  type ChromeEvent,
} from '../../src/trace/perfetto.ts';
import { createTraceSink } from '../../src/trace/sink.ts';
import { parseTrace } from '../../src/trace/reader.ts';
import { Emitter } from '../../src/trace/emitter.ts';
import { syntheticEvents } from '../../src/trace/synthetic.ts';
import type { TraceEvent } from '../../src/trace/schema.ts';

const events = syntheticEvents({ count: 5000, seed: 11, vms: 3, vcpus: 2 });

function checkWellNested(slices: ChromeEvent[]): void {
  const byThread = new Map<string, ChromeEvent[]>();
  for (const s of slices) {
    const key = `${s.pid}:${s.tid}`;
    byThread.set(key, [...(byThread.get(key) ?? []), s]);
  }
  for (const [thread, list] of byThread) {
    list.sort((a, b) => a.ts! - b.ts! || b.dur! - a.dur!);
    const stack: number[] = []; // ends of the open enclosing slices
    for (const s of list) {
      while (stack.length > 0 && stack[stack.length - 1]! <= s.ts!) stack.pop();
      const end = s.ts! + s.dur!;
      if (stack.length > 0)
        expect(end, `slice at ${s.ts} on ${thread} overlaps its parent`).toBeLessThanOrEqual(
          stack[stack.length - 1]!,
        );
      stack.push(end);
    }
  }
}

describe('Perfetto JSON for a multi-VM run', () => {
  const trace = JSON.parse(JSON.stringify(toPerfetto(events, { vms: 3 }))) as {
    traceEvents: ChromeEvent[];
    displayTimeUnit: string;
  };
  const te = trace.traceEvents;

  it('has the trace-event format structure', () => {
    expect(Array.isArray(te)).toBe(true);
    expect(trace.displayTimeUnit).toBe('ns');
    for (const e of te) {
      expect(['X', 'i', 'M']).toContain(e.ph);
      expect(typeof e.name).toBe('string');
      expect(Number.isInteger(e.pid) && Number.isInteger(e.tid)).toBe(true);
      if (e.ph !== 'M') expect(Number.isFinite(e.ts) && e.ts! >= 0).toBe(true);
      if (e.ph === 'X') expect(Number.isFinite(e.dur) && e.dur! >= 0).toBe(true);
      if (e.ph === 'i') expect(e.s).toBe('t');
      if (e.ph === 'M')
        expect(
          typeof (e.args as { name?: unknown; sort_index?: unknown }).name === 'string' ||
            e.name === 'process_sort_index',
        ).toBe(true);
    }
  });

  it('names every process and thread it uses: VMs, vCPUs and the hypervisor', () => {
    const processNames = new Map(
      te.filter((e) => e.name === 'process_name').map((e) => [e.pid, e.args!.name]),
    );
    const threadNames = new Map(
      te.filter((e) => e.name === 'thread_name').map((e) => [`${e.pid}:${e.tid}`, e.args!.name]),
    );
    expect(processNames.get(HYPERVISOR_PID)).toBe('hypervisor');
    for (const vm of [0, 1, 2]) expect(processNames.get(pidOf(vm))).toBe(`VM ${vm}`);
    for (const e of te.filter((x) => x.ph !== 'M')) {
      expect(processNames.has(e.pid), `pid ${e.pid}`).toBe(true);
      expect(threadNames.has(`${e.pid}:${e.tid}`), `thread ${e.pid}:${e.tid}`).toBe(true);
    }
    expect(threadNames.get(`${pidOf(1)}:${tidOf(1)}`)).toBe('vCPU 1');
    expect(threadNames.get(`${HYPERVISOR_PID}:1000`)).toBe('scheduler');
    expect(threadNames.get(`${HYPERVISOR_PID}:1001`)).toBe('exit handlers');
    // ... and names only threads that carry events.
    const used = new Set(te.filter((x) => x.ph !== 'M').map((x) => `${x.pid}:${x.tid}`));
    expect([...threadNames.keys()].sort()).toEqual([...used].sort());
    // The hypervisor's own events (vm -1) go on its CPU threads.
    const warning = {
      seq: 1e9,
      tick: 1e9,
      vm: -1,
      vcpu: 0,
      kind: 'warning',
      message: 'VM 2 killed',
    } as const;
    const withOwn = toPerfetto([...events, warning]).traceEvents;
    const own = withOwn.find((x) => x.cat === 'warning' && x.pid === HYPERVISOR_PID)!;
    expect(own.tid).toBe(tidOf(0));
    expect(
      withOwn.find((x) => x.name === 'thread_name' && x.pid === HYPERVISOR_PID && x.tid === own.tid)!.args,
    ).toEqual({
      name: 'cpu 0',
    });
  });

  it('makes every exit a slice from the exit to its entry, and every fault an instant', () => {
    const exitsWithEntry = events.filter((e) => e.kind === 'exit').length;
    const exitSlices = te.filter((e) => e.cat === 'exit');
    expect(exitSlices.length).toBe(exitsWithEntry);
    for (const s of exitSlices) expect(s.ph).toBe('X');
    const first = events.findIndex((e) => e.kind === 'exit');
    const exit = events[first]!;
    const entry = events
      .slice(first)
      .find((e) => e.kind === 'entry' && e.vm === exit.vm && e.vcpu === exit.vcpu)!;
    const slice = exitSlices.find((s) => s.args!.seq === exit.seq)!;
    expect(slice).toMatchObject({
      ts: exit.tick,
      dur: entry.tick - exit.tick,
      pid: pidOf(exit.vm),
      tid: tidOf(exit.vcpu),
    });
    expect(te.filter((e) => e.cat === 'pagefault').length).toBe(
      events.filter((e) => e.kind === 'pagefault').length,
    );
    for (const e of te.filter((x) => x.cat === 'pagefault' || x.cat === 'shadow')) expect(e.ph).toBe('i');
    expect(te.filter((e) => e.cat === 'sched').length).toBe(events.filter((e) => e.kind === 'sched').length);
  });

  it('keeps slices well nested on every thread', () => {
    checkWellNested(te.filter((e) => e.ph === 'X'));
  });

  it('passes checkChromeTrace, which catches broken traces', () => {
    expect(checkChromeTrace(trace)).toEqual([]);
    const m = (pid: number, tid: number): ChromeEvent[] => [
      { name: 'process_name', ph: 'M', pid, tid: 0, args: { name: 'p' } },
      { name: 'thread_name', ph: 'M', pid, tid, args: { name: 't' } },
    ];
    const x = (ts: number, dur: number): ChromeEvent => ({ name: 's', ph: 'X', pid: 1, tid: 1, ts, dur });
    expect(checkChromeTrace({ traceEvents: [...m(1, 1), x(0, 10), x(2, 3), x(8, 5)] })).toEqual([
      'thread 1:1: slice at 8..13 overlaps its parent (ends 10)',
    ]);
    expect(checkChromeTrace({ traceEvents: [x(0, 1)] })).toEqual([
      'process 1 has no name',
      'thread 1:1 has no name',
    ]);
    expect(checkChromeTrace({ traceEvents: [...m(1, 1), { ...x(0, 1), ph: 'B' as never }] })).toEqual([
      'traceEvents[2]: unexpected ph "B"',
    ]);
    expect(checkChromeTrace({})).toEqual(['traceEvents is not an array']);
  });
});

describe('trace sinks', () => {
  function record(
    format: 'ndjson' | 'perfetto',
    kinds?: TraceEvent['kind'][],
  ): { text: string; chunks: number } {
    const chunks: string[] = [];
    const sink = createTraceSink({
      format,
      kinds,
      params: { kernel: 'k' },
      write: (c) => chunks.push(c),
      chunkBytes: 4096,
    });
    const emitter = new Emitter();
    let tick = 0;
    emitter.now = () => tick;
    const stop = emitter.listen(sink.listener);
    for (const ev of events) {
      tick = ev.tick;
      emitter.vm = ev.vm;
      emitter.vcpu = ev.vcpu;
      const { seq: _s, tick: _t, vm: _v, vcpu: _c, kind, ...fields } = ev;
      emitter.emit(kind, fields as never);
    }
    stop();
    sink.close();
    return { text: chunks.join(''), chunks: chunks.length };
  }

  it('NDJSON sink writes a valid trace in chunks, with only the kinds asked for', () => {
    const { text, chunks } = record('ndjson', ['exit', 'pagefault']);
    expect(chunks).toBeGreaterThan(1);
    const parsed = parseTrace(text);
    if (!parsed.ok) throw new Error(parsed.error.message);
    expect(parsed.header.params).toEqual({ kernel: 'k' });
    const want = events.filter((e) => e.kind === 'exit' || e.kind === 'pagefault');
    expect(parsed.events.map((e) => [e.kind, e.tick, e.vm])).toEqual(want.map((e) => [e.kind, e.tick, e.vm]));
  });

  it('Perfetto sink streams the same JSON as toPerfetto', () => {
    const { text } = record('perfetto');
    const streamed = JSON.parse(text) as { traceEvents: ChromeEvent[] };
    // The emitter numbers events itself (seq 0, 1, ...); everything else is as recorded.
    const reference = toPerfetto(
      events.map((e, i) => ({ ...e, seq: i })),
      { kernel: 'k' },
    );
    expect(streamed).toEqual(JSON.parse(JSON.stringify(reference)));
  });
});

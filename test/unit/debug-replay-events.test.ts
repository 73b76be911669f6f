// Replays from the debugger's history emit exactly the events of the first run, numbered the same:
// the CPU snapshot keeps the TLB (src/machine/cpu/snapshot.ts), so a restore neither flushes it
// (a 'tlb flush' event) nor refills it (extra 'tlb fill' events and walks). Lesson 7's kernel on
// the bare machine: paging on, page faults, CR3 switches and INVLPG, every kind listened to.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { assemble } from '../../src/asm/index.ts';
import { Debugger } from '../../src/debug/debugger.ts';
import { Machine } from '../../src/machine/machine.ts';
import { Emitter } from '../../src/trace/emitter.ts';
import { ALL_KINDS_MASK, type TraceEvent } from '../../src/trace/schema.ts';

const LESSON = join(import.meta.dirname, '../../lessons/07-shadow-paging/kernel.asm');

function image(): Uint8Array {
  const r = assemble(readFileSync(LESSON, 'utf8'), {
    fileName: LESSON,
    provider: { read: (p) => readFileSync(p.startsWith('/') ? p : join(dirname(LESSON), p), 'utf8') },
  });
  expect(r.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
  return r.bytes;
}

describe('replays emit the first run\'s events', () => {
  it('going back and forward again re-emits the same events with the same numbers, TLB events included', () => {
    const emitter = new Emitter();
    const m = new Machine({ memoryBytes: 32 << 20, emitter });
    m.load(image(), { kind: 'multiboot' });
    const d = new Debugger(m, { snapshotInterval: 400, snapshotOverhead: 0 });
    let log: TraceEvent[] = [];
    emitter.listen({ mask: ALL_KINDS_MASK, onEvent: (ev) => { log.push(structuredClone(ev)); } });
    let s = d.continue(9000);
    const end = m.cpu.instructions;
    expect(s.reason === 'budget' || s.reason === 'exited').toBe(true);
    const first = new Map(log.map((ev) => [ev.seq, ev]));
    expect(log.some((ev) => ev.kind === 'tlb' && ev.op === 'fill')).toBe(true);
    expect(log.some((ev) => ev.kind === 'pagefault')).toBe(true); // the guest's own fault at 0x400000
    for (const back of [1, 3000, 7777]) {
      // Back in time (a restore plus a replay), then forward over the same stretch again.
      log = [];
      d.goTo(back);
      expect(m.cpu.instructions).toBe(back);
      s = d.continue(end - back);
      expect(m.cpu.instructions).toBe(end);
      expect(log.length).toBeGreaterThan(0);
      for (const ev of log) expect(ev, `event #${ev.seq} of the replay from ${back}`).toEqual(first.get(ev.seq));
      expect(log.at(-1)!.seq).toBe([...first.keys()].at(-1));
    }
  });
});

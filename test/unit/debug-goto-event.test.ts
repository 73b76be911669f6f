// Going to an event (the event log's click): the machine lands on the first instruction boundary
// after the event was emitted, also after HLT idles, where an event's tick (virtual time) has run
// far ahead of the instructions retired. The oracle is plain single-stepping from the start: after
// each step, the stream position tells which events have happened.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { Debugger } from '../../src/debug/debugger.ts';
import { Machine } from '../../src/machine/machine.ts';
import { EventLocator } from '../../src/debug/event-locator.ts';
import { Engine } from '../../src/worker/engine.ts';
import { realCore } from '../../src/worker/core.ts';
import { EVENT_KINDS, maskOf, type TraceEvent } from '../../src/trace/schema.ts';

const KERNELS = join(import.meta.dirname, '../../fixtures/kernels');
let image: Uint8Array;

beforeAll(() => {
  const out = join(mkdtempSync(join(tmpdir(), 'vizor-goto-event-')), 'k.bin');
  execFileSync('nasm', ['-f', 'bin', `-i${KERNELS}/`, '-o', out, join(KERNELS, 'pit-timer.asm')]);
  image = new Uint8Array(readFileSync(out));
});

interface Stop { n: number; sub: number; eip: number; nextSeq: number; halted: boolean }

function boot(): { m: Machine; d: Debugger; events: TraceEvent[]; retiredAt: Map<number, number>; locator: EventLocator; rec: { on: boolean } } {
  const rec = { on: true };
  const m = new Machine({ memoryBytes: 16 << 20 });
  m.load(image, { kind: 'multiboot' });
  const d = new Debugger(m, { snapshotInterval: 2000, snapshotOverhead: 0 });
  const events: TraceEvent[] = [];
  const retiredAt = new Map<number, number>();
  const locator = new EventLocator(() => m.cpu.retired());
  m.emitter.listen({ mask: maskOf(EVENT_KINDS.filter((k) => k !== 'walk')), onEvent: (ev) => {
    if (!rec.on) return; // the first run only, not the replays of going back
    events.push(ev); retiredAt.set(ev.seq, m.cpu.retired()); locator.record(ev);
  } });
  d.takeSnapshot();
  return { m, d, events, retiredAt, locator, rec };
}

function here(m: Machine, d: Debugger): Stop {
  const s = d.state();
  return { n: s.instructions, sub: s.sub, eip: s.pc, nextSeq: m.emitter.nextSeq, halted: s.registers.halted };
}

describe('going to an event', () => {
  it('lands on the first boundary after the event, also after HLT idles (tick ≠ instructions)', () => {
    // The oracle: single steps from the start until the third timer tick has been printed.
    const o = boot();
    const stops: Stop[] = [];
    while (!o.d.console.includes('tick=00000003')) {
      const r = o.d.stepInto();
      expect(['step', 'history-start']).toContain(r.reason);
      stops.push(here(o.m, o.d));
    }
    const last = stops[stops.length - 1]!.nextSeq;
    // Not the first instruction's fetch (its TLB fill comes before the first boundary the hooks
    // see, where the oracle's starting state is not a step's stop).
    const wanted = o.events.filter((e) => e.seq < last && o.retiredAt.get(e.seq)! > 0);
    // The point of the test: after the idles, ticks have run far ahead of the instruction counts.
    const idleJumps = wanted.filter((e) => e.tick > o.retiredAt.get(e.seq)! + 1000);
    expect(idleJumps.length).toBeGreaterThan(10);
    expect(wanted.some((e) => e.kind === 'interrupt')).toBe(true);
    expect(wanted.some((e) => e.kind === 'halt')).toBe(true);

    // The debugger under test: run to the end, then go to each event, in a shuffled order.
    const t = boot();
    expect(t.d.continue().reason).toBe('exited');
    t.rec.on = false;
    const order = wanted.map((e) => e.seq).sort((a, b) => ((a * 7919) % 101) - ((b * 7919) % 101));
    let checked = 0;
    for (const seq of order) {
      const ev = t.events.find((e) => e.seq === seq)!;
      expect(ev.kind).toBe(wanted.find((e) => e.seq === seq)!.kind); // the same stream
      const place = t.locator.place(seq)!;
      expect(place.retired).toBe(o.retiredAt.get(seq));
      const r = t.d.goToEvent(place.retired, place.isIt);
      expect(r.reason).toBe('step');
      // (A replay's sequence numbers may run ahead: a restored CPU refills its TLB. Not compared.)
      const { nextSeq: _n, ...got } = here(t.m, t.d);
      if (ev.kind === 'halt') {
        // HLT's own event: there is no boundary until the wake-up, so it stops at the halted CPU.
        expect(got.halted).toBe(true);
        expect(got.n).toBe(place.retired + 1);
      } else {
        const { nextSeq: _e, ...expected } = stops.find((s) => s.nextSeq > seq)!;
        expect({ seq, kind: ev.kind, ...got }).toEqual({ seq, kind: ev.kind, ...expected });
      }
      checked++;
    }
    expect(checked).toBe(wanted.length);
  });

  it('the locator ranks events of a kind at one count, goes on ranking after a cut, and forgets the oldest past its limit', () => {
    let n = 5;
    const loc = new EventLocator(() => n, 3);
    const io = (seq: number) => ({ seq, tick: 0, vm: 0, vcpu: 0, kind: 'io', port: 0x3f8, size: 1, value: 0, dir: 'out' }) as TraceEvent;
    loc.record(io(0));
    loc.record(io(1));
    loc.record(io(2));
    expect(loc.truncateAfterSeq(0)).toBe(1);
    loc.record(io(1)); // recorded again after going back: still the second I/O event at count 5
    const p = loc.place(1)!;
    expect(p.retired).toBe(5);
    expect(p.isIt(io(10))).toBe(false); // the first one at count 5
    expect(p.isIt(io(11))).toBe(true);
    n = 6;
    expect(loc.place(1)!.isIt(io(12))).toBe(false); // another count
    for (let seq = 2; seq < 10; seq++) loc.record(io(seq));
    expect(loc.length).toBeLessThanOrEqual(6);
    expect(loc.place(0)).toBeNull();
    expect(loc.place(9)?.retired).toBe(6);
  });

  it('the app engine: the event list stays that of the run across step backs, seeks and event clicks', () => {
    const e = new Engine(realCore(), 16 << 20);
    e.load(image, { kind: 'multiboot' });
    // What the UI's list holds, kept as the host sends it (host.ts flushOutput).
    let list: TraceEvent[] = [];
    const flush = () => {
      if (e.rewoundTo !== null) { const cut = e.rewoundTo - 1; list = list.filter((ev) => ev.seq <= cut); e.rewoundTo = null; }
      list = list.concat(e.pendingEvents);
      e.pendingEvents = [];
    };
    const consoleText = () => list.filter((ev) => ev.kind === 'console').map((ev) => (ev as { text: string }).text).join('');
    for (let i = 0; i < 50 && e.run(1_000_000).kind === 'budget'; i++) flush();
    flush();
    expect(e.finished?.kind).toBe('debug-exit');
    const full = consoleText();
    expect(full.replace(/\r/g, '')).toBe(readFileSync(join(KERNELS, 'pit-timer.expected.txt'), 'utf8'));
    const ticks = list.filter((ev) => ev.kind === 'console' && (ev as { text: string }).text === '3');
    expect(ticks.length).toBeGreaterThan(0);

    // Back, forward a little, back again: the list always ends where the machine is.
    for (const n of [60_000, 61_000, 20_000, 20_500]) {
      expect(e.seek(n).kind).toBe('target');
      flush();
      expect(full.startsWith(consoleText())).toBe(true);
      expect(consoleText()).toBe(e.console);
      const seqs = list.map((ev) => ev.seq);
      expect(seqs).toEqual([...seqs].sort((a, b) => a - b)); // in order, no duplicates
      expect(new Set(seqs).size).toBe(seqs.length);
    }
    for (let i = 0; i < 3; i++) { e.stepBack(); flush(); }
    expect(consoleText()).toBe(e.console);
    // A click on an event still in the list: just after it.
    const target = list.filter((ev) => ev.kind === 'console').at(-3)!;
    const o = e.seekEvent(target.seq)!;
    expect(o.kind).toBe('target');
    flush();
    expect(list.at(-1)!.seq).toBe(target.seq);
    expect(consoleText()).toBe(e.console);
  });
});

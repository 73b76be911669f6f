// @vitest-environment happy-dom
// What the VM cards, exit bars, scheduler and memory map derive from events, on small hand-made
// streams whose answers can be worked out by hand.
import { describe, expect, it } from 'vitest';
import type { EventFields, EventKind } from '../../src/trace/schema.ts';
import { decodeOwner, exitStats, memoryMap, ownerCode, schedule, vmCards, OWNER_FREE } from '../../src/ui/hv/derive.ts';
import { inferRunInfo, notePaging } from '../../src/ui/hv/run-info.ts';
import { parseVizNdjson } from '../../src/ui/hv/viz-ndjson.ts';
import type { RunInfo, VizEvent } from '../../src/ui/hv/types.ts';

function stream() {
  const events: VizEvent[] = [];
  let seq = 0;
  return {
    events,
    at<K extends EventKind>(tick: number, vm: number, kind: K, f: EventFields[K]): number {
      events.push({ seq: ++seq, tick, vm, vcpu: 0, kind, ...f } as VizEvent);
      return seq;
    },
    frame(tick: number, f: EventFields['frame']): number {
      events.push({ seq: ++seq, tick, vm: -1, vcpu: 0, kind: 'frame', ...f });
      return seq;
    },
  };
}
const exit = (reason: EventFields['exit']['reason'], cycles: number): EventFields['exit'] => ({ reason, qualification: 0, instructionLength: 0, eip: 0, cycles });
const info: RunInfo = {
  vms: [{ vm: 0, name: 'vm0', cpu: 'vtx', paging: 'shadow', weight: 256 }, { vm: 1, name: 'vm1', cpu: 'vtx', paging: 'shadow', weight: 768 }],
  sched: 'credit',
  hostFrames: 64,
};

describe('VM cards', () => {
  it('follow the scheduler: running, runnable, blocked on HLT, woken, exited', () => {
    const s = stream();
    s.at(0, -1, 'sched', { from: -1, to: 0, reason: 'start' });
    s.at(10, 0, 'exit', exit('CPUID', 100));
    const afterHalt = s.at(20, 0, 'exit', exit('HLT', 50));
    s.at(30, -1, 'sched', { from: 0, to: 1, reason: 'halt' });
    const woken = s.at(40, -1, 'sched', { from: -1, to: 0, reason: 'wake' });
    s.at(45, 1, 'console', { device: 'serial', text: 'hi\n' });
    s.at(50, -1, 'sched', { from: 1, to: 0, reason: 'exit' });
    const state = (upTo?: number) => vmCards(s.events, info, upTo).map((c) => c.state);
    expect(state(1)).toEqual(['running', 'runnable']);
    expect(state(afterHalt + 1)).toEqual(['blocked', 'running']);
    expect(state(woken)).toEqual(['runnable', 'running']);
    expect(state()).toEqual(['running', 'exited']);
    expect(vmCards(s.events, info)[0]!.exits).toBe(2);
    expect(vmCards(s.events, info, afterHalt - 1)[0]!.exits).toBe(1);
    expect(vmCards(s.events, info)[1]!.console).toBe('hi\n');
  });
});

describe('exits by reason', () => {
  it('counts and sums modelled cycles per VM and reason, up to the position', () => {
    const s = stream();
    s.at(1, 0, 'exit', exit('CPUID', 100));
    s.at(2, 0, 'exit', exit('CPUID', 120));
    const third = s.at(3, 0, 'exit', exit('HLT', 7));
    s.at(4, 1, 'exit', exit('EPT_VIOLATION', 2000));
    const all = exitStats(s.events);
    expect(all.get(0)).toEqual([{ reason: 'CPUID', count: 2, cycles: 220 }, { reason: 'HLT', count: 1, cycles: 7 }]);
    expect(all.get(1)).toEqual([{ reason: 'EPT_VIOLATION', count: 1, cycles: 2000 }]);
    expect([...exitStats(s.events, third - 1).keys()]).toEqual([0]);
  });
});

describe('scheduler', () => {
  it('turns switches into CPU time per VM and compares the share with the weight', () => {
    const s = stream();
    s.at(0, -1, 'sched', { from: -1, to: 0, reason: 'start', credits: [100, 300] });
    s.at(100, -1, 'sched', { from: 0, to: 1, reason: 'quantum', credits: [0, 300] });
    s.at(150, -1, 'sched', { from: -1, to: 0, reason: 'wake' }); // not a switch
    s.at(400, -1, 'sched', { from: 1, to: 0, reason: 'quantum', credits: [0, 0] });
    s.at(500, 0, 'halt', { eip: 0 });
    const r = schedule(s.events, info);
    expect(r.segments).toEqual([
      { vm: 0, start: 0, end: 100, reason: 'start' },
      { vm: 1, start: 100, end: 400, reason: 'quantum' },
      { vm: 0, start: 400, end: 500, reason: 'quantum' },
    ]);
    expect(r.credits.map((c) => c.credits)).toEqual([[100, 300], [0, 300], [0, 0]]);
    expect(r.shares).toEqual([
      { vm: 0, ticks: 200, share: 0.4, weight: 256, weightShare: 0.25 },
      { vm: 1, ticks: 300, share: 0.6, weight: 768, weightShare: 0.75 },
    ]);
  });
});

describe('host memory map', () => {
  it('replays frame events up to the position: alloc colours, free clears, stepping back un-colours', () => {
    const s = stream();
    const hvInfo: RunInfo = { ...info, hvFrames: 4 };
    const first = s.frame(1, { op: 'alloc', frame: 8, owner: 'nested', ownerVm: 1 });
    const second = s.frame(1, { op: 'alloc', frame: 9, owner: 'nested', ownerVm: 1 });
    const guest = s.frame(2, { op: 'alloc', frame: 20, owner: 'guest', ownerVm: 0 });
    const freed = s.frame(3, { op: 'free', frame: 9, owner: 'nested', ownerVm: 1 });
    // Present alongside frame events, these must not be guessed into the map.
    s.at(4, 0, 'shadow', { op: 'fill', linear: 0x400000, guestPte: 0x5007, shadowPte: 0x1e007 }); // host frame 30
    const m = memoryMap(s.events, hvInfo);
    expect([...m.owners.subarray(0, 5)]).toEqual([1, 1, 1, 1, 0]);
    expect(decodeOwner(m.owners[8]!)).toEqual({ owner: 'nested', vm: 1 });
    expect(m.owners[9]).toBe(OWNER_FREE);
    expect(decodeOwner(m.owners[20]!)).toEqual({ owner: 'guest', vm: 0 });
    expect(m.owners[30]).toBe(OWNER_FREE);
    expect(m.counts.get(OWNER_FREE)).toBe(64 - 4 - 2);
    expect(m.lastChanged).toBe(9);
    // Stepping back: before the free, frame 9 is the nested table's; before the allocs, nothing is.
    expect(memoryMap(s.events, hvInfo, freed - 1).owners[9]).toBe(ownerCode('nested', 1));
    expect(memoryMap(s.events, hvInfo, guest - 1).owners[20]).toBe(OWNER_FREE);
    expect(memoryMap(s.events, hvInfo, second - 1).counts.get(ownerCode('nested', 1))).toBe(1);
    expect(memoryMap(s.events, hvInfo, first - 1).counts.get(OWNER_FREE)).toBe(60);
  });

  it('without frame events (an older trace), infers owners from shadow PTEs and walk addresses', () => {
    const s = stream();
    s.at(3, 0, 'shadow', { op: 'fill', linear: 0x400000, guestPte: 0x5007, shadowPte: 0x14007 }); // host frame 20
    s.at(4, 0, 'walk', { linear: 0x400000, step: 1, level: 2, dimension: 'host', address: 0x1e004, value: 0x14007 }); // frame 30
    s.at(5, 0, 'shadow', { op: 'invalidate', linear: 0x400000, guestPte: 0x5007, shadowPte: 0 });
    s.at(6, 1, 'walk', { linear: 0, step: 7, level: 2, dimension: 'nested', address: 0x28000, value: 0x29007 }); // 40 -> nested PT 41
    s.at(7, 1, 'walk', { linear: 0, step: 8, level: 1, dimension: 'nested', address: 0x29000, value: 0x2a007 }); // -> vm1 memory 42
    s.at(8, 1, 'tlb', { op: 'fill', linear: 0, physical: 0x2b000 }); // 43
    const m = memoryMap(s.events, info);
    expect(decodeOwner(m.owners[20]!)).toEqual({ owner: 'guest', vm: 0 });
    expect(m.owners[30]).toBe(ownerCode('shadow', 0));
    expect([40, 41, 42, 43].map((f) => decodeOwner(m.owners[f]!))).toEqual([
      { owner: 'nested', vm: 1 }, { owner: 'nested', vm: 1 }, { owner: 'guest', vm: 1 }, { owner: 'guest', vm: 1 },
    ]);
    expect(m.counts.get(OWNER_FREE)).toBe(64 - 6);
  });
});

describe('run info and NDJSON with frame events', () => {
  it('guesses paging per VM from the events when the header has no params', () => {
    const s = stream();
    s.at(0, 0, 'shadow', { op: 'flush', linear: 0, guestPte: 0, shadowPte: 0 });
    s.at(1, 1, 'pagefault', { outcome: 'ept-violation', linear: 0, physical: 0, errorCode: 0, eip: 0 });
    s.at(2, -1, 'sched', { from: 0, to: 1, reason: 'quantum', credits: [1, 2] });
    const r = inferRunInfo(s.events);
    expect(r.vms.map((v) => v.paging)).toEqual(['shadow', 'nested']);
    expect(r.sched).toBe('credit');
  });

  it('reads frame events with the schema reader and reports bad lines with their number', () => {
    const text = [
      '{"vizor-trace":1,"params":{"vms":[{"vm":0,"name":"alpha","paging":"shadow","weight":100}]}}',
      '{"seq":1,"tick":0,"vm":-1,"vcpu":0,"kind":"frame","op":"alloc","frame":300,"owner":"guest","ownerVm":0}',
      '{"seq":2,"tick":5,"vm":0,"vcpu":0,"kind":"halt","eip":4096}',
    ].join('\n') + '\n';
    const ok = parseVizNdjson(text);
    expect(ok.ok && ok.events.map((e) => e.kind)).toEqual(['frame', 'halt']);
    expect(ok.ok && inferRunInfo(ok.events, ok.params).vms[0]).toMatchObject({ name: 'alpha', weight: 100 });
    const bad = parseVizNdjson(text.replace('"eip":4096', '"eip":"x"'));
    expect(bad.ok).toBe(false);
    expect(!bad.ok && bad.error).toMatch(/^line 3: /);
    const badFrame = parseVizNdjson(text.replace('"owner":"guest"', '"owner":"someone"'));
    expect(!badFrame.ok && badFrame.error).toMatch(/^line 2: .*owner/);
  });
});

describe('run info from a `vizor run --hv` header', () => {
  it('reads cpu, paging and scheduler from params.mode', () => {
    const s = stream();
    s.at(0, 1, 'halt', { eip: 0 });
    const r = inferRunInfo(s.events, { mode: 'hv deprivilege nested rr' });
    expect(r.vms).toEqual([{ vm: 1, name: 'vm1', cpu: 'deprivilege', paging: 'nested', weight: 256 }]);
    expect(r.sched).toBe('rr');
  });
});

describe('paging known over a whole run, not just the events still held', () => {
  it('keeps what earlier events showed when a later window has no shadow operation, and reads table frames', () => {
    const s = stream();
    s.at(0, -1, 'frame', { op: 'alloc', frame: 300, owner: 'shadow', ownerVm: 0 });
    s.at(1, -1, 'frame', { op: 'alloc', frame: 301, owner: 'nested', ownerVm: 1 });
    s.at(2, 0, 'shadow', { op: 'fill', linear: 0x1000, guestPte: 0x1003, shadowPte: 0x9003 });
    s.at(3, 0, 'exit', { reason: 'HLT', qualification: 0, instructionLength: 1, eip: 0, cycles: 10 });
    s.at(4, 1, 'exit', { reason: 'HLT', qualification: 0, instructionLength: 1, eip: 0, cycles: 10 });
    const early = s.events.slice(0, 3), late = s.events.slice(3);
    // The late window alone says nothing about paging ...
    expect(inferRunInfo(late).vms.map((v) => v.paging)).toEqual(['bare', 'bare']);
    // ... what the run showed before it does.
    const seen = new Map<number, 'shadow' | 'nested'>();
    notePaging(early, seen);
    expect(inferRunInfo(late, {}, seen).vms.map((v) => v.paging)).toEqual(['shadow', 'nested']);
    // Frame events alone tell too (the hypervisor's own, vm -1, name the VM served).
    expect(inferRunInfo(s.events.slice(0, 2)).vms).toEqual([]);
    expect([...(() => { const m = new Map(); notePaging(s.events.slice(0, 2), m); return m; })()]).toEqual([[0, 'shadow'], [1, 'nested']]);
  });
});

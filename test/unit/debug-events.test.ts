// Event breakpoints on the hypervisor's event kinds (exit, entry, shadow, sched, pagefault
// outcomes, per-VM filters). The hypervisor does not exist yet: the fake machine emits
// synthetic events (OUT 0xE5 with the event's number in AL), so these test the engine and the
// filters; the real producers will be tested when src/hypervisor lands.
import { describe, expect, it } from 'vitest';
import { Debugger } from '../../src/debug/debugger.ts';
import { matches, type EventFilter } from '../../src/debug/event-filter.ts';
import type { TraceEvent } from '../../src/trace/schema.ts';
import { FakeMachine } from './debug-fake-machine.ts';

const SYNTHETIC = [
  { kind: 'exit', vm: 1, fields: { reason: 'CPUID', qualification: 0, instructionLength: 2, eip: 0x1000, cycles: 1200 } },
  { kind: 'pagefault', vm: 1, fields: { outcome: 'hidden', linear: 0x40001000, errorCode: 2, eip: 0x1000 } },
  { kind: 'shadow', vm: 2, fields: { op: 'write-protect', linear: 0x3000, guestPte: 0x3007, shadowPte: 0x9005 } },
  { kind: 'pagefault', vm: 2, fields: { outcome: 'injected', linear: 0x40001000, errorCode: 2, eip: 0x1000 } },
  { kind: 'sched', vm: -1, fields: { from: 1, to: 2, reason: 'quantum' } },
  { kind: 'exit', vm: 2, fields: { reason: 'EPT_VIOLATION', qualification: 0x181, guestPhysical: 0x5000, instructionLength: 3, eip: 0x2000, cycles: 2000 } },
  { kind: 'entry', vm: 2, fields: { eip: 0x2000, injectedVector: 14 } },
] as const;

/** mov al, k ; out 0xe5, al  for each synthetic event, then hlt. Instruction addresses: 0x1000 + 4k. */
const PROGRAM = [...SYNTHETIC.flatMap((_, k) => [0xb0, k, 0xe6, 0xe5]), 0xf4];

function boot(): { m: FakeMachine; d: Debugger } {
  const m = new FakeMachine(new Uint8Array(PROGRAM), 0x1000);
  m.synthetic = SYNTHETIC.map((e) => ({ ...e, fields: { ...e.fields } }));
  return { m, d: new Debugger(m, { snapshotInterval: 3, snapshotOverhead: 0 }) };
}

/** Index of the synthetic event a stop reports, from where it stopped (after its OUT). */
const stopIndex = (eip: number) => (eip - 0x1000) / 4 - 1;

describe('event breakpoints on hypervisor kinds (synthetic events)', () => {
  const cases: [EventFilter, number][] = [
    [{ kind: 'exit', where: { reason: 'EPT_VIOLATION' } }, 5],
    [{ kind: 'exit', vm: 1 }, 0],
    [{ kind: 'exit', where: { reason: ['HLT', 'CPUID'] } }, 0],
    [{ kind: 'pagefault', where: { outcome: 'injected' } }, 3],
    [{ kind: 'pagefault', where: { outcome: 'hidden', linear: { min: 0x40000000, max: 0x4000ffff } } }, 1],
    [{ kind: 'shadow', where: { op: 'write-protect' } }, 2],
    [{ kind: 'sched', where: { to: 2 } }, 4],
    [{ kind: 'entry', where: { injectedVector: 14 } }, 6],
    [{ kind: 'exit', vm: 2, where: { qualification: { min: 0x100 } } }, 5],
  ];
  for (const [filter, expected] of cases) {
    it(`${JSON.stringify(filter)} stops after event ${expected}`, () => {
      const { d } = boot();
      const id = d.addEventBreakpoint(filter);
      const s = d.continue();
      expect(s).toMatchObject({ reason: 'event', breakpointId: id, event: { kind: filter.kind } });
      expect(stopIndex(s.eip)).toBe(expected);
      // and reverse continue from the end finds the same (last) hit of a filter that matches once
      d.continue();
      expect(stopIndex(d.reverseContinue().eip)).toBe(expected);
    });
  }
  it('misspelt fields never match; vm filters apply', () => {
    const ev = { seq: 0, tick: 0, vm: 1, vcpu: 0, kind: 'exit', reason: 'HLT', qualification: 0, instructionLength: 1, eip: 0, cycles: 1 } as TraceEvent;
    expect(matches({ kind: 'exit', where: { reason: 'HLT' } }, ev)).toBe(true);
    expect(matches({ kind: 'exit', where: { reasn: 'HLT' } as never }, ev)).toBe(false);
    expect(matches({ kind: 'exit', vm: 2 }, ev)).toBe(false);
    expect(matches({ kind: 'entry' }, ev)).toBe(false);
  });
});

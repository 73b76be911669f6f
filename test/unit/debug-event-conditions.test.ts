// Event breakpoints with a field condition ("pagefault outcome=hidden"), as a lesson's step and the
// app's dropdowns write them: parsed against the schema, then run on the real hypervisor with
// lesson 7's kernel under shadow paging, where the guest's own (injected) fault and the VMM's
// hidden faults interleave. The stop must be the first hidden fault, never a true one.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { assemble } from '../../src/asm/index.ts';
import { Debugger } from '../../src/debug/debugger.ts';
import { conditionFields, describeSpec, parseEventSpec, toFilter, tryParseEventSpec } from '../../src/debug/event-conditions.ts';
import { EventFilterError } from '../../src/debug/event-filter.ts';
import { sourceInfo, type SourceInfo } from '../../src/debug/source.ts';
import { VcpuTarget } from '../../src/debug/vcpu-target.ts';
import { Hypervisor } from '../../src/hypervisor/index.ts';
import { Emitter } from '../../src/trace/emitter.ts';
import { EXIT_REASONS, KIND_BIT, type EventOf } from '../../src/trace/schema.ts';

describe('event breakpoint specs against the schema', () => {
  it('offers the fields a teacher points at, with the schema values', () => {
    const pf = conditionFields('pagefault');
    expect(pf.map((f) => f.name)).toEqual(['outcome']);
    expect(pf[0]!.values).toEqual(['bare', 'hidden', 'injected', 'ept-violation']);
    expect(conditionFields('exit').find((f) => f.name === 'reason')!.values).toEqual(EXIT_REASONS);
    expect(conditionFields('exception').map((f) => f.name)).toContain('vector');
    expect(conditionFields('io').map((f) => f.name)).toEqual(['port', 'size', 'dir']);
    expect(conditionFields('shadow').map((f) => f.name)).toEqual(['op']);
    expect(conditionFields('migration').map((f) => f.name)).toEqual(['phase', 'detail']);
    expect(conditionFields('sched').map((f) => f.name)).toEqual(['reason']);
    expect(conditionFields('halt')).toEqual([]);
  });

  it('parses and prints the forms lessons use', () => {
    expect(parseEventSpec('pagefault outcome=hidden')).toEqual({ kind: 'pagefault', field: 'outcome', value: 'hidden' });
    expect(parseEventSpec('exit reason=CPUID')).toEqual({ kind: 'exit', field: 'reason', value: 'CPUID' });
    expect(parseEventSpec('exception vector=13')).toEqual({ kind: 'exception', field: 'vector', value: 13 });
    expect(parseEventSpec('io port=0x3f8')).toEqual({ kind: 'io', field: 'port', value: 0x3f8 });
    expect(parseEventSpec('io size=2')).toEqual({ kind: 'io', field: 'size', value: 2 });
    expect(parseEventSpec('mode paging=true')).toEqual({ kind: 'mode', field: 'paging', value: true });
    expect(parseEventSpec('pagefault')).toEqual({ kind: 'pagefault' });
    for (const t of ['pagefault outcome=hidden', 'exit reason=CPUID', 'exception vector=13', 'io port=0x3f8', 'shadow op=fill', 'pagefault']) {
      expect(describeSpec(parseEventSpec(t))).toBe(t);
    }
  });

  it('refuses misspelt kinds, fields and values with a message that lists the right ones', () => {
    expect(() => parseEventSpec('pagefault outcome=hiden')).toThrow(/one of bare, hidden, injected, ept-violation, not 'hiden'/);
    expect(() => parseEventSpec('pagefault outcom=hidden')).toThrow(/no field 'outcom'.*outcome/);
    expect(() => parseEventSpec('pagefalt')).toThrow(EventFilterError);
    expect(() => parseEventSpec('exception vector=300')).toThrow(/0 to 255/);
    expect(() => toFilter({ kind: 'pagefault', field: 'linear', value: 5 })).toThrow(/no field 'linear'/);
    expect(tryParseEventSpec('mov eax, 1')).toBeNull();
  });
});

const LESSON = join(import.meta.dirname, '../../lessons/07-shadow-paging/kernel.asm');
let image: Uint8Array;
let info: SourceInfo;

beforeAll(() => {
  const r = assemble(readFileSync(LESSON, 'utf8'), {
    fileName: LESSON,
    provider: { read: (p) => readFileSync(p.startsWith('/') ? p : join(dirname(LESSON), p), 'utf8') },
  });
  expect(r.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
  image = r.bytes;
  info = sourceInfo(r.map);
});

describe('"pagefault outcome=hidden" on lesson 7 under shadow paging', () => {
  it('passes over the true (injected) fault and stops on the first hidden fault after it', () => {
    const emitter = new Emitter();
    const faults: EventOf<'pagefault'>[] = [];
    emitter.listen({ mask: KIND_BIT.pagefault, onEvent: (ev) => { if (ev.kind === 'pagefault' && ev.vm === 0) faults.push(ev); } });
    const hv = new Hypervisor({ emitter, quantum: 2000, hostMemoryBytes: 128 << 20 });
    hv.addVm({ image, memoryBytes: 32 << 20, paging: 'shadow', name: 'lesson7' });
    const d = new Debugger(new VcpuTarget(hv, 0), { symbols: info.symbols, lineMap: info.lineMap, snapshotInterval: 500, snapshotOverhead: 0 });
    // Just before the guest's write to its unmapped page: the next fault is a true one.
    const pass1Write = info.symbols.get('pass1_write')!;
    expect(d.runTo({ address: pass1Write }).eip).toBe(pass1Write);
    const before = faults.length;
    d.addEventBreakpoint(toFilter(parseEventSpec('pagefault outcome=hidden'), 0));
    const s = d.continue();
    expect(s.reason).toBe('event');
    const seen = faults.slice(before);
    // The stream carried the injected fault first; the breakpoint let it pass.
    expect(seen[0]!.outcome).toBe('injected');
    expect(seen[0]!.linear).toBe(0x400000);
    // It stopped on the first hidden fault (the instruction it fell in completes: its fetch may fault too).
    const firstHidden = seen.find((f) => f.outcome === 'hidden')!;
    expect(s.event).toEqual(firstHidden);
  });

  it('a kind-only breakpoint stops on the true fault instead', () => {
    const hv = new Hypervisor({ quantum: 2000, hostMemoryBytes: 128 << 20 });
    hv.addVm({ image, memoryBytes: 32 << 20, paging: 'shadow', name: 'lesson7' });
    const d = new Debugger(new VcpuTarget(hv, 0), { symbols: info.symbols, lineMap: info.lineMap, snapshotInterval: 500, snapshotOverhead: 0 });
    expect(d.runTo({ address: info.symbols.get('pass1_write')! }).reason).toBe('step');
    d.addEventBreakpoint(toFilter(parseEventSpec('pagefault'), 0));
    const s = d.continue();
    expect(s.event).toMatchObject({ kind: 'pagefault', outcome: 'injected' });
  });
});

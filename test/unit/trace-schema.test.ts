// The schema as data agrees with itself, and the emitter's filters: by kind, by VM, unsubscribe,
// and no work at all (not even reading the clock) when nobody listens.
import { describe, expect, it } from 'vitest';
import {
  ALL_KINDS_MASK,
  EVENT_KINDS,
  FIELD_SPECS,
  KIND_BIT,
  KIND_CODE,
  maskOf,
  parseKindList,
  type FieldSpec,
  type TraceEvent,
} from '../../src/trace/schema.ts';
import { PLANS, SMALL_COLUMNS, WIDE_COLUMNS } from '../../src/trace/layout.ts';
import { Emitter } from '../../src/trace/emitter.ts';

describe('schema', () => {
  it('lists every kind once, with its own bit and code', () => {
    expect([...EVENT_KINDS].sort()).toEqual(Object.keys(FIELD_SPECS).sort());
    expect(new Set(EVENT_KINDS.map((k) => KIND_BIT[k])).size).toBe(EVENT_KINDS.length);
    for (const k of EVENT_KINDS) expect(KIND_BIT[k]).toBe(1 << KIND_CODE[k]);
    expect(ALL_KINDS_MASK).toBe((1 << EVENT_KINDS.length) - 1);
    expect(EVENT_KINDS.length).toBeLessThanOrEqual(31);
  });

  it('has the kinds and shadow operations the design names', () => {
    for (const k of [
      'exit',
      'entry',
      'exception',
      'interrupt',
      'pagefault',
      'shadow',
      'walk',
      'tlb',
      'sched',
      'io',
      'mode',
      'console',
      'halt',
      'reset',
      'warning',
    ]) {
      expect(EVENT_KINDS).toContain(k);
    }
    const values = (spec: FieldSpec) => (spec.type === 'enum' ? spec.values : []);
    expect(values(FIELD_SPECS.shadow.op)).toEqual([
      'fill',
      'invalidate',
      'write-protect',
      'unprotect',
      'flush',
      'resync',
    ]);
    expect(values(FIELD_SPECS.pagefault.outcome)).toEqual(
      expect.arrayContaining(['hidden', 'injected', 'ept-violation']),
    );
  });

  it('fits every kind into the ring/batch columns', () => {
    for (const plan of PLANS) {
      const columns = plan.fields.map((f) => f.column);
      expect(new Set(columns).size, plan.kind).toBe(columns.length);
      expect(Math.max(-1, ...columns)).toBeLessThan(SMALL_COLUMNS + WIDE_COLUMNS);
    }
  });

  it('parses --trace-kinds lists', () => {
    expect(parseKindList('exit, pagefault')).toEqual({ kinds: ['exit', 'pagefault'] });
    expect(parseKindList('exit,teleport,x')).toEqual({ unknown: ['teleport', 'x'] });
    expect(maskOf(['exit', 'pagefault'])).toBe(KIND_BIT.exit | KIND_BIT.pagefault);
  });
});

describe('Emitter', () => {
  const exitFields = {
    reason: 'HLT',
    qualification: 0,
    instructionLength: 1,
    eip: 0x100,
    cycles: 10,
  } as const;

  it('does nothing, not even read the clock, when nobody listens to a kind', () => {
    const em = new Emitter();
    let clockReads = 0;
    em.now = () => ++clockReads;
    em.emit('exit', exitFields);
    em.on(['halt'], () => {});
    em.emit('exit', exitFields);
    expect(clockReads).toBe(0);
    expect(em.nextSeq).toBe(0);
    expect(em.mask).toBe(KIND_BIT.halt);
  });

  it('delivers by kind and VM, numbers events, and stops after unsubscribe', () => {
    const em = new Emitter();
    let tick = 100;
    em.now = () => tick;
    const all: TraceEvent[] = [];
    const vm1: TraceEvent[] = [];
    const stopAll = em.on(['exit', 'halt'], (e) => all.push(e));
    em.on(['halt'], (e) => vm1.push(e), 1);
    for (const vm of [0, 1]) {
      em.vm = vm;
      em.vcpu = vm + 2;
      tick++;
      em.emit('exit', exitFields);
      em.emit('halt', { eip: vm });
      em.emit('io', { port: 0x80, size: 1, value: 0, dir: 'out' });
    }
    expect(all.map((e) => [e.seq, e.tick, e.vm, e.vcpu, e.kind])).toEqual([
      [0, 101, 0, 2, 'exit'],
      [1, 101, 0, 2, 'halt'],
      [2, 102, 1, 3, 'exit'],
      [3, 102, 1, 3, 'halt'],
    ]);
    expect(vm1).toEqual([{ seq: 3, tick: 102, vm: 1, vcpu: 3, kind: 'halt', eip: 1 }]);
    stopAll();
    expect(em.mask).toBe(KIND_BIT.halt);
    em.emit('halt', { eip: 9 });
    expect(all.length).toBe(4);
    expect(vm1.length).toBe(2);
    expect(em.listenerCount).toBe(1);
  });
});

// Event predicates (field tests, filters, "@label" resolution, words) and sequence matching.
import { describe, expect, it } from 'vitest';
import type { TraceEvent } from '../../src/trace/schema.ts';
import {
  describeEvent,
  describeFilter,
  matchesFilter,
  matchSequence,
  parseFilter,
  scoped,
  SpecError,
  testField,
  type SequenceStep,
} from '../../src/lessons/index.ts';
import { resolveFilter } from '../../src/lessons/predicates.ts';

let seq = 0;
const pf = (outcome: string, linear: number, errorCode = 0, vm = 0): TraceEvent =>
  ({ seq: seq++, tick: seq * 10, vm, vcpu: 0, kind: 'pagefault', outcome, linear, errorCode, eip: 0x100123 }) as TraceEvent;
const exc = (vector: number, errorCode?: number): TraceEvent =>
  ({ seq: seq++, tick: seq * 10, vm: 0, vcpu: 0, kind: 'exception', vector, eip: 0x100200, cs: 8, ...(errorCode === undefined ? {} : { errorCode }) }) as TraceEvent;
const con = (text: string): TraceEvent => ({ seq: seq++, tick: 0, vm: 0, vcpu: 0, kind: 'console', device: 'serial', text }) as TraceEvent;

describe('testField', () => {
  it('compares values, lists, ranges, bits, text and negation', () => {
    expect(testField(0x400000, 0x400000)).toBe(true);
    expect(testField(0xfffff000, -4096)).toBe(true); // the same 32 bits
    expect(testField(3, 4)).toBe(false);
    expect(testField(undefined, 0)).toBe(false); // an absent field matches no value
    expect(testField('hidden', ['bare', 'hidden'])).toBe(true);
    expect(testField('injected', ['bare', 'hidden'])).toBe(false);
    expect(testField(0x401000, { min: 0x400000, max: 0x401fff })).toBe(true);
    expect(testField(0x402000, { min: 0x400000, max: 0x401fff })).toBe(false);
    expect(testField(0xf0000000, { min: 0x80000000 })).toBe(true); // unsigned
    expect(testField(7, { bits: 3 })).toBe(true);
    expect(testField(5, { bits: 3 })).toBe(false);
    expect(testField(2, { bits: 2, clear: 1 })).toBe(true);
    expect(testField(3, { bits: 2, clear: 1 })).toBe(false);
    expect(testField('a CORRUPT round', { contains: 'CORRUPT' })).toBe(true);
    expect(testField(4, { contains: 'x' })).toBe(false);
    expect(testField(14, { not: [13, 14] })).toBe(false);
    expect(testField(8, { not: [13, 14] })).toBe(true);
    expect(testField(undefined, { not: 3 })).toBe(true);
    expect(testField('x', { min: 1 })).toBe(false);
  });
});

describe('filters', () => {
  it('are checked against the schema and normalised', () => {
    const f = parseFilter({ kind: 'pagefault', vm: 1, where: { outcome: ['hidden', 'injected'], linear: '0x400000', errorCode: { bits: '0x2' } } }, 'x');
    expect(f).toEqual({ kind: 'pagefault', vm: 1, where: { outcome: ['hidden', 'injected'], linear: 0x400000, errorCode: { bits: 2 } } });
    expect(() => parseFilter({ kind: 'pagefault', where: { outcome: 'hiden' } }, 'runs[0].x')).toThrow(SpecError);
    expect(() => parseFilter({ kind: 'exit', where: { reason: 'HALT' } }, 'x')).toThrow(/"HALT" is not one of "EXCEPTION_NMI"/);
    expect(() => parseFilter({ kind: 'io', where: { port: [] } }, 'x')).toThrow(/an empty list matches nothing/);
    expect(() => parseFilter({ kind: 'io', when: 3 }, 'at')).toThrow(/at\.when: unknown field/);
  });

  it('match kind, VM and every field test', () => {
    const f = parseFilter({ kind: 'pagefault', where: { outcome: 'hidden', linear: { min: '0x400000', max: '0x403fff' } } }, 'x');
    expect(matchesFilter(f, pf('hidden', 0x401000))).toBe(true);
    expect(matchesFilter(f, pf('injected', 0x401000))).toBe(false);
    expect(matchesFilter(f, pf('hidden', 0x404000))).toBe(false);
    expect(matchesFilter(f, exc(14, 2))).toBe(false);
    const vm1 = parseFilter({ kind: 'pagefault', vm: 1 }, 'x');
    expect(matchesFilter(vm1, pf('hidden', 0, 0, 1))).toBe(true);
    expect(matchesFilter(vm1, pf('hidden', 0, 0, 0))).toBe(false);
    const optional = parseFilter({ kind: 'exception', where: { errorCode: 0 } }, 'x');
    expect(matchesFilter(optional, exc(0))).toBe(false); // #DE has no error code at all
    expect(matchesFilter(optional, exc(13, 0))).toBe(true);
  });

  it('resolve "@label" values from the kernel symbols, or name the missing label', () => {
    const f = parseFilter({ kind: 'exception', where: { eip: '@divide', vector: ['@DE', 13], cs: { min: '@LOW', not: '@BAD' } } }, 'runs[0].expect.counts[0]');
    const symbols = new Map([['divide', 0x100162], ['DE', 0], ['LOW', 8], ['BAD', 0x10]]);
    expect(resolveFilter(f, symbols, 'at').where).toEqual({ eip: 0x100162, vector: [0, 13], cs: { min: 8, not: 0x10 } });
    expect(() => resolveFilter(f, new Map([['divide', 1]]), 'runs[0].expect.counts[0]')).toThrow("runs[0].expect.counts[0].where.vector: the kernel has no label 'DE'");
  });

  it('are described in words, numbers in hex where they are addresses', () => {
    expect(describeFilter(parseFilter({ kind: 'pagefault', vm: 2, where: { outcome: 'injected', linear: '0x400000', errorCode: { bits: 2, clear: 1 } } }, 'x')))
      .toBe('pagefault with vm=2, outcome=injected, linear=0x400000, errorCode has bits 0x2 and errorCode has bits 0x1 clear');
    expect(describeFilter(parseFilter({ kind: 'walk', where: { step: { min: 25 }, linear: { min: 1, max: 2 } } }, 'x'))).toBe('walk with step >= 25, linear in 0x1..0x2');
    expect(describeFilter(parseFilter({ kind: 'halt' }, 'x'))).toBe('halt');
    expect(describeEvent({ seq: 57, tick: 1, vm: 0, vcpu: 0, kind: 'pagefault', outcome: 'bare', linear: 0x400000, errorCode: 2, eip: 0x100136 }))
      .toBe('pagefault outcome=bare linear=0x400000 errorCode=0x2 eip=0x100136 (event #57, vm 0)');
  });
});

const step = (where: Record<string, unknown>, count: number | { min: number; max: number } = 1): SequenceStep => {
  const f = parseFilter({ kind: 'pagefault', where }, 'x');
  return { ...f, count: typeof count === 'number' ? { min: count, max: count } : count };
};
const threeHiddenThenInjected = [step({ outcome: 'hidden' }, 3), step({ outcome: 'injected', linear: '0x400000' })];

describe('matchSequence', () => {
  it('finds "exactly 3 hidden faults, then 1 injected fault with CR2 = 0x400000" anywhere', () => {
    const events = [pf('injected', 0x1000), pf('hidden', 0x401000), pf('hidden', 0x402000), pf('hidden', 0x403000), pf('injected', 0x400000), pf('hidden', 0x400000)];
    const r = matchSequence(events, threeHiddenThenInjected, false);
    expect(r).toEqual({ ok: true, first: 1, last: 4 });
    expect(matchSequence(events, threeHiddenThenInjected, true).ok).toBe(false); // not the whole stream
  });

  it('"exactly 3" rejects a run of 4, saying so', () => {
    const events = [pf('hidden', 0x401000), pf('hidden', 0x402000), pf('hidden', 0x403000), pf('hidden', 0x404000), pf('injected', 0x400000)];
    const r = matchSequence(events, threeHiddenThenInjected, false);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.message).toBe('expected step 1: 3 × pagefault with outcome=hidden, but got 4 such events in a row');
  });

  it('says which step failed and what came instead', () => {
    const events = [pf('hidden', 0x401000), pf('hidden', 0x402000), pf('hidden', 0x403000), pf('injected', 0x500000, 2)];
    const r = matchSequence(events, threeHiddenThenInjected, false);
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.message).toContain('after step 1 matched (up to pagefault outcome=hidden linear=0x403000');
      expect(r.message).toContain('expected step 2: 1 × pagefault with outcome=injected, linear=0x400000, but got none, then pagefault outcome=injected linear=0x500000');
    }
    const none = matchSequence([pf('bare', 0x400000)], threeHiddenThenInjected, false);
    expect(none.ok).toBe(false);
    if (!none.ok) expect(none.message).toContain("expected step 1: 3 × pagefault with outcome=hidden, but no run of them fits; its scope had 1 event: pagefault outcome=bare");
    const empty = matchSequence([], threeHiddenThenInjected, false);
    if (!empty.ok) expect(empty.message).toContain('there were no events in its scope');
  });

  it('handles ranges, optional steps, overlapping filters and whole streams', () => {
    const anyFault = step({}, { min: 1, max: Infinity });
    const atX = step({ linear: '0x400000' });
    // the greedy "any fault" must give back the last event to the second step
    expect(matchSequence([pf('hidden', 1), pf('hidden', 2), pf('injected', 0x400000)], [anyFault, atX], true)).toEqual({ ok: true, first: 0, last: 2 });
    const optional = [step({ outcome: 'injected' }), step({ outcome: 'hidden' }, { min: 0, max: 1 })];
    expect(matchSequence([pf('injected', 1)], optional, true).ok).toBe(true);
    expect(matchSequence([pf('injected', 1), pf('hidden', 1)], optional, true).ok).toBe(true);
    const tooMany = matchSequence([pf('injected', 1), pf('hidden', 1), pf('hidden', 2)], optional, true);
    expect(tooMany.ok).toBe(false);
    if (!tooMany.ok) expect(tooMany.message).toContain('expected step 2: at most 1 × pagefault with outcome=hidden, but got 2 such events in a row');
    const trailing = matchSequence([pf('injected', 1), pf('bare', 9)], [step({ outcome: 'injected' })], true);
    if (!trailing.ok) expect(trailing.message).toContain('all 1 steps matched, but more events followed: pagefault outcome=bare');
  });

  it('looks only at the events of its scope', () => {
    const events = [pf('hidden', 0x401000), con('x'), exc(14, 2), pf('injected', 0x400000)];
    const scope = [parseFilter({ kind: 'pagefault' }, 'x')];
    expect(scoped(events, scope).map((e) => e.kind)).toEqual(['pagefault', 'pagefault']);
    expect(matchSequence(scoped(events, scope), [step({ outcome: 'hidden' }), step({ outcome: 'injected' })], true).ok).toBe(true);
    expect(matchSequence(events, [step({ outcome: 'hidden' }), step({ outcome: 'injected' })], true).ok).toBe(false);
  });
});

describe('memoryFiles', () => {
  it('lists folders and files from a path record, as the browser provides them', async () => {
    const { memoryFiles, lessonFolders, resolveLesson } = await import('../../src/lessons/index.ts');
    const files = memoryFiles({ '01-a/lesson.md': 'x', '01-a/kernel.asm': 'k', '_lib/mb.inc': 'm', '02-b/lesson.md': 'y', 'README.md': 'r' });
    expect(files.list('').sort()).toEqual(['01-a', '02-b', 'README.md', '_lib']);
    expect(files.list('01-a').sort()).toEqual(['kernel.asm', 'lesson.md']);
    expect(lessonFolders(files)).toEqual(['01-a', '02-b']);
    expect(resolveLesson(files, '2')).toBe('02-b');
    expect(resolveLesson(files, 'a')).toBe('01-a');
    expect(files.read('_lib/mb.inc')).toBe('m');
    expect(files.read('nope')).toBeUndefined();
  });
});

// check.json validation: every problem names the file and the field, in words.
import { describe, expect, it } from 'vitest';
import { parseCheck, parseLessonMeta, LessonFormatError, type LessonMeta } from '../../src/lessons/index.ts';

const META: LessonMeta = parseLessonMeta('07-x', '07-x/lesson.md', '---\ntitle: T\norder: 7\nhv:\n  paging: nested\n---\n');
const FILE = '07-x/check.json';

function errorOf(json: unknown): LessonFormatError {
  try {
    parseCheck(FILE, typeof json === 'string' ? json : JSON.stringify(json), META);
  } catch (err) {
    if (err instanceof LessonFormatError) return err;
    throw err;
  }
  throw new Error('expected a LessonFormatError');
}

const bare = (expect: unknown, extra: object = {}) => ({ runs: [{ name: 'bare', expect, ...extra }] });

describe('parseCheck accepts', () => {
  it('a bare run with every kind of expectation, normalised', () => {
    const spec = parseCheck(FILE, JSON.stringify(bare({
      exit: { reason: 'debug-exit', code: '0x10' },
      serial: { lines: ['a', 'b'], contains: ['c'] },
      counts: [{ kind: 'pagefault', where: { outcome: 'bare', linear: '0x400000', errorCode: { bits: 2, clear: 1 } }, count: 3 }],
      sequences: [{ steps: [{ kind: 'exception', where: { vector: 13 } }, { kind: 'interrupt', count: { min: 2 } }] }],
    })), META);
    const run = spec.runs[0]!;
    expect(run.hv).toBeUndefined();
    expect(run.vms).toEqual([{ kernel: 'kernel.asm' }]);
    expect(run.maxInstructions).toBe(50_000_000);
    expect(run.expect.exit).toEqual([{ vm: 0, at: 'runs[0].expect.exit', reason: 'debug-exit', code: 16 }]);
    expect(run.expect.serial[0]).toMatchObject({ vm: 0, lines: ['a', 'b'], contains: ['c'] });
    expect(run.expect.counts[0]).toMatchObject({ kind: 'pagefault', where: { outcome: 'bare', linear: 0x400000, errorCode: { bits: 2, clear: 1 } }, count: { min: 3, max: 3 } });
    const seq = run.expect.sequences[0]!;
    expect(seq.name).toBe('sequence 1');
    expect(seq.whole).toBe(false);
    expect(seq.scope.map((f) => f.kind)).toEqual(['exception', 'interrupt']);
    expect(seq.steps.map((s) => s.count)).toEqual([{ min: 1, max: 1 }, { min: 2, max: Infinity }]);
  });

  it('hypervisor runs with the lesson defaults, several VMs and per-VM expectations', () => {
    const spec = parseCheck(FILE, JSON.stringify({
      requires: 'hv',
      runs: [{
        name: 'two',
        hv: { cpu: 'bt' },
        vms: [{ kernel: 'a.asm', weight: 2 }, { kernel: 'b.asm', cap: 50 }],
        expect: { exit: [{ vm: 1, reason: 'triple-fault' }], serial: { vm: 0, excludes: ['CORRUPT'] } },
      }],
    }), META);
    expect(spec.requires).toBe('hv');
    expect(spec.runs[0]!.hv).toEqual({ cpu: 'bt', paging: 'nested', sched: 'rr' });
    expect(spec.runs[0]!.vms).toEqual([{ kernel: 'a.asm', weight: 2 }, { kernel: 'b.asm', cap: 50 }]);
  });

  it('"@label" values, left for the kernel to resolve', () => {
    const spec = parseCheck(FILE, JSON.stringify(bare({ counts: [{ kind: 'exception', where: { eip: '@divide', vector: { min: '@LOW', max: 31 } }, count: 1 }] })), META);
    expect(spec.runs[0]!.expect.counts[0]!.where).toEqual({ eip: '@divide', vector: { min: '@LOW', max: 31 } });
  });
});

describe('parseCheck rejects, naming file and field', () => {
  it.each<[string, unknown, string, string]>([
    ['invalid JSON', '{\n  "runs": [\n    { "name": "x", }\n  ]\n}', 'line 3, column', 'not valid JSON'],
    ['an unknown top-level field', { runs: [], extra: 1 }, 'extra', 'unknown field (known: requires, note, runs)'],
    ['no runs', { runs: [] }, 'runs', 'a check needs at least one run'],
    ['a run without a name', { runs: [{ expect: { exit: { reason: 'halted' } } }] }, 'runs[0].name', 'must be text'],
    ['a run expecting nothing', bare({}), 'runs[0].expect', 'expects nothing'],
    ['an unknown event kind', bare({ counts: [{ kind: 'pagefalt', count: 1 }] }), 'runs[0].expect.counts[0].kind', "'pagefalt' is not an event kind (one of: exit, entry"],
    ['an unknown field of a kind', bare({ counts: [{ kind: 'pagefault', where: { cr2: 4 }, count: 1 }] }), 'runs[0].expect.counts[0].where.cr2', "'pagefault' events have no field 'cr2' (fields: outcome, linear, physical, errorCode, eip)"],
    ['an impossible enum value', bare({ counts: [{ kind: 'pagefault', where: { outcome: 'hiden' }, count: 1 }] }), 'runs[0].expect.counts[0].where.outcome', '"hiden" is not one of "bare", "hidden", "injected", "ept-violation"'],
    ['text for a number', bare({ counts: [{ kind: 'exception', where: { vector: 'fourteen' }, count: 1 }] }), 'runs[0].expect.counts[0].where.vector', 'expected a number (or "0x..." text), got "fourteen"'],
    ['an unknown test', bare({ counts: [{ kind: 'exception', where: { vector: { above: 3 } }, count: 1 }] }), 'runs[0].expect.counts[0].where.vector.above', 'unknown test'],
    ['a range on text', bare({ counts: [{ kind: 'console', where: { text: { min: 1 } }, count: 1 }] }), 'runs[0].expect.counts[0].where.text.min', "'min' needs a numeric field"],
    ['a count without count', bare({ counts: [{ kind: 'halt' }] }), 'runs[0].expect.counts[0].count', 'missing: how many'],
    ['an upside-down range', bare({ counts: [{ kind: 'halt', count: { min: 3, max: 1 } }] }), 'runs[0].expect.counts[0].count', 'max 1 is below min 3'],
    ['an unknown end reason', bare({ exit: { reason: 'crash' } }), 'runs[0].expect.exit.reason', '"crash" is not one of debug-exit, triple-fault, instruction-limit, halted'],
    ['a code for a triple fault', bare({ exit: { reason: 'triple-fault', code: 1 } }), 'runs[0].expect.exit.code', 'only a debug-exit has a code'],
    ['a code above one byte', bare({ exit: { reason: 'debug-exit', code: 256 } }), 'runs[0].expect.exit.code', 'one byte'],
    ['serial saying nothing', bare({ serial: { vm: 0 } }), 'runs[0].expect.serial', 'says nothing'],
    ['serial lines that are not text', bare({ serial: { lines: ['a', 2] } }), 'runs[0].expect.serial.lines[1]', 'must be text'],
    ['a VM the run does not have', bare({ exit: { vm: 1, reason: 'halted' } }), 'runs[0].expect.exit.vm', 'this run has 1 VM(s), numbered from 0'],
    ['a sequence without steps', bare({ sequences: [{ name: 's', steps: [] }] }), 'runs[0].expect.sequences[0].steps', 'at least one step'],
    ['a sequence starting with an optional step', bare({ sequences: [{ steps: [{ kind: 'halt', count: { max: 2 } }] }] }), 'runs[0].expect.sequences[0].steps[0].count', 'must match at least one event'],
    ['an hv run without "requires"', { runs: [{ name: 'v', hv: { cpu: 'vtx' }, expect: { exit: { reason: 'halted' } } }] }, 'runs[0].hv', 'say so with "requires": "hv"'],
    ['"requires" without an hv run', { requires: 'hv', runs: [{ name: 'b', expect: { exit: { reason: 'halted' } } }] }, 'requires', 'no run has "hv"'],
    ['an unknown requirement', { requires: 'kvm', runs: [{ name: 'b', expect: { exit: { reason: 'halted' } } }] }, 'requires', 'the only requirement known is "hv"'],
    ['a bad hv setting', { requires: 'hv', runs: [{ name: 'v', hv: { paging: 'ept' }, expect: { exit: { reason: 'halted' } } }] }, 'runs[0].hv.paging', "'ept' is not one of shadow, nested"],
    ['several VMs on the bare machine', { runs: [{ name: 'b', vms: [{}], expect: { exit: { reason: 'halted' } } }] }, 'runs[0].vms', 'several VMs need the hypervisor'],
    ['two runs with one name', { runs: [{ name: 'a', expect: { exit: { reason: 'halted' } } }, { name: 'a', expect: { exit: { reason: 'halted' } } }] }, 'runs[1].name', "another run is also called 'a'"],
  ])('%s', (_, json, where, problem) => {
    const err = errorOf(json);
    expect(err.file).toBe(FILE);
    expect(err.where).toContain(where);
    expect(err.problem).toContain(problem);
    expect(err.message.startsWith(`${FILE}: `)).toBe(true);
  });
});

// Migration runs in check.json: a run with "migrate" moves its first VM from host A to host B
// (src/migration, through hypervisorRunner) and "expect": {"migration": {...}} checks what the
// migration did. Mistakes in the spec name the field; a check that does not hold says, in words,
// what was expected and what the migration did (lesson 12's kernel, altered, is the example).
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { diskFiles } from '../../src/cli/lesson.ts';
import { checkLesson, formatReport, loadLesson, memoryFiles, parseCheck, type LessonFiles, type LessonMeta } from '../../src/lessons/index.ts';
import { hypervisorRunner } from '../../src/lessons/hv-runner.ts';

const lessons = diskFiles(join(process.cwd(), 'lessons'));
const meta = loadLesson(lessons, '12').meta;

/** Lesson 12's files with one file's text edited. */
function edited(path: string, edit: (text: string) => string): LessonFiles {
  return {
    list: (dir) => lessons.list(dir),
    read(p) {
      const v = lessons.read(p);
      return p === path && typeof v === 'string' ? edit(v) : v;
    },
  };
}

const check = (runs: unknown[], top: Record<string, unknown> = { requires: 'hv' }) => () => parseCheck('12-live-migration/check.json', JSON.stringify({ ...top, runs }), meta as LessonMeta);
const run = (extra: Record<string, unknown>) => ({ name: 'm', hv: true, migrate: { at: '6M' }, expect: { exit: { reason: 'debug-exit' } }, ...extra });

describe('check.json: the migrate run and the migration expectation', () => {
  it('parses the lesson 12 check: units, defaults and modes', () => {
    const spec = loadLesson(lessons, '12').check;
    const pre = spec.runs.find((r) => r.name === 'pre-copy over 100 Mbit/s')!;
    expect(pre.migrate).toEqual({ at: 6_000_000, bandwidthBitsPerSecond: 100e6, latencyNs: 1e6, mode: 'precopy', maxDowntimeNs: 5e6 });
    expect(pre.expect.migration).toMatchObject({ switchover: 'converged', rounds: { min: 2, max: 2 }, downtimeNs: { min: 0, max: 5e6 }, checksumsEqual: true });
    const post = spec.runs.find((r) => r.migrate?.mode === 'postcopy')!;
    expect(post.migrate!.bandwidthBitsPerSecond).toBe(10e6);
    expect(post.expect.migration!.remoteFaults).toEqual({ min: 1, max: Infinity });
  });

  it.each([
    ['a migration without the hypervisor', [{ name: 'm', migrate: { at: 5 }, expect: { exit: { reason: 'halted' } } }], {}, 'runs[0].migrate: a migration moves a VM between two hypervisor hosts'],
    ['no migration point', [run({ migrate: { bandwidth: '1G' } })], undefined, 'runs[0].migrate.at: missing'],
    ['a latency without its unit', [run({ migrate: { at: '6M', latency: '1' } })], undefined, 'runs[0].migrate.latency: must be a time with its unit'],
    ['a bandwidth that is no rate', [run({ migrate: { at: '6M', bandwidth: 'fast' } })], undefined, 'runs[0].migrate.bandwidth: must be a rate in bits/s'],
    ['an unknown mode', [run({ migrate: { at: '6M', mode: 'teleport' } })], undefined, 'runs[0].migrate.mode: "teleport" is not one of "precopy", "postcopy"'],
    ['rounds for post-copy', [run({ migrate: { at: '6M', mode: 'postcopy', maxRounds: 3 } })], undefined, 'runs[0].migrate.maxRounds: post-copy has no pre-copy rounds'],
    ['a migration expectation without a migration', [{ name: 'm', hv: true, expect: { migration: { rounds: 2 } } }], undefined, 'runs[0].expect.migration: expects a migration, but this run has no "migrate"'],
    ['remote faults of a pre-copy', [run({ expect: { migration: { remoteFaults: 3 } } })], undefined, 'runs[0].expect.migration.remoteFaults: only a post-copy migration fetches pages on fault'],
    ['an unknown switch-over', [run({ expect: { migration: { switchover: 'fast' } } })], undefined, 'runs[0].expect.migration.switchover: "fast" is not one of converged, round-limit, postcopy, source-ended'],
    ['a downtime range upside down', [run({ expect: { migration: { downtime: { min: '5ms', max: '1ms' } } } })], undefined, 'runs[0].expect.migration.downtime: max is below min'],
    ['an unknown field', [run({ expect: { migration: { round: 2 } } })], undefined, 'runs[0].expect.migration.round: unknown field'],
    ['an empty expectation', [run({ expect: { migration: {} } })], undefined, 'runs[0].expect.migration: says nothing'],
  ])('%s is refused, naming the field', (_what, runs, top, message) => {
    expect(check(runs, top ?? { requires: 'hv' })).toThrow(message);
  });
});

describe('a migration check can fail, with a clear message', () => {
  it('lesson 12 with a writer faster than the link: "expected switch-over converged, but got round-limit"', () => {
    // DELAY 20000 → 1 (and passes enough to last): a page every 7 instructions; pre-copy can no longer converge.
    const files = edited('12-live-migration/kernel.asm', (t) => t.replace('%define DELAY 20000', '%define DELAY 1').replace('%define PASSES 4', '%define PASSES 100000'));
    const lesson = loadLesson(files, '12');
    lesson.check.runs = lesson.check.runs.filter((r) => r.name === 'pre-copy over 100 Mbit/s');
    lesson.check.runs[0]!.migrate!.maxRounds = 3;
    lesson.check.runs[0]!.maxInstructions = 12_000_000;
    lesson.check.runs[0]!.expect.exit = [];
    lesson.check.runs[0]!.expect.serial = [];
    lesson.check.runs[0]!.expect.counts = [];
    lesson.check.runs[0]!.expect.sequences = [];
    const report = checkLesson(files, lesson, { hv: hypervisorRunner });
    expect(report.status).toBe('fail');
    const text = formatReport(report);
    expect(text).toContain('FAIL migration: expected switch-over converged, but got switch-over round-limit (the guest dirtied pages faster than the link sent them)');
    expect(text).toMatch(/FAIL migration: expected exactly 2 pre-copy rounds, but got 3 pre-copy rounds \(round 0: \d+ sent, 1\d\d dirtied; /);
    expect(text).toMatch(/FAIL migration: expected downtime at most 5\.000 ms, but got downtime [1-9]\d\.\d{3} ms \(1\d\d pages in the stop-and-copy, switch-over round-limit\)/);
    // The pages are all there nonetheless.
    expect(text).toMatch(/ok {3}migration: guest memory checksums (0x\w+) on the source and \1 on the destination \(equal: no page lost\)/);
    expect(text).toContain('the lesson does NOT check out');
  });

  it('a migration point after the guest has ended: "expected a migration, but the guest ended ..."', () => {
    const files = memoryFiles({
      '01-m/lesson.md': '---\ntitle: M\norder: 1\nmachine:\n  memory: 4M\n---\nText.\n',
      '01-m/kernel.asm': 'bits 32\norg 0x100000\nmb: dd 0x1BADB002, 0x00010000, -(0x1BADB002 + 0x00010000), mb, mb, end, end, start\nstart:\n    mov al, 0x11\n    out 0xF4, al\n    hlt\nend:\n',
      '01-m/check.json': JSON.stringify({ requires: 'hv', runs: [{ name: 'late', hv: true, migrate: { at: '1M' }, expect: { exit: { reason: 'debug-exit', code: '0x11' }, migration: { rounds: { min: 1 } } } }] }),
    });
    const report = checkLesson(files, loadLesson(files, '01'), { hv: hypervisorRunner });
    expect(report.status).toBe('fail');
    const text = formatReport(report);
    expect(text).toContain('ok   ended with debug-exit with code 0x11');
    expect(text).toMatch(/FAIL migration: expected a migration, but the guest ended after \d+ instructions, before the migration point \(at 1000000\): nothing migrated/);
  });
});

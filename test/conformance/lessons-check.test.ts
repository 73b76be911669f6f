// Every lesson's check runs and passes, on the bare machine and under vizor's hypervisor
// (src/hypervisor, through hypervisorRunner). And every check can fail: each expectation of each
// run, altered, is rejected with a clear "expected … but got …" message, and deliberately altered
// kernels are rejected too.
import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { diskFiles } from '../../src/cli/lesson.ts';
import {
  NEEDS_HV,
  checkLesson,
  evaluateRun,
  formatReport,
  listLessons,
  loadLesson,
  runBare,
  runUnderHv,
  type Lesson,
  type LessonFiles,
  type Observation,
  type RunSpec,
} from '../../src/lessons/index.ts';
import { hypervisorRunner } from '../../src/lessons/hv-runner.ts';
import { REPO_ROOT } from '../helpers/nasm.ts';

/**
 * The hypervisor (issue 5) is ready: the runs that need it run on src/hypervisor through
 * hypervisorRunner as real tests (false would list them as it.todo, pending).
 */
const HV_READY = true;

const files = diskFiles(join(REPO_ROOT, 'lessons'));
const entries = listLessons(files);
const lessons: Lesson[] = entries.flatMap((e) => ('lesson' in e ? [e.lesson] : []));

const observations = new Map<string, Observation>();
function observe(lesson: Lesson, run: RunSpec): Observation {
  const key = `${lesson.meta.name}/${run.name}`;
  let obs = observations.get(key);
  if (!obs) {
    obs = run.hv !== undefined ? runUnderHv(files, lesson.meta, run, hypervisorRunner) : runBare(files, lesson.meta, run);
    observations.set(key, obs);
  }
  return obs;
}

const failures = (run: RunSpec, obs: Observation) => evaluateRun(run, obs).filter((f) => !f.ok);

describe('the lessons', () => {
  it('all load, and cover the seminar: 0 (kinds of VMs), 1–10, 11 (legacy real mode) and 12 (live migration)', () => {
    expect(entries.filter((e) => 'error' in e).map((e) => ('error' in e ? e.error.message : ''))).toEqual([]);
    expect(lessons.map((l) => l.meta.order)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    for (const l of lessons) expect(l.meta.name.startsWith(String(l.meta.order).padStart(2, '0') + '-')).toBe(true);
  });

  it('lessons 1, 2, 3 are checkable on the bare machine alone; the others name the hypervisor', () => {
    // Lesson 12 migrates its kernel between two hypervisor hosts ("migrate" runs).
    const bareOnly = lessons.filter((l) => l.check.requires !== 'hv').map((l) => l.meta.order);
    expect(bareOnly).toEqual([1, 2, 3]);
    for (const l of lessons) expect(l.check.runs.some((r) => r.hv === undefined)).toBe(true); // every kernel runs bare
  });
});

for (const lesson of lessons) {
  describe(`${lesson.meta.name}: ${lesson.meta.title}`, () => {
    for (const run of lesson.check.runs) {
      if (run.hv !== undefined && !HV_READY) {
        it.todo(`run '${run.name}' (cpu=${run.hv.cpu} paging=${run.hv.paging} sched=${run.hv.sched}) — ${NEEDS_HV}`);
        continue;
      }
      it(`run '${run.name}' matches its check.json`, () => {
        expect(failures(run, observe(lesson, run)).map((f) => f.message)).toEqual([]);
      });
    }
    if (lesson.check.requires === 'hv' && !HV_READY) {
      it(`is reported as "${NEEDS_HV}", not as passing`, () => {
        const report = checkLesson(files, lesson);
        expect(report.status).toBe('needs-hv');
        expect(report.runs.filter((r) => r.status === 'needs-hv').map((r) => r.name)).toEqual(lesson.check.runs.filter((r) => r.hv).map((r) => r.name));
        expect(formatReport(report)).toContain(`the lesson is ${NEEDS_HV}`);
      });
    } else {
      it('is reported as passing', () => {
        const report = checkLesson(files, lesson, lesson.check.requires === 'hv' ? { hv: hypervisorRunner } : {});
        expect(report.status).toBe('pass');
        expect(formatReport(report)).toContain('the lesson checks out');
      });
    }
  });
}

// ---- each check can fail ---------------------------------------------------------------------------

const hex = (n: number) => '0x' + n.toString(16);
const clone = (run: RunSpec): RunSpec => structuredClone(run);

/** Altered copies of a run's expectations, each with the message it must produce. */
function alterations(run: RunSpec, obs: Observation): { what: string; run: RunSpec; message: RegExp | string }[] {
  const out: { what: string; run: RunSpec; message: RegExp | string }[] = [];
  run.expect.exit.forEach((x, i) => {
    const r = clone(run);
    const got = obs.ends[x.vm]!;
    if (x.reason === 'debug-exit') {
      r.expect.exit[i]!.code = x.code! ^ 1;
      out.push({ what: `exit code ${hex(x.code! ^ 1)}`, run: r, message: `exit: expected debug-exit with code ${hex(x.code! ^ 1)}, but got debug-exit with code ${hex(got.code!)}` });
    } else {
      r.expect.exit[i] = { ...x, reason: 'halted' };
      out.push({ what: 'exit halted', run: r, message: `exit: expected halted, but got ${got.reason}` });
    }
  });
  run.expect.serial.forEach((x, i) => {
    if (x.equals !== undefined) {
      const r = clone(run);
      r.expect.serial[i]!.equals = x.equals.replace(/\n$/, 'X\n');
      out.push({ what: 'serial equals', run: r, message: /^(VM \d+ )?serial: expected line \d+ to be ".*X", but got ".*"$/ });
    }
    if (x.lines) {
      const r = clone(run);
      r.expect.serial[i]!.lines = [...x.lines, 'a line nobody prints'];
      out.push({ what: 'serial lines', run: r, message: `serial: expected the line "a line nobody prints" after the line ${JSON.stringify(x.lines[x.lines.length - 1])}, but it never came` });
      const swapped = clone(run);
      if (x.lines.length > 1) {
        swapped.expect.serial[i]!.lines = [x.lines[1]!, x.lines[0]!];
        out.push({ what: 'serial lines out of order', run: swapped, message: '(it came, but out of order)' });
      }
    }
    if (x.contains) {
      const r = clone(run);
      r.expect.serial[i]!.contains = ['never printed'];
      out.push({ what: 'serial contains', run: r, message: 'serial: expected the output to contain "never printed", but it does not' });
    }
    const r = clone(run);
    const firstLine = obs.serial[x.vm]!.split('\n')[0]!;
    r.expect.serial[i]!.excludes = [firstLine];
    out.push({ what: 'serial excludes', run: r, message: `serial: expected no ${JSON.stringify(firstLine)} in the output, but got it at character 0` });
  });
  run.expect.counts.forEach((c, i) => {
    const r = clone(run);
    const got = evaluateRun({ ...run, expect: { exit: [], serial: [], counts: [c], sequences: [] } }, obs)[0]!.message.match(/got (\d+)/)![1]!;
    const want = Number(got) + 1;
    r.expect.counts[i]!.count = { min: want, max: want };
    out.push({ what: `counts[${i}] = ${want}`, run: r, message: new RegExp(`^expected ${want} × ${c.kind}\\b.*, but got ${got}\\b`) });
  });
  const m = run.expect.migration;
  if (m !== undefined && obs.migration?.happened === true) {
    const rounds = obs.migration.rounds.length;
    const r = clone(run);
    r.expect.migration = { ...m, rounds: { min: rounds + 1, max: rounds + 1 } };
    out.push({ what: 'migration rounds + 1', run: r, message: `migration: expected exactly ${rounds + 1} pre-copy rounds, but got ${rounds} pre-copy rounds` });
    const d = clone(run);
    d.expect.migration = { ...m, downtimeNs: { min: 0, max: obs.migration.downtimeNs / 2 } };
    out.push({ what: 'migration downtime / 2', run: d, message: /^migration: expected downtime at most [\d.]+ ms, but got downtime [\d.]+ ms/ });
  }
  run.expect.sequences.forEach((s, i) => {
    const r = clone(run);
    const first = r.expect.sequences[i]!.steps[0]!;
    first.count = { min: first.count.min + 1000, max: first.count.max + 1000 };
    out.push({ what: `sequences[${i}] first step +1000`, run: r, message: new RegExp(`^sequence '${s.name.replace(/[()|]/g, '.')}': expected step 1: `) });
  });
  return out;
}

describe('each check can fail: altered expectations are rejected with a clear message', () => {
  for (const lesson of lessons) {
    for (const run of lesson.check.runs.filter((r) => r.hv === undefined || HV_READY)) {
      it(`${lesson.meta.name} '${run.name}'`, () => {
        const obs = observe(lesson, run);
        const cases = alterations(run, obs);
        expect(cases.length).toBeGreaterThan(1);
        for (const c of cases) {
          const failed = failures(c.run, obs);
          expect(failed.length, `${c.what} must fail exactly one expectation`).toBe(1);
          if (typeof c.message === 'string') expect(failed[0]!.message, c.what).toContain(c.message);
          else expect(failed[0]!.message, c.what).toMatch(c.message);
        }
      });
    }
  }
});

/** The lessons' files with one kernel's source edited. */
function edited(path: string, from: string, to: string): LessonFiles {
  return {
    list: (dir) => files.list(dir),
    read(p) {
      const v = files.read(p);
      if (p !== path || typeof v !== 'string') return v;
      if (!v.includes(from)) throw new Error(`${path} has no '${from}' to edit`);
      return v.replace(from, to);
    },
  };
}

describe('each check can fail: altered kernels are rejected', () => {
  it.each([
    ['01-bare-metal', 'or eax, 1                         ; CR0.PE: protection enable', 'nop', 'exit: expected debug-exit with code 0x10, but got'],
    ['02-interrupts', 'cmp dword [ticks], 5', 'cmp dword [ticks], 6', 'expected 5 × interrupt with vector=0x20, source=pic, but got 6'],
    ['03-paging', 'mov ecx, 3', 'mov ecx, 4', 'serial: expected the line "frames used=00000003 " after the line "sum=00c03000 ", but it never came'],
    ['07-shadow-paging', 'pass1_write:\n    mov dword [REGION], 0x600D', 'pass1_write:\n    mov dword [REGION + 0x1000], 0x600D', 'expected 1 × pagefault with outcome=bare, linear=0x400000, errorCode=0x2, eip=0x'],
    ['11-legacy-real-mode', 'int 0x12 ', 'mov ax, 640', 'serial: expected the line "conventional memory: 639 KiB" after the line "legacy program running at 0800:0100", but it never came'],
  ])('%s with "%s" changed', (name, from, to, message) => {
    const lessonFiles = edited(`${name}/kernel.asm`, from, to);
    const report = checkLesson(lessonFiles, loadLesson(lessonFiles, name));
    expect(report.status).toBe('fail');
    const text = formatReport(report);
    expect(text).toContain('DOES NOT MATCH');
    expect(text).toContain(message);
    expect(text).toContain('the lesson does NOT check out');
  });

  it('a kernel that does not assemble names file, line and column', () => {
    const lessonFiles = edited('02-interrupts/kernel.asm', 'div ecx', 'div ecx, ecx, ecx');
    const report = checkLesson(lessonFiles, loadLesson(lessonFiles, '02'));
    expect(report.status).toBe('fail');
    expect(report.runs[0]!.error).toMatch(/^02-interrupts\/kernel\.asm:\d+:\d+: assembly: /);
  });

  it('a label check.json names but the kernel lost is reported, even for runs that need the hypervisor', () => {
    const lessonFiles = edited('05-trap-and-emulate/kernel.asm', 'do_cpuid:', 'cpuid_here:');
    const report = checkLesson(lessonFiles, loadLesson(lessonFiles, '05'));
    expect(report.status).toBe('fail');
    expect(formatReport(report)).toContain("the kernel has no label 'do_cpuid'");
  });
});

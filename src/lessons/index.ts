// Lessons: loading (lesson.md front matter + check.json) and checking a lesson's runs.
//   const lesson = loadLesson(files, '03');          // by folder, number or slug
//   const report = checkLesson(files, lesson, { hv }); // hv: optional HvRunner
// A lesson whose check needs the hypervisor is reported 'needs-hv' (not checkable yet) when no
// HvRunner is given: its bare-machine runs are still checked, and a failure there is a failure.
import { parseCheck } from './check-spec.ts';
import { evaluateRun, withSymbols, type Finding } from './checker.ts';
import { SpecError } from './predicates.ts';
import { parseLessonMeta } from './meta.ts';
import { buildKernel, runBare, runUnderHv, type HvRunner } from './runner.ts';
import { LessonFormatError, type Lesson, type LessonFiles } from './types.ts';

export * from './types.ts';
export { parseFrontMatter } from './frontmatter.ts';
export { parseLessonMeta, parseBoot, parseMemory } from './meta.ts';
export { parseCheck } from './check-spec.ts';
export { parseFilter, matchesFilter, testField, describeFilter, describeEvent, SpecError } from './predicates.ts';
export { matchSequence, scoped } from './sequence.ts';
export { evaluateRun, type Finding } from './checker.ts';
export { buildKernel, runBare, runUnderHv, normalisePath, type HvRunner, type HvRunRequest, type Observation, type VmEnd } from './runner.ts';

export const NEEDS_HV = 'not checkable yet: needs the hypervisor';

const FOLDER = /^\d\d-[a-z0-9-]+$/;

/**
 * Lesson files from a path → text record (the browser: `import.meta.glob('/lessons/**', { query: '?raw' })`
 * with the "/lessons/" prefix removed).
 */
export function memoryFiles(record: Readonly<Record<string, string | Uint8Array>>): LessonFiles {
  return {
    read: (path) => record[path],
    list(dir) {
      const prefix = dir === '' ? '' : dir.replace(/\/?$/, '/');
      const names = new Set<string>();
      for (const path of Object.keys(record)) if (path.startsWith(prefix)) names.add(path.slice(prefix.length).split('/')[0]!);
      return [...names];
    },
  };
}

function readText(files: LessonFiles, path: string): string | undefined {
  const v = files.read(path);
  return v === undefined ? undefined : typeof v === 'string' ? v : new TextDecoder().decode(v);
}

/** The lesson folders (NN-slug), in folder order. */
export function lessonFolders(files: LessonFiles): string[] {
  return files.list('').filter((n) => FOLDER.test(n)).sort();
}

/** Finds a folder by its full name, its number ("3", "03") or its slug ("paging"). */
export function resolveLesson(files: LessonFiles, name: string): string | undefined {
  const folders = lessonFolders(files);
  const n = /^\d+$/.test(name) ? name.padStart(2, '0') : null;
  return folders.find((f) => f === name || (n !== null && f.startsWith(`${n}-`)) || f.slice(3) === name);
}

export function loadLesson(files: LessonFiles, name: string): Lesson {
  const folder = resolveLesson(files, name);
  if (folder === undefined) throw new LessonFormatError(name, 'lesson', `no such lesson (lessons: ${lessonFolders(files).join(', ')})`);
  const mdPath = `${folder}/lesson.md`;
  const md = readText(files, mdPath);
  if (md === undefined) throw new LessonFormatError(mdPath, 'file', 'missing: every lesson folder needs a lesson.md');
  const meta = parseLessonMeta(folder, mdPath, md);
  const checkPath = `${folder}/check.json`;
  const json = readText(files, checkPath);
  if (json === undefined) throw new LessonFormatError(checkPath, 'file', 'missing: every lesson folder needs a check.json');
  return { meta, check: parseCheck(checkPath, json, meta) };
}

export type LessonEntry = { folder: string; lesson: Lesson } | { folder: string; error: LessonFormatError };

/** Every lesson, by `order`; lessons whose files are wrong come with their error. */
export function listLessons(files: LessonFiles): LessonEntry[] {
  const entries: LessonEntry[] = lessonFolders(files).map((folder) => {
    try {
      return { folder, lesson: loadLesson(files, folder) };
    } catch (err) {
      if (err instanceof LessonFormatError) return { folder, error: err };
      throw err;
    }
  });
  const order = (e: LessonEntry) => ('lesson' in e ? e.lesson.meta.order : Infinity);
  return entries.sort((a, b) => order(a) - order(b) || a.folder.localeCompare(b.folder));
}

export type Status = 'pass' | 'fail' | 'needs-hv';

export interface RunReport {
  name: string;
  /** "bare machine" or "hypervisor: cpu=vtx paging=shadow sched=rr, 3 VMs". */
  setting: string;
  status: Status;
  findings: Finding[];
  /** Set when the kernel did not build or boot. */
  error?: string;
}

export interface LessonReport {
  lesson: string;
  title: string;
  status: Status;
  runs: RunReport[];
}

/**
 * Runs every run of the lesson's check. Without `hv`, runs under the hypervisor are 'needs-hv';
 * the lesson is 'fail' if any run fails, else 'needs-hv' if any run could not be checked, else 'pass'.
 */
export function checkLesson(files: LessonFiles, lesson: Lesson, opts: { hv?: HvRunner } = {}): LessonReport {
  const runs = lesson.check.runs.map((run): RunReport => {
    const setting = run.hv === undefined
      ? 'bare machine'
      : `hypervisor: cpu=${run.hv.cpu} paging=${run.hv.paging} sched=${run.hv.sched}${run.vms.length > 1 ? `, ${run.vms.length} VMs` : ''}`;
    const base = { name: run.name, setting };
    try {
      if (run.hv !== undefined && !opts.hv) {
        // Not runnable yet, but its kernels must build and its "@label"s must exist.
        const kernels = run.vms.map((vm) => buildKernel(files, lesson.meta.name, vm.kernel));
        withSymbols(run, kernels[0]!.symbols);
        return { ...base, status: 'needs-hv', findings: [] };
      }
      const obs = run.hv !== undefined ? runUnderHv(files, lesson.meta, run, opts.hv!) : runBare(files, lesson.meta, run);
      const findings = evaluateRun(run, obs);
      return { ...base, status: findings.every((f) => f.ok) ? 'pass' : 'fail', findings };
    } catch (err) {
      if (err instanceof LessonFormatError) return { ...base, status: 'fail', findings: [], error: err.message };
      if (err instanceof SpecError) return { ...base, status: 'fail', findings: [], error: `${lesson.meta.name}/check.json: ${err.message}` };
      // The hypervisor refused or failed the run (e.g. an image it cannot boot): a failure, in words.
      if (run.hv !== undefined && err instanceof Error) return { ...base, status: 'fail', findings: [], error: `the hypervisor could not run it: ${err.message}` };
      throw err;
    }
  });
  const status: Status = runs.some((r) => r.status === 'fail') ? 'fail' : runs.some((r) => r.status === 'needs-hv') ? 'needs-hv' : 'pass';
  return { lesson: lesson.meta.name, title: lesson.meta.title, status, runs };
}

/** The report in words, as `vizor lesson check` prints it. */
export function formatReport(r: LessonReport): string {
  const lines: string[] = [`${r.lesson}: ${r.title}`];
  for (const run of r.runs) {
    const where = ` (${run.setting})`;
    if (run.status === 'needs-hv') {
      lines.push(`  run '${run.name}'${where}: ${NEEDS_HV}`);
      continue;
    }
    lines.push(`  run '${run.name}'${where}: ${run.status === 'pass' ? 'matches' : 'DOES NOT MATCH'}`);
    if (run.error) lines.push(`    ${run.error}`);
    for (const f of run.findings) lines.push(`    ${f.ok ? 'ok  ' : 'FAIL'} ${f.message.replace(/\n/g, '\n    ')}`);
  }
  const verdict = r.status === 'pass' ? 'the lesson checks out' : r.status === 'fail' ? 'the lesson does NOT check out' : `the lesson is ${NEEDS_HV} (its bare-machine runs match)`;
  lines.push(verdict);
  return lines.join('\n') + '\n';
}

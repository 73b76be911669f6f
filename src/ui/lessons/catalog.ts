// The lessons as the app sees them: every file under /lessons bundled as text, listed and loaded
// with src/lessons (the same loader and checker as `vizor lesson`), and turned into a project
// (the lesson's sources plus the shared _lib includes) and machine settings for the editor.
import { listLessons, memoryFiles, type Lesson, type LessonEntry } from '../../lessons/index.ts';
import type { MachineConfig, SourceFile } from '../../worker/protocol.ts';
import type { HvConfig } from './hv-config.ts';

/** "/lessons/07-shadow-paging/kernel.asm" → "07-shadow-paging/kernel.asm" → its text. */
export function lessonRecord(glob: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [path, text] of Object.entries(glob)) out[path.replace(/^\/?lessons\//, '')] = text;
  return out;
}

const bundled: Record<string, string> = lessonRecord(
  import.meta.glob('/lessons/**/*.{md,asm,inc,json}', { query: '?raw', import: 'default', eager: true }) as Record<string, string>,
);

export const LESSON_FILES: Record<string, string> = bundled;

export interface LessonProject {
  folder: string;
  main: string;
  files: SourceFile[];
  machine: MachineConfig;
}

/** Every lesson that loads (a broken lesson folder is listed with its error by the CLI, not here). */
export function lessonCatalog(record: Record<string, string> = bundled): { folder: string; lesson: Lesson }[] {
  return listLessons(memoryFiles(record)).filter((e): e is Extract<LessonEntry, { lesson: Lesson }> => 'lesson' in e);
}

/** The editor's project for a lesson: its .asm files (main = the lesson's kernel) and _lib's includes. */
export function lessonProject(lesson: Lesson, record: Record<string, string> = bundled): LessonProject {
  const folder = lesson.meta.name;
  const own = Object.keys(record).filter((p) => p.startsWith(`${folder}/`) && /\.(asm|inc)$/.test(p)).sort();
  const main = lesson.meta.kernel;
  const files: SourceFile[] = own.map((p) => ({ name: p.slice(folder.length + 1), text: record[p]! }));
  files.sort((a, b) => (a.name === main ? -1 : b.name === main ? 1 : a.name.localeCompare(b.name)));
  for (const p of Object.keys(record).filter((x) => x.startsWith('_lib/')).sort()) files.push({ name: p, text: record[p]! });
  const boot = lesson.meta.machine.boot;
  const machine: MachineConfig = {
    memoryMiB: Math.max(1, Math.round(lesson.meta.machine.memoryBytes / 1048576)),
    boot: boot.kind === 'flat' ? { kind: 'flat', address: boot.address } : boot.kind === 'boot-sector' ? { kind: 'boot-sector' } : { kind: 'multiboot' },
  };
  return { folder, main, files, machine };
}

/** The hypervisor settings a lesson suggests (its front matter's hv:), or null for a bare lesson. */
export function lessonHv(lesson: Lesson): HvConfig | null {
  const hv = lesson.meta.hv;
  if (!hv) return null;
  const vms = Math.max(1, ...lesson.check.runs.filter((r) => r.hv).map((r) => r.vms.length));
  return { mode: 'hypervisor', vms, cpu: hv.cpu, paging: hv.paging, sched: hv.sched };
}

/**
 * The files a check runs on: the bundled lessons, with the editor's versions of this lesson's
 * sources (so a student's change is what gets checked).
 */
export function filesForCheck(folder: string, edited: SourceFile[], record: Record<string, string> = bundled): Record<string, string> {
  const out = { ...record };
  for (const f of edited) {
    if (f.name.startsWith('_lib/')) out[f.name] = f.text;
    else out[`${folder}/${f.name}`] = f.text;
  }
  return out;
}

/** Names defined as labels in the sources (`name:` at the start of a line), for step references. */
export function labelsIn(files: SourceFile[]): Map<string, { file: string; line: number }> {
  const out = new Map<string, { file: string; line: number }>();
  for (const f of files) {
    f.text.split('\n').forEach((text, i) => {
      const m = /^\s*([A-Za-z_][\w.]*)\s*:/.exec(text);
      if (m && !out.has(m[1]!)) out.set(m[1]!, { file: f.name, line: i + 1 });
    });
  }
  return out;
}

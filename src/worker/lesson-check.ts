// Checking a lesson in a worker: the same checker as `vizor lesson check`, on the lesson files the
// page sends (the bundled lessons with the editor's versions of the lesson's sources). Runs under
// the hypervisor go to src/hypervisor when `hv` is asked for; otherwise they report "needs the
// hypervisor". Kept apart from the machine worker so a check never stalls the debugger.
import { checkLesson, loadLesson, memoryFiles, LessonFormatError, type LessonReport } from '../lessons/index.ts';
import { hypervisorRunner } from '../lessons/hv-runner.ts';

export interface CheckRequest {
  id: number;
  lesson: string;
  files: Record<string, string>;
  /** Run the runs that need the hypervisor on src/hypervisor. */
  hv: boolean;
}

export type CheckReply =
  | { id: number; ok: true; report: LessonReport }
  | { id: number; ok: false; error: string };

export function runCheck(req: CheckRequest): CheckReply {
  try {
    const files = memoryFiles(req.files);
    const lesson = loadLesson(files, req.lesson);
    const report = checkLesson(files, lesson, req.hv ? { hv: hypervisorRunner } : {});
    return { id: req.id, ok: true, report };
  } catch (err) {
    if (err instanceof LessonFormatError) return { id: req.id, ok: false, error: err.message };
    return { id: req.id, ok: false, error: `the check stopped with an internal error: ${(err as Error)?.message ?? String(err)}` };
  }
}

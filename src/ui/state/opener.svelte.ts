// Where the editor's program comes from: a lesson, an example, a share link, or (on a plain visit)
// the student's own work from before. Each brings its sources and machine settings; none loads
// the machine (the app reloads after opening).
import { BARE } from '../lessons/hv-config.ts';
import type { LessonState } from '../lessons/lesson-state.svelte.ts';
import { lessonHv, lessonProject } from '../lessons/catalog.ts';
import { EXAMPLES, type Example } from '../examples/index.ts';
import { decodeShare, encodeShare } from '../model/share.ts';
import type { Breakpoints } from './breakpoints.svelte.ts';
import type { Project } from './project.svelte.ts';
import type { Session } from './session.svelte.ts';
import type { Settings } from './settings.svelte.ts';

export class Opener {
  /** Why the share link in the address could not be opened ('' when it could, or there was none). */
  linkError = $state('');

  constructor(
    private readonly project: Project,
    private readonly settings: Settings,
    private readonly breakpoints: Breakpoints,
    private readonly lessons: LessonState,
    private readonly session: Session,
  ) {}

  /** Opens a lesson: its sources in the editor, its machine settings, its text in the pane. */
  openLesson(folder: string): void {
    const { project, settings, breakpoints, lessons, session } = this;
    const entry = lessons.catalog.find((l) => l.folder === folder);
    if (!entry) return;
    const lp = lessonProject(entry.lesson);
    if (session.replayName) session.closeTrace(); // another lesson's run under the hypervisor is not this one's
    project.replace({ main: lp.main, files: lp.files });
    project.save();
    // The lesson's hypervisor settings are offered, but the debugger starts on the bare machine.
    settings.machine = { ...lp.machine, hv: { ...(lessonHv(entry.lesson) ?? settings.machine.hv ?? BARE), mode: 'bare' } };
    settings.save();
    breakpoints.list = [];
    breakpoints.events = [];
    lessons.select(folder);
  }

  openExample(ex: Example): void {
    const { project, settings, breakpoints, lessons } = this;
    project.replace(ex);
    project.save();
    breakpoints.list = [];
    lessons.select(null);
    lessons.open = false;
    settings.machine = { ...settings.machine, memoryMiB: 32, boot: { kind: 'multiboot' } };
  }

  /** Puts the program and machine settings into the address's fragment; returns the link. */
  async share(): Promise<string> {
    const fragment = await encodeShare({ ...this.project.snapshot(), machine: $state.snapshot(this.settings.machine) });
    history.replaceState(null, '', `#${fragment}`);
    return location.href;
  }

  /** On page load: the share link in the address if there is one, else what openStart picks. */
  async openAtStart(): Promise<void> {
    if (!(await this.openFromLink())) this.openStart();
  }

  private async openFromLink(): Promise<boolean> {
    const { project, settings, lessons } = this;
    try {
      const shared = await decodeShare(location.hash);
      if (!shared) return false;
      project.replace({ main: shared.main, files: shared.files });
      if (shared.machine) settings.machine = { ...shared.machine, hv: shared.machine.hv ?? { ...BARE } };
      lessons.select(null);
      lessons.open = false;
      return true;
    } catch (e) {
      this.linkError = (e as Error).message;
      return false;
    }
  }

  /**
   * Without a share link: "#lesson=7" or "#example=hello" when asked for, else the student's own
   * work from before, else the first lesson.
   */
  private openStart(): void {
    const { project, lessons } = this;
    const lesson = /^#lesson=([\w-]+)/.exec(location.hash);
    const example = /^#example=([\w-]+)/.exec(location.hash);
    const asked = lesson ? lessons.find(lesson[1]) : null;
    const ex = example ? EXAMPLES.find((e) => e.id === example[1]) : undefined;
    if (asked) this.openLesson(asked);
    else if (ex) this.openExample(ex);
    else if (!project.restored) this.openLesson(lessons.find('01') ?? lessons.catalog[0]?.folder ?? '');
  }
}

// The open lesson and its check: which lesson (remembered across page loads), whether the pane is
// shown, and the last check's report. Checks run in their own worker so the debugger never waits.
import type { LessonReport } from '../../lessons/index.ts';
import type { CheckReply, CheckRequest } from '../../worker/lesson-check.ts';
import type { SourceFile } from '../../worker/protocol.ts';
import type { StorageLike } from '../state/settings.svelte.ts';
import { filesForCheck, lessonCatalog } from './catalog.ts';

const KEY = 'vizor.lesson.v1';

/** The part of a Worker the check client uses (a stand-in in unit tests). */
export interface CheckWorkerLike {
  postMessage(msg: CheckRequest): void;
  addEventListener(type: 'message', fn: (ev: MessageEvent<CheckReply>) => void): void;
}

export class LessonState {
  readonly catalog = lessonCatalog();
  /** The open lesson's folder (e.g. "07-shadow-paging"), or null when the project is not a lesson. */
  folder = $state<string | null>(null);
  /** The pane is shown (it can be hidden to give the editor the room). */
  open = $state(true);
  checking = $state(false);
  /** How many checks have finished (the result's data-checks, for tests and screen readers). */
  checksDone = $state(0);
  report = $state.raw<LessonReport | null>(null);
  checkError = $state('');
  /** Also run the runs that need the hypervisor (on src/hypervisor). */
  withHv = $state(true);

  readonly lesson = $derived(this.catalog.find((l) => l.folder === this.folder)?.lesson ?? null);

  private worker: CheckWorkerLike | null = null;
  private nextId = 1;
  private pending = new Map<number, (r: CheckReply) => void>();

  constructor(
    private readonly makeWorker: () => CheckWorkerLike,
    private readonly storage: StorageLike | null = null,
  ) {
    try {
      const saved = JSON.parse(storage?.getItem(KEY) ?? 'null') as { folder?: string; open?: boolean } | null;
      if (saved && typeof saved.folder === 'string' && this.catalog.some((l) => l.folder === saved.folder)) this.folder = saved.folder;
      if (saved && typeof saved.open === 'boolean') this.open = saved.open;
    } catch {
      // A damaged entry is ignored.
    }
  }

  /** Finds a lesson by folder, number ("7", "07") or slug. */
  find(name: string): string | null {
    const n = /^\d+$/.test(name) ? name.padStart(2, '0') : null;
    return this.catalog.find((l) => l.folder === name || (n !== null && l.folder.startsWith(`${n}-`)) || l.folder.slice(3) === name)?.folder ?? null;
  }

  select(folder: string | null): void {
    this.folder = folder;
    this.report = null;
    this.checkError = '';
    if (folder) this.open = true;
    this.save();
  }

  save(): void {
    this.storage?.setItem(KEY, JSON.stringify({ folder: this.folder, open: this.open }));
  }

  /** Runs the lesson's check on the editor's sources. */
  async check(edited: SourceFile[]): Promise<void> {
    const folder = this.folder;
    if (!folder) return;
    this.checking = true;
    this.checkError = '';
    this.report = null;
    const reply = await this.send({ lesson: folder, files: filesForCheck(folder, edited), hv: this.withHv });
    if (this.folder !== folder) return; // another lesson was picked meanwhile
    this.checking = false;
    this.checksDone++;
    if (reply.ok) this.report = reply.report;
    else this.checkError = reply.error;
  }

  private send(req: Omit<CheckRequest, 'id'>): Promise<CheckReply> {
    if (!this.worker) {
      this.worker = this.makeWorker();
      this.worker.addEventListener('message', (ev) => {
        this.pending.get(ev.data.id)?.(ev.data);
        this.pending.delete(ev.data.id);
      });
    }
    const id = this.nextId++;
    return new Promise((resolve) => {
      this.pending.set(id, resolve);
      this.worker!.postMessage({ ...req, id });
    });
  }
}

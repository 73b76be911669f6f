// The project: several source files, which one is assembled (main) and which one is open.
// Saved to the browser's storage on every change; opened from a share link or uploaded files.
import type { SourceFile } from '../../worker/protocol.ts';
import type { StorageLike } from './settings.svelte.ts';

const KEY = 'vizor.project.v1';

export class Project {
  files = $state<SourceFile[]>([]);
  main = $state('');
  active = $state('');
  /** A request to show a line in the editor (from the disassembly, problems, breakpoints...). */
  reveal = $state.raw<{ file: string; line: number } | null>(null);
  /** Lines a lesson step refers to, highlighted in the editor (cleared by the next reveal or load). */
  highlight = $state.raw<{ file: string; line: number }[]>([]);
  /** True when the files came from the browser's storage (the student's own work from before). */
  readonly restored: boolean;
  /** Incremented whenever a file's text is replaced from outside the editor (load, share link). */
  revision = $state(0);

  readonly activeFile = $derived(this.files.find((f) => f.name === this.active) ?? this.files[0]);

  constructor(
    defaults: { main: string; files: SourceFile[] },
    private readonly storage: StorageLike | null = null,
  ) {
    const saved = this.loadSaved();
    this.restored = saved !== null;
    this.replace(saved ?? defaults);
  }

  /** Replaces all files (a share link, an upload of a whole project, the example). */
  replace(p: { main: string; files: SourceFile[] }): void {
    this.files = p.files.map((f) => ({ name: f.name, text: f.text }));
    this.main = p.files.some((f) => f.name === p.main) ? p.main : (p.files[0]?.name ?? '');
    this.active = this.main;
    this.highlight = [];
    this.revision++;
  }

  show(file: string, line: number): void {
    if (!this.files.some((f) => f.name === file)) return;
    this.active = file;
    this.reveal = { file, line };
  }

  setText(name: string, text: string): void {
    const f = this.files.find((x) => x.name === name);
    if (!f || f.text === text) return;
    f.text = text;
    this.save();
  }

  /** Adds a file (or replaces the one with that name) and opens it. */
  addFile(name: string, text: string): void {
    const clean = name.replace(/[\\/]/g, '_') || 'untitled.asm';
    const f = this.files.find((x) => x.name === clean);
    if (f) f.text = text;
    else this.files.push({ name: clean, text });
    this.active = clean;
    this.revision++;
    this.save();
  }

  newFileName(): string {
    for (let i = 1; ; i++) if (!this.files.some((f) => f.name === `file${i}.asm`)) return `file${i}.asm`;
  }

  removeFile(name: string): void {
    if (this.files.length <= 1) return;
    this.files = this.files.filter((f) => f.name !== name);
    if (this.main === name) this.main = this.files[0].name;
    if (this.active === name) this.active = this.main;
    this.save();
  }

  snapshot(): { main: string; files: SourceFile[] } {
    return { main: this.main, files: $state.snapshot(this.files) };
  }

  save(): void {
    this.storage?.setItem(KEY, JSON.stringify(this.snapshot()));
  }

  private loadSaved(): { main: string; files: SourceFile[] } | null {
    try {
      const raw = this.storage?.getItem(KEY);
      if (!raw) return null;
      const p = JSON.parse(raw) as { main: string; files: SourceFile[] };
      return Array.isArray(p.files) && p.files.length > 0 ? p : null;
    } catch {
      return null;
    }
  }
}

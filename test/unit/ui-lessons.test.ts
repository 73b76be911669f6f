// The lesson pane's logic: the safe markdown renderer (escaping, steps, questions, references)
// and turning a bundled lesson into an editor project and machine settings.
import { describe, expect, it } from 'vitest';
import { renderMarkdown, renderInline } from '../../src/ui/lessons/markdown.ts';
import { filesForCheck, labelsIn, lessonCatalog, lessonHv, lessonProject, LESSON_FILES } from '../../src/ui/lessons/catalog.ts';
import { projectPath } from '../../src/worker/core.ts';
import { runCheck } from '../../src/worker/lesson-check.ts';

describe('lesson markdown', () => {
  it('escapes everything that is not markdown it knows', () => {
    const html = renderMarkdown('Hello <script>alert(1)</script> & <img src=x onerror=alert(1)>\n\n[x](javascript:alert(1))');
    expect(html).not.toMatch(/<script|<img|href="javascript/);
    expect(html).toContain('&lt;script&gt;');
    expect(html).toContain('[x](javascript:alert(1))');
  });

  it('renders headings, lists, code, emphasis and safe links', () => {
    const html = renderMarkdown('# T\n\n## Steps\n\n1. Run `vizor run k.asm`, **now**\n   and *then* look.\n2. Two\n\n- a\n- b\n\n```\nmov <a>\n```\n\nSee [Xen](https://xen.org).');
    expect(html).toContain('<h2>T</h2>');
    expect(html).toContain('<li data-step="1">Run <code>vizor run k.asm</code>, <strong>now</strong> and <em>then</em> look.</li>');
    expect(html).toContain('<li data-step="2">Two</li>');
    expect(html).toContain('<ul><li>a</li><li>b</li></ul>');
    expect(html).toContain('<pre><code>mov &lt;a&gt;</code></pre>');
    expect(html).toContain('<a href="https://xen.org" target="_blank" rel="noopener noreferrer">Xen</a>');
  });

  it('only the Steps section numbers steps', () => {
    const html = renderMarkdown('## Rules\n\n1. one\n\n## Steps\n\n1. first');
    expect(html).toContain('<li>one</li>');
    expect(html).toContain('<li data-step="1">first</li>');
  });

  it('questions unfold: <details><summary> with a rendered, escaped answer', () => {
    const html = renderMarkdown('<details><summary>Why `cr2`?</summary>\nBecause <b>x</b>.\n</details>');
    expect(html).toMatch(/^<details><summary>Why <code>cr2<\/code>\?<\/summary><div class="answer"><p>Because &lt;b&gt;x&lt;\/b&gt;.<\/p><\/div><\/details>$/);
  });

  it('marks labels, event kinds, panels and keys as references', () => {
    const html = renderInline('at `pass1_write`, break on `pagefault`, open the page-table view and the Registers panel, press F5 then Shift+F11', {
      labels: new Set(['pass1_write']), events: new Set(['pagefault']),
    });
    expect(html).toContain('data-label="pass1_write"');
    expect(html).toContain('data-event="pagefault"');
    expect(html).toContain('data-panel="paging"');
    expect(html).toContain('data-panel="registers"');
    expect(html).toContain('<kbd>F5</kbd>');
    expect(html).toContain('<kbd>Shift+F11</kbd>');
  });

  it('names the tabs the lessons point at: Hypervisor, VMs, Stack, Serial, Memory, TLB', () => {
    const html = renderInline('open the Hypervisor tab, then the VMs tab, the Stack tab, the Serial tab, the Memory tab and the TLB tab; press Shift+F10');
    for (const panel of ['hv', 'vms', 'stack', 'serial', 'memory', 'tlb']) expect(html).toContain(`data-panel="${panel}"`);
    expect(html).toContain('<kbd>Shift+F10</kbd>');
    // A tab name inside a longer word is not a reference.
    expect(renderInline('the HypervisorTab component')).not.toContain('data-panel');
  });
});

describe('lessons as projects', () => {
  it('lists every lesson folder in order, lesson 01 second', () => {
    const folders = lessonCatalog().map((l) => l.folder);
    expect(folders.length).toBeGreaterThanOrEqual(11);
    expect(folders[1]).toBe('01-bare-metal');
  });

  it("a lesson's project: its kernel first, its other sources, the shared _lib; its machine settings", () => {
    const l9 = lessonCatalog().find((l) => l.folder === '09-scheduling')!.lesson;
    const p = lessonProject(l9);
    expect(p.main).toBe('kernel.asm');
    expect(p.files.map((f) => f.name).slice(0, 2)).toEqual(['kernel.asm', 'idle.asm']);
    expect(p.files.some((f) => f.name === '_lib/mb.inc')).toBe(true);
    const l1 = lessonCatalog().find((l) => l.folder === '01-bare-metal')!.lesson;
    expect(lessonProject(l1).machine).toEqual({ memoryMiB: 16, boot: { kind: 'boot-sector' } });
    expect(lessonHv(l1)).toBeNull();
    expect(lessonHv(l9)).toMatchObject({ mode: 'hypervisor', vms: 3 });
    expect(projectPath('../_lib/mb.inc')).toBe('_lib/mb.inc');
    expect(labelsIn(p.files).get('phase')).toEqual({ file: 'kernel.asm', line: expect.any(Number) });
  });

  it("checks the editor's version of the kernel: unchanged matches, changed is refused in words", () => {
    const l3 = lessonCatalog().find((l) => l.folder === '03-paging')!.lesson;
    const files = lessonProject(l3).files;
    const ok = runCheck({ id: 1, lesson: '03-paging', files: filesForCheck('03-paging', files), hv: false });
    expect(ok.ok && ok.report.status).toBe('pass');
    const changed = files.map((f) => (f.name === 'kernel.asm' ? { ...f, text: f.text.replace('EXIT 0x12', 'EXIT 0x13') } : f));
    const bad = runCheck({ id: 2, lesson: '03-paging', files: filesForCheck('03-paging', changed), hv: false });
    expect(bad.ok && bad.report.status).toBe('fail');
    const messages = bad.ok ? bad.report.runs.flatMap((r) => r.findings.filter((f) => !f.ok).map((f) => f.message)) : [];
    expect(messages.join('\n')).toMatch(/expected .*0x12.* but/i);
    expect(Object.keys(LESSON_FILES)).toContain('03-paging/check.json');
  });
});

describe('LessonState', async () => {
  const { LessonState } = await import('../../src/ui/lessons/lesson-state.svelte.ts');
  type Listener = (ev: MessageEvent) => void;
  /** A worker stand-in that answers with the real checker, asynchronously like a worker. */
  function fakeWorker() {
    let listener: Listener | null = null;
    return {
      postMessage: (msg: Parameters<typeof runCheck>[0]) => setTimeout(() => listener?.({ data: runCheck(msg) } as MessageEvent), 0),
      addEventListener: (_: 'message', fn: Listener) => void (listener = fn),
    };
  }
  const memory = () => {
    const store = new Map<string, string>();
    return { getItem: (k: string) => store.get(k) ?? null, setItem: (k: string, v: string) => void store.set(k, v) };
  };

  it('remembers the lesson, finds lessons by number, and checks the edited sources', async () => {
    const storage = memory();
    const a = new LessonState(fakeWorker, storage);
    expect(a.find('3')).toBe('03-paging');
    expect(a.find('paging')).toBe('03-paging');
    expect(a.find('99')).toBeNull();
    a.select('03-paging');
    expect(new LessonState(fakeWorker, storage).folder).toBe('03-paging');
    const files = lessonProject(a.lesson!).files;
    await a.check(files);
    expect(a.report?.status).toBe('pass');
    expect(a.checksDone).toBe(1);
    await a.check(files.map((f) => (f.name === 'kernel.asm' ? { ...f, text: f.text + '\n  bogus_instruction eax\n' } : f)));
    expect(a.report?.status).toBe('fail');
    expect(a.report?.runs[0]?.error).toMatch(/03-paging\/kernel\.asm:\d+:\d+: assembly: /);
    a.select(null);
    expect(a.lesson).toBeNull();
  });
});

// `vizor lesson list | show | check`: output and exit statuses, run as a real process (the
// command writes to stdout/stderr itself). src/cli/main.ts does not route `lesson` yet, so the
// module's command() is called directly, exactly as main.ts will call it.
import { describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { cpSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { foldAnswers } from '../../src/cli/lesson.ts';
import { REPO_ROOT, scratchDir } from '../helpers/nasm.ts';

/** Runs `vizor lesson ARGS` in its own process (async, so the concurrent tests overlap). */
function lesson(...args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  const script = `const m = await import(${JSON.stringify(join(REPO_ROOT, 'src/cli/lesson.ts'))}); process.exitCode = await m.command(${JSON.stringify(args)});`;
  return new Promise((done) => {
    execFile(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: REPO_ROOT, encoding: 'utf8', timeout: 60_000 }, (err, stdout, stderr) => {
      const status = err ? (typeof err.code === 'number' ? err.code : null) : 0;
      done({ status, stdout, stderr });
    });
  });
}

/** A copy of some lessons (and _lib) with one file edited, for --dir. */
function lessonsWith(folders: string[], path: string, edit: (text: string) => string): string {
  const dir = join(scratchDir(), `lessons-${process.pid}-${Math.random().toString(36).slice(2)}`);
  mkdirSync(dir, { recursive: true });
  for (const f of ['_lib', ...folders]) cpSync(join(REPO_ROOT, 'lessons', f), join(dir, f), { recursive: true });
  writeFileSync(join(dir, path), edit(readFileSync(join(dir, path), 'utf8')));
  return dir;
}

describe.concurrent('vizor lesson', () => {
  it('list: every lesson in order with whether its check can run', async () => {
    const r = await lesson('list');
    expect(r.status).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines).toHaveLength(13);
    expect(lines[1]).toMatch(/^\s+1 01-bare-metal\s+Bare metal .*\[checkable: bare machine\]$/);
    expect(lines[7]).toMatch(/^\s+7 07-shadow-paging\s+Shadow page tables .*\[checkable: bare machine and hypervisor\]$/);
  });

  it('check: exit 0 when it matches, by number, slug or folder', async () => {
    for (const r of await Promise.all(['3', 'paging', '03-paging'].map((name) => lesson('check', name)))) {
      expect(r.status).toBe(0);
      expect(r.stdout).toContain("run 'page faults and demand paging' (bare machine): matches");
      expect(r.stdout).toContain('the lesson checks out');
    }
  });

  it('check: the runs under the hypervisor run on src/hypervisor by default, and match', async () => {
    const [r, hv] = await Promise.all([lesson('check', '7'), lesson('check', '6', '--hv')]);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain("run 'bare machine' (bare machine): matches");
    expect(r.stdout).toContain("run 'shadow paging' (hypervisor: cpu=vtx paging=shadow sched=rr): matches");
    expect(r.stdout).toContain('the lesson checks out');
    expect(r.stdout).not.toContain('not checkable yet');
    expect(hv.status).toBe(0); // --hv: the default, still accepted
    expect(hv.stdout).toContain("run 'binary translation closes it' (hypervisor: cpu=bt paging=shadow sched=rr): matches");
  });

  it('check --bare: exit 3 and a visible "not checkable yet" for the runs under the hypervisor', async () => {
    const [r, both] = await Promise.all([lesson('check', '7', '--bare'), lesson('check', '7', '--bare', '--hv')]);
    expect(r.status).toBe(3);
    expect(r.stdout).toContain("run 'bare machine' (bare machine): matches");
    expect(r.stdout).toContain("run 'shadow paging' (hypervisor: cpu=vtx paging=shadow sched=rr): not checkable yet: needs the hypervisor");
    expect(r.stdout).not.toContain('checks out');
    expect(both.status).toBe(2);
  });

  it('check: exit 1 with "expected … but got …" when an expectation does not match', async () => {
    const dir = lessonsWith(['02-interrupts'], '02-interrupts/check.json', (t) => t.replace('"count": 5', '"count": 4'));
    const r = await lesson('check', '2', '--dir', dir);
    expect(r.status).toBe(1);
    expect(r.stdout).toContain('FAIL expected 4 × interrupt with vector=0x20, source=pic, but got 5');
    expect(r.stdout).toContain('the lesson does NOT check out');
  });

  it('check --all: the worst status wins (1 over 3 over 0)', async () => {
    const pending = lessonsWith(['01-bare-metal', '06-virtualization-hole'], '01-bare-metal/lesson.md', (t) => t);
    const dir = lessonsWith(['01-bare-metal', '06-virtualization-hole'], '01-bare-metal/check.json', (t) => t.replace('"0x10"', '"0x11"'));
    const [p, r] = await Promise.all([lesson('check', '--all', '--bare', '--dir', pending), lesson('check', '--all', '--bare', '--dir', dir)]);
    expect(p.status).toBe(3);
    expect(r.status).toBe(1);
    expect(r.stdout).toContain('exit: expected debug-exit with code 0x11, but got debug-exit with code 0x10');
    expect(r.stdout).toContain('06-virtualization-hole');
  });

  it('exit 4 with file and field when a lesson is malformed; 2 for usage errors', async () => {
    const dir = lessonsWith(['03-paging'], '03-paging/check.json', (t) => t.replace('"outcome": "bare"', '"outcome": "bear"'));
    const [r, listed, nonesuch, missing, unknown] = await Promise.all([
      lesson('check', 'paging', '--dir', dir),
      lesson('list', '--dir', dir),
      lesson('check', 'nonesuch'),
      lesson('check'),
      lesson('frobnicate'),
    ]);
    expect(r.status).toBe(4);
    expect(r.stderr).toBe('vizor lesson: 03-paging/check.json: runs[0].expect.counts[1].where.outcome: "bear" is not one of "bare", "hidden", "injected", "ept-violation"\n');
    expect(listed.status).toBe(4);
    expect(listed.stdout).toContain('?? 03-paging');
    expect(nonesuch.stderr).toContain('nonesuch: lesson: no such lesson (lessons: 00-kinds-of-vms, 01-bare-metal');
    expect(missing.status).toBe(2);
    expect(unknown.stderr).toContain("unknown subcommand 'frobnicate'");
  });

  it('show: the text with answers folded, or unfolded with --answers', async () => {
    const [folded, open] = await Promise.all([lesson('show', '1'), lesson('show', '1', '--answers')]);
    expect(folded.status).toBe(0);
    expect(folded.stdout).toContain('Bare metal — from the boot sector to protected mode');
    expect(folded.stdout).toContain('Q: Why does the kernel start with <code>cli</code>?');
    expect(folded.stdout).toContain('(answer folded: vizor lesson show NAME --answers)');
    expect(folded.stdout).not.toContain('triple fault). Lesson 2 builds an IDT.');
    expect(open.stdout).toContain('A: The BIOS left interrupts enabled');
  });
});

describe('foldAnswers', () => {
  it('folds each <details> block into its question', () => {
    const md = 'Intro\n<details><summary>Why?</summary>\nBecause.\n</details>\nmore <details> <summary>How?</summary>So.</details>';
    expect(foldAnswers(md, false)).toBe('Intro\nQ: Why?\n   (answer folded: vizor lesson show NAME --answers)\nmore Q: How?\n   (answer folded: vizor lesson show NAME --answers)');
    expect(foldAnswers(md, true)).toBe('Intro\nQ: Why?\nA: Because.\nmore Q: How?\nA: So.');
  });
});

// The lessons in the app, end to end in Chromium: the app opens on lesson 1; lesson 3's Check says
// "matches", and says what did not match once the kernel is altered; lesson 7 runs under the
// hypervisor; every lesson's main moment, reached as its text says (lesson-moments.ts), is saved as
// test/e2e/screenshots/lesson-NN.png for review. Lesson 7 is walked step by step in lesson7-walk.test.ts.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { afterFreshStop, openApp, register, screenshot, stopSite, type App } from './harness.ts';
import { lessonCatalog, LESSON_FILES } from '../../src/ui/lessons/catalog.ts';
import { MOMENTS } from './lesson-moments.ts';

async function pickLesson(page: Page, folder: string): Promise<void> {
  await afterFreshStop(page, () => page.locator('[data-testid="lesson-picker"]').selectOption(folder));
  await expect.poll(() => page.locator('[data-testid="status"]').innerText()).toMatch(/loaded|paused/i);
}

async function gotoLine(page: Page, line: number): Promise<void> {
  const editor = page.locator('[data-testid="editor"] .view-lines');
  const focused = () => page.evaluate(() => !!document.activeElement?.closest('[data-testid="editor"]'));
  await editor.click();
  // KNOWN GLITCH (in the report): after some sequences (a finished run, a lesson switch, Check) the
  // first click into Monaco does not give it the focus (mousedown arrives, no focusin); a second does.
  if (!(await focused())) await editor.click();
  expect(await focused()).toBe(true);
  await page.keyboard.press('Control+Home');
  for (let i = 1; i < line; i++) await page.keyboard.press('ArrowDown');
  await page.keyboard.press('End');
}

/** Presses Check and waits for this check's result (not the one shown before). */
async function check(page: Page): Promise<string> {
  const result = page.locator('[data-testid="lesson-result"]');
  const before = Number(await result.getAttribute('data-checks'));
  await page.locator('[data-testid="lesson-check"]').click();
  await expect.poll(async () => Number(await result.getAttribute('data-checks')), { timeout: 60_000 }).toBeGreaterThan(before);
  return result.innerText();
}

/** VIZOR_LESSONS=08,09 limits the moments to those lessons (while working on them). */
const ONLY = process.env.VIZOR_LESSONS?.split(',').filter(Boolean);

describe('lessons in the app', () => {
  let app: App;
  beforeAll(async () => {
    app = await openApp();
  });
  afterAll(async () => {
    await app?.close();
    await stopSite();
  });

  it('opens on lesson 1, its kernel in the editor and its text beside it', async () => {
    const { page } = app;
    expect(await page.locator('[data-testid="lesson-title"]').innerText()).toMatch(/^Bare metal/);
    expect(await page.locator('[data-testid="lesson-picker"]').inputValue()).toBe('01-bare-metal');
    await expect.poll(() => page.getByRole('tab', { name: /kernel\.asm/ }).count()).toBe(1);
    // A boot sector: the lesson's settings boot it at 0000:7C00.
    expect(await register(page, 'eip')).toMatch(/^0*7c00$/i);
    // The Examples menu still has the hello kernel.
    expect(await page.locator('[data-testid="examples"] option[value="hello"]').count()).toBe(1);
  });

  it('Check on lesson 3 says it matches; an altered kernel gets the failure in words', async () => {
    const { page } = app;
    await pickLesson(page, '03-paging');
    const ok = await check(page);
    expect(ok).toContain('The lesson checks out');
    expect(ok).toMatch(/page faults and demand paging.*matches/);
    await screenshot(page, 'lesson-03-check');
    // Alter the kernel: line 25 prints "paging on"; make it "paging on!".
    const lines = LESSON_FILES['03-paging/kernel.asm']!.split('\n');
    const at = lines.findIndex((l) => l.includes('PRINTLN "paging on"')) + 1;
    await gotoLine(page, at);
    await page.keyboard.press('ArrowLeft');
    await page.keyboard.type('!');
    const bad = await check(page);
    expect(bad).toContain('does not check out');
    expect(bad).toContain('expected the line "paging on", but it never came');
    await screenshot(page, 'lesson-03-check-fails');
  });

  it('runs lesson 7 under the hypervisor: serial per VM, its events in the event log', async () => {
    const { page } = app;
    await pickLesson(page, '07-shadow-paging');
    await page.getByRole('button', { name: 'Machine ⚙' }).click();
    await page.locator('[data-testid="hv-mode"]').selectOption('hypervisor');
    await page.getByLabel('VMs').selectOption('2');
    await expect.poll(() => page.getByLabel('Paging').inputValue()).toBe('shadow'); // the lesson's setting
    await afterFreshStop(page, () => page.getByRole('button', { name: 'Apply and reset' }).click());
    await page.locator('[data-testid="hv-run"]').click();
    const vms = page.locator('[data-testid="hv-consoles"]');
    await expect.poll(() => vms.locator('section').count(), { timeout: 60_000 }).toBe(2);
    for (const i of [0, 1]) {
      const text = await vms.locator(`section[data-vm="${i}"]`).innerText();
      expect(text).toContain(`VM ${i} — wrote 0x17 to the debug-exit port`);
      expect(text).toContain('guest page faults=00000001');
    }
    await page.getByRole('tab', { name: 'Events' }).click();
    await page.getByLabel('Kind').selectOption('pagefault');
    await expect.poll(() => page.locator('[data-testid="events"] tbody').innerText()).toContain('hidden');
    await screenshot(page, 'lesson-07-hypervisor');
    // Back to the bare machine for the rest.
    await page.getByRole('button', { name: 'Close the trace' }).click();
    await page.getByRole('button', { name: 'Machine ⚙' }).click();
    await page.locator('[data-testid="hv-mode"]').selectOption('bare');
    await afterFreshStop(page, () => page.getByRole('button', { name: 'Apply and reset' }).click());
    await expect.poll(() => page.locator('[data-testid="hv-banner"]').count()).toBe(0);
  });

  it("every lesson's main moment, as a screenshot, reached as its text says", async () => {
    const { page } = app;
    for (const { folder } of lessonCatalog(LESSON_FILES)) {
      if (folder === '07-shadow-paging') continue; // lesson7-walk.test.ts walks it and saves lesson-07.png
      if (ONLY && !ONLY.some((n) => folder.startsWith(n))) continue;
      await pickLesson(page, folder);
      const moment = MOMENTS[folder];
      if (moment) await moment(page);
      else {
        // Lessons without an app step of their own: run to the end, the Serial tab shows the output.
        await page.getByRole('tab', { name: 'Serial' }).click();
        await page.locator('[data-testid="editor"]').click();
        await page.keyboard.press('F5');
        await expect.poll(() => page.locator('[data-testid="status"]').getAttribute('data-state'), { timeout: 60_000 }).toBe('finished');
      }
      await screenshot(page, `lesson-${folder.slice(0, 2)}`);
      const result = await check(page);
      expect(result, folder).not.toMatch(/internal error/);
      expect(result, folder).toContain('The lesson checks out');
    }
    // On a projector: presenter mode, dark.
    await page.locator('[data-testid="presenter"]').click();
    await page.locator('[data-testid="theme"]').click();
    await expect.poll(() => page.evaluate(() => document.documentElement.className)).toMatch(/presenter/);
    await screenshot(page, 'lesson-presenter');
  }, 400_000);
});

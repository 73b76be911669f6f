// The lessons in the app, end to end in Chromium: the app opens on lesson 1; lesson 7 is walked
// step by step as its text says, as far as the bare machine goes; lesson 3's Check says "matches",
// and says what did not match once the kernel is altered; every lesson's main moment is saved as
// test/e2e/screenshots/lesson-NN.png for review.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { openApp, register, screenshot, stopSite, type App } from './harness.ts';
import { lessonCatalog, LESSON_FILES } from '../../src/ui/lessons/catalog.ts';

async function waitStatus(page: Page, state: string): Promise<void> {
  await page.waitForSelector(`[data-testid="status"][data-state="${state}"]`, { timeout: 30_000 });
}

async function pickLesson(page: Page, folder: string): Promise<void> {
  await page.locator('[data-testid="lesson-picker"]').selectOption(folder);
  await expect.poll(() => page.locator('[data-testid="status"]').getAttribute('data-state'), { timeout: 30_000 }).toBe('paused');
  await expect.poll(() => page.locator('[data-testid="status"]').innerText()).toMatch(/loaded|paused/i);
}

/** The lesson text's step n (1-based), as the pane shows it. */
function step(page: Page, n: number) {
  return page.locator(`[data-testid="lesson-text"] li[data-step="${n}"]`);
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

  it('walks lesson 7 as its text says, on the bare machine', async () => {
    const { page } = app;
    await pickLesson(page, '07-shadow-paging');
    expect(await page.locator('[data-testid="lesson-title"]').innerText()).toContain('Shadow page tables');
    // Step 1 names the faulting write `pass1_write`: clicking the step highlights that line.
    await step(page, 1).click();
    await page.locator('[data-testid="editor"] .lesson-ref').first().waitFor({ timeout: 10_000 });
    await expect.poll(() => page.locator('[data-testid="editor"] .view-lines').innerText()).toContain('pass1_write:');
    // Step 5 names `map_pte`: its label reference shows that line too.
    await step(page, 5).locator('[data-label="map_pte"]').first().click();
    await expect.poll(() => page.locator('[data-testid="editor"] .view-lines').innerText()).toContain('map_pte:');

    // Step 7: "set an event breakpoint on the next `pagefault` ... and press F5".
    await step(page, 7).locator('[data-event="pagefault"]').first().click();
    expect(await page.getByRole('tab', { name: /Breakpoints/ }).getAttribute('aria-selected')).toBe('true');
    expect(await page.locator('[data-testid="breakpoints"] label', { hasText: 'pagefault' }).locator('input').isChecked()).toBe(true);
    await page.keyboard.press('F5');
    await expect.poll(() => page.locator('[data-testid="status"]').innerText(), { timeout: 30_000 }).toContain('event breakpoint (pagefault)');
    // Step 1 says: one guest page fault, at 0x400000, the write at pass1_write.
    await page.getByRole('tab', { name: 'CR0/CR3/CR4' }).click();
    await expect.poll(() => page.locator('[data-testid="control-registers"]').innerText()).toMatch(/CR2\s+00400000/i);
    // "open the page-table view": the step's button opens it; the walk of CR2 fails at the PTE.
    await step(page, 7).getByRole('button', { name: 'page-table view' }).click();
    expect(await page.getByRole('tab', { name: 'Paging' }).getAttribute('aria-selected')).toBe('true');
    await page.getByRole('button', { name: 'Walk' }).click();
    const walk = await page.locator('[data-testid="walk"]').innerText();
    expect(walk).toContain('linear 00400000');
    expect(walk).toMatch(/not present/);
    await screenshot(page, 'lesson-07');
    // "... and step (F11) into the guest's handler".
    await page.getByRole('tab', { name: 'Disassembly' }).click();
    const before = await register(page, 'eip');
    await page.keyboard.press('F11');
    await expect.poll(() => register(page, 'eip')).not.toBe(before);
    await expect.poll(() => page.locator('[data-testid="editor"] .view-lines').innerText()).toContain('pf_handler:');
    await expect.poll(() => page.locator('[data-testid="disassembly"]').innerText()).toContain('pf_handler');
    await screenshot(page, 'lesson-07-handler');
    // The rest of the run: the guest counts exactly one page fault.
    await page.getByRole('tab', { name: /Breakpoints/ }).click();
    await page.getByRole('checkbox', { name: 'pagefault' }).uncheck();
    await page.getByRole('tab', { name: 'Serial' }).click();
    await page.keyboard.press('F5');
    await waitStatus(page, 'finished');
    await expect.poll(() => page.locator('[data-testid="serial"]').innerText()).toContain('guest page faults=00000001');
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
    await page.getByRole('button', { name: 'Apply and reset' }).click();
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
    await page.getByRole('button', { name: 'Apply and reset' }).click();
    await expect.poll(() => page.locator('[data-testid="hv-banner"]').count()).toBe(0);
  });

  it("every lesson's main moment, as a screenshot", async () => {
    const { page } = app;
    for (const { folder } of lessonCatalog(LESSON_FILES)) {
      if (folder === '07-shadow-paging') continue; // its moment was saved by the walk above
      await pickLesson(page, folder);
      await page.getByRole('tab', { name: 'Serial' }).click();
      await page.keyboard.press('F5');
      await expect.poll(() => page.locator('[data-testid="status"]').getAttribute('data-state'), { timeout: 60_000 }).toBe('finished');
      const result = await check(page);
      expect(result, folder).not.toMatch(/internal error/);
      await screenshot(page, `lesson-${folder.slice(0, 2)}`);
    }
    // On a projector: presenter mode, dark.
    await page.locator('[data-testid="presenter"]').click();
    await page.locator('[data-testid="theme"]').click();
    await expect.poll(() => page.evaluate(() => document.documentElement.className)).toMatch(/presenter/);
    await screenshot(page, 'lesson-presenter');
  });
});

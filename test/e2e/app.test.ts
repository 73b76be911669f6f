// The app end to end in Debian's Chromium: the real site (built by Vite), the real machine,
// assembler and debugger in its worker. Each main state is saved under test/e2e/screenshots/.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { afterFreshStop, openApp, press, register, screenshot, stopSite, type App } from './harness.ts';

/** Puts the editor's cursor at the end of a line (1-based) by keyboard, like a student would. */
async function gotoLineEnd(page: Page, line: number): Promise<void> {
  await page.locator('[data-testid="editor"] .view-lines').click();
  await page.keyboard.press('Control+Home');
  for (let i = 1; i < line; i++) await page.keyboard.press('ArrowDown');
  await page.keyboard.press('End');
}

/** The text Monaco shows (it renders spaces as no-break spaces). */
async function editorText(page: Page): Promise<string> {
  return (await page.locator('[data-testid="editor"] .view-lines').innerText()).replace(/\u00a0/g, ' ');
}

/** Vertical centre of an editor line, from its line number in the gutter. */
async function lineY(page: Page, line: number): Promise<number> {
  const box = await page.locator('[data-testid="editor"] .line-numbers', { hasText: new RegExp(`^${line}$`) }).boundingBox();
  if (!box) throw new Error(`line ${line} is not on screen`);
  return box.y + box.height / 2;
}

describe('the app in Chromium', () => {
  let app: App;
  beforeAll(async () => {
    app = await openApp({ hash: '#example=hello' });
  });
  afterAll(async () => {
    await app?.close();
  });

  it('loads with the hello kernel, paused at its first instruction', async () => {
    const { page } = app;
    expect(await page.title()).toContain('vizor');
    expect(await register(page, 'eip')).toBe('00100020');
    await expect.poll(() => page.locator('[data-testid="disassembly"]').innerText()).toContain('mov esp,');
    await screenshot(page, '01-loaded');
  });

  it('shows an assembler error as a marker on the right line, and clears it when fixed', async () => {
    const { page } = app;
    await gotoLineEnd(page, 21); // mov esi, message
    await page.keyboard.type('x');
    const squiggle = page.locator('[data-testid="editor"] .squiggly-error');
    await squiggle.first().waitFor({ timeout: 10_000 });
    const box = (await squiggle.first().boundingBox())!;
    expect(Math.abs(box.y + box.height / 2 - (await lineY(page, 21)))).toBeLessThan(12);
    await page.getByRole('tab', { name: /Problems/ }).click();
    await expect.poll(() => page.locator('[data-testid="problems"]').innerText()).toMatch(/hello\.asm:21:\d+: .*messagex/);
    await screenshot(page, '02-error-marker');
    await gotoLineEnd(page, 21);
    await page.keyboard.press('Backspace');
    await squiggle.first().waitFor({ state: 'detached', timeout: 10_000 });
    await expect.poll(() => page.locator('[data-testid="problems"]').innerText()).toContain('No problems');
  });

  it('sets a breakpoint by clicking the gutter; F5 stops there', async () => {
    const { page } = app;
    const margin = (await page.locator('[data-testid="editor"] .glyph-margin').first().boundingBox())!;
    await page.mouse.click(margin.x + margin.width / 2, await lineY(page, 25)); // mul ebx
    await page.locator('[data-testid="editor"] .bp-glyph').waitFor();
    await press(page, 'Shift+F5', 'paused'); // reload, so the breakpoint's address comes from the fixed program
    await page.keyboard.press('F5');
    await expect.poll(() => page.locator('[data-testid="status"]').innerText(), { timeout: 30_000 }).toContain('breakpoint');
    expect(await register(page, 'eip')).toBe('00100039');
    expect(await register(page, 'eax')).toBe('00000006');
    await screenshot(page, '03-breakpoint-hit');
  });

  it('F11 changes EIP and highlights the registers that changed; step back restores them', async () => {
    const { page } = app;
    await page.keyboard.press('F11');
    await expect.poll(() => register(page, 'eip')).toBe('0010003b');
    expect(await register(page, 'eax')).toBe('0000002a');
    const changed = await page.locator('[data-testid="registers"] .reg.changed').evaluateAll((els) => els.map((e) => e.getAttribute('data-reg')));
    expect(changed).toEqual(expect.arrayContaining(['eax', 'eip']));
    expect(changed).not.toContain('ebx');
    await screenshot(page, '04-stepped');
    await page.keyboard.press('Shift+F10');
    await expect.poll(() => register(page, 'eip')).toBe('00100039');
    expect(await register(page, 'eax')).toBe('00000006');
    await screenshot(page, '05-stepped-back');
  });

  it('runs to the end; the serial console shows the output', async () => {
    const { page } = app;
    await page.getByRole('tab', { name: 'Serial' }).click();
    await press(page, 'F5', 'finished');
    await expect.poll(() => page.locator('[data-testid="serial"]').innerText()).toContain('Hello from vizor! 6 * 7 = 42');
    expect(await page.locator('[data-testid="status"]').innerText()).toContain('debug-exit');
    await screenshot(page, '06-finished-serial');
  });

  it('a conditional breakpoint (Shift+F9) stops only when its condition holds', async () => {
    const { page } = app;
    await press(page, 'Shift+F5', 'paused');
    await gotoLineEnd(page, 57); // putc: out dx, al
    await page.keyboard.press('Shift+F9');
    const condition = page.locator('[data-testid="breakpoints"] input.cond').last();
    await expect.poll(() => condition.evaluate((el) => el === document.activeElement)).toBe(true);
    await condition.fill('al == 0x36'); // the digit 6
    await condition.press('Enter');
    await screenshot(page, '07a-breakpoints-panel');
    await page.getByRole('tab', { name: 'Serial' }).click();
    await page.keyboard.press('F5');
    await expect.poll(() => page.locator('[data-testid="status"]').innerText(), { timeout: 30_000 }).toContain('breakpoint');
    expect((await register(page, 'eax')).slice(-2)).toBe('36');
    expect(await page.locator('[data-testid="serial"]').innerText()).toBe('Hello from vizor! ');
    await screenshot(page, '07-conditional-breakpoint');
  });

  it('a page fault shows CR2 and the faulting walk', async () => {
    const { page } = app;
    await afterFreshStop(page, () => page.locator('[data-testid="examples"]').selectOption('pagefault'));
    await expect.poll(() => page.getByRole('tab', { name: /pagefault\.asm/ }).count()).toBe(1);
    await gotoLineEnd(page, 46); // page_fault's first instruction
    await page.keyboard.press('F9');
    await press(page, 'Shift+F5', 'paused');
    await page.keyboard.press('F5');
    await expect.poll(() => page.locator('[data-testid="status"]').innerText(), { timeout: 30_000 }).toContain('breakpoint');
    await page.getByRole('tab', { name: 'CR0/CR3/CR4' }).click();
    await expect.poll(() => page.locator('[data-testid="control-registers"]').innerText()).toMatch(/CR2\s+00800000/i);
    await page.getByRole('tab', { name: 'Paging' }).click();
    await page.getByRole('button', { name: 'Walk' }).click();
    const walk = await page.locator('[data-testid="walk"]').innerText();
    expect(walk).toContain('linear 00800000');
    expect(walk).toContain('page fault: page directory entry not present');
    await screenshot(page, '08-page-fault-walk');
    await page.getByRole('tab', { name: 'TLB' }).click();
    await expect.poll(() => page.locator('[data-testid="tlb"]').innerText()).toMatch(/[1-9]\d* cached translations?/);
    expect(await page.locator('[data-testid="tlb"]').innerText()).toContain('00100000'); // the kernel's code page, identity-mapped
    await screenshot(page, '08b-tlb');
  });
});

describe('themes, presenter mode and share links', () => {
  it('follows a dark system theme and renders presenter mode', async () => {
    const app = await openApp({ colorScheme: 'dark' });
    try {
      const { page } = app;
      expect(await page.evaluate(() => document.documentElement.classList.contains('dark'))).toBe(true);
      const bg = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
      expect(bg).toBe('rgb(22, 24, 29)');
      await screenshot(page, '09-dark');
      await page.getByTestId('presenter').click();
      expect(await page.evaluate(() => getComputedStyle(document.body).fontSize)).toBe('20px');
      // Larger type shows fewer lines: the current instruction's arrow is still in view.
      await expect.poll(() => page.locator('[data-testid="editor"] .current-arrow').count()).toBe(1);
      await screenshot(page, '10-presenter-dark');
      await page.getByTestId('theme').click();
      expect(await page.evaluate(() => document.documentElement.classList.contains('dark'))).toBe(false);
      await screenshot(page, '11-presenter-light');
    } finally {
      await app.close();
    }
  });

  it('a share link reopens the same program', async () => {
    const first = await openApp();
    let link = '';
    try {
      const { page } = first;
      await page.locator('[data-testid="editor"] .view-lines').click();
      await page.keyboard.press('Control+Home');
      await page.keyboard.type('; shared from the e2e test\n');
      await page.getByTestId('share').click();
      await expect.poll(() => page.evaluate(() => location.hash)).toMatch(/^#code=[A-Za-z0-9_-]+$/);
      link = await page.evaluate(() => location.hash);
    } finally {
      await first.close();
    }
    const second = await openApp({ hash: link });
    try {
      await second.page.locator('[data-testid="editor"] .view-lines').click();
      await second.page.keyboard.press('Control+Home');
      await expect.poll(() => editorText(second.page)).toContain('; shared from the e2e test');
      await screenshot(second.page, '12-shared-link');
    } finally {
      await second.close();
    }
  });
});

afterAll(async () => {
  await stopSite();
});

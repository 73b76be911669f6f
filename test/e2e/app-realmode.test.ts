// Lesson 11 in the app: a real-mode program its boot sector loads at 0800:0100 (assembled with
// `section program follows=loader vstart=0x100`). A breakpoint on its `int 0x10` line (F9) stops
// there although the code runs at linear 0x8000 + offset; the editor marks that line; F11 steps
// into the BIOS (lesson 11, step 5). Screenshot: test/e2e/screenshots/app-realmode-int10.png.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { press, register, screenshot, stopped as paused, useApp } from './harness.ts';

const SOURCE = readFileSync(join(import.meta.dirname, '../../lessons/11-legacy-real-mode/kernel.asm'), 'utf8');
const INT10_LINE = SOURCE.split('\n').findIndex((l) => /^\s*int 0x10\b/.test(l)) + 1;

const cs = async (page: Page) => (await page.locator('[data-testid="registers"] [data-reg="cs"] td:nth-child(2)').innerText()).trim();

/** Vertical centre of an editor line, from its line number in the gutter. */
async function lineY(page: Page, line: number): Promise<number> {
  const box = await page.locator('[data-testid="editor"] .line-numbers', { hasText: new RegExp(`^${line}$`) }).boundingBox();
  if (!box) throw new Error(`line ${line} is not on screen`);
  return box.y + box.height / 2;
}

describe('lesson 11 in the app: breakpoints in a program loaded at another segment', () => {
  const app = useApp({ hash: '#lesson=11', width: 1600, height: 1000 });

  it('F9 on `int 0x10`, F5 stops there (CS 0800), F11 steps into the BIOS', async () => {
    const { page } = app();
    await paused(page);
    await expect.poll(() => page.getByRole('tab', { name: /kernel\.asm/ }).count()).toBeGreaterThan(0);
    await page.locator('[data-testid="editor"] .view-lines').click();
    await page.keyboard.press('Control+Home');
    for (let i = 1; i < INT10_LINE; i++) await page.keyboard.press('ArrowDown');
    await page.keyboard.press('F9');
    await page.getByRole('tab', { name: /Breakpoints/ }).click();
    await expect.poll(() => page.locator('[data-testid="breakpoints"]').innerText()).toContain(`:${INT10_LINE}`);
    // An offset in the program's segment (IP), not a linear address.
    await expect.poll(() => page.locator('[data-testid="breakpoints"]').innerText()).toMatch(/IP 0x1[0-9a-f]{2}\b/);
    await page.locator('[data-testid="editor"] .view-lines').click();
    await press(page, 'F5', 'paused');
    await expect.poll(() => page.locator('[data-testid="status"]').innerText()).toContain('breakpoint');
    expect(await cs(page)).toMatch(/^(0x)?0*800$/i);
    const eip = parseInt((await register(page, 'eip')).replace(/^0x/i, ''), 16);
    expect(eip).toBeGreaterThan(0x100);
    expect(eip).toBeLessThan(0x400);
    // The editor marks the int 0x10 line as the current one.
    const marker = page.locator('[data-testid="editor"] .current-arrow').first();
    await expect.poll(() => marker.count()).toBe(1);
    const box = (await marker.boundingBox())!;
    const y = await lineY(page, INT10_LINE);
    expect(y).toBeGreaterThan(box.y);
    expect(y).toBeLessThan(box.y + box.height);
    await screenshot(page, 'app-realmode-int10');
    // Step into the INT: CS:IP is now the BIOS handler the IVT names.
    await press(page, 'F11', 'paused');
    await expect.poll(() => cs(page)).not.toMatch(/^(0x)?0*800$/i);
    await screenshot(page, 'app-realmode-int10-stepped');
  }, 180_000);
});

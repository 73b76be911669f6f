// Snapshots in the app (issue 10), end to end in Chromium: fixtures/kernels/pit-timer.asm is run
// partway (to just after the console event that printed "tick=00000002"), "Save snapshot"
// downloads a .vzs file, Reset starts over, "Open snapshot" restores the file, and running on
// prints exactly what an uninterrupted run prints (QEMU's expected output). A corrupt file is
// refused with a clear message and the session goes on unchanged. The header links to the other
// pages. Screenshots: test/e2e/screenshots/app-snapshot-*.png.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { afterFreshStop, openApp, press, screenshot, stopSite } from './harness.ts';
import { encodeShare } from '../../src/ui/model/share.ts';

const KERNELS = join(import.meta.dirname, '../../fixtures/kernels');
const lib = ['mb.inc', 'sys.inc', 'end.inc'].map((f) => ({ name: `lib/${f}`, text: readFileSync(join(KERNELS, 'lib', f), 'utf8') }));
const expected = readFileSync(join(KERNELS, 'pit-timer.expected.txt'), 'utf8');

const state = (page: Page) => page.locator('[data-testid="status"]').getAttribute('data-state');
const status = (page: Page) => page.locator('[data-testid="status"]').innerText();
const serial = (page: Page) => page.locator('[data-testid="serial"]').innerText();
const instructions = async (page: Page) => Number((await status(page)).match(/([\d,]+) instructions/)![1]!.replace(/,/g, ''));
const norm = (t: string) => t.replace(/\r/g, '').trimEnd();

afterAll(async () => {
  await stopSite();
});

describe('snapshots in the app', () => {
  it('save partway, reset, restore, continue: the same output as an uninterrupted run; a corrupt file is refused', async () => {
    const hash = '#' + (await encodeShare({
      main: 'pit-timer.asm',
      files: [{ name: 'pit-timer.asm', text: readFileSync(join(KERNELS, 'pit-timer.asm'), 'utf8') }, ...lib],
      machine: { memoryMiB: 16, boot: { kind: 'multiboot' }, hv: { mode: 'bare', vms: 1, cpu: 'vtx', paging: 'shadow', sched: 'rr' } },
    }));
    const app = await openApp({ hash });
    const { page } = app;
    try {
      // The header links to the other pages.
      expect(await page.getByTestId('link-migration').getAttribute('href')).toBe('migration.html');
      expect(await page.getByTestId('link-viz').getAttribute('href')).toBe('viz.html');

      // An uninterrupted run, then back to the middle of it (an event in the log).
      await page.locator('[data-testid="editor"]').click();
      await press(page, 'F5', 'finished');
      expect(norm(await serial(page))).toBe(norm(expected));
      await page.getByRole('tab', { name: 'Events' }).click();
      await page.getByLabel('Kind').selectOption('console');
      const rows = page.locator('[data-testid="events"] tbody tr');
      const texts = (await rows.locator('.detail').allInnerTexts()).map((d) => JSON.parse(d.match(/text=(".*")$/)![1]!) as string);
      let sofar = '';
      const i = texts.map((t) => (sofar += t)).findIndex((t) => t.endsWith('tick=00000002'));
      await afterFreshStop(page, () => rows.nth(i).locator('button.tick').click());
      const partway = await instructions(page);
      await page.getByRole('tab', { name: 'Serial' }).click();
      const before = await serial(page);
      expect(before.endsWith('tick=00000002')).toBe(true);

      // Save snapshot: a .vzs download.
      await page.getByTestId('snapshot-menu').locator('summary').click();
      await screenshot(page, 'app-snapshot-menu');
      const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('snapshot-save').click()]);
      expect(download.suggestedFilename()).toBe(`pit-timer-${partway}.vzs`);
      const bytes = readFileSync((await download.path())!);
      expect(bytes.subarray(0, 8).toString('latin1')).toBe('VIZORSNP');
      await expect.poll(() => status(page)).toContain(`saved pit-timer-${partway}.vzs`);

      // Reset: back to the first instruction, the console empty.
      await afterFreshStop(page, () => page.getByTestId('reset').click());
      expect(await instructions(page)).toBe(0);

      // Open snapshot: the machine is where it was saved, with its console; run on to the end.
      await afterFreshStop(page, () => page.getByTestId('open-file').setInputFiles({ name: download.suggestedFilename(), mimeType: 'application/octet-stream', buffer: bytes }));
      expect(await status(page)).toContain(`restored pit-timer-${partway}.vzs`);
      expect(await instructions(page)).toBe(partway);
      expect(await serial(page)).toBe(before);
      await screenshot(page, 'app-snapshot-restored');
      await page.locator('[data-testid="editor"]').click();
      await press(page, 'F5', 'finished');
      expect(norm(await serial(page))).toBe(norm(expected));
      const end = await instructions(page);

      // It is in the recent list (this browser's storage), and opens from there too.
      await page.getByTestId('snapshot-menu').locator('summary').click();
      await expect.poll(() => page.getByTestId('snapshot-recent').first().innerText()).toContain(`pit-timer-${partway}.vzs`);
      await page.getByTestId('snapshot-recent').first().click();
      await expect.poll(() => status(page)).toContain(`restored pit-timer-${partway}.vzs`);
      expect(await instructions(page)).toBe(partway);
      await page.locator('[data-testid="editor"]').click();
      await press(page, 'F5', 'finished');
      expect(await instructions(page)).toBe(end);

      // A corrupt file (one byte of the state changed): refused, the session goes on as it was.
      const corrupt = Buffer.from(bytes);
      corrupt[corrupt.length - 100] ^= 0x5a;
      await page.getByTestId('open-file').setInputFiles({ name: 'corrupt.vzs', mimeType: 'application/octet-stream', buffer: corrupt });
      const banner = page.locator('.banner.error');
      await expect.poll(() => banner.innerText()).toContain('corrupt.vzs: corrupt: checksum (CRC-32) does not match');
      expect(await banner.innerText()).toContain('current session goes on unchanged');
      expect(await state(page)).toBe('finished');
      expect(await instructions(page)).toBe(end);
      expect(norm(await serial(page))).toBe(norm(expected));
      await screenshot(page, 'app-snapshot-corrupt');
    } finally {
      await app.close();
    }
  }, 240_000);
});

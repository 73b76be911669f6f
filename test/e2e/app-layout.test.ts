// The app's layout for a projector: in presenter mode under the hypervisor, the bottom panel can be
// enlarged (the ⤢ button or Ctrl+Shift+M) over the editor and the right-hand column, so that the
// Hypervisor tab's views are read without scrolling inside a small pane; the lesson stays on the
// left, stepping keeps the views current, and ⤡ restores the layout. The hypervisor banner folds to
// one line. Screenshot: test/e2e/screenshots/app-layout-enlarged-presenter.png.
import { describe, expect, it } from 'vitest';
import type { Locator, Page } from 'playwright-core';
import { screenshot, useApp, useHypervisor } from './harness.ts';

const WIDTH = 1600, HEIGHT = 1000;

/** The element's box lies inside the window (seen without scrolling anything). */
async function inViewport(l: Locator): Promise<boolean> {
  const b = await l.boundingBox();
  return b !== null && b.height > 0 && b.x >= 0 && b.y >= 0 && b.x + b.width <= WIDTH && b.y + b.height <= HEIGHT;
}

async function height(l: Locator): Promise<number> {
  return (await l.boundingBox())?.height ?? 0;
}

const status = (page: Page) => page.locator('[data-testid="status"]').innerText();

describe('presenter mode under the hypervisor: the bottom panel enlarged', () => {
  const app = useApp({ hash: '#lesson=8', width: WIDTH, height: HEIGHT, colorScheme: 'dark' });

  it('folds the banner to one line, enlarges the Hypervisor tab, keeps it current while stepping, restores', async () => {
    const { page } = app();
    await expect.poll(() => page.locator('[data-testid="lesson-title"]').innerText()).toContain('Nested paging');
    await page.getByTestId('presenter').click();
    await useHypervisor(page, {}, { paging: 'nested' });

    // The banner: "less" folds it to one line and keeps what it says; "more" unfolds it.
    const banner = page.locator('[data-testid="hv-banner"]');
    const toggle = banner.getByRole('button', { name: 'less' });
    const tall = await height(banner);
    await toggle.click();
    await expect.poll(() => banner.getByRole('button', { name: 'more' }).count()).toBe(1);
    const short = await height(banner);
    expect(short).toBeLessThan(tall);
    expect(short).toBeLessThan(50); // one line of presenter-size text
    expect(await banner.innerText()).toContain('The debugger drives');
    expect(await banner.getByTestId('hv-run').isVisible()).toBe(true);
    expect(await banner.getByTestId('hv-focus').isVisible()).toBe(true);

    await page.getByRole('tab', { name: 'Hypervisor' }).click();
    const pane = page.locator('#bottom-panel');
    const views = page.locator('[data-testid="hv-views"]');
    const timeline = views.locator('[data-testid="hv-timeline"]');
    const walk = views.locator('[data-testid="hv-walk"]');
    const before = await height(pane);
    expect(before).toBeLessThan(600);

    // ⤢: the pane takes the middle and the right; the editor and the registers hide, the lesson stays.
    const enlarge = page.getByRole('button', { name: 'Enlarge this panel (Ctrl+Shift+M)' });
    expect(await enlarge.getAttribute('title')).toBe('Enlarge this panel (Ctrl+Shift+M)');
    await enlarge.click();
    await expect.poll(() => height(pane)).toBeGreaterThanOrEqual(600);
    expect(await page.locator('.editor-wrap').isVisible()).toBe(false);
    expect(await page.locator('[data-testid="registers"]').isVisible()).toBe(false);
    expect(await page.locator('[data-testid="lesson-text"]').isVisible()).toBe(true);
    const lessonBox = (await page.locator('[data-testid="lesson-text"]').boundingBox())!;
    const paneBox = (await pane.boundingBox())!;
    expect(paneBox.x).toBeGreaterThanOrEqual(lessonBox.x + lessonBox.width); // to the right of the lesson
    expect(paneBox.x + paneBox.width).toBeGreaterThan(WIDTH - 20); // up to the window's right edge
    expect(await inViewport(timeline)).toBe(true);
    expect(await inViewport(walk)).toBe(true);

    // F11 steps the focused vCPU; the serial output of PRINTLN exits to the hypervisor, and the
    // enlarged views follow (more exits on the card, more events on the timeline).
    const exits = views.locator('[data-testid="hv-vms"] [data-vm="0"] [data-testid="vm-exits"]');
    const exits0 = Number((await exits.innerText()).replace(/,/g, ''));
    const events0 = Number(await timeline.getAttribute('data-events'));
    let grew = false;
    for (let i = 0; i < 60 && !grew; i++) {
      const s = await status(page);
      await page.keyboard.press('F11');
      await expect.poll(() => status(page), { timeout: 30_000 }).not.toBe(s);
      await expect.poll(() => page.locator('[data-testid="status"]').getAttribute('data-state'), { timeout: 30_000 }).toBe('paused');
      grew = Number((await exits.innerText()).replace(/,/g, '')) > exits0;
    }
    expect(grew, 'an exit within 60 steps').toBe(true);
    await expect.poll(async () => Number(await timeline.getAttribute('data-events'))).toBeGreaterThan(events0);
    expect(await height(pane)).toBeGreaterThanOrEqual(600);
    await screenshot(page, 'app-layout-enlarged-presenter');

    // Ctrl+Shift+M (or ⤡ "Restore") gives the editor and the right-hand column back.
    await page.keyboard.press('Control+Shift+M');
    await expect.poll(() => page.locator('.editor-wrap').isVisible()).toBe(true);
    expect(await page.locator('[data-testid="registers"]').isVisible()).toBe(true);
    expect(await height(pane)).toBeLessThan(600);
    await page.keyboard.press('Control+Shift+M');
    await expect.poll(() => height(pane)).toBeGreaterThanOrEqual(600);
    await page.getByRole('button', { name: 'Restore' }).click();
    await expect.poll(() => page.locator('.editor-wrap').isVisible()).toBe(true);
    await expect.poll(() => height(pane)).toBeCloseTo(before, -1);
    // Monaco lays itself out again once shown: it has a size.
    expect(await height(page.locator('.editor-wrap .monaco-editor'))).toBeGreaterThan(100);
  });
});

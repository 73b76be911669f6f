// Lesson 8's two-dimensional walk in the app: under vizor's hypervisor with nested paging, an
// event breakpoint on page faults stops on the EPT violation of the probe region (linear
// 00400000), and the Hypervisor tab's translation walk draws that translation reference by
// reference: the same references, in the same order, as the walk events of `vizor run --hv
// --paging nested --trace` (the oracle here: the trace the CLI writes for the same kernel).
// Screenshots: test/e2e/screenshots/hv-walk-*.png (light, dark, presenter).
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { SCREENSHOTS, press, screenshot, useApp, useHypervisor } from './harness.ts';
import type { EventOf, TraceEvent } from '../../src/trace/schema.ts';

type Walk = EventOf<'walk'>;
const PROBE = 0x400000;

/** The CLI's trace of lesson 8 under nested paging: the walk references of the translation that faulted on the probe. */
function traceWalk(): Walk[] {
  const dir = mkdtempSync(join(tmpdir(), 'vizor-hv-walk-'));
  try {
    const out = join(dir, 'l8n.ndjson');
    const r = spawnSync('node', ['bin/vizor.mjs', 'run', 'lessons/08-nested-paging/kernel.asm', '--mem', '16M', '--hv', '--paging', 'nested',
      '--trace', out, '--trace-kinds', 'walk,pagefault,exit'], { encoding: 'utf8', timeout: 120_000 });
    if (r.status === null || r.status % 2 === 0) throw new Error(`vizor run failed (${r.status}): ${r.stderr}`);
    const events = readFileSync(out, 'utf8').trim().split('\n').slice(1).map((l) => JSON.parse(l) as TraceEvent);
    const fault = events.findIndex((e) => e.kind === 'pagefault' && e.outcome === 'ept-violation' && e.linear === PROBE);
    if (fault < 0) throw new Error('the trace has no EPT violation at the probe');
    const refs: Walk[] = [];
    // Back from the fault: this translation's references, down to its step 1.
    for (let i = fault - 1; i >= 0; i--) {
      const e = events[i]!;
      if (e.kind !== 'walk' || e.linear !== PROBE) continue;
      refs.unshift(e);
      if (e.step === 1) break;
    }
    return refs;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const status = (page: Page) => page.locator('[data-testid="status"]').innerText();
const walkView = (page: Page) => page.locator('[data-testid="hv-views"] [data-testid="hv-walk"]');

/** The walk view and the VM cards alone, as a student sees them (the app's bottom pane crops them). */
async function shoot(page: Page, name: string): Promise<void> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  await screenshot(page, name);
  // The tab full-window for a moment (as on a projector), so that the views are not cropped.
  const views = page.locator('[data-testid="hv-views"]');
  await views.evaluate((el) => { el.dataset.saved = el.getAttribute('style') ?? ''; el.setAttribute('style', 'position: fixed; inset: 0; z-index: 1000; background: var(--bg); overflow: auto'); });
  await walkView(page).screenshot({ path: join(SCREENSHOTS, `${name}-walk.png`) });
  await views.locator('[data-testid="hv-vms"]').screenshot({ path: join(SCREENSHOTS, `${name}-vms.png`) });
  await views.locator('[data-testid="hv-tables"]').screenshot({ path: join(SCREENSHOTS, `${name}-tables.png`) });
  await views.evaluate((el) => el.setAttribute('style', el.dataset.saved ?? ''));
}

describe('lesson 8 in the app: the 2-D walk of the last EPT violation', () => {
  const app = useApp({ hash: '#lesson=8', width: 1600, height: 1000 });

  it('stops on the probe\'s EPT violation and draws its walk with the trace\'s references, numbered', async () => {
    const expected = traceWalk();
    expect(expected.length).toBeGreaterThanOrEqual(3);
    expect(expected.map((r) => r.step)).toEqual(expected.map((_, i) => i + 1));
    expect(expected.some((r) => r.dimension === 'nested')).toBe(true);

    const { page } = app();
    await expect.poll(() => page.locator('[data-testid="lesson-title"]').innerText()).toContain('Nested paging');
    await useHypervisor(page, {}, { paging: 'nested' }); // the lesson's own paging
    await expect.poll(() => page.locator('[data-testid="hv-banner"]').innerText()).toContain('debugger drives');

    // Step 3 of the lesson: click `pagefault` (an event breakpoint on page faults).
    await page.locator('[data-testid="lesson-text"] li[data-step="3"] [data-event="pagefault"]').first().click();
    await expect.poll(() => page.getByRole('tab', { name: /Breakpoints/ }).innerText()).toMatch(/1/);
    await page.getByRole('tab', { name: 'Hypervisor' }).click();
    const what = walkView(page).locator('.what');
    // F5 from EPT violation to EPT violation (the start-up code's own pages come first).
    for (let i = 0; i < 30; i++) {
      await press(page, 'F5');
      expect(await status(page)).toContain('event breakpoint (pagefault)');
      await expect.poll(() => what.count()).toBe(1);
      if ((await what.innerText()).includes('at linear 00400000')) break;
    }
    await expect.poll(() => what.innerText()).toMatch(/EPT violation \(nested table lacked the page\) at linear 00400000, guest-physical 00800000/);
    expect(await walkView(page).locator('h3').innerText()).toContain('2-D');
    const card = page.locator('[data-testid="hv-views"] [data-testid="hv-vms"] [data-vm="0"]');
    expect(await card.locator('.tech').innerText()).toContain('nested paging (EPT)');

    // The walk: as many references as the trace's, each numbered in order, each the same reference.
    expect(Number(await walkView(page).locator('[data-testid="walk-refs"]').innerText())).toBe(expected.length);
    const cells = walkView(page).locator('.cell');
    await expect.poll(() => cells.count()).toBe(expected.length);
    for (let i = 0; i < expected.length; i++) {
      const c = cells.nth(i), r = expected[i]!;
      expect(await c.getAttribute('data-step')).toBe(String(i + 1));
      expect(await c.locator('.num').innerText()).toBe(String(r.step));
      expect(await c.getAttribute('data-dimension')).toBe(r.dimension);
      expect(await c.getAttribute('data-level')).toBe(String(r.level));
      expect(await c.innerText()).toContain(`= ${r.value.toString(16).padStart(8, '0')}`);
    }
    // The last reference is the nested entry that was missing: the walk stopped there.
    const last = expected.at(-1)!;
    expect(last.dimension).toBe('nested');
    expect(last.value & 1).toBe(0);
    expect(await cells.nth(expected.length - 1).getAttribute('class')).toContain('missed');
    await shoot(page, 'hv-walk-light');

    for (let i = 0; i < 3 && !(await page.evaluate(() => document.documentElement.classList.contains('dark'))); i++) await page.getByTestId('theme').click();
    expect(await page.evaluate(() => document.documentElement.classList.contains('dark'))).toBe(true);
    await shoot(page, 'hv-walk-dark');
    await page.getByTestId('presenter').click();
    await shoot(page, 'hv-walk-presenter-dark');
  });
});

describe('the VM card keeps the VM\'s paging technique to the end of a debugger run', () => {
  const app = useApp({ hash: '#lesson=7', width: 1600, height: 1000 });

  it('lesson 7 under shadow paging, run to its end: still "shadow paging", with singular counts where there is one', async () => {
    const { page } = app();
    await expect.poll(() => page.locator('[data-testid="lesson-title"]').innerText()).toContain('Shadow page tables');
    await useHypervisor(page, {}, { paging: 'shadow' }); // the lesson's own paging
    await page.getByRole('tab', { name: 'Hypervisor' }).click();
    const card = page.locator('[data-testid="hv-views"] [data-testid="hv-vms"] [data-vm="0"]');
    await page.keyboard.press('F5');
    await expect.poll(() => page.locator('[data-testid="status"]').getAttribute('data-state'), { timeout: 120_000 }).toBe('finished');
    await expect.poll(() => card.locator('.tech').innerText()).toContain('shadow paging');
    // The lesson's kernel takes exactly one true fault (its text says so): "1 true fault".
    await expect.poll(() => card.locator('.nums').innerText()).toMatch(/\b1 true fault\b(?!s)/);
    await shoot(page, 'hv-cards-shadow-end');
  });
});

// Debugging under the hypervisor, end to end in Chromium: lesson 7 on 2 VMs (VT-x, shadow paging),
// an event breakpoint "pagefault outcome=hidden" added with the Breakpoints tab's dropdowns, F5 stops
// on the focused VM's hidden fault (the shadow fill's), the Hypervisor tab
// shows it (timeline, VM cards, tables), stepping back takes the views back with the debugger, and a
// click on the timeline seeks the debugger to that event.
// Screenshots: test/e2e/screenshots/hv-debug-*.png.
import { describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { afterFreshStop, press, register, screenshot, stopped as paused, useApp, useHypervisor } from './harness.ts';

const status = (page: Page) => page.locator('[data-testid="status"]').innerText();
const timelineEvents = async (page: Page) => Number(await page.locator('[data-testid="hv-timeline"]').getAttribute('data-events'));
const hiddenFaults = async (page: Page, vm: number) =>
  (await page.locator(`[data-testid="hv-vms"] [data-vm="${vm}"] .nums`).innerText()).match(/([\d,]+)\s+hidden faults?\b/)?.[1]?.replace(/,/g, '');

describe('debugging a vCPU under the hypervisor (lesson 7)', () => {
  const app = useApp({ hash: '#lesson=7', width: 1600, height: 1000 });

  it('stops on a hidden page fault of the focused VM, shows it in the Hypervisor tab, steps back, and seeks from the timeline', async () => {
    const { page } = app();
    await useHypervisor(page, { vms: '2', cpu: 'vtx', paging: 'shadow' });
    await expect.poll(() => page.locator('[data-testid="hv-banner"]').innerText()).toContain('The debugger drives');
    expect(await page.locator('[data-testid="hv-banner"]').innerText()).not.toContain('coming soon');

    // Debug VM 1: VM 0 runs its slices around it.
    await afterFreshStop(page, () => page.locator('[data-testid="hv-focus"]').selectOption('1'));
    await page.getByRole('tab', { name: /Breakpoints/ }).click();
    // Kind, then field, then value: the list shows "pagefault outcome=hidden".
    await page.getByLabel('Event kind').selectOption('pagefault');
    await page.getByLabel('Event field').selectOption('outcome');
    await page.getByLabel('Event value').selectOption('hidden');
    await page.getByRole('button', { name: 'Add event breakpoint' }).click();
    await expect.poll(() => page.getByRole('group', { name: 'Event breakpoints' }).innerText()).toContain('pagefault outcome=hidden');
    await screenshot(page, 'hv-debug-event-breakpoint');
    await page.locator('[data-testid="editor"]').click();
    await press(page, 'F5', 'paused');
    await expect.poll(() => status(page)).toContain('event breakpoint (pagefault outcome=hidden)');
    // Again: a fill after VM 1 has run a while (the first came with its first instruction fetch).
    await press(page, 'F5', 'paused');
    await expect.poll(() => status(page)).toContain('event breakpoint (pagefault outcome=hidden)');
    const eipAtFill = await register(page, 'eip');

    await page.getByRole('tab', { name: 'Hypervisor' }).click();
    const views = page.locator('[data-testid="hv-views"]');
    await expect.poll(() => views.locator('[data-testid="hv-vms"] [data-vm]').count()).toBe(2);
    await expect.poll(() => page.locator('[data-testid="hv-vms"] [data-vm="1"]').getAttribute('aria-pressed')).toBe('true');
    await expect.poll(() => page.locator('[data-testid="hv-tables"]').getAttribute('data-vm')).toBe('1');
    const eventsAtFill = await timelineEvents(page);
    const faultsAtFill = Number(await hiddenFaults(page, 1));
    expect(eventsAtFill).toBeGreaterThan(0);
    expect(faultsAtFill).toBeGreaterThanOrEqual(2);
    await screenshot(page, 'hv-debug-stopped');

    // Step back (Shift+F10): the fill is undone, and the views go back with the debugger.
    await page.locator('[data-testid="editor"]').click();
    await press(page, 'Shift+F10', 'paused');
    await expect.poll(() => timelineEvents(page)).toBeLessThan(eventsAtFill);
    await expect.poll(async () => Number(await hiddenFaults(page, 1))).toBe(faultsAtFill - 1);
    expect(await register(page, 'eip')).not.toBe(eipAtFill);
    await screenshot(page, 'hv-debug-stepped-back');

    // Forward again: the same fill comes back.
    await press(page, 'F5', 'paused');
    await expect.poll(async () => Number(await hiddenFaults(page, 1))).toBe(faultsAtFill);
    expect(await register(page, 'eip')).toBe(eipAtFill);

    // Clicking an event on the timeline seeks the debugger there (to just after it).
    const canvas = page.locator('[data-testid="hv-timeline"] canvas');
    await canvas.scrollIntoViewIfNeeded();
    const box = (await canvas.boundingBox())!;
    let sought = false;
    for (let fy = 0.2; fy < 0.95 && !sought; fy += 0.05) {
      await page.mouse.click(box.x + box.width * 0.3, box.y + box.height * fy);
      sought = await expect.poll(() => status(page), { timeout: 1500 }).toMatch(/went to event #\d+/).then(() => true, () => false);
    }
    expect(sought).toBe(true);
    await paused(page);
    const seq = Number((await status(page)).match(/went to event #(\d+)/)![1]);
    expect(seq).toBeGreaterThan(0);
    // The views now end at that moment: fewer events than at the fill (the click was before it).
    await expect.poll(() => timelineEvents(page)).toBeLessThan(eventsAtFill);
    await screenshot(page, 'hv-debug-timeline-seek');

    // A VM card chooses the vCPU to debug: VM 0 now (the machine stays where it is; each vCPU keeps its history).
    await afterFreshStop(page, () => page.locator('[data-testid="hv-vms"] [data-vm="0"]').click());
    await expect.poll(() => page.locator('[data-testid="hv-focus"]').inputValue()).toBe('0');
    await page.locator('[data-testid="editor"]').click();
    await press(page, 'F5', 'paused');
    await expect.poll(() => status(page)).toContain('event breakpoint (pagefault outcome=hidden)');
    await expect.poll(() => page.locator('[data-testid="hv-vms"] [data-vm="0"]').getAttribute('aria-pressed')).toBe('true');
  }, 180_000);
});

describe('descriptor tables under ring compression (lesson 7, --cpu deprivilege)', () => {
  const app = useApp({ hash: '#lesson=7', width: 1600, height: 1000 });

  it("the GDT/IDT panel decodes the guest's own tables and says where the CPU's GDTR points", async () => {
    const { page } = app();
    await useHypervisor(page, { vms: '1', cpu: 'deprivilege', paging: 'shadow' });
    // Run into the kernel (protected mode, its GDT and IDT loaded): an event breakpoint on its first true page fault.
    await page.getByRole('tab', { name: /Breakpoints/ }).click();
    await page.getByLabel('Event kind').selectOption('pagefault');
    await page.getByLabel('Event field').selectOption('outcome');
    await page.getByLabel('Event value').selectOption('injected');
    await page.getByRole('button', { name: 'Add event breakpoint' }).click();
    await page.locator('[data-testid="editor"]').click();
    await press(page, 'F5', 'paused');
    await expect.poll(() => status(page)).toContain('event breakpoint (pagefault outcome=injected)');
    await page.getByRole('tab', { name: 'GDT/IDT/TSS' }).click();
    const tables = page.locator('[data-testid="tables"]');
    await expect.poll(() => tables.locator('[data-testid="ring-compression-note"]').innerText()).toContain("the CPU's GDTR holds the VMM's table at 0xffc01000 (ring compression)");
    // The guest's flat code segment, decoded from its own table (nothing is mapped at 0xffc01000).
    await expect.poll(() => tables.locator('table').innerText()).toMatch(/code/i);
    expect(await tables.locator('.info').innerText()).not.toContain('ffc01000');
    await screenshot(page, 'hv-debug-deprivilege-gdt');
    await page.getByRole('radio', { name: 'IDT' }).check();
    await expect.poll(() => tables.locator('[data-testid="ring-compression-note"]').innerText()).toContain("the CPU's IDTR holds the VMM's table at 0xffc02000");
    await expect.poll(() => tables.locator('table').innerText()).toContain('#PF page fault');
    // The VM card names the technique the machine settings chose (the app's events carry no header).
    await page.getByRole('tab', { name: 'Hypervisor' }).click();
    await expect.poll(() => page.locator('[data-testid="hv-vms"] [data-vm="0"] .tech').innerText()).toContain('deprivileged (ring 1)');
  }, 180_000);
});
